// Package storetest is the test suite every conversation.Store implementation must pass, so
// that bbolt and any later store give the core the same guarantees.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
)

// Opener opens the store under test with now as its clock. Each call of the function it
// returns opens the same database again, as a restarted process would; the suite closes what
// it opens.
type Opener func(t *testing.T, now func() time.Time) func() conversation.Store

// clock is a settable clock for the stores under test; it starts at the real time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var errAbort = errors.New("abort on purpose")

// Run runs the suite.
func Run(t *testing.T, newOpener Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, func() conversation.Store, *clock)
	}{
		{"RoundTrip", testRoundTrip},
		{"Duplicate", testDuplicate},
		{"StepErrorSavesNothing", testStepError},
		{"Outbox", testOutbox},
		{"Restart", testRestart},
		{"Expire", testExpire},
		{"MoveChat", testMoveChat},
		{"ConcurrentCommitsSerialize", testConcurrent},
		{"EventsAndNotices", testEventsAndNotices},
		{"ExpireEvents", testExpireEvents},
		{"Ping", testPing},
		{"CommitLeavesTheReplyUnheld", testCommitUnheld},
		{"ClaimHoldsReplies", testClaim},
		{"ClaimAfter", testClaimAfter},
		{"MarkDeliveredSeveral", testMarkDeliveredSeveral},
		{"SendersNeverShareAReply", testSenders},
		{"ReplyElsewhereOrNone", testReplyElsewhereOrNone},
		{"StaleHandoffs", testStaleHandoffs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{now: time.Now()}
			tc.fn(t, newOpener(t, c.Now), c)
		})
	}
}

func open(t *testing.T, openStore func() conversation.Store) conversation.Store {
	s := openStore()
	t.Cleanup(func() { s.Close() })
	return s
}

var key = conversation.Key{Platform: "telegram", Chat: "-100", User: "42"}

// load reads the stored dialog by aborting a commit, so the suite needs nothing beyond the
// Store interface.
func load(t *testing.T, s conversation.Store, k conversation.Key) conversation.Dialog {
	t.Helper()
	var got conversation.Dialog
	_, err := s.Commit(context.Background(), conversation.Turn{Key: k}, func(d *conversation.Dialog) (conversation.Result, error) {
		got = *d
		return conversation.Result{}, errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("load: %v", err)
	}
	return got
}

func set(lang, question string, at time.Time) func(*conversation.Dialog) (conversation.Result, error) {
	return func(d *conversation.Dialog) (conversation.Result, error) {
		d.Lang, d.Stage, d.Question, d.LastActive = lang, conversation.StageAsking, question, at
		return conversation.Result{Reply: conversation.Reply{Text: "asked " + question, Lang: lang}}, nil
	}
}

func testRoundTrip(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := open(t, openStore)
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	d, err := s.Commit(context.Background(), conversation.Turn{Key: key, InboundID: "1", Route: []byte(`{"chat":-100}`)}, set("en", "card_type", at))
	if err != nil {
		t.Fatal(err)
	}
	if d.Reply.Text != "asked card_type" || d.Key != key || string(d.Route) != `{"chat":-100}` || d.ID == 0 {
		t.Errorf("delivery = %+v", d)
	}
	got := load(t, s, key)
	if got.Lang != "en" || got.Question != "card_type" || !got.LastActive.Equal(at) {
		t.Errorf("stored dialog = %+v", got)
	}
	if other := load(t, s, conversation.Key{Platform: "telegram", Chat: "-100", User: "43"}); other.Stage != conversation.StageNew || other.Lang != "" {
		t.Errorf("another person in the same chat shares the dialog: %+v", other)
	}
}

func testDuplicate(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := open(t, openStore)
	ctx := context.Background()
	if _, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: "7"}, set("en", "first", time.Now())); err != nil {
		t.Fatal(err)
	}
	// The step may run (a store may find the duplicate only when it writes); nothing it
	// does may be saved.
	_, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: "7"}, set("zh-Hans", "second", time.Now()))
	if !errors.Is(err, conversation.ErrDuplicate) {
		t.Errorf("second commit of inbound 7: err %v, want ErrDuplicate", err)
	}
	if got := load(t, s, key); got.Question != "first" || got.Lang != "en" {
		t.Errorf("a duplicate changed the dialog: %+v", got)
	}
	// The same id on another platform is another update.
	slackKey := conversation.Key{Platform: "slack", Chat: "T/C", User: "U"}
	if _, err := s.Commit(ctx, conversation.Turn{Key: slackKey, InboundID: "7"}, set("en", "x", time.Now())); err != nil {
		t.Errorf("inbound ids must be per platform: %v", err)
	}
	pending, err := s.Pending(ctx, "telegram", 10)
	if err != nil || len(pending) != 1 {
		t.Errorf("a duplicate queued a reply: %d pending, err %v", len(pending), err)
	}
}

