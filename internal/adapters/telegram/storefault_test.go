package telegram

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
)

// faultyStore fails the first commit of each inbound id in failOnce, as a full disk would,
// and records every commit tried.
type faultyStore struct {
	conversation.Store
	mu       sync.Mutex
	failOnce map[string]bool
	tried    []string
}

func (s *faultyStore) Commit(ctx context.Context, t conversation.Turn, step func(*conversation.Dialog) (conversation.Result, error)) (conversation.Delivery, error) {
	s.mu.Lock()
	s.tried = append(s.tried, t.InboundID)
	fail := s.failOnce[t.InboundID]
	delete(s.failOnce, t.InboundID)
	s.mu.Unlock()
	if fail {
		return conversation.Delivery{}, errors.New("write bot.db: no space left on device")
	}
	return s.Store.Commit(ctx, t, step)
}

func (s *faultyStore) tries(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, x := range s.tried {
		if x == id {
			n++
		}
	}
	return n
}

// withFaultyStore rebuilds h's bot (not yet started) on a store failing once for each id.
func withFaultyStore(h *harness, opts Options, ids ...int) *faultyStore {
	f := &faultyStore{Store: h.store, failOnce: map[string]bool{}}
	for _, id := range ids {
		f.failOnce[strconv.Itoa(id)] = true
	}
	opts.KB, opts.Log = h.kb, h.bot.opts.Log
	h.build(f, opts)
	return f
}

// In long polling, an update whose commit fails is not confirmed: the next getUpdates asks
// for it again (its offset does not pass it), and it is answered once, after the retry.
// Updates after it wait, so that one person's messages keep their order.
func TestPolling_StoreFailureLeavesUpdateUnconfirmed(t *testing.T) {
	fake := telegramtest.NewServer(t)
	opts := testOptions(fake)
	h := newHarness(t, fake, "", opts)
	first := fake.AddUpdate(telegramtest.PrivateText(alice, "/start"))
	second := fake.AddUpdate(telegramtest.PrivateText(alice, "/help"))
	store := withFaultyStore(h, opts, first)
	h.start()
	msgs := fake.WaitMessages(t, 2, 5*time.Second)
	time.Sleep(200 * time.Millisecond)
	if got := len(fake.Messages()); got != 2 {
		t.Fatalf("%d messages, want the two answers once each", got)
	}
	if n := store.tries(strconv.Itoa(first)); n != 2 {
		t.Fatalf("the failed update was committed %d times, want 2 (the failure, then the retry)", n)
	}
	if !strings.Contains(plain(msgs[0]), h.text("en", kb.MsgGreeting)) {
		t.Errorf("first answer %q, want the greeting: order kept", plain(msgs[0]))
	}
	if n := store.tries(strconv.Itoa(second)); n != 1 {
		t.Errorf("the next update was committed %d times, want once", n)
	}
}

// In webhook mode, an update whose commit fails is answered 500, so Telegram sends it again;
// the retry is answered 200 and the person once.
func TestWebhook_StoreFailureIs500ThenRetried(t *testing.T) {
	fake := telegramtest.NewServer(t)
	opts := testOptions(fake)
	opts.WebhookURL = "https://bot.example/telegram/webhook"
	opts.WebhookSecret = "s3cret"
	h := newHarness(t, fake, "", opts)
	id := 777001
	withFaultyStore(h, opts, id)
	h.start()
	srv := httptest.NewServer(h.bot.WebhookHandler())
	defer srv.Close()
	waitFor(t, "the webhook registered", func() bool { return len(fake.Calls("setWebhook")) > 0 })
	body := `{"update_id":` + strconv.Itoa(id) + `,"message":{"message_id":9,"from":{"id":111,"first_name":"Alice","language_code":"en"},"chat":{"id":111,"type":"private"},"date":1700000000,"text":"/start"}}`
	post := func() int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, "the bot serving", func() bool { return h.bot.self.Load() != nil })
	if code := post(); code != http.StatusInternalServerError {
		t.Fatalf("commit failed, answered %d; want 500", code)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(fake.Messages()); n != 0 {
		t.Fatalf("%d messages for an uncommitted update", n)
	}
	if code := post(); code != http.StatusOK {
		t.Fatalf("retry answered %d; want 200", code)
	}
	if code := post(); code != http.StatusOK {
		t.Fatalf("a duplicate answered %d; want 200", code)
	}
	fake.WaitMessages(t, 1, 5*time.Second)
	time.Sleep(100 * time.Millisecond)
	if n := len(fake.Messages()); n != 1 {
		t.Fatalf("%d messages, want one", n)
	}
}
