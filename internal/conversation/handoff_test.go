package conversation_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/store/boltstore"
)

// The two-way handoff, step by step through the engine: what goes to the helpers, what to
// the person, and what each step records.
func TestStep_TwoWayHandoff(t *testing.T) {
	e := newEngineWith(t, conversation.EngineOptions{Lang: "en", Handoff: true})
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ann := conversation.Person{Name: "Ann Lee"}
	helper := conversation.Person{Name: "Mei Chen"}
	step := func(d conversation.Dialog, in conversation.Input) (conversation.Dialog, conversation.Result) {
		t.Helper()
		in.Ref = "telegram:1:1"
		now = now.Add(time.Minute)
		return e.Step(d, in, now)
	}
	person := func(text string) conversation.Input {
		in := parseInput(text)
		in.From = ann
		return in
	}
	answer := func(text string) conversation.Input {
		return conversation.Input{Kind: conversation.InputHelperReply, Text: text, From: helper}
	}

	d, res := step(conversation.Dialog{}, person("/human"))
	if d.Handoff == nil || !slices.Contains(eventKinds(res), conversation.EventHandoff) || res.Reply.Buttons[0].ID != conversation.ButtonBackToBot {
		t.Fatalf("/human: handoff %+v, events %v, buttons %+v", d.Handoff, eventKinds(res), res.Reply.Buttons)
	}

	// The person writes: it goes to the helpers, and the person gets no reply.
	d, res = step(d, person("still declined"))
	if !res.Reply.Empty() || len(res.Notices) != 1 || res.Notices[0].To != conversation.ToHelpers {
		t.Fatalf("the person's message: reply %+v, notices %+v", res.Reply, res.Notices)
	}
	if n := res.Notices[0].Reply.Text; !strings.Contains(n, "Ann Lee") || !strings.Contains(n, "still declined") || !strings.Contains(n, "telegram:1:1") {
		t.Errorf("relayed to the helpers: %q", n)
	}
	// Card data never reaches the helpers; the person is told to delete it.
	d, res = step(d, person("my card 4111 1111 1111 1111 cvv 123"))
	if len(res.Notices) != 1 || strings.Contains(res.Notices[0].Reply.Text, "4111") || strings.Contains(res.Notices[0].Reply.Text, "123") {
		t.Errorf("card data relayed: %+v", res.Notices)
	}
	if !strings.Contains(res.Reply.Text, e.KB().Text("en", kb.MsgCardDataWarning, nil)) {
		t.Errorf("the person is not warned about the card data: %q", res.Reply.Text)
	}

	// A helper answers, twice: the person gets both, signed with the first name; the first
	// counts as the handoff answered.
	d, res = step(d, answer("Please call your bank's hotline."))
	if !res.Reply.Empty() || len(res.Notices) != 1 || res.Notices[0].To != conversation.ToPerson || !slices.Contains(eventKinds(res), conversation.EventHandoffAnswered) {
		t.Fatalf("a helper's answer: reply %+v, notices %+v, events %v", res.Reply, res.Notices, eventKinds(res))
	}
	if n := res.Notices[0].Reply; !strings.Contains(n.Text, "Mei") || strings.Contains(n.Text, "Chen") || !strings.Contains(n.Text, "hotline") || n.Lang != "en" {
		t.Errorf("relayed to the person: %+v", n)
	}
	d, res = step(d, answer("Then try again."))
	if slices.Contains(eventKinds(res), conversation.EventHandoffAnswered) || len(res.Notices) != 1 {
		t.Errorf("a second answer: events %v, notices %d", eventKinds(res), len(res.Notices))
	}

	// Commands still work, and the handoff stays open.
	d, res = step(d, person("/solutions"))
	if d.Handoff == nil || res.Reply.Empty() || len(res.Notices) != 0 {
		t.Errorf("/solutions during a handoff: handoff %+v, reply %q, notices %d", d.Handoff, res.Reply.Text, len(res.Notices))
	}

	// A helper closes it: the person is asked whether it is solved, and answers.
	d, res = step(d, conversation.Input{Kind: conversation.InputHelperDone, From: helper})
	if d.Handoff != nil || len(res.Notices) != 1 || len(res.Notices[0].Reply.Buttons) != 2 || !slices.Contains(eventKinds(res), conversation.EventHandoffClosed) {
		t.Fatalf("/done: handoff %+v, notices %+v, events %v", d.Handoff, res.Notices, eventKinds(res))
	}
	d, res = step(d, conversation.Input{Kind: conversation.InputButton, Text: conversation.ButtonHelpedYes})
	if !slices.Contains(eventKinds(res), conversation.EventHandoffSolved) {
		t.Errorf("the person's verdict: events %v", eventKinds(res))
	}
	// Once closed, a helper's reply relays nothing and says so to the helper.
	d, res = step(d, answer("anything else?"))
	if res.Reply.Empty() || len(res.Notices) != 0 {
		t.Errorf("an answer after the end: reply %q, notices %+v", res.Reply.Text, res.Notices)
	}

	// Back to the bot by the person's own /start: the helpers are told.
	d, _ = step(d, person("/human"))
	d, res = step(d, person("/start"))
	if d.Handoff != nil || len(res.Notices) != 1 || res.Notices[0].To != conversation.ToHelpers || !strings.Contains(res.Reply.Text, e.KB().Text("en", kb.MsgGreeting, nil)) {
		t.Errorf("/start during a handoff: handoff %+v, notices %+v, reply %q", d.Handoff, res.Notices, res.Reply.Text)
	}

	// So do the other ways to start over, which dropped the handoff without a word to them.
	for _, in := range []conversation.Input{person("/restart"), person("/reset@paydoctor_bot"), person("start over"), {Kind: conversation.InputButton, Text: conversation.ButtonRestart, Ref: "telegram:1:1"}} {
		open, _ := step(d, person("/human"))
		after, res := step(open, in)
		if after.Handoff != nil || len(res.Notices) != 1 || res.Notices[0].To != conversation.ToHelpers || !slices.Contains(eventKinds(res), conversation.EventHandoffClosed) {
			t.Errorf("%s during a handoff: handoff %+v, notices %+v, events %v", in.Text, after.Handoff, res.Notices, eventKinds(res))
		}
	}

	// A handoff nobody answers expires: the person's next message says so and goes on with
	// the flow.
	d, _ = step(d, person("/human"))
	now = now.Add(73 * time.Hour)
	d, res = step(d, person("card_declined"))
	if d.Handoff != nil || !strings.Contains(res.Reply.Text, e.KB().Text("en", kb.MsgHandoffExpired, nil)) || res.Reply.Cause != "cross-border-restricted" {
		t.Errorf("after the TTL: handoff %+v, reply %q (cause %q)", d.Handoff, res.Reply.Text, res.Reply.Cause)
	}
}

