package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/dashboard"
	"github.com/paydoctor/bot/internal/stats"
	"github.com/paydoctor/bot/internal/store/boltstore"
)

// dashboardEvents are 40 days of dialogs before now, the same every run: diagnoses of each
// outcome, solutions that work or not, some people leaving early, some asking for a human.
func dashboardEvents(now time.Time) []conversation.Event {
	rng := rand.New(rand.NewPCG(18, 2025))
	freeText := rand.New(rand.NewPCG(7, 2026)) // its own, so the other figures stay the same
	outcomes := []struct {
		id, cause string
		solutions []string
		weight    int
	}{
		{"cross-border", "cross-border-restricted", []string{"enable-cross-border", "international-card", "virtual-card", "paypal"}, 6},
		{"verification", "bank-verification", []string{"enable-cross-border", "payment-timing", "contact-support"}, 3},
		{"bank-risk", "bank-verification", []string{"enable-cross-border", "payment-timing", "virtual-card", "contact-support"}, 2},
		{"wallet-only", "platform-unsupported", []string{"international-card", "virtual-card", "paypal"}, 4},
		{"account", "account-settings", []string{"billing-settings", "contact-support"}, 2},
		{"amount-limit", "", []string{"choose-plan", "enable-cross-border", "virtual-card"}, 1},
		{"peak-timeout", "", []string{"payment-timing", "contact-support"}, 1},
	}
	var weighted []int
	for i, o := range outcomes {
		for range o.weight {
			weighted = append(weighted, i)
		}
	}
	var es []conversation.Event
	for d := range 40 {
		for range 2 + rng.IntN(6) {
			// Between 1 and 23 hours into the day before now's hour: far from the --since
			// boundaries the tests use (7d, 30d), whenever they run.
			at := now.Add(-time.Duration(d)*24*time.Hour - time.Duration(1+rng.IntN(22))*time.Hour - time.Duration(rng.IntN(60))*time.Minute)
			platform, lang := "telegram", "zh-Hans"
			if rng.IntN(3) == 0 {
				platform = "slack"
			}
			if rng.IntN(3) == 0 {
				lang = "en"
			}
			e := func(kind conversation.EventKind, outcome, cause, solution string) {
				es = append(es, conversation.Event{Kind: kind, Platform: platform, Lang: lang, Outcome: outcome, Cause: cause, Solution: solution, At: at})
				at = at.Add(time.Minute)
			}
			e(conversation.EventStarted, "", "", "")
			// Most people paste an error or describe it; a few need a clarifying question.
			switch n := freeText.IntN(10); {
			case n < 6:
				e(conversation.EventRecognized, "", "", "")
			case n < 8:
				e(conversation.EventClarified, "", "", "")
			case n < 9:
				e(conversation.EventNotUnderstood, "", "", "")
			}
			if rng.IntN(6) == 0 {
				continue // left before a diagnosis
			}
			o := outcomes[weighted[rng.IntN(len(weighted))]]
			e(conversation.EventDiagnosed, o.id, o.cause, "")
			for _, s := range o.solutions {
				e(conversation.EventShown, o.id, o.cause, s)
				if r := rng.IntN(10); r < 4 {
					e(conversation.EventWorked, o.id, o.cause, s)
					break
				} else if r < 5 {
					break // no answer
				}
				e(conversation.EventFailed, o.id, o.cause, s)
			}
			if rng.IntN(8) == 0 {
				// Each dialog its pseudonym; every other handoff is closed by a helper.
				dialog := fmt.Sprint("dialog-", len(es))
				e(conversation.EventHandoff, o.id, o.cause, "")
				es[len(es)-1].Dialog = dialog
				if freeText.IntN(2) == 0 {
					e(conversation.EventHandoffClosed, o.id, o.cause, "")
					es[len(es)-1].Dialog = dialog
				}
			}
		}
	}
	return es
}

