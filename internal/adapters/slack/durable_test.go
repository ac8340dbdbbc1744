package slack

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
	"github.com/paydoctor/bot/internal/conversation"
)

// faultyStore fails the next fails commits, as a full disk would, and passes the rest on.
type faultyStore struct {
	conversation.Store
	fails atomic.Int32
}

var errDiskFull = errors.New("write bot.db: no space left on device")

func (s *faultyStore) Commit(ctx context.Context, t conversation.Turn, step func(*conversation.Dialog) (conversation.Result, error)) (conversation.Delivery, error) {
	if s.fails.Add(-1) >= 0 {
		return conversation.Delivery{}, errDiskFull
	}
	return s.Store.Commit(ctx, t, step)
}

// failing returns a store wrapper failing the next n commits.
func failing(n int32) func(conversation.Store) conversation.Store {
	return func(s conversation.Store) conversation.Store {
		f := &faultyStore{Store: s}
		f.fails.Store(n)
		return f
	}
}

// withFaultyStore restarts h on a store that fails the next n commits.
func withFaultyStore(h *harness, n int32) {
	h.stop()
	h.wrap = failing(n)
	h.start()
}

// A message whose commit fails is answered 500, so that Slack sends it again, and gets no
// reply; Slack's retry, once the store works again, is answered once.
func TestStoreFailure_500ThenRetryAnsweredOnce(t *testing.T) {
	h := newHarness(t, nil)
	withFaultyStore(h, 1)
	dm := slacktest.EventBody("EvFull", slacktest.DM("D1", "U1", "/help", "1700000000.000100"))
	if code, _, _ := h.post("/slack/events", dm); code != http.StatusInternalServerError {
		t.Fatalf("commit failed, answered %d; want 500", code)
	}
	cmd := slacktest.CommandBody(slacktest.Command{Channel: "C1", User: "U1", Text: "help", ResponseURL: h.slack.ResponseURL(), TriggerID: "tFull"})
	withFaultyStore(h, 1)
	if code, _, _ := h.post("/slack/commands", cmd); code != http.StatusInternalServerError {
		t.Fatalf("slash command whose commit failed answered %d; want 500", code)
	}
	time.Sleep(200 * time.Millisecond)
	if msgs := h.slack.Messages(); len(msgs) != 0 {
		t.Fatalf("replies to uncommitted messages:%s", summary(msgs))
	}
	if n := h.pending(); n != 0 {
		t.Fatalf("%d replies in the outbox for uncommitted messages", n)
	}

	h.mustPost("/slack/events", dm, "X-Slack-Retry-Num", "1", "X-Slack-Retry-Reason", "http_error")
	h.mustPost("/slack/events", dm, "X-Slack-Retry-Num", "2", "X-Slack-Retry-Reason", "http_error")
	h.mustPost("/slack/commands", cmd)
	h.slack.WaitMessages(2, wait)
	h.waitDelivered()
	time.Sleep(100 * time.Millisecond)
	if msgs := h.slack.Messages(); len(msgs) != 2 {
		t.Fatalf("messages:%s\nwant one answer to the DM and one to the command", summary(msgs))
	}
}

// A message acknowledged just before the bot stops is not lost: its reply, committed before
// the 200, is sent at the next start, once.
func TestStopRightAfterAck_DeliveredOnNextStart(t *testing.T) {
	h := newHarness(t, func(h *harness) { h.drain = 100 * time.Millisecond })
	h.slack.RateLimit("chat.postMessage", 30) // the first send waits; the bot stops meanwhile
	h.mustPost("/slack/events", slacktest.EventBody("EvStop", slacktest.DM("D1", "U1", "/help", "1700000000.000100")))
	if n := h.pending(); n != 1 {
		t.Fatalf("after the 200, %d replies in the outbox; want the one committed", n)
	}
	// The stop comes while the first send waits out the Retry-After.
	deadline := time.Now().Add(wait)
	for h.slack.Calls("chat.postMessage") == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	h.stop()
	if msgs := h.slack.Messages(); len(msgs) != 0 {
		t.Fatalf("sent before the stop:%s", summary(msgs))
	}
	h.start()
	m := h.slack.WaitMessages(1, wait)[0]
	want := (&dialog{e: h.engine}).step(conversation.Input{Kind: conversation.InputText, Text: "/help"})
	if m.Channel != "D1" || m.BlockText != shown(want) {
		t.Fatalf("after restart sent %+v, want the answer to /help in D1", m)
	}
	h.waitDelivered()
	// Slack's retry of the event (its 200 was lost, say) is not answered again.
	h.mustPost("/slack/events", slacktest.EventBody("EvStop", slacktest.DM("D1", "U1", "/help", "1700000000.000100")), "X-Slack-Retry-Num", "1")
	time.Sleep(100 * time.Millisecond)
	if msgs := h.slack.Messages(); len(msgs) != 1 {
		t.Fatalf("messages:%s\nwant the one reply", summary(msgs))
	}
}

// In Socket Mode an envelope whose commit fails is not acknowledged, so that Slack sends it
// again; the envelope sent again is acknowledged and answered once.
func TestSocketMode_StoreFailureNotAcked(t *testing.T) {
	h := newHarness(t, func(h *harness) {
		h.opts.SigningSecret = ""
		h.opts.AppToken = "xapp-test"
		h.wrap = failing(1)
	})
	h.slack.WaitConnected(wait)
	dm := slacktest.EventBody("EvSock", slacktest.DM("D1", "U1", "/help", "1700000000.000100"))
	first := h.slack.SendEnvelope("events_api", dm)
	time.Sleep(300 * time.Millisecond)
	if h.slack.Acked(first) {
		t.Fatal("an envelope whose commit failed was acknowledged")
	}
	if msgs := h.slack.Messages(); len(msgs) != 0 {
		t.Fatalf("replies to an uncommitted envelope:%s", summary(msgs))
	}
	h.slack.WaitAck(h.slack.SendEnvelope("events_api", dm), wait)
	h.slack.WaitMessages(1, wait)
	h.waitDelivered()
	if msgs := h.slack.Messages(); len(msgs) != 1 {
		t.Fatalf("messages:%s\nwant one answer", summary(msgs))
	}
}
