package conversation_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/store/boltstore"
)

func TestStep_Events(t *testing.T) {
	e := newEngine(t, "en")
	var d conversation.Dialog
	var kinds []string
	for _, line := range []string{"/start", "[a:what_happened:wallet]", "[no:international-card]", "[ok:virtual-card]", "/help"} {
		var res conversation.Result
		d, res = e.Step(d, parseInput(line), time.Now())
		for _, ev := range res.Events {
			kinds = append(kinds, string(ev.Kind)+":"+ev.Cause+":"+ev.Solution)
		}
	}
	want := []string{
		"started::",
		"diagnosed:platform-unsupported:", "shown:platform-unsupported:international-card",
		"failed:platform-unsupported:international-card", "shown:platform-unsupported:virtual-card",
		"worked:platform-unsupported:virtual-card",
	}
	if !slices.Equal(kinds, want) {
		t.Errorf("events\n got %v\nwant %v", kinds, want)
	}
}

func TestService_HandoffPostsASummary(t *testing.T) {
	e := newEngineWith(t, conversation.EngineOptions{Lang: "en", Handoff: true})
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "bot.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	humans := conversation.HandoffTarget{Key: conversation.Key{Platform: "telegram", Chat: "-100777"}, Route: []byte(`{"chat":-100777}`)}
	svc := conversation.NewService(e, store, conversation.ServiceOptions{Handoff: &humans})
	ctx := context.Background()
	key := conversation.Key{Platform: "slack", Chat: "T1/D1", User: "U42"}
	from := conversation.Person{Name: "Wang Fang", Reach: "<@U42>"}
	var last conversation.Delivery
	for i, line := range []string{"我的卡号 4111 1111 1111 1111 被拒绝了", "[no:enable-cross-border]", "/human"} {
		in := parseInput(line)
		in.From = from
		last, err = svc.Handle(ctx, conversation.Inbound{Turn: conversation.Turn{Key: key, InboundID: string(rune('a' + i))}, Input: in})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(last.Reply.Text, "真人帮手") {
		t.Errorf("the person is not told a human will follow up: %q", last.Reply.Text)
	}
	notices, err := store.Pending(ctx, "telegram", 10)
	if err != nil || len(notices) != 1 {
		t.Fatalf("pending for the humans' chat: %v, %v", notices, err)
	}
	n := notices[0]
	if n.Key != humans.Key || string(n.Route) != string(humans.Route) {
		t.Errorf("summary addressed to %v %s", n.Key, n.Route)
	}
	for _, want := range []string{"Wang Fang", "<@U42>", "slack", "zh-Hans", "cross-border-restricted", "enable-cross-border: did not work", "international-card: no answer", "[removed]"} {
		if !strings.Contains(n.Reply.Text, want) {
			t.Errorf("summary lacks %q:\n%s", want, n.Reply.Text)
		}
	}
	if strings.Contains(n.Reply.Text, "4111") {
		t.Errorf("card number in the summary:\n%s", n.Reply.Text)
	}
	var handoffs int
	store.Events(ctx, time.Time{}, func(ev conversation.Event) error {
		if ev.Kind == conversation.EventHandoff && ev.Platform == "slack" {
			handoffs++
		}
		return nil
	})
	if handoffs != 1 {
		t.Errorf("%d handoff events recorded, want 1", handoffs)
	}
}

func TestService_NoHandoffTargetPointsToSupport(t *testing.T) {
	e := newEngine(t, "en")
	_, r := stepReply(e, conversation.Dialog{}, parseInput("/human"), time.Now())
	if !strings.Contains(r.Text, "No human helper") || len(r.Solutions) != 1 || r.Solutions[0] != "contact-support" {
		t.Errorf("without a handoff target /human must point to OpenAI support: %+v", r)
	}
}

func TestService_ObserverSeesEachHandle(t *testing.T) {
	e := newEngine(t, "en")
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "bot.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	type seen struct {
		id    string
		kinds []conversation.EventKind
		err   error
		timed bool
		keyed bool
	}
	var got []seen
	observe := func(in conversation.Inbound, res conversation.Result, err error, took time.Duration) {
		got = append(got, seen{id: in.InboundID, err: err, timed: took > 0, keyed: in.Key.User == "u", kinds: eventKinds(res)})
	}
	svc := conversation.NewService(e, store, conversation.ServiceOptions{Observe: observe})
	ctx := context.Background()
	key := conversation.Key{Platform: "telegram", Chat: "1", User: "u"}
	for _, step := range []struct{ id, line string }{{"1", "/start"}, {"2", "[a:what_happened:wallet]"}, {"2", "[a:what_happened:wallet]"}} {
		svc.Handle(ctx, conversation.Inbound{Turn: conversation.Turn{Key: key, InboundID: step.id}, Input: parseInput(step.line)})
	}
	if len(got) != 3 {
		t.Fatalf("observer called %d times, want 3", len(got))
	}
	if !slices.Equal(got[0].kinds, []conversation.EventKind{conversation.EventStarted}) ||
		!slices.Equal(got[1].kinds, []conversation.EventKind{conversation.EventDiagnosed, conversation.EventShown}) {
		t.Errorf("events seen: %+v", got)
	}
	if !errors.Is(got[2].err, conversation.ErrDuplicate) || len(got[2].kinds) != 0 {
		t.Errorf("the duplicate was observed as %+v", got[2])
	}
	for _, s := range got {
		if !s.timed || !s.keyed {
			t.Errorf("observed %+v: want the inbound message and a duration", s)
		}
	}
}

// A dialog that begins with pasted text, not /start, counts as started once.
func TestStep_FirstMessageStartsTheDialog(t *testing.T) {
	e := newEngine(t, "en")
	var d conversation.Dialog
	var started int
	for _, line := range []string{"Your card was declined", "/start", "hello"} {
		var res conversation.Result
		d, res = e.Step(d, parseInput(line), time.Now())
		for _, ev := range res.Events {
			if ev.Kind == conversation.EventStarted {
				started++
			}
		}
	}
	if started != 2 { // the first message, and /start starting over
		t.Errorf("%d started events, want 2", started)
	}
}
