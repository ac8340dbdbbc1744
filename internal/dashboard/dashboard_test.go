package dashboard_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/dashboard"
	"github.com/paydoctor/bot/internal/stats"
)

var now = time.Date(2025, 3, 31, 15, 0, 0, 0, time.UTC)

func ev(ago time.Duration, kind conversation.EventKind, platform, lang, cause, solution string) conversation.Event {
	return conversation.Event{Kind: kind, Platform: platform, Lang: lang, Cause: cause, Outcome: cause, Solution: solution, At: now.Add(-ago)}
}

const day = 24 * time.Hour

// events: dialogs over 40 days, so that the 30-day charts cut some off, and the 7-day period
// others.
func events() []conversation.Event {
	var es []conversation.Event
	causes := []string{"cross-border-restricted", "bank-verification", "account-settings", ""}
	for i := range 40 {
		ago := time.Duration(i)*day + time.Duration(i%5)*time.Hour
		for j := range i%3 + 1 {
			platform, lang := "telegram", "zh-Hans"
			if j == 1 {
				platform, lang = "slack", "en"
			}
			at := ago + time.Duration(j)*time.Minute
			es = append(es, ev(at, conversation.EventStarted, platform, lang, "", ""))
			if (i+j)%4 == 3 {
				continue // left before a diagnosis
			}
			cause := causes[(i+j)%len(causes)]
			es = append(es, ev(at, conversation.EventDiagnosed, platform, lang, cause, ""))
			es = append(es, ev(at, conversation.EventShown, platform, lang, cause, "international-card"))
			if (i+j)%2 == 0 {
				es = append(es, ev(at, conversation.EventWorked, platform, lang, cause, "international-card"))
				continue
			}
			es = append(es, ev(at, conversation.EventFailed, platform, lang, cause, "international-card"))
			es = append(es, ev(at, conversation.EventShown, platform, lang, cause, "paypal"))
			if i%5 == 0 {
				// Every other handoff is closed a minute later: the rest stay open.
				h := ev(at, conversation.EventHandoff, platform, lang, cause, "")
				h.Dialog = fmt.Sprint("d", i, "-", j)
				es = append(es, h)
				if i%10 == 0 {
					c := ev(at-time.Minute, conversation.EventHandoffClosed, platform, lang, cause, "")
					c.Dialog = h.Dialog
					es = append(es, c)
				}
			}
		}
	}
	return es
}

func handler(es []conversation.Event) *dashboard.Handler {
	return &dashboard.Handler{
		Events: func(ctx context.Context, since time.Time, fn func(conversation.Event) error) error {
			for _, e := range es {
				if !e.At.Before(since) {
					if err := fn(e); err != nil {
						return err
					}
				}
			}
			return nil
		},
		Lang:   "zh-Hans",
		Period: period,
		Now:    func() time.Time { return now },
	}
}

// period reads a few of what bot stats --since does.
func period(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		return time.Duration(d) * day, err
	}
	d, err := time.ParseDuration(s)
	if err == nil && d <= 0 {
		err = errors.New("want a positive period")
	}
	return d, err
}

func get(t *testing.T, h http.Handler, target string, header ...string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code, w.Body.String()
}

// figure is one bar of the page as its data attributes say, with its size.
type figure struct {
	chart, series, key string
	value              int
	w, h               float64
}

var (
	svgRe   = regexp.MustCompile(`(?s)<svg class="chart" data-chart="([^"]+)"(.*?)</svg>`)
	rectRe  = regexp.MustCompile(`<rect [^>]*width="([^"]+)" height="([^"]+)" data-series="([^"]*)" data-key="([^"]*)" data-value="(\d+)"`)
	totalRe = regexp.MustCompile(`data-total="([^"]+)" data-value="(\d+)"`)
)

func figures(t *testing.T, page string) (map[string]map[[2]string]figure, map[string]int) {
	t.Helper()
	charts := map[string]map[[2]string]figure{}
	for _, m := range svgRe.FindAllStringSubmatch(page, -1) {
		fs := map[[2]string]figure{}
		for _, r := range rectRe.FindAllStringSubmatch(m[2], -1) {
			w, _ := strconv.ParseFloat(r[1], 64)
			h, _ := strconv.ParseFloat(r[2], 64)
			v, _ := strconv.Atoi(r[5])
			k := [2]string{html.UnescapeString(r[3]), html.UnescapeString(r[4])}
			if _, dup := fs[k]; dup {
				t.Errorf("chart %s: two bars for %v", m[1], k)
			}
			fs[k] = figure{m[1], k[0], k[1], v, w, h}
		}
		charts[m[1]] = fs
	}
	totals := map[string]int{}
	for _, m := range totalRe.FindAllStringSubmatch(page, -1) {
		totals[m[1]], _ = strconv.Atoi(m[2])
	}
	return charts, totals
}

// value is the figure's value, zero when there is no bar for it.
func value(fs map[[2]string]figure, series, key string) int { return fs[[2]string{series, key}].value }

