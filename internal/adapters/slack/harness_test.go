package slack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
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
// endpoints on a test server.
type harness struct {
	t      *testing.T
	slack  *slacktest.Server
	engine *conversation.Engine
	db     string
	opts   Options
	// wrap, if set, wraps the store the service commits to, as a fault injector.
	wrap func(conversation.Store) conversation.Store

	store   *boltstore.Store
	svc     *conversation.Service
	adapter *Adapter
	http    *httptest.Server
	stop    func()
}

func testEngine(t testing.TB) *conversation.Engine {
	t.Helper()
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := conversation.NewEngine(k, "zh-Hans")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// newHarness starts an adapter in HTTP mode; edit changes its options first.
func newHarness(t *testing.T, edit func(*Options)) *harness {
	t.Helper()
	return newWrappedHarness(t, edit, nil)
}

// newWrappedHarness is newHarness with the store wrapped by wrap, if not nil.
func newWrappedHarness(t *testing.T, edit func(*Options), wrap func(conversation.Store) conversation.Store) *harness {
	t.Helper()
	h := &harness{t: t, wrap: wrap, slack: slacktest.NewServer(t), engine: testEngine(t), db: filepath.Join(t.TempDir(), "bot.db")}
	h.opts = Options{
		BotToken:        "xoxb-test",
		SigningSecret:   testSecret,
		ChannelInterval: 10 * time.Millisecond,
		FloodLimit:      1000, // tests press and type faster than people
		FloodWindow:     time.Second,
		Log:             slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if testing.Verbose() {
		h.opts.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h.opts.APIURL = h.slack.URL
	if edit != nil {
		edit(&h.opts)
	}
	h.start()
	return h
}

// start opens the store and runs the adapter; restart stops and starts them again.
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
	h.svc = conversation.NewService(h.engine, svcStore, nil)
	a, err := New(h.svc, h.opts)
	if err != nil {
		t.Fatal(err)
	}
	h.adapter = a
	mux := http.NewServeMux()
	a.Register(mux)
	h.http = httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	h.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
		h.http.Close()
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	}
	t.Cleanup(h.stop)
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

// reopen opens the store of a stopped harness directly.
func (h *harness) reopen() (*boltstore.Store, *conversation.Service) {
	h.t.Helper()
	store, err := boltstore.Open(h.db, boltstore.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	return store, conversation.NewService(h.engine, store, nil)
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

// waitDelivered waits until the outbox is empty.
func (h *harness) waitDelivered() {
	h.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		p, err := h.store.Pending(h.t.Context(), Platform, 10)
		if err != nil {
			h.t.Fatal(err)
		}
		if len(p) == 0 {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("outbox still holds %d replies", len(p))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lastButton returns the id of button i of m, as the engine knows it.
func (d *dialog) lastButton(i int, m slacktest.Message) string {
	_, id, _ := parseValue(m.Buttons[i].Value)
	return id
}