// The line naming a person's dialog in the helpers' messages is read back exactly, also for
// a Slack chat id holding a ':'.
func TestHandoffRef(t *testing.T) {
	for _, k := range []conversation.Key{
		{Platform: "telegram", Chat: "-1001234567890", User: "42"},
		{Platform: "slack", Chat: "T1/D9", User: "U42"},
		{Platform: "slack", Chat: "E1:T1/C9", User: "U42"},
	} {
		text := "🙋 someone asks for a human helper\nref: not-a-key\n...\nref: " + k.String()
		if got, ok := conversation.HandoffRef(text); !ok || got != k {
			t.Errorf("HandoffRef of %v = %v, %v", k, got, ok)
		}
	}
	for _, text := range []string{"no ref here", "ref: ", "ref: telegram", "ref: telegram:1:", "ref: :1:2"} {
		if k, ok := conversation.HandoffRef(text); ok {
			t.Errorf("HandoffRef(%q) = %v, want none", text, k)
		}
	}
}

// The hourly sweep closes a handoff nobody closed within its time to live, telling the person
// where they asked from and the helpers.
func TestService_SweepClosesStaleHandoffs(t *testing.T) {
	e := newEngineWith(t, conversation.EngineOptions{Lang: "en", Handoff: true, HandoffTTL: time.Hour})
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "bot.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	helpers := conversation.HandoffTarget{Key: conversation.Key{Platform: "slack", Chat: "C0HELP"}, Route: []byte(`{"m":"post","c":"C0HELP"}`)}
	svc := conversation.NewService(e, store, conversation.ServiceOptions{Handoff: &helpers, Now: func() time.Time { return now }})
	ctx := context.Background()
	person := conversation.Key{Platform: "telegram", Chat: "5", User: "5"}
	if _, err := svc.Handle(ctx, conversation.Inbound{Turn: conversation.Turn{Key: person, InboundID: "1", Route: []byte(`{"c":5}`)}, Input: parseInput("/human")}); err != nil {
		t.Fatal(err)
	}
	sweep := func() {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			svc.SweepExpired(sctx, time.Hour, conversation.Retention{Dialogs: 720 * time.Hour, Inbound: 24 * time.Hour}, slog.New(slog.DiscardHandler))
			close(done)
		}()
		time.Sleep(100 * time.Millisecond) // it sweeps once at its start
		cancel()
		<-done
	}
	sweep()
	if p, _ := store.Pending(ctx, "telegram", 10); len(p) != 1 { // the reply to /human only
		t.Fatalf("a fresh handoff swept: %d replies to the person", len(p))
	}
	now = now.Add(2 * time.Hour)
	sweep()
	toPerson, _ := store.Pending(ctx, "telegram", 10)
	if len(toPerson) != 2 || toPerson[1].Reply.Text != e.KB().Text("en", kb.MsgHandoffExpired, nil) || string(toPerson[1].Route) != `{"c":5}` {
		t.Errorf("the person was told %+v", toPerson)
	}
	toHelpers, _ := store.Pending(ctx, "slack", 10)
	if len(toHelpers) != 2 || !strings.Contains(toHelpers[1].Reply.Text, "ref: telegram:5:5") { // the summary, then the note
		t.Errorf("the helpers were told %+v", toHelpers)
	}
	if keys, _ := store.StaleHandoffs(ctx, now); len(keys) != 0 {
		t.Errorf("still open after the sweep: %v", keys)
	}
}