// openDashboardStore makes a bbolt store in a temporary directory holding es.
func openDashboardStore(t *testing.T, es []conversation.Event) (*boltstore.Store, string) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "paydoctor.db")
	store, err := boltstore.Open(db, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	_, err = store.Commit(context.Background(), conversation.Turn{Key: conversation.Key{Platform: "telegram", Chat: "1", User: "1"}},
		func(*conversation.Dialog) (conversation.Result, error) {
			return conversation.Result{Reply: conversation.Reply{Text: "seeded"}, Events: es}, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return store, db
}

// adminTestServer serves the admin endpoints of store as a bot configured with vars would.
func adminTestServer(t *testing.T, store *boltstore.Store, vars map[string]string) *httptest.Server {
	t.Helper()
	m := NewMain(strings.NewReader(""), io.Discard, io.Discard, env(vars))
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.adminHandler(store, slog.New(slog.DiscardHandler)))
	t.Cleanup(srv.Close)
	return srv
}

func httpGet(t *testing.T, url string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// pageFigure is one bar of the dashboard, as its data attributes say.
type pageFigure struct {
	value int
	w, h  float64
}

var (
	pageChartRe = regexp.MustCompile(`(?s)<svg class="chart" data-chart="([^"]+)"(.*?)</svg>`)
	pageRectRe  = regexp.MustCompile(`<rect [^>]*width="([^"]+)" height="([^"]+)" data-series="([^"]*)" data-key="([^"]*)" data-value="(\d+)"`)
	pageTotalRe = regexp.MustCompile(`data-total="([^"]+)" data-value="(\d+)"`)
)

// pageFigures reads the bars of each chart (by series and key) and the headline totals.
func pageFigures(page string) (map[string]map[[2]string]pageFigure, map[string]int) {
	charts := map[string]map[[2]string]pageFigure{}
	for _, m := range pageChartRe.FindAllStringSubmatch(page, -1) {
		fs := map[[2]string]pageFigure{}
		for _, r := range pageRectRe.FindAllStringSubmatch(m[2], -1) {
			w, _ := strconv.ParseFloat(r[1], 64)
			h, _ := strconv.ParseFloat(r[2], 64)
			v, _ := strconv.Atoi(r[5])
			fs[[2]string{html.UnescapeString(r[3]), html.UnescapeString(r[4])}] = pageFigure{v, w, h}
		}
		charts[m[1]] = fs
	}
	totals := map[string]int{}
	for _, m := range pageTotalRe.FindAllStringSubmatch(page, -1) {
		totals[m[1]], _ = strconv.Atoi(m[2])
	}
	return charts, totals
}

// The dashboard of a store with known events shows the figures "bot stats --json" prints
// for the same store and period, asked through the same admin listener.
func TestDashboard_FiguresEqualStatsJSON(t *testing.T) {
	store, db := openDashboardStore(t, dashboardEvents(time.Now()))
	srv := adminTestServer(t, store, map[string]string{"BOT_DB": db, "BOT_LANG": "en"})
	addr := srv.Listener.Addr().String()
	for _, since := range []string{"", "7d", "30d"} {
		t.Run("since="+since, func(t *testing.T) {
			code, page, _ := httpGet(t, srv.URL+"/dashboard?since="+since)
			if code != http.StatusOK {
				t.Fatalf("GET /dashboard: %d %s", code, page)
			}
			args := []string{"stats", "--json"}
			if since != "" {
				args = append(args, "--since", since)
			}
			// The store is open here, so stats can only have asked the listener.
			out, _, err := runMain(t, map[string]string{"BOT_DB": db, "BOT_ADMIN_ADDR": addr}, "", args...)
			if err != nil {
				t.Fatalf("bot stats --json: %v", err)
			}
			var rep stats.Report
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("bot stats --json: %v\n%s", err, out)
			}
			if rep.Totals.Started == 0 || rep.Totals.Handoffs == 0 || len(rep.Solutions) < 5 {
				t.Fatalf("too few events for a test: %+v", rep.Totals)
			}
			charts, totals := pageFigures(page)
			if len(charts) != 6 {
				t.Errorf("%d charts, want 6", len(charts))
			}
			tt := rep.Totals
			for k, v := range map[string]int{"started": tt.Started, "diagnosed": tt.Diagnosed, "shown": tt.Shown, "worked": tt.Worked, "failed": tt.Failed, "handoffs": tt.Handoffs} {
				if totals[k] != v {
					t.Errorf("headline %s = %d, bot stats --json has %d", k, totals[k], v)
				}
				if f, ok := charts["funnel"][[2]string{k, "totals"}]; (k == "started" || k == "diagnosed" || k == "worked" || k == "handoffs") && (!ok || f.value != v) {
					t.Errorf("funnel %s = %+v, bot stats --json has %d", k, f, v)
				}
			}

			// Per day: each bar is the day's figure in the JSON (zero for a day it lacks), and
			// every day of the JSON within the chart's days is drawn.
			days := map[string]stats.Day{}
			for _, d := range rep.Days {
				days[d.Date] = d
			}
			var drawn []string
			for k, f := range charts["daily"] {
				d := days[k[1]]
				want := map[string]int{"started": d.Started, "diagnosed": d.Diagnosed}[k[0]]
				if f.value != want {
					t.Errorf("%s %s drawn %d, bot stats --json has %d", k[1], k[0], f.value, want)
				}
				if k[0] == "started" {
					drawn = append(drawn, k[1])
				}
			}
			slices.Sort(drawn)
			if len(drawn) < 7 || len(drawn) > 31 {
				t.Errorf("%d days drawn", len(drawn))
			}
			for _, d := range rep.Days {
				if d.Date >= drawn[0] && !slices.Contains(drawn, d.Date) {
					t.Errorf("day %s of bot stats --json is not drawn", d.Date)
				}
			}
			for k, f := range charts["causes"] {
				want := 0
				for _, c := range days[k[1]].Causes {
					if c.ID == k[0] {
						want = c.Count
					}
				}
				if f.value != want || want == 0 {
					t.Errorf("%s cause %q drawn %d, bot stats --json has %d", k[1], k[0], f.value, want)
				}
			}
			for _, date := range drawn {
				for _, c := range days[date].Causes {
					if _, ok := charts["causes"][[2]string{c.ID, date}]; !ok {
						t.Errorf("%s cause %q of bot stats --json is not drawn", date, c.ID)
					}
				}
			}

			if len(charts["solutions"]) != 3*len(rep.Solutions) {
				t.Errorf("%d solution bars for %d solutions", len(charts["solutions"]), len(rep.Solutions))
			}
			for _, s := range rep.Solutions {
				for series, v := range map[string]int{"shown": s.Shown, "worked": s.Worked, "failed": s.Failed} {
					if f := charts["solutions"][[2]string{series, s.ID}]; f.value != v {
						t.Errorf("solution %s %s drawn %d, bot stats --json has %d", s.ID, series, f.value, v)
					}
				}
			}

			// Handoffs: the newest of the JSON's still open, in its order, each with its age.
			var ats []time.Time
			for k := range charts["handoffs"] {
				at, err := time.Parse(time.RFC3339Nano, k[1])
				if err != nil {
					t.Fatal(err)
				}
				ats = append(ats, at)
			}
			slices.SortFunc(ats, func(a, b time.Time) int { return b.Compare(a) })
			open := dashboard.OpenHandoffs(rep) // those bot stats --json says are open
			if since == "" && (len(open) == 0 || len(open) == len(rep.Handoffs)) {
				t.Fatalf("%d of %d handoffs open: the test wants some of each", len(open), len(rep.Handoffs))
			}
			if len(open) != rep.HandoffCourse.Open || len(ats) != min(len(open), 20) {
				t.Fatalf("%d handoffs drawn, bot stats --json has %d open (%d listed)", len(ats), rep.HandoffCourse.Open, len(open))
			}
			for i, at := range ats {
				if !at.Equal(open[i].At) {
					t.Errorf("handoff %d drawn at %v, bot stats --json has %v", i, at, open[i].At)
				}
				age := charts["handoffs"][[2]string{"age", at.Format(time.RFC3339Nano)}].value
				if want := int(time.Since(at) / time.Second); age > want || age < want-60 {
					t.Errorf("handoff at %v is %ds old, drawn %ds", at, want, age)
				}
			}
			if rep.FreeText.Total() == 0 {
				t.Fatal("no free text among the events")
			}
			for series, want := range map[string]int{"recognized": rep.FreeText.Recognized, "clarified": rep.FreeText.Clarified, "not_understood": rep.FreeText.NotUnderstood} {
				if got := charts["free-text"][[2]string{series, "free_text"}].value; got != want {
					t.Errorf("free text %s: the page draws %d, bot stats --json says %d", series, got, want)
				}
			}
		})
	}
}

const testAdminToken = "0123456789abcdef-test-token"

// A non-loopback admin address needs BOT_ADMIN_TOKEN, and a token, once set, is needed on
// every admin endpoint; bot stats and bot backup send it.
func TestDashboard_AdminToken(t *testing.T) {
	for _, tc := range []struct {
		addr, token string
		want        AdminAddr
		err         string
	}{
		{"0.0.0.0:9091", "", AdminAddr{}, "BOT_ADMIN_TOKEN"},
		{":9091", "", AdminAddr{}, "loopback"},
		{"192.0.2.10:9091", "", AdminAddr{}, "loopback"},
		{"0.0.0.0:9091", "short", AdminAddr{}, "at least 16"},
		{"0.0.0.0:9091", testAdminToken, AdminAddr{"tcp", "0.0.0.0:9091"}, ""},
		{":9091", testAdminToken, AdminAddr{"tcp", ":9091"}, ""},
		{"[2001:db8::1]:9091", testAdminToken, AdminAddr{"tcp", "[2001:db8::1]:9091"}, ""},
		{"192.0.2.10:http", testAdminToken, AdminAddr{}, "bad port"},
		{"example", testAdminToken, AdminAddr{}, "want a Unix socket path"},
		{"127.0.0.1:9091", "", AdminAddr{"tcp", "127.0.0.1:9091"}, ""},
		{"unix:/run/paydoctor/admin.sock", testAdminToken, AdminAddr{"unix", "/run/paydoctor/admin.sock"}, ""},
	} {
		m := NewMain(strings.NewReader(""), io.Discard, io.Discard, env(map[string]string{"BOT_ADMIN_ADDR": tc.addr, "BOT_ADMIN_TOKEN": tc.token}))
		err := m.ParseFlags([]string{"stats"})
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s with token %q: %v", tc.addr, tc.token, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s with token %q: err = %v, want %q", tc.addr, tc.token, err, tc.err)
		case tc.err == "" && m.Config.Admin != tc.want:
			t.Errorf("%s with token %q: %+v, want %+v", tc.addr, tc.token, m.Config.Admin, tc.want)
		}
	}

	store, db := openDashboardStore(t, dashboardEvents(time.Now())[:40])
	srv := adminTestServer(t, store, map[string]string{"BOT_DB": db, "BOT_ADMIN_TOKEN": testAdminToken})
	for _, path := range []string{"/events", "/backup", "/dashboard", "/dashboard?since=7d"} {
		for _, auth := range []string{"", "Bearer", "Bearer wrong-token-wrong-token", "Basic " + testAdminToken, "Bearer " + testAdminToken + "x", testAdminToken} {
			code, body, h := httpGet(t, srv.URL+path, "Authorization", auth)
			if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") || strings.Contains(body, testAdminToken) {
				t.Errorf("GET %s with Authorization %q: %d %q, want 401", path, auth, code, body)
			}
		}
		for _, auth := range []string{"Bearer " + testAdminToken, "bearer " + testAdminToken} {
			if code, body, _ := httpGet(t, srv.URL+path, "Authorization", auth); code != http.StatusOK {
				t.Errorf("GET %s with the token: %d %.200s", path, code, body)
			}
		}
	}

	addr := srv.Listener.Addr().String()
	if _, _, err := runMain(t, map[string]string{"BOT_DB": db, "BOT_ADMIN_ADDR": addr}, "", "stats", "--json"); err == nil || !strings.Contains(err.Error(), "BOT_ADMIN_TOKEN") {
		t.Errorf("bot stats without the token: err = %v, want one naming BOT_ADMIN_TOKEN", err)
	}
	vars := map[string]string{"BOT_DB": db, "BOT_ADMIN_ADDR": addr, "BOT_ADMIN_TOKEN": testAdminToken}
	out, _, err := runMain(t, vars, "", "stats", "--json")
	var rep stats.Report
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || rep.Totals.Started == 0 {
		t.Errorf("bot stats with the token: %v\n%s", err, out)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if out, _, err := runMain(t, vars, "", "backup", copyPath); err != nil || !strings.Contains(out, "from the running bot") {
		t.Errorf("bot backup with the token: %v %s", err, out)
	}
}