func testStepError(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := open(t, openStore)
	ctx := context.Background()
	_, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: "9"}, func(d *conversation.Dialog) (conversation.Result, error) {
		d.Lang = "en"
		return conversation.Result{Reply: conversation.Reply{Text: "never"}, Events: []conversation.Event{{Kind: conversation.EventStarted, At: time.Now()}}}, errAbort
	})
	if !errors.Is(err, errAbort) {
		t.Fatalf("err = %v", err)
	}
	if got := load(t, s, key); got.Lang != "" {
		t.Errorf("a failed step changed the dialog: %+v", got)
	}
	if _, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: "9"}, set("en", "q", time.Now())); err != nil {
		t.Errorf("a failed step recorded the inbound id, so the retry is refused: %v", err)
	}
}

func testOutbox(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := open(t, openStore)
	ctx := context.Background()
	var ids []uint64
	for i := range 5 {
		k := conversation.Key{Platform: "telegram", Chat: fmt.Sprint(i), User: fmt.Sprint(i)}
		d, err := s.Commit(ctx, conversation.Turn{Key: k, InboundID: fmt.Sprint(100 + i)}, set("en", fmt.Sprint("q", i), time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	if _, err := s.Commit(ctx, conversation.Turn{Key: conversation.Key{Platform: "slack", Chat: "C", User: "U"}}, set("en", "s", time.Now())); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("delivery ids not increasing in commit order: %v", ids)
		}
	}
	if none, err := s.Pending(ctx, "telegram", 0); err != nil || len(none) != 0 {
		t.Errorf("Pending(telegram, 0) = %d replies, %v; want none", len(none), err)
	}
	pending, err := s.Pending(ctx, "telegram", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 3 || pending[0].ID != ids[0] || pending[2].ID != ids[2] || pending[1].Reply.Text != "asked q1" {
		t.Errorf("Pending(telegram, 3) = %+v, want the three oldest", pending)
	}
	if err := s.MarkDelivered(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(ctx, ids[0]); err != nil {
		t.Errorf("marking a delivered reply again must be harmless: %v", err)
	}
	pending, _ = s.Pending(ctx, "telegram", 10)
	if len(pending) != 4 || pending[0].ID != ids[1] {
		t.Errorf("after MarkDelivered: %d pending starting at %v", len(pending), pending)
	}
	slackPending, _ := s.Pending(ctx, "slack", 10)
	if len(slackPending) != 1 || slackPending[0].Key.Platform != "slack" {
		t.Errorf("Pending(slack) = %+v", slackPending)
	}
}

func testRestart(t *testing.T, openStore func() conversation.Store, _ *clock) {
	ctx := context.Background()
	s := openStore()
	if _, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: "55"}, set("zh-Hans", "amount", time.Now())); err != nil {
		t.Fatal(err)
	}
	other := conversation.Key{Platform: "telegram", Chat: "56", User: "56"}
	delivered, err := s.Commit(ctx, conversation.Turn{Key: other, InboundID: "56"}, set("en", "q", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	// Marked delivered just before the stop: it must not be sent again after it.
	if err := s.MarkDelivered(ctx, delivered.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, openStore)
	if got := load(t, s, key); got.Question != "amount" || got.Lang != "zh-Hans" {
		t.Errorf("after reopening: %+v", got)
	}
	if _, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: "55"}, set("en", "x", time.Now())); !errors.Is(err, conversation.ErrDuplicate) {
		t.Errorf("after reopening, an update handled before was handled again: %v", err)
	}
	if pending, _ := s.Pending(ctx, "telegram", 10); len(pending) != 1 || pending[0].Key != key {
		t.Errorf("after the restart %+v are pending, want the undelivered reply to %v alone", pending, key)
	}
}

func testExpire(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := open(t, openStore)
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	old := conversation.Key{Platform: "telegram", Chat: "1", User: "1"}
	fresh := conversation.Key{Platform: "telegram", Chat: "2", User: "2"}
	if _, err := s.Commit(ctx, conversation.Turn{Key: old}, set("en", "old", now.Add(-31*24*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, conversation.Turn{Key: fresh, InboundID: "fresh"}, set("en", "fresh", now.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	n, err := s.Expire(ctx, conversation.Cutoffs{IdleDialogs: now.Add(-30 * 24 * time.Hour), Inbound: time.Now().Add(time.Hour)})
	if err != nil || n != 1 {
		t.Fatalf("Expire = %d, %v; want 1 dialog", n, err)
	}
	if got := load(t, s, old); got.Question != "" {
		t.Errorf("the idle dialog survived: %+v", got)
	}
	if got := load(t, s, fresh); got.Question != "fresh" {
		t.Errorf("the active dialog was deleted: %+v", got)
	}
	// Inbound ids seen before the cut-off are forgotten, so the id may come again.
	if _, err := s.Commit(ctx, conversation.Turn{Key: fresh, InboundID: "fresh"}, set("en", "again", now)); err != nil {
		t.Errorf("an expired inbound id is still refused: %v", err)
	}
}

func testMoveChat(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := open(t, openStore)
	ctx := context.Background()
	for _, user := range []string{"1", "2"} {
		k := conversation.Key{Platform: "telegram", Chat: "-42", User: user}
		if _, err := s.Commit(ctx, conversation.Turn{Key: k}, set("en", "q"+user, time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	// A chat whose id starts with the old one must not move.
	bystander := conversation.Key{Platform: "telegram", Chat: "-420", User: "1"}
	if _, err := s.Commit(ctx, conversation.Turn{Key: bystander}, set("en", "stay", time.Now())); err != nil {
		t.Fatal(err)
	}
	if n, err := s.MoveChat(ctx, "telegram", "-42", "-42"); err != nil || n != 0 {
		t.Errorf("MoveChat onto itself = %d, %v; want 0, nil", n, err)
	}
	if got := load(t, s, conversation.Key{Platform: "telegram", Chat: "-42", User: "1"}); got.Question != "q1" {
		t.Errorf("moving a chat onto itself lost its dialogs: %+v", got)
	}
	n, err := s.MoveChat(ctx, "telegram", "-42", "-10042")
	if err != nil || n != 2 {
		t.Fatalf("MoveChat = %d, %v; want 2", n, err)
	}
	if got := load(t, s, conversation.Key{Platform: "telegram", Chat: "-10042", User: "2"}); got.Question != "q2" {
		t.Errorf("dialog not under the new chat id: %+v", got)
	}
	if got := load(t, s, conversation.Key{Platform: "telegram", Chat: "-42", User: "2"}); got.Question != "" {
		t.Errorf("dialog still under the old chat id: %+v", got)
	}
	if got := load(t, s, bystander); got.Question != "stay" {
		t.Errorf("another chat's dialog moved: %+v", got)
	}
}

func testConcurrent(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := open(t, openStore)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.Commit(context.Background(), conversation.Turn{Key: key, InboundID: fmt.Sprint("c", i)}, func(d *conversation.Dialog) (conversation.Result, error) {
				d.Current++
				return conversation.Result{}, nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := load(t, s, key); got.Current != n {
		t.Errorf("%d concurrent increments left %d: commits of one dialog must not overwrite each other", n, got.Current)
	}
}

func testEventsAndNotices(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := open(t, openStore)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	humans := conversation.Key{Platform: "slack", Chat: "T/Chumans", User: ""}
	for i, kind := range []conversation.EventKind{conversation.EventStarted, conversation.EventDiagnosed, conversation.EventHandoff} {
		at := t0.Add(time.Duration(i) * 24 * time.Hour)
		_, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: fmt.Sprint("e", i)}, func(d *conversation.Dialog) (conversation.Result, error) {
			res := conversation.Result{
				Reply:  conversation.Reply{Text: string(kind)},
				Events: []conversation.Event{{Kind: kind, Platform: "telegram", Lang: "en", Cause: "bank-verification", At: at}},
			}
			if kind == conversation.EventHandoff {
				res.Notices = []conversation.Notice{{Key: humans, Route: []byte("C-humans"), Reply: conversation.Reply{Text: "summary"}}}
			}
			return res, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var got []conversation.EventKind
	err := s.Events(ctx, t0.Add(24*time.Hour), func(e conversation.Event) error {
		if e.Platform != "telegram" || e.Lang != "en" || e.Cause != "bank-verification" {
			t.Errorf("event fields lost: %+v", e)
		}
		got = append(got, e.Kind)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != conversation.EventDiagnosed || got[1] != conversation.EventHandoff {
		t.Errorf("events since day 2 = %v, want [diagnosed handoff] in order", got)
	}
	notices, err := s.Pending(ctx, "slack", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || notices[0].Key != humans || string(notices[0].Route) != "C-humans" || notices[0].Reply.Text != "summary" {
		t.Errorf("the notice was not queued for its own platform: %+v", notices)
	}
	if own, _ := s.Pending(ctx, "telegram", 10); len(own) != 3 {
		t.Errorf("%d telegram replies pending, want 3", len(own))
	}
	// A failed step records no events.
	s.Commit(ctx, conversation.Turn{Key: key}, func(d *conversation.Dialog) (conversation.Result, error) {
		return conversation.Result{Events: []conversation.Event{{Kind: conversation.EventWorked, At: t0.Add(99 * 24 * time.Hour)}}}, errAbort
	})
	s.Events(ctx, t0.Add(98*24*time.Hour), func(e conversation.Event) error {
		t.Errorf("an event of an aborted commit was recorded: %+v", e)
		return nil
	})
}

func testExpireEvents(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := open(t, openStore)
	ctx := context.Background()
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		at := day.Add(time.Duration(i) * 24 * time.Hour)
		_, err := s.Commit(ctx, conversation.Turn{Key: key, InboundID: fmt.Sprint("ev", i)}, func(d *conversation.Dialog) (conversation.Result, error) {
			d.LastActive = time.Now()
			return conversation.Result{Events: []conversation.Event{{Kind: conversation.EventShown, Solution: fmt.Sprint(i), At: at}}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	count := func() (n int) {
		if err := s.Events(ctx, time.Time{}, func(conversation.Event) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Without an events cut-off every event is kept.
	if _, err := s.Expire(ctx, conversation.Cutoffs{IdleDialogs: day, Inbound: day}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 5 {
		t.Fatalf("%d events after an Expire without an events cut-off, want 5", n)
	}
	if _, err := s.Expire(ctx, conversation.Cutoffs{IdleDialogs: day, Inbound: day, Events: day.Add(2 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var left []string
	s.Events(ctx, time.Time{}, func(e conversation.Event) error { left = append(left, e.Solution); return nil })
	if len(left) != 3 || left[0] != "2" {
		t.Errorf("events left %v, want the last three (days 3 to 5)", left)
	}
}

// Version1Record returns testdata/store/dialog-v1.json, a dialog record in the first
// encoding, for a store's test to put in its database as it is. The caller runs in a package
// under internal/store.
func Version1Record(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "store", "dialog-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CheckVersion1Migrated reads the dialog stored under k, put there as Version1Record, through
// s and checks that it arrives migrated.
func CheckVersion1Migrated(t *testing.T, s conversation.Store, k conversation.Key) {
	t.Helper()
	got := load(t, s, k)
	if got.Stage != conversation.StageSolving || got.Cause != "bank-verification" || got.Current != 1 ||
		len(got.Plan) != 3 || got.Plan[1] != "payment-timing" || got.Lang != "en" || got.LastActive.Unix() != 1764150000 {
		t.Errorf("migrated dialog = %+v", got)
	}
	if sol, _ := got.CurrentSolution(); sol != "payment-timing" {
		t.Errorf("current solution %q", sol)
	}
}

// testReplyElsewhereOrNone: a turn's ReplyKey sends its reply to another chat (a helper's
// answer changes the person's dialog and is acknowledged in the helpers' chat, maybe on
// another platform); an empty reply queues nothing, while the dialog and the notices commit.
func testReplyElsewhereOrNone(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := open(t, openStore)
	ctx := context.Background()
	person := conversation.Key{Platform: "telegram", Chat: "7", User: "7"}
	helpers := conversation.Key{Platform: "slack", Chat: "T1/C9", User: "U5"}
	d, err := s.Commit(ctx, conversation.Turn{Key: person, InboundID: "h1", ReplyKey: helpers, Route: []byte(`{"m":"post"}`)}, func(d *conversation.Dialog) (conversation.Result, error) {
		d.Current = 3
		return conversation.Result{Reply: conversation.Reply{Text: "not open any more"}}, nil
	})
	if err != nil || d.Key != helpers {
		t.Fatalf("Commit with a ReplyKey = %+v, %v; want the reply keyed to the helpers' chat", d, err)
	}
	if p, _ := s.Pending(ctx, "slack", 10); len(p) != 1 || p[0].Key != helpers || string(p[0].Route) != `{"m":"post"}` {
		t.Errorf("the helpers' platform holds %+v", p)
	}
	d, err = s.Commit(ctx, conversation.Turn{Key: person, InboundID: "h2", ReplyKey: helpers}, func(d *conversation.Dialog) (conversation.Result, error) {
		d.Current = 4
		return conversation.Result{Notices: []conversation.Notice{{Key: person, Route: []byte(`{"c":7}`), Reply: conversation.Reply{Text: "from a helper"}}}}, nil
	})
	if err != nil || d.ID != 0 {
		t.Fatalf("Commit with an empty reply = %+v, %v; want nothing queued for it", d, err)
	}
	if p, _ := s.Pending(ctx, "slack", 10); len(p) != 1 {
		t.Errorf("an empty reply was queued: %+v", p)
	}
	if p, _ := s.Pending(ctx, "telegram", 10); len(p) != 1 || p[0].Reply.Text != "from a helper" {
		t.Errorf("the notice to the person: %+v", p)
	}
	var got conversation.Dialog
	s.Commit(ctx, conversation.Turn{Key: person}, func(d *conversation.Dialog) (conversation.Result, error) {
		got = *d
		return conversation.Result{}, nil
	})
	if got.Current != 4 {
		t.Errorf("the dialog after a turn with an empty reply: %+v", got)
	}
}

// testStaleHandoffs: the dialogs with a handoff open since before a time, and only those.
func testStaleHandoffs(t *testing.T, openStore func() conversation.Store, _ *clock) {
	s := open(t, openStore)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	set := func(k conversation.Key, h *conversation.Handoff) {
		t.Helper()
		if _, err := s.Commit(ctx, conversation.Turn{Key: k}, func(d *conversation.Dialog) (conversation.Result, error) {
			d.LastActive, d.Handoff = t0, h
			return conversation.Result{}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	old := conversation.Key{Platform: "telegram", Chat: "1", User: "1"}
	recent := conversation.Key{Platform: "slack", Chat: "T1/D2", User: "U2"}
	none := conversation.Key{Platform: "telegram", Chat: "3", User: "3"}
	set(old, &conversation.Handoff{Opened: t0.Add(-80 * time.Hour), Route: []byte(`{"c":1}`)})
	set(recent, &conversation.Handoff{Opened: t0.Add(-time.Hour)})
	set(none, nil)
	keys, err := s.StaleHandoffs(ctx, t0.Add(-72*time.Hour))
	if err != nil || len(keys) != 1 || keys[0] != old {
		t.Errorf("StaleHandoffs = %v, %v; want only %v", keys, err, old)
	}
}
