package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
	"github.com/paydoctor/bot/internal/adapters/telegram"
	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/stats"
	"github.com/paydoctor/bot/internal/store/boltstore"
)

// lockedBuffer is a log destination shared by the bot's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startBot runs "bot" in-process with env until the returned stop is called.
func startBot(t *testing.T, env map[string]string) (logs *lockedBuffer, stop func()) {
	t.Helper()
	logs = &lockedBuffer{}
	m := NewMain(strings.NewReader(""), io.Discard, logs, func(k string) string { return env[k] })
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Run: %v", err)
			}
			if err := m.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return logs, stop
}

// eventually polls cond until it holds, failing the test after a minute: a bound for a hung
// bot, not a timing assertion.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue returns the value of the sample of /metrics that starts with series, or -1.
func metricValue(t *testing.T, base, series string) float64 {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			return v
		}
	}
	return -1
}

// The walk-through, as a new operator would do it: serve Telegram against the fake,
// check /healthz, the command menu and the counters, ask for a human, read stats and make a
// backup while the bot runs, stop it, and read stats and make a backup from the file.
func TestTelegram_Operations(t *testing.T) {
	fake := telegramtest.NewServer(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "bot.db")
	addr := freeAddr(t)
	base := "http://" + addr
	const humans = -1001234567890
	env := map[string]string{
		"BOT_DB":                    db,
		"BOT_HTTP_ADDR":             addr,
		"BOT_LOG_FORMAT":            "json",
		"BOT_LOG_LEVEL":             "debug",
		"BOT_HANDOFF_TELEGRAM_CHAT": strconv.Itoa(humans),
		"TELEGRAM_BOT_TOKEN":        telegramtest.Token,
		"TELEGRAM_API_ENDPOINT":     fake.Endpoint(),
	}
	logs, stop := startBot(t, env)

	eventually(t, "/healthz answers 200", func() bool { code, _ := get(t, base+"/healthz"); return code == http.StatusOK })
	if _, body := get(t, base+"/healthz"); !strings.Contains(body, "store: ok") || !strings.Contains(body, "telegram: ok") {
		t.Errorf("/healthz body %q, want the store and telegram named", body)
	}
	eventually(t, "the command menu is set", func() bool { return len(fake.Calls("setMyCommands")) > 0 })

	const updates = `paydoctor_updates_total{platform="telegram"}`
	const sent = `paydoctor_messages_sent_total{platform="telegram"}`
	if v := metricValue(t, base, updates); v != 0 {
		t.Fatalf("%s = %v before anyone wrote, want 0", updates, v)
	}
	wei := telegramtest.User{ID: 42, FirstName: "Wei", Username: "wei_dev", Lang: "en"}
	const secretText = "Your card was declined at checkout"
	fake.AddUpdate(telegramtest.PrivateText(wei, secretText))
	fake.WaitMessages(t, 1, time.Minute)
	fake.AddUpdate(telegramtest.PrivateText(telegramtest.User{ID: 43, FirstName: "Li", Lang: "zh-hans"}, "/start"))
	fake.WaitMessages(t, 2, time.Minute)
	eventually(t, "the counters count both", func() bool {
		return metricValue(t, base, updates) == 2 && metricValue(t, base, sent) >= 2
	})
	// "Your card was declined" is recognised and diagnosed at once.
	if v := metricValue(t, base, `paydoctor_diagnoses_total{cause="cross-border-restricted"}`); v != 1 {
		t.Errorf("cross-border-restricted diagnosed %v times, want 1", v)
	}

	// /human: the person is told a human follows up, and the humans' group gets a summary
	// naming them.
	fake.AddUpdate(telegramtest.PrivateText(wei, "/human"))
	eventually(t, "a summary reaches BOT_HANDOFF_TELEGRAM_CHAT", func() bool { return len(fake.MessagesTo(humans)) > 0 })
	summary := fake.MessagesTo(humans)[0].Text
	for _, want := range []string{"Wei", "@wei_dev", "tg://user?id=42", "telegram"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	eventually(t, "the handoff is counted", func() bool {
		return metricValue(t, base, `paydoctor_handoffs_total{platform="telegram"}`) == 1
	})

	// While the bot runs (and holds the file), stats and backup go through the admin socket.
	out, _, err := runMain(t, env, "", "stats", "--json")
	if err != nil {
		t.Fatalf("stats while running: %v", err)
	}
	checkReport(t, out, 2, 1)
	running := filepath.Join(dir, "running.db")
	if out, _, err := runMain(t, env, "", "backup", running); err != nil || !strings.Contains(out, "from the running bot") {
		t.Fatalf("backup while running: %q, %v", out, err)
	}
	checkBackup(t, running, 2)
	// Standard output, for a pipe; the report goes to standard error.
	piped, report, err := runMain(t, env, "", "backup", "-")
	if err != nil || !strings.Contains(report, "from the running bot to standard output") {
		t.Fatalf("backup - while running: %q, %v", report, err)
	}
	pipedPath := filepath.Join(dir, "piped.db")
	if err := os.WriteFile(pipedPath, []byte(piped), 0o600); err != nil {
		t.Fatal(err)
	}
	checkBackup(t, pipedPath, 2)
	// The bot's own admin socket is not a file to write the backup to: refused, and it
	// still answers.
	if _, _, err := runMain(t, env, "", "backup", db+".admin.sock"); err == nil || !strings.Contains(err.Error(), "is a socket") {
		t.Fatalf("backup over the admin socket: %v, want it refused", err)
	}
	if _, _, err := runMain(t, env, "", "stats"); err != nil {
		t.Fatalf("stats after a backup named the admin socket: %v", err)
	}

	stop()
	for _, private := range []string{telegramtest.Token, secretText} {
		if strings.Contains(logs.String(), private) {
			t.Errorf("%q in the log", private)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("BOT_LOG_FORMAT=json, but a log line is not JSON: %q", line)
		}
	}

	// Stopped: both read the file.
	if _, err := os.Stat(db + ".admin.sock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the admin socket is left behind: %v", err)
	}
	out, _, err = runMain(t, map[string]string{"BOT_DB": db}, "", "stats", "--json")
	if err != nil {
		t.Fatalf("stats after stop: %v", err)
	}
	checkReport(t, out, 2, 1)
	text, _, err := runMain(t, nil, "", "stats", "--db", db, "--since", "7d")
	if err != nil || !strings.Contains(text, "dialogs started      2") || !strings.Contains(text, "telegram") {
		t.Errorf("stats text after stop (%v):\n%s", err, text)
	}
	stopped := filepath.Join(dir, "stopped.db")
	if out, _, err := runMain(t, nil, "", "backup", "--db", db, stopped); err != nil || !strings.Contains(out, "from "+db) {
		t.Fatalf("backup after stop: %q, %v", out, err)
	}
	checkBackup(t, stopped, 2)
}