// chromiumPath is Debian's chromium, or "" when it is not installed.
func chromiumPath() string {
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	return ""
}

// The dashboard as a person sees it, in headless Chromium: every chart has a size and the
// console stays quiet. With DASHBOARD_SCREENSHOT=1 it also saves docs/dashboard.png.
func TestDashboard_Browser(t *testing.T) {
	chromium := chromiumPath()
	if chromium == "" {
		t.Skip("chromium is not installed (apt-get install chromium; .ci/run installs it when it can): skipping the dashboard's browser test")
	}
	store, db := openDashboardStore(t, dashboardEvents(time.Now()))
	srv := adminTestServer(t, store, map[string]string{"BOT_DB": db, "BOT_LANG": "en"})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	type chartSize struct {
		ID     string  `json:"id"`
		Width  float64 `json:"width"`
		Height float64 `json:"height"`
	}
	// Start the browser and its tab here: a tab started by the first Console would end with
	// its context.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	const measure = `[...document.querySelectorAll("svg.chart")].map(s => {
		const r = s.getBoundingClientRect();
		return {id: s.dataset.chart, width: r.width, height: r.height};
	})`
	for _, target := range []string{"/dashboard?since=30d&lang=en", "/dashboard?since=all&lang=zh-Hans", "/dashboard?since=24h"} {
		// Listen before loading, and read what came once the page is measured.
		listenCtx, stopListening := context.WithCancel(browser)
		messages := chromedp.Console(listenCtx)
		var mu sync.Mutex
		var logged []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			for m, err := range messages {
				if err != nil {
					return
				}
				mu.Lock()
				logged = append(logged, m.String())
				mu.Unlock()
			}
		}()
		if err := chromedp.Do(browser, chromedp.Navigate(srv.URL+target)); err != nil {
			t.Fatalf("loading %s: %v", target, err)
		}
		sizes, err := chromedp.Run(browser, chromedp.Evaluate[[]chartSize](measure))
		if err != nil {
			t.Fatalf("%s: measuring the charts: %v", target, err)
		}
		var ids []string
		for _, s := range sizes {
			ids = append(ids, s.ID)
			if s.Width <= 0 || s.Height <= 0 {
				t.Errorf("%s: chart %s is %gx%g", target, s.ID, s.Width, s.Height)
			}
		}
		if want := []string{"daily", "causes", "solutions", "funnel", "handoffs", "free-text"}; !slices.Equal(ids, want) {
			t.Errorf("%s: charts %v, want %v", target, ids, want)
		}
		time.Sleep(100 * time.Millisecond) // what the page logs as it settles
		stopListening()
		<-done
		mu.Lock()
		for _, m := range logged {
			if strings.HasPrefix(m, "error") || strings.HasPrefix(m, "exception") || strings.HasPrefix(m, "warning") {
				t.Errorf("%s: console: %s", target, m)
			}
		}
		mu.Unlock()
	}

	if os.Getenv("DASHBOARD_SCREENSHOT") == "" {
		return
	}
	if err := chromedp.Do(browser, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(srv.URL+"/dashboard?since=30d&lang=en")); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(browser, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join("..", "..", "docs", "dashboard.png")
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes)", out, len(png))
}