// The page's numbers are the report's, for each period, and the bars' sizes are
// proportional to them.
func TestDashboard_FiguresAreTheReports(t *testing.T) {
	es := events()
	h := handler(es)
	for _, since := range []string{"", "7d", "24h", "30d"} {
		t.Run("since="+since, func(t *testing.T) {
			code, page := get(t, h, "/dashboard?lang=en&since="+since)
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, page)
			}
			var from time.Time
			if since != "" {
				d, _ := period(since)
				from = now.Add(-d)
			}
			rep, err := stats.Compute(func(since time.Time, fn func(conversation.Event) error) error {
				return h.Events(context.Background(), since, fn)
			}, from)
			if err != nil {
				t.Fatal(err)
			}
			charts, totals := figures(t, page)
			for _, id := range []string{"daily", "causes", "solutions", "funnel", "handoffs", "free-text"} {
				if _, ok := charts[id]; !ok {
					t.Errorf("no %s chart", id)
				}
			}
			tt := rep.Totals
			want := map[string]int{"started": tt.Started, "diagnosed": tt.Diagnosed, "shown": tt.Shown, "worked": tt.Worked, "failed": tt.Failed, "handoffs": tt.Handoffs}
			for k, v := range want {
				if totals[k] != v {
					t.Errorf("total %s = %d, want %d", k, totals[k], v)
				}
				if k == "shown" || k == "failed" {
					continue
				}
				if got := value(charts["funnel"], k, "totals"); got != v {
					t.Errorf("funnel %s = %d, want %d", k, got, v)
				}
			}

			// The days: the period's, the last 30 at most, ending today.
			first := now.AddDate(0, 0, -(dashboard.Days - 1))
			if since != "" && from.After(first) {
				first = from
			}
			days := rep.Daily(first, now)
			if n := len(charts["daily"]) / 2; n != len(days) {
				t.Errorf("%d days drawn, want %d", n, len(days))
			}
			for _, d := range days {
				if got := value(charts["daily"], "started", d.Date); got != d.Started {
					t.Errorf("%s: %d started drawn, want %d", d.Date, got, d.Started)
				}
				if got := value(charts["daily"], "diagnosed", d.Date); got != d.Diagnosed {
					t.Errorf("%s: %d diagnoses drawn, want %d", d.Date, got, d.Diagnosed)
				}
				n := 0
				for _, c := range d.Causes {
					n++
					if got := value(charts["causes"], c.ID, d.Date); got != c.Count {
						t.Errorf("%s: cause %q drawn %d, want %d", d.Date, c.ID, got, c.Count)
					}
				}
				for k := range charts["causes"] {
					if k[1] == d.Date {
						n--
					}
				}
				if n != 0 {
					t.Errorf("%s: causes drawn that the report does not have", d.Date)
				}
			}

			if len(charts["solutions"]) != 3*len(rep.Solutions) {
				t.Errorf("%d solution bars, want %d", len(charts["solutions"]), 3*len(rep.Solutions))
			}
			for _, s := range rep.Solutions {
				for series, v := range map[string]int{"shown": s.Shown, "worked": s.Worked, "failed": s.Failed} {
					if got := value(charts["solutions"], series, s.ID); got != v {
						t.Errorf("solution %s %s = %d, want %d", s.ID, series, got, v)
					}
				}
			}

			open := dashboard.OpenHandoffs(rep)
			if len(rep.Handoffs) >= 4 && (len(open) == 0 || len(open) == len(rep.Handoffs)) {
				t.Fatalf("%d of %d handoffs open: the test wants some of each", len(open), len(rep.Handoffs))
			}
			hs := open[:min(len(open), dashboard.MaxHandoffRows)]
			if len(charts["handoffs"]) != len(hs) {
				t.Errorf("%d handoffs drawn, want %d", len(charts["handoffs"]), len(hs))
			}
			for _, ho := range hs {
				f, ok := charts["handoffs"][[2]string{"age", ho.At.Format(time.RFC3339Nano)}]
				if want := int(now.Sub(ho.At) / time.Second); !ok || f.value != want {
					t.Errorf("handoff at %v: drawn %+v, want age %ds", ho.At, f, want)
				}
			}

			// Bars are as long as their values: one scale per chart and direction.
			for _, id := range []string{"daily", "causes"} {
				proportional(t, id, charts[id], func(f figure) float64 { return f.h })
			}
			for _, id := range []string{"solutions", "funnel", "handoffs"} {
				proportional(t, id, charts[id], func(f figure) float64 { return f.w })
			}
			if !strings.Contains(page, `data-chart="free-text"`) || !strings.Contains(page, "no data") {
				t.Errorf("the free-text chart does not say no data")
			}
		})
	}
}

func proportional(t *testing.T, id string, fs map[[2]string]figure, size func(figure) float64) {
	t.Helper()
	// The scale of the longest bar, whose rounding matters least.
	var longest figure
	for _, f := range fs {
		if f.value > longest.value {
			longest = f
		}
	}
	if longest.value == 0 {
		return
	}
	scale := size(longest) / float64(longest.value)
	for _, f := range fs {
		// Sizes are rounded to a tenth of a pixel.
		if d := size(f) - scale*float64(f.value); d > 0.11 || d < -0.11 {
			t.Errorf("%s: %v drawn %v long, want %.1f (%.3f a unit)", id, f, size(f), scale*float64(f.value), scale)
		}
	}
}

