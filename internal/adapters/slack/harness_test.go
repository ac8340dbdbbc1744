package slack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/store/boltstore"
)

const testSecret = "test-signing-secret"

// harness is an adapter on a real bbolt file, talking to a fake Slack, serving its HTTP
// endpoints on a test server, with the hub and the Outbox cmd/bot gives it.
type harness struct {
	t      *testing.T
	slack  *slacktest.Server
	kb     *kb.KB
	engine *conversation.Engine
	db     string
	opts   Options
	// wrap, if set, wraps the store the service commits to, as a fault injector.
	wrap func(conversation.Store) conversation.Store
	// limits are the Outbox's; nil: none, so that tests not about pacing are not slowed by
	// Slack's.
	limits *conversation.Limits
	// metrics are the Outbox's; nil counts nothing.
	metrics conversation.DeliveryMetrics
	// flood and floodWindow are the dispatcher's; zero flood: more than tests send.
	flood       int
	floodWindow time.Duration
	// drain is the Outbox's Drain; zero: the default.
	drain time.Duration
	// handoffChannel, if set, is the helpers' channel: the Service's HandoffTarget and the
	// adapter's Options.HandoffChannel, as cmd/bot sets them from BOT_HANDOFF_SLACK_CHANNEL.
	handoffChannel string

	store   *boltstore.Store
	hub     *conversation.Hub
	adapter *Adapter
	http    *httptest.Server
	stop    func()
}

var loadKB = sync.OnceValues(func() (*kb.KB, error) { return kb.Load(bot.Data(), nil) })

func testKB(t testing.TB) *kb.KB {
	t.Helper()
	k, err := loadKB()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testEngine(t testing.TB) *conversation.Engine {
	t.Helper()
	e, err := conversation.NewEngine(testKB(t), conversation.EngineOptions{Lang: "zh-Hans"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// newHarness starts an adapter in HTTP mode; edit changes the harness (its options, limits,
// store wrapper...) first.
func newHarness(t *testing.T, edit func(*harness)) *harness {
	t.Helper()
	h := &harness{t: t, slack: slacktest.NewServer(t), kb: testKB(t), engine: testEngine(t), db: filepath.Join(t.TempDir(), "bot.db")}
	h.opts = Options{
		BotToken:      "xoxb-test",
		KB:            h.kb,
		SigningSecret: testSecret,
		APIURL:        h.slack.URL,
		Log:           slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if testing.Verbose() {
		h.opts.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if edit != nil {
		edit(h)
	}
	h.start()
	return h
}

// start opens the store, builds the hub and the adapter on it as cmd/bot does, and runs
// them; stop stops them and closes the store.
func (h *harness) start() {
	t := h.t
	t.Helper()
	store, err := boltstore.Open(h.db, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.store = store
	var svcStore conversation.Store = store
	if h.wrap != nil {
		svcStore = h.wrap(store)
	}
	var svcOpts conversation.ServiceOptions
	if h.handoffChannel != "" {
		key, route := HandoffRoute(h.handoffChannel)
		svcOpts.Handoff = &conversation.HandoffTarget{Key: key, Route: route}
		h.opts.HandoffChannel = h.handoffChannel
	}
	svc := conversation.NewService(h.engine, svcStore, svcOpts)
	flood := h.flood
	if flood == 0 {
		flood = 1000 // tests press and type faster than people
	}
	h.hub = conversation.NewHub(svc, conversation.DispatcherOptions{FloodLimit: flood, FloodWindow: h.floodWindow, Log: h.opts.Log})
	a, err := New(h.hub, h.opts)
	if err != nil {
		t.Fatal(err)
	}
	h.adapter = a
	limits := conversation.Limits{}
	if h.limits != nil {
		limits = *h.limits
	}
	if _, err := h.hub.AddPlatform(conversation.OutboxOptions{
		Platform: Platform, Sender: a, Limits: limits, Metrics: h.metrics,
		Backoff: 50 * time.Millisecond, Rescan: 100 * time.Millisecond, Drain: h.drain, Log: h.opts.Log,
	}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Register(mux)
	h.http = httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { h.hub.Run(ctx); done <- nil }()
	go func() {
		if err := a.Run(ctx); err != nil && ctx.Err() == nil {
			done <- err
			return
		}
		done <- nil
	}()
	stopped := false
	h.stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		for range 2 {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return within 5s of cancel")
			}
		}
		h.http.Close()
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	}
	t.Cleanup(h.stop)
	// Serving once Run knows who the bot is; until then requests get 503.
	deadline := time.Now().Add(5 * time.Second)
	for a.self.Load() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the adapter did not start serving within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *harness) restart() {
	h.stop()
	h.start()
}

// post sends body to path signed now, and returns the status and how long the answer took.
func (h *harness) post(path string, body []byte, header ...string) (int, string, time.Duration) {
	h.t.Helper()
	return h.postAt(path, body, time.Now(), testSecret, header...)
}

func (h *harness) postAt(path string, body []byte, at time.Time, secret string, header ...string) (int, string, time.Duration) {
	h.t.Helper()
	req := slacktest.NewRequest(h.http.URL+path, secret, at, body)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(start)
}

func (h *harness) mustPost(path string, body []byte, header ...string) {
	h.t.Helper()
	if code, b, _ := h.post(path, body, header...); code != http.StatusOK {
		h.t.Fatalf("POST %s: %d %s", path, code, b)
	}
}

// pending is how many replies the outbox holds.
func (h *harness) pending() int {
	h.t.Helper()
	p, err := h.store.Pending(h.t.Context(), Platform, 100)
	if err != nil {
		h.t.Fatal(err)
	}
	return len(p)
}

// waitDelivered waits until the outbox is empty.
func (h *harness) waitDelivered() {
	h.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		n := h.pending()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("outbox still holds %d replies", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// dialog replays the conversation with the engine, to know what each reply must say.
type dialog struct {
	e *conversation.Engine
	d conversation.Dialog
}

func (d *dialog) step(in conversation.Input) conversation.Reply {
	next, res := d.e.Step(d.d, in, time.Now())
	d.d = next
	return res.Reply
}

// lastButton returns the id of button i of m, as the engine knows it.
func (d *dialog) lastButton(i int, m slacktest.Message) string {
	_, id, _ := parseValue(m.Buttons[i].Value)
	return id
}

// shown is how a reply's text appears in the section blocks.
func shown(r conversation.Reply) string {
	return strings.Join(splitText(escape(r.Text), maxSectionText), "\n")
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// summary is msgs, one line each, for failure messages.
func summary(msgs []slacktest.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		first, _, _ := strings.Cut(m.BlockText, "\n")
		fmt.Fprintf(&b, "\n  %s channel=%s thread=%s ts=%s url=%s %q", m.Method, m.Channel, m.ThreadTS, m.TS, m.ResponseURL, first)
	}
	return b.String()
}

// countingMetrics counts what the Outbox reports.
type countingMetrics struct{ sent, limited, retried atomic.Int64 }

func (m *countingMetrics) MessageSent() { m.sent.Add(1) }
func (m *countingMetrics) RateLimited() { m.limited.Add(1) }
func (m *countingMetrics) Retried()     { m.retried.Add(1) }
