package telegram

import (
	"bytes"
	"context"
	"html"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/store/boltstore"
)

// harness runs a Bot against a fake Bot API and a real bbolt file, with the hub and the
// Outbox cmd/bot gives it.
type harness struct {
	t      *testing.T
	fake   *telegramtest.Server
	dbPath string
	kb     *kb.KB
	store  *boltstore.Store
	engine *conversation.Engine
	hub    *conversation.Hub
	bot    *Bot
	logs   *syncBuffer
	// limits are the Outbox's; nil: none, so that tests not about pacing are not slowed by
	// Telegram's.
	limits  *conversation.Limits
	metrics conversation.DeliveryMetrics
	flood   int           // the dispatcher's FloodLimit; zero: the default
	drain   time.Duration // the Outbox's Drain; zero: the default
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan error
	running int // goroutines sending to done
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
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

// testOptions are fast settings for tests: short long polls and backoffs.
func testOptions(fake *telegramtest.Server) Options {
	return Options{
		Token:        telegramtest.Token,
		APIEndpoint:  fake.Endpoint(),
		PollTimeout:  time.Second,
		RetryBackoff: 50 * time.Millisecond,
	}
}

// newHarness opens the store at dbPath (a new file in t.TempDir() if empty); start builds
// the bot on it and runs it.
func newHarness(t *testing.T, fake *telegramtest.Server, dbPath string, opts Options) *harness {
	t.Helper()
	if dbPath == "" {
		dbPath = filepath.Join(t.TempDir(), "bot.db")
	}
	k := testKB(t)
	engine, err := conversation.NewEngine(k, conversation.EngineOptions{Lang: "zh-Hans"})
	if err != nil {
		t.Fatal(err)
	}
	store, err := boltstore.Open(dbPath, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, fake: fake, dbPath: dbPath, kb: k, store: store, engine: engine, logs: &syncBuffer{}}
	opts.KB = k
	opts.Log = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.build(store, opts)
	t.Cleanup(func() {
		h.stop()
		if strings.Contains(h.logs.String(), telegramtest.Token) {
			t.Errorf("the token was logged:\n%s", h.logs)
		}
	})
	return h
}

// build makes the hub and the bot on store, as cmd/bot does.
func (h *harness) build(store conversation.Store, opts Options) {
	svc := conversation.NewService(h.engine, store, conversation.ServiceOptions{})
	h.hub = conversation.NewHub(svc, conversation.DispatcherOptions{FloodLimit: h.flood, Log: opts.Log})
	h.bot = New(h.hub, opts)
}

// start runs the hub and the bot.
func (h *harness) start() *harness {
	h.startHub()
	h.running++
	go func() { h.done <- h.bot.Run(h.ctx) }()
	return h
}

// startHub runs the hub alone, with the Outbox of the harness's bot.
func (h *harness) startHub() {
	limits := conversation.Limits{}
	if h.limits != nil {
		limits = *h.limits
	}
	if _, err := h.hub.AddPlatform(conversation.OutboxOptions{Platform: Platform, Sender: h.bot, Limits: limits, Metrics: h.metrics, Backoff: 50 * time.Millisecond, Rescan: 100 * time.Millisecond, Drain: h.drain, Log: h.bot.opts.Log}); err != nil {
		h.t.Fatal(err)
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.done = make(chan error, 2)
	h.running = 1
	go func() { h.hub.Run(h.ctx); h.done <- nil }()
}

// stop cancels Run, checks the bot and the hub return within 5 s, and closes the store.
func (h *harness) stop() {
	h.t.Helper()
	if h.cancel != nil {
		h.cancel()
		for range h.running {
			select {
			case err := <-h.done:
				if err != nil {
					h.t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				h.t.Fatal("Run did not return within 5s of cancel")
			}
		}
		h.cancel = nil
	}
	if h.store != nil {
		if err := h.store.Close(); err != nil {
			h.t.Errorf("close store: %v", err)
		}
		h.store = nil
	}
}

// text returns the text of kb message id in lang.
func (h *harness) text(lang, id string) string { return h.kb.Text(lang, id, nil) }

// plain is a sent message's text as people see it.
func plain(m telegramtest.Message) string { return html.UnescapeString(m.Text) }

// button returns the callback_data of the button of m whose data ends with "|"+id.
func button(t *testing.T, m telegramtest.Message, id string) string {
	t.Helper()
	for _, b := range m.Buttons() {
		if strings.HasSuffix(b.CallbackData, "|"+id) {
			return b.CallbackData
		}
	}
	t.Fatalf("no button %q in %+v", id, m.Buttons())
	return ""
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
