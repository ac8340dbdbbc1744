package slack

import (
	"strings"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

const humans = "C0HUMANS"

// newHandoffHarness is a harness whose bot offers handoffs, with C0HUMANS as the helpers'
// channel, speaking English.
func newHandoffHarness(t *testing.T) *harness {
	t.Helper()
	return newHarness(t, func(h *harness) {
		e, err := conversation.NewEngine(h.kb, conversation.EngineOptions{Lang: "en", Handoff: true})
		if err != nil {
			t.Fatal(err)
		}
		h.engine = e
		h.handoffChannel = humans
	})
}

// waitMessage waits for a message after the first n that match is true for, and returns it
// with how many messages there are then.
func (h *harness) waitMessage(n int, what string, match func(slacktest.Message) bool) (slacktest.Message, int) {
	h.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		msgs := h.slack.Messages()
		for _, m := range msgs[min(n, len(msgs)):] {
			if match(m) {
				return m, len(msgs)
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no %s after message %d:%s", what, n, summary(msgs))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A Slack DM user's /human reaches the helpers' channel; a helper's reply in the summary's
// thread reaches the user, signed with the helper's first name, also after a restart (found
// with conversations.replies, once per thread); the user's next message reaches the helpers;
// a reply that also @mentions the bot is relayed once and not answered; "done" returns the
// user to the bot; replies anywhere else relay nothing; a reply after "done" is told the
// handoff is not open any more, in the thread.
func TestHelpersAnswerInTheSummaryThread(t *testing.T) {
	h := newHandoffHarness(t)
	h.slack.SetLocale("U42", "en-US")
	h.slack.SetName("U0HELP", "Li Na")
	dm := h.slack.DMChannel("U42")
	ref := "ref: " + conversation.Key{Platform: Platform, Chat: chatID(slacktest.Team, dm), User: "U42"}.String()
	event := func(id string, inner map[string]any) {
		h.t.Helper()
		h.mustPost("/slack/events", slacktest.EventBody(id, inner))
	}

	event("Ev1", slacktest.DM(dm, "U42", "/human", "1700000100.000100"))
	sum, _ := h.waitMessage(0, "summary in the helpers' channel", func(m slacktest.Message) bool { return m.Channel == humans })
	if sum.ThreadTS != "" || !strings.HasSuffix(sum.Text, ref) {
		t.Fatalf("summary %+v, want a top-level message ending with %q", sum, ref)
	}
	h.waitDelivered()
	h.restart() // the adapter forgets which thread is whose: conversations.replies tells it
	n := len(h.slack.Messages())

	// The helper answers in the thread.
	event("Ev2", slacktest.ThreadReply(humans, "channel", "U0HELP", "Please restart the app &amp; try again", "1700000200.000100", sum.TS))
	got, n := h.waitMessage(n, "answer in the DM", func(m slacktest.Message) bool { return m.Channel == dm })
	if !strings.Contains(got.Text, "Li (support): Please restart the app &amp; try again") || got.ThreadTS != "" {
		t.Fatalf("the person got %+v", got)
	}
	if c := h.slack.Calls("conversations.replies"); c != 1 {
		t.Errorf("conversations.replies called %d times, want 1", c)
	}

	// The person answers: it goes to the helpers.
	event("Ev3", slacktest.DM(dm, "U42", "it still says card declined", "1700000300.000100"))
	got, n = h.waitMessage(n, "the person's message in the helpers' channel", func(m slacktest.Message) bool { return m.Channel == humans })
	if !strings.Contains(got.Text, "it still says card declined") {
		t.Fatalf("the helpers got %+v", got)
	}

	// A second answer that @mentions the bot: one relay, no answer to the mention, no new
	// conversations.replies.
	reply := slacktest.ThreadReply(humans, "channel", "U0HELP", "<@U0BOT> which card is it?", "1700000400.000100", sum.TS)
	event("Ev4m", slacktest.Mention(humans, "U0HELP", "<@U0BOT> which card is it?", "1700000400.000100", sum.TS))
	event("Ev4", reply)
	event("Ev4", reply) // Slack's retry: a duplicate
	got, n = h.waitMessage(n, "second answer in the DM", func(m slacktest.Message) bool { return m.Channel == dm })
	if !strings.Contains(got.Text, "Li (support): which card is it?") {
		t.Fatalf("the person got %+v", got)
	}
	if c := h.slack.Calls("conversations.replies"); c != 1 {
		t.Errorf("conversations.replies called %d times, want 1 (cached)", c)
	}

	// Relaying nothing: a thread reply in another channel, a top-level message in the
	// helpers' channel, a reply in a thread a person started, a bot's reply.
	h.slack.Said(humans, "U0HELP", "lunch?", "1700000500.000100", "")
	event("Ev5", slacktest.ThreadReply("C0OTHER", "channel", "U0HELP", "hello", "1700000501.000100", sum.TS))
	event("Ev6", slacktest.ChannelMessage(humans, "channel", "U0HELP", "morning all", "1700000502.000100"))
	event("Ev7", slacktest.ThreadReply(humans, "channel", "U0HELP", "yes", "1700000503.000100", "1700000500.000100"))
	bot := slacktest.ThreadReply(humans, "channel", "U0OTHERBOT", "beep", "1700000504.000100", sum.TS)
	bot["bot_id"] = "B0OTHER"
	event("Ev8", bot)
	// An @mention in a thread that is not a handoff's is answered as usual.
	event("Ev8m", slacktest.Mention(humans, "U0HELP", "<@U0BOT> help", "1700000505.000100", "1700000500.000100"))
	got, n = h.waitMessage(n, "answer to the mention", func(m slacktest.Message) bool { return m.Channel == humans })
	if got.ThreadTS != "1700000500.000100" {
		t.Fatalf("the mention was answered with %+v", got)
	}

	// "done" closes it: the person is asked whether it was solved.
	event("Ev9", slacktest.ThreadReply(humans, "channel", "U0HELP", "Done", "1700000600.000100", sum.TS))
	got, n = h.waitMessage(n, "closing message in the DM", func(m slacktest.Message) bool { return m.Channel == dm })
	var ids []string
	for _, b := range got.Buttons {
		_, id, _ := parseValue(b.Value)
		ids = append(ids, id)
	}
	if strings.Join(ids, ",") != conversation.ButtonHelpedYes+","+conversation.ButtonHelpedNo {
		t.Fatalf("closing message %+v, buttons %v", got, ids)
	}

	// A reply after "done": told in the thread.
	event("Ev10", slacktest.ThreadReply(humans, "channel", "U0HELP", "one more thing", "1700000700.000100", sum.TS))
	got, n = h.waitMessage(n, "'not open' in the thread", func(m slacktest.Message) bool { return m.Channel == humans })
	if got.ThreadTS != sum.TS || !strings.Contains(got.Text, "not open any more") {
		t.Fatalf("the helper got %+v", got)
	}
	h.waitDelivered()
	if msgs := h.slack.Messages(); len(msgs) != n {
		t.Fatalf("%d messages, want %d:%s", len(msgs), n, summary(msgs))
	}
	// Three lookups: the summary's thread, the thread U0HELP started (is it a handoff's?), and
	// its first message again for the mention to be read with; C0OTHER is not asked.
	if c := h.slack.Calls("conversations.replies"); c != 3 {
		t.Errorf("conversations.replies called %d times, want 3", c)
	}
}

// Which message events may be a helper's answer, and what they say.
func TestHelperJob(t *testing.T) {
	ev := func(mod func(map[string]any)) slackevents.EventsAPIEvent {
		inner := slacktest.ThreadReply(humans, "channel", "U0HELP", "<@U0BOT> Thanks &lt;3", "2.0", "1.0")
		if mod != nil {
			mod(inner)
		}
		e, err := slackevents.ParseEvent(slacktest.EventBody("Ev1", inner), slackevents.OptionNoVerifyToken())
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	j, ok := eventJob(ev(nil))
	if !ok || j.kind != jobHelper || j.user != "U0HELP" || j.in.InboundID != "event:Ev1" ||
		j.in.Input != (conversation.Input{Kind: conversation.InputHelperReply, Text: "Thanks <3"}) ||
		j.route != (route{Mode: modePost, Channel: humans, Thread: "1.0"}) || j.in.At.Unix() != 2 {
		t.Fatalf("job %+v, %v", j, ok)
	}
	for _, text := range []string{"done", "DONE", "/done", " <@U0BOT> Done "} {
		j, ok := eventJob(ev(func(m map[string]any) { m["text"] = text }))
		if !ok || j.in.Input.Kind != conversation.InputHelperDone {
			t.Errorf("%q: %+v, %v", text, j.in.Input, ok)
		}
	}
	for name, mod := range map[string]func(map[string]any){
		"top level":     func(m map[string]any) { delete(m, "thread_ts") },
		"thread parent": func(m map[string]any) { m["thread_ts"] = m["ts"] },
		"bot":           func(m map[string]any) { m["bot_id"] = "B1" },
		"edit":          func(m map[string]any) { m["subtype"] = "message_changed" },
		"mention only":  func(m map[string]any) { m["text"] = "<@U0BOT>" },
		"no user":       func(m map[string]any) { delete(m, "user") },
	} {
		if j, ok := eventJob(ev(mod)); ok {
			t.Errorf("%s: taken as %+v", name, j)
		}
	}
}

// The ref of one of the bot's messages is read from its text, or from its blocks when the
// text was cut short.
func TestMessageRef(t *testing.T) {
	want := conversation.Key{Platform: "telegram", Chat: "-100:7", User: "42"}
	var m slack.Message
	m.Text = "summary…"
	m.Blocks = slack.Blocks{BlockSet: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "summary\nref: telegram:-1", false, false), nil, nil),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "00:7:42", false, false), nil, nil),
	}}
	if got, ok := messageRef(m); !ok || got != want {
		t.Errorf("from blocks: %+v, %v", got, ok)
	}
	m.Blocks = slack.Blocks{}
	m.Text = "a\nref: telegram:-100:7:42"
	if got, ok := messageRef(m); !ok || got != want {
		t.Errorf("from text: %+v, %v", got, ok)
	}
	m.Text = "no ref"
	if _, ok := messageRef(m); ok {
		t.Error("a ref in a message without one")
	}
}