func checkReport(t *testing.T, out string, started, handoffs int) {
	t.Helper()
	var r stats.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stats --json: %v\n%s", err, out)
	}
	if r.Totals.Started != started || r.Totals.Handoffs != handoffs || len(r.Platforms) != 1 || r.Platforms[0].Name != "telegram" {
		t.Errorf("stats: %+v, want %d dialogs started and %d handoff on telegram", r, started, handoffs)
	}
}

// checkBackup opens the copy as a database and counts its dialogs' start events.
func checkBackup(t *testing.T, path string, started int) {
	t.Helper()
	s, err := boltstore.Open(path, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	defer s.Close()
	n := 0
	s.Events(context.Background(), time.Time{}, func(e conversation.Event) error {
		if e.Kind == conversation.EventStarted {
			n++
		}
		return nil
	})
	if n != started {
		t.Errorf("the backup holds %d started dialogs, want %d", n, started)
	}
}

// A token Telegram refuses ends the bot with an error that says so.
func TestTelegram_RefusedTokenStopsTheBot(t *testing.T) {
	fake := telegramtest.NewServer(t)
	const wrong = "999:not-the-token"
	env := map[string]string{
		"BOT_DB":                filepath.Join(t.TempDir(), "bot.db"),
		"BOT_HTTP_ADDR":         freeAddr(t),
		"TELEGRAM_BOT_TOKEN":    wrong,
		"TELEGRAM_API_ENDPOINT": fake.Endpoint(),
	}
	_, stderr, err := runMain(t, env, "")
	if !errors.Is(err, telegram.ErrUnauthorized) || !strings.Contains(err.Error(), "TELEGRAM_BOT_TOKEN") {
		t.Fatalf("Run = %v, want the token refused naming TELEGRAM_BOT_TOKEN", err)
	}
	if strings.Contains(err.Error()+stderr, wrong) {
		t.Errorf("the token is in the error or the log")
	}
}

// A token Slack refuses ends the bot with an error naming the setting that holds it: the bot
// token when auth.test refuses it, the app-level token when apps.connections.open does.
func TestSlack_RefusedTokenStopsTheBot(t *testing.T) {
	for _, tc := range []struct {
		name, method, code string
		env                map[string]string
		names, notNames    string
	}{
		{"bot token, HTTP mode", "auth.test", "invalid_auth", map[string]string{"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"},
		{"bot token, Socket Mode", "auth.test", "token_revoked", map[string]string{"SLACK_APP_TOKEN": "xapp-revoked"}, "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"},
		{"app token", "apps.connections.open", "invalid_auth", map[string]string{"SLACK_APP_TOKEN": "xapp-revoked"}, "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := slacktest.NewServer(t)
			// Slack refuses a token every time: once for the health check's auth.test, once
			// for the adapter's.
			fake.Refuse(tc.method, tc.code)
			fake.Refuse(tc.method, tc.code)
			env := map[string]string{
				"BOT_DB":          filepath.Join(t.TempDir(), "bot.db"),
				"BOT_HTTP_ADDR":   freeAddr(t),
				"SLACK_BOT_TOKEN": "xoxb-revoked",
				"SLACK_API_URL":   fake.URL,
			}
			for k, v := range tc.env {
				env[k] = v
			}
			_, stderr, err := runMain(t, env, "")
			if err == nil || !strings.Contains(err.Error(), tc.code) || !strings.Contains(err.Error(), tc.names) || strings.Contains(err.Error(), tc.notNames) {
				t.Fatalf("Run = %v, want Slack's %s naming %s and not %s", err, tc.code, tc.names, tc.notNames)
			}
			if strings.Contains(err.Error()+stderr, "-revoked") {
				t.Errorf("a token is in the error or the log")
			}
		})
	}
}

// switchedStore is a pinger whose commits fail while down is set, as a full disk or an
// unreachable database makes them.
type switchedStore struct{ down atomic.Bool }

func (s *switchedStore) Ping(context.Context) error {
	if s.down.Load() {
		return errors.New("write paydoctor.db: no space left on device")
	}
	return nil
}

func TestHealthz_StoreAndPlatforms(t *testing.T) {
	store := &switchedStore{}
	h := newHealth(store)
	probe := func() (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := probe(); code != http.StatusServiceUnavailable || !strings.Contains(body, "store: not checked yet") {
		t.Errorf("before the first commit: %d %q", code, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.probe(ctx, 20*time.Millisecond)
	eventuallyCode := func(want int, what string) string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			code, body := probe()
			if code == want {
				return body
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: /healthz %d %q, want %d", what, code, body, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if body := eventuallyCode(http.StatusOK, "store up"); !strings.Contains(body, "store: ok") {
		t.Errorf("store up: %q", body)
	}
	h.set("telegram", errNotChecked)
	if code, body := probe(); code != http.StatusServiceUnavailable || !strings.Contains(body, "telegram: not checked yet") {
		t.Errorf("unchecked platform: %d %q", code, body)
	}
	h.set("telegram", nil)
	h.set("slack", errors.New("auth.test: invalid_auth"))
	if code, body := probe(); code != http.StatusServiceUnavailable || !strings.Contains(body, "slack: auth.test: invalid_auth") || !strings.Contains(body, "telegram: ok") {
		t.Errorf("slack down: %d %q", code, body)
	}
	h.set("slack", nil)
	eventuallyCode(http.StatusOK, "all up")

	// The store stops committing: the probe finds it within its interval, and a failed
	// commit of a message says so at once; both recover by themselves.
	store.down.Store(true)
	if body := eventuallyCode(http.StatusServiceUnavailable, "store down"); !strings.Contains(body, "no space left on device") {
		t.Errorf("store down: %q", body)
	}
	store.down.Store(false)
	eventuallyCode(http.StatusOK, "store back")
	cancel()
	// A message's commit fails (a full disk refusing a dialog's pages while the probe's small
	// write still fits): 503 although the probe works, until a message commits again.
	h.commitDone(errors.New("commit: no space left on device"))
	if code, body := probe(); code != http.StatusServiceUnavailable || !strings.Contains(body, "no space left") {
		t.Errorf("a failed commit: %d %q", code, body)
	}
	h.commitDone(conversation.ErrDuplicate)
	if code, _ := probe(); code != http.StatusOK {
		t.Errorf("a duplicate is a commit that worked: %d", code)
	}
}

func TestMetrics_Observe(t *testing.T) {
	now := time.Unix(1700000000, 0)
	m := newMetrics(func() time.Time { return now })
	m.serve("telegram")
	key := func(u string) conversation.Inbound {
		return conversation.Inbound{Turn: conversation.Turn{Key: conversation.Key{Platform: "telegram", Chat: "1", User: u}}}
	}
	res := conversation.Result{Events: []conversation.Event{
		{Kind: conversation.EventDiagnosed, Cause: "bank-verification"},
		{Kind: conversation.EventDiagnosed},
		{Kind: conversation.EventShown, Solution: "paypal"},
		{Kind: conversation.EventFailed, Solution: "paypal"},
		{Kind: conversation.EventWorked, Solution: "virtual-card"},
		{Kind: conversation.EventHandoff},
		{Kind: conversation.EventNoHelper},
		{Kind: conversation.EventNoHelper},
	}}
	m.observe(key("a"), res, nil, 3*time.Millisecond)
	m.observe(key("b"), conversation.Result{}, conversation.ErrDuplicate, 0)
	m.observe(key("c"), conversation.Result{}, errors.New("disk full"), 0)
	m.platform("telegram").MessageSent()
	m.platform("telegram").RateLimited()

	srv := httptest.NewServer(m.handler())
	defer srv.Close()
	for series, want := range map[string]float64{
		`paydoctor_updates_total{platform="telegram"}`:              3,
		`paydoctor_updates_duplicate_total{platform="telegram"}`:    1,
		`paydoctor_update_errors_total{platform="telegram"}`:        1,
		`paydoctor_diagnoses_total{cause="bank-verification"}`:      1,
		`paydoctor_diagnoses_total{cause="none"}`:                   1,
		`paydoctor_solutions_shown_total{solution="paypal"}`:        1,
		`paydoctor_solutions_failed_total{solution="paypal"}`:       1,
		`paydoctor_solutions_worked_total{solution="virtual-card"}`: 1,
		`paydoctor_handoffs_total{platform="telegram"}`:             1,
		`paydoctor_no_helper_total{platform="telegram"}`:            2,
		`paydoctor_messages_sent_total{platform="telegram"}`:        1,
		`paydoctor_rate_limited_total{platform="telegram"}`:         1,
		`paydoctor_retries_total{platform="telegram"}`:              0,
		`paydoctor_handle_seconds_count{platform="telegram"}`:       1,
		`paydoctor_active_dialogs`:                                  1,
	} {
		if got := metricValue(t, srv.URL, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	now = now.Add(2 * activeWindow)
	if got := metricValue(t, srv.URL, "paydoctor_active_dialogs"); got != 0 {
		t.Errorf("active dialogs after two quiet hours: %v", got)
	}
}