// With free-text events recorded, the clarification share is drawn from them.
func TestDashboard_FreeText(t *testing.T) {
	es := []conversation.Event{
		ev(time.Hour, conversation.EventRecognized, "telegram", "en", "", ""),
		ev(time.Hour, conversation.EventRecognized, "telegram", "en", "", ""),
		ev(time.Hour, conversation.EventRecognized, "telegram", "en", "", ""),
		ev(time.Hour, conversation.EventClarified, "telegram", "en", "", ""),
		ev(time.Hour, conversation.EventOffTopic, "telegram", "en", "", ""),
		ev(time.Hour, conversation.EventOffTopic, "telegram", "en", "", ""),
		ev(time.Hour, conversation.EventOffTopic, "telegram", "en", "", ""),
	}
	_, page := get(t, handler(es), "/dashboard?lang=en")
	charts, _ := figures(t, page)
	fs := charts["free-text"]
	if value(fs, "recognized", "free_text") != 3 || value(fs, "clarified", "free_text") != 1 || value(fs, "not_understood", "free_text") != 0 ||
		value(fs, "off_topic", "free_text") != 3 {
		t.Errorf("free text drawn %+v", fs)
	}
	if !strings.Contains(page, "clarified: 14% of free text") {
		t.Errorf("no share of clarified free text in the page")
	}
	// No events at all: every chart still there, saying no data where it has none.
	_, page = get(t, handler(nil), "/dashboard?lang=en")
	charts, totals := figures(t, page)
	if len(charts) != 6 || totals["started"] != 0 || strings.Count(page, `data-empty="true"`) != 4 {
		t.Errorf("empty dashboard: %d charts, totals %v, %d empty", len(charts), totals, strings.Count(page, `data-empty="true"`))
	}
}

func TestDashboard_Language(t *testing.T) {
	h := handler(events())
	for _, tc := range []struct {
		target, accept, botLang, want string
	}{
		{"/dashboard", "", "zh-Hans", "zh-Hans"},
		{"/dashboard", "", "en", "en"},
		{"/dashboard", "", "fr", "en"},
		{"/dashboard", "en-US,en;q=0.9", "zh-Hans", "en"},
		{"/dashboard", "zh-CN,zh;q=0.9,en;q=0.8", "en", "zh-Hans"},
		{"/dashboard", "de-DE", "zh-Hans", "zh-Hans"},
		{"/dashboard?lang=en", "zh-CN", "zh-Hans", "en"},
		{"/dashboard?lang=zh", "en", "en", "zh-Hans"},
		{"/dashboard?lang=klingon!", "en", "zh-Hans", "en"},
	} {
		h.Lang = tc.botLang
		code, page := get(t, h, tc.target, "Accept-Language", tc.accept)
		if code != http.StatusOK || !strings.Contains(page, fmt.Sprintf(`<html lang="%s">`, tc.want)) {
			t.Errorf("%s, Accept-Language %q, BOT_LANG %s: want %s, got %d %.80s", tc.target, tc.accept, tc.botLang, tc.want, code, page)
		}
	}
	h.Lang = "en"
	_, page := get(t, h, "/dashboard?lang=zh-Hans&since=7d")
	for _, want := range []string{"每天的对话和诊断", "解决方案：展示、有效、无效", "暂无数据", `href="?lang=en&amp;since=7d"`, `href="?lang=zh-Hans&amp;since=all"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the Chinese page lacks %s", want)
		}
	}
}

func TestDashboard_Period(t *testing.T) {
	h := handler(events())
	if code, body := get(t, h, "/dashboard?since=a+week"); code != http.StatusBadRequest || !strings.Contains(body, "since") {
		t.Errorf("bad since: %d %s", code, body)
	}
	_, page := get(t, h, "/dashboard?lang=en&since=36h")
	if !strings.Contains(page, `aria-current="page">36h</a>`) {
		t.Errorf("a period other than the links' is not shown as the current one")
	}
	_, page = get(t, h, "/dashboard?lang=en&since=7d")
	if !strings.Contains(page, `aria-current="page">7d</a>`) || !strings.Contains(page, "since 2025-03-24 15:00 UTC") {
		t.Errorf("7d is not the current period")
	}
	h.Events = func(context.Context, time.Time, func(conversation.Event) error) error {
		return errors.New("disk on fire")
	}
	if code, body := get(t, h, "/dashboard"); code != http.StatusInternalServerError || !strings.Contains(body, "disk on fire") {
		t.Errorf("failing store: %d %s", code, body)
	}
}

// Nothing on the page runs or loads anything.
func TestDashboard_SelfContained(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
	w := httptest.NewRecorder()
	handler(events()).ServeHTTP(w, req)
	page := w.Body.String()
	for _, bad := range []string{"<script", "src=", "http://", "https://", "@import", "url("} {
		if strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
}
