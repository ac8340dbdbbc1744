package slack

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
)

// recordingStore records the key of every commit it is asked for.
type recordingStore struct {
	conversation.Store
	mu   sync.Mutex
	keys []conversation.Key
}

func (s *recordingStore) Commit(ctx context.Context, t conversation.Turn, step func(*conversation.Dialog) (conversation.Result, error)) (conversation.Delivery, error) {
	s.mu.Lock()
	s.keys = append(s.keys, t.Key)
	s.mu.Unlock()
	return s.Store.Commit(ctx, t, step)
}

// committed returns the keys committed for user.
func (s *recordingStore) committed(user string) []conversation.Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []conversation.Key
	for _, k := range s.keys {
		if k.User == user {
			out = append(out, k)
		}
	}
	return out
}

func recording(h *harness) *recordingStore {
	rec := &recordingStore{}
	h.wrap = func(s conversation.Store) conversation.Store {
		rec.Store = s
		return rec
	}
	return rec
}

// A person's reply in a DM thread with "also send to direct message" ticked comes as one
// message event of subtype thread_broadcast: it is answered once, in the thread, however often
// Slack retries it; the root's message_changed that follows is not answered.
func TestThreadBroadcast_DMAnsweredOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.slack.SetLocale("U1", "en-US")
	ev := slacktest.EventBody("EvB1", slacktest.ThreadBroadcast("D1", "im", "U1", "Your card was declined", "1700000000.000200", "1700000000.000100"))
	h.mustPost("/slack/events", ev)
	h.mustPost("/slack/events", ev, "X-Slack-Retry-Num", "1", "X-Slack-Retry-Reason", "http_timeout")
	changed := slacktest.DM("D1", "", "", "1700000000.000201")
	changed["subtype"] = "message_changed"
	changed["message"] = map[string]any{"type": "message", "user": "U1", "text": "the thread's first message", "ts": "1700000000.000100", "reply_count": 1}
	h.mustPost("/slack/events", slacktest.EventBody("EvB2", changed))
	m := h.slack.WaitMessages(1, wait)[0]
	want := (&dialog{e: h.engine}).step(conversation.Input{Kind: conversation.InputText, Text: "Your card was declined", LangHint: "en-US"})
	if m.Method != "chat.postMessage" || m.Channel != "D1" || m.ThreadTS != "1700000000.000100" || m.BlockText != shown(want) {
		t.Fatalf("answer %+v, want %q in the thread", m, shown(want))
	}
	// Each 200 comes after the commit: a sentinel answered means the others were handled.
	h.mustPost("/slack/events", slacktest.EventBody("EvB3", slacktest.DM("D2", "U2", "hi", "1700000000.000300")))
	h.slack.WaitMessages(2, wait)
	time.Sleep(50 * time.Millisecond)
	if msgs := h.slack.Messages(); len(msgs) != 2 {
		t.Fatalf("messages:%s\nwant the broadcast answered once and the sentinel", summary(msgs))
	}
}

// In a channel, a broadcast reply mentioning the bot comes twice: as a message event (which
// the bot does not take in channels) and as an app_mention. It is answered once, in the thread.
func TestThreadBroadcast_ChannelMentionAnsweredOnce(t *testing.T) {
	h := newHarness(t, nil)
	msg := slacktest.ThreadBroadcast("C1", "channel", "U1", "<@U0BOT> 支付失败", "1700000000.000200", "1700000000.000100")
	h.mustPost("/slack/events", slacktest.EventBody("EvC1", msg))
	h.mustPost("/slack/events", slacktest.EventBody("EvC2", slacktest.Mention("C1", "U1", "<@U0BOT> 支付失败", "1700000000.000200", "1700000000.000100")))
	m := h.slack.WaitMessages(1, wait)[0]
	want := (&dialog{e: h.engine}).step(conversation.Input{Kind: conversation.InputText, Text: "支付失败"})
	if m.Channel != "C1" || m.ThreadTS != "1700000000.000100" || m.BlockText != shown(want) {
		t.Fatalf("answer %+v, want %q in the thread", m, shown(want))
	}
	time.Sleep(50 * time.Millisecond)
	if msgs := h.slack.Messages(); len(msgs) != 1 {
		t.Fatalf("messages:%s\nwant one answer", summary(msgs))
	}
}

// Someone pressing a button of another person's menu in a channel thread is told privately, in
// the thread and in their language, that the menu is someone else's; nothing is committed for
// them, the owner's message is left alone, and the owner's next press works.
func TestButtonPress_BystanderGetsEphemeralNote(t *testing.T) {
	var rec *recordingStore
	h := newHarness(t, func(h *harness) { rec = recording(h) })
	h.slack.SetLocale("U2", "en-GB")
	h.mustPost("/slack/events", slacktest.EventBody("Ev1", slacktest.Mention("C1", "U1", "<@U0BOT>", "1700000000.000100", "")))
	d := &dialog{e: h.engine}
	d.step(conversation.Input{Kind: conversation.InputResume})
	menu := h.slack.WaitMessages(1, wait)[0]

	code, body, _ := h.post("/slack/interactions", slacktest.PressBody(slacktest.Press{Channel: "C1", User: "U2", TriggerID: "t2", Message: menu, Button: menu.Buttons[0]}))
	if code != http.StatusOK || body != "" {
		t.Fatalf("bystander's press answered %d %q, want 200", code, body)
	}
	note := h.slack.WaitMessages(2, wait)[1]
	wantText := h.kb.Text("en", kb.MsgSlackNotYourMenu, nil)
	if note.Method != "chat.postEphemeral" || note.Channel != "C1" || note.User != "U2" || note.ThreadTS != "1700000000.000100" || note.Text != escape(wantText) {
		t.Fatalf("bystander got %+v, want an ephemeral %q to U2 in C1's thread", note, wantText)
	}
	if keys := rec.committed("U2"); len(keys) != 0 {
		t.Fatalf("committed for the bystander: %+v", keys)
	}

	h.mustPost("/slack/interactions", slacktest.PressBody(slacktest.Press{Channel: "C1", User: "U1", TriggerID: "t3", Message: menu, Button: menu.Buttons[0]}))
	want := d.step(conversation.Input{Kind: conversation.InputButton, Text: d.lastButton(0, menu), FlowVersion: h.kb.Version})
	m := h.slack.WaitMessages(3, wait)[2]
	if m.Method != "chat.update" || m.Channel != "C1" || m.TS != menu.TS || m.BlockText != shown(want) {
		t.Fatalf("owner's press answered %+v, want chat.update of %s with %q", m, menu.TS, shown(want))
	}
	h.waitDelivered()
	if msgs := h.slack.Messages(); len(msgs) != 3 {
		t.Fatalf("messages:%s\nwant the menu, the note and the update", summary(msgs))
	}
	if keys := rec.committed("U2"); len(keys) != 0 {
		t.Fatalf("committed for the bystander: %+v", keys)
	}
}

// checkHome checks that v is U's Home tab in lang: what the bot does, the start button, and a
// button per solution titled from the knowledge base, all carrying the flow version.
func checkHome(t *testing.T, k *kb.KB, v slacktest.View, user, lang string) {
	t.Helper()
	if v.UserID != user || v.Type != "home" {
		t.Fatalf("view %+v, want a home view for %s", v, user)
	}
	if intro := escape(k.Text(lang, kb.MsgGreeting, nil)); !strings.Contains(v.BlockText, intro) {
		t.Errorf("home text %q lacks the introduction in %s", v.BlockText, lang)
	}
	if hint := escape(k.Text(lang, kb.MsgHomeHint, nil)); !strings.Contains(v.BlockText, hint) {
		t.Errorf("home text %q lacks where the conversation goes on, in %s", v.BlockText, lang)
	}
	if len(v.Buttons) != 1+len(k.Solutions) || len(k.Solutions) != 8 {
		t.Fatalf("home buttons %+v, want the start and 8 solutions", v.Buttons)
	}
	if b := v.Buttons[0]; b.Value != k.Version+"|"+conversation.ButtonRestart || b.Text != k.Text(lang, kb.MsgHomeStart, nil) {
		t.Errorf("start button %+v", b)
	}
	ids := map[string]bool{}
	for i, sol := range k.Solutions {
		b := v.Buttons[1+i]
		if b.Value != k.Version+"|"+conversation.OpenButton(sol) || b.Text != k.Text(lang, kb.SolutionTitle(sol), nil) {
			t.Errorf("solution button %d = %+v, want %s titled in %s", i, b, sol, lang)
		}
		if !strings.HasPrefix(b.ActionID, actionPrefix) || ids[b.ActionID] {
			t.Errorf("solution button %d action_id %q", i, b.ActionID)
		}
		ids[b.ActionID] = true
	}
}

// Opening the Home tab publishes the home view in the person's locale; opening the Messages
// tab publishes nothing.
func TestAppHome_PublishedInLocale(t *testing.T) {
	for _, tc := range []struct{ locale, lang string }{{"zh-CN", "zh-Hans"}, {"en-US", "en"}} {
		t.Run(tc.lang, func(t *testing.T) {
			h := newHarness(t, nil)
			h.slack.SetLocale("U1", tc.locale)
			h.mustPost("/slack/events", slacktest.EventBody("EvH0", slacktest.AppHomeOpened("U1", "DU1", "messages", false)))
			code, body, took := h.post("/slack/events", slacktest.EventBody("EvH1", slacktest.AppHomeOpened("U1", "DU1", "home", false)))
			if code != http.StatusOK || body != "" || took > time.Second {
				t.Fatalf("app_home_opened answered %d %q after %s", code, body, took)
			}
			v := h.slack.WaitViews(1, wait)[0]
			checkHome(t, h.kb, v, "U1", tc.lang)
			if tc.lang == "zh-Hans" && !hasHan(v.BlockText) || tc.lang == "en" && hasHan(v.BlockText) {
				t.Errorf("home in the wrong language: %q", v.BlockText)
			}
			// Published again each time the tab is opened.
			h.mustPost("/slack/events", slacktest.EventBody("EvH2", slacktest.AppHomeOpened("U1", "DU1", "home", true)))
			h.slack.WaitViews(2, wait)
			time.Sleep(50 * time.Millisecond)
			if n := len(h.slack.Views()); n != 2 || len(h.slack.Messages()) != 0 || h.pending() != 0 {
				t.Fatalf("%d views, %d messages, %d pending; want 2 views and nothing else", n, len(h.slack.Messages()), h.pending())
			}
		})
	}
}

// The Home tab's start button starts a diagnosis in the person's DM with the bot, in the
// same dialog as their DM messages; a solution button there posts that solution's steps.
func TestAppHome_ButtonsContinueInDM(t *testing.T) {
	h := newHarness(t, nil)
	h.slack.SetLocale("U1", "en-US")
	h.mustPost("/slack/events", slacktest.EventBody("EvH1", slacktest.AppHomeOpened("U1", "DU1", "home", false)))
	home := h.slack.WaitViews(1, wait)[0]
	dm := h.slack.DMChannel("U1")

	h.mustPost("/slack/interactions", slacktest.HomePressBody(slacktest.HomePress{User: "U1", TriggerID: "th1", Button: home.Buttons[0], Blocks: home.Blocks}))
	d := &dialog{e: h.engine}
	want := d.step(conversation.Input{Kind: conversation.InputButton, Text: conversation.ButtonRestart, FlowVersion: h.kb.Version, LangHint: "en-US"})
	start := h.slack.WaitMessages(1, wait)[0]
	if start.Method != "chat.postMessage" || start.Channel != dm || start.ThreadTS != "" || start.BlockText != shown(want) || len(start.Buttons) == 0 {
		t.Fatalf("start answered %+v, want %q posted in %s", start, shown(want), dm)
	}
	if got := h.slack.Opened(); !slices.Equal(got, []string{"U1"}) {
		t.Fatalf("conversations.open for %v, want U1", got)
	}

	// The DM's buttons continue the same dialog.
	h.mustPost("/slack/interactions", slacktest.PressBody(slacktest.Press{Channel: dm, User: "U1", TriggerID: "th2", Message: start, Button: start.Buttons[0]}))
	want = d.step(conversation.Input{Kind: conversation.InputButton, Text: d.lastButton(0, start), FlowVersion: h.kb.Version})
	if m := h.slack.WaitMessages(2, wait)[1]; m.Method != "chat.update" || m.Channel != dm || m.BlockText != shown(want) {
		t.Fatalf("press in the DM answered %+v, want %q", m, shown(want))
	}

	paypal := home.Buttons[1+slices.Index(h.kb.Solutions, "paypal")]
	h.mustPost("/slack/interactions", slacktest.HomePressBody(slacktest.HomePress{User: "U1", TriggerID: "th3", Button: paypal}))
	want = d.step(conversation.Input{Kind: conversation.InputText, Text: "/solution paypal"})
	m := h.slack.WaitMessages(3, wait)[2]
	if m.Method != "chat.postMessage" || m.Channel != dm || m.BlockText != shown(want) || !strings.Contains(m.BlockText, escape(h.kb.Text("en", kb.SolutionSteps("paypal"), nil))) {
		t.Fatalf("solution button answered %+v, want PayPal's steps %q in %s", m, shown(want), dm)
	}
	if n := h.slack.Calls("conversations.open"); n != 1 {
		t.Fatalf("conversations.open called %d times, want once (the DM is remembered)", n)
	}
	// The same press delivered again (same trigger_id) is not answered again.
	h.mustPost("/slack/interactions", slacktest.HomePressBody(slacktest.HomePress{User: "U1", TriggerID: "th3", Button: paypal}))
	h.waitDelivered()
	time.Sleep(50 * time.Millisecond)
	if msgs := h.slack.Messages(); len(msgs) != 3 {
		t.Fatalf("messages:%s\nwant 3", summary(msgs))
	}
}

// A Home tab button that is not the bot's, or one whose DM cannot be opened, starts nothing;
// the latter is answered 500 (Slack shows the person an error) and committed nowhere.
func TestAppHome_BadPresses(t *testing.T) {
	var rec *recordingStore
	h := newHarness(t, func(h *harness) { rec = recording(h) })
	version := h.kb.Version
	for _, b := range []slacktest.Button{
		{ActionID: "pd:home:9", BlockID: "pdhome|solutions|3", Value: version + "|solution:"},
		{ActionID: "pd:home:9", BlockID: "pdhome|solutions|3", Value: version + "|a:what_happened:declined"},
		{ActionID: "other", BlockID: "x", Value: version + "|restart"},
	} {
		h.mustPost("/slack/interactions", slacktest.HomePressBody(slacktest.HomePress{User: "U1", TriggerID: "tb", Button: b}))
	}
	h.slack.SetDM("U2", "") // conversations.open answers no channel
	code, _, _ := h.post("/slack/interactions", slacktest.HomePressBody(slacktest.HomePress{User: "U2", TriggerID: "tc", Button: slacktest.Button{ActionID: "pd:home:start", BlockID: "pdhome|start", Value: version + "|restart"}}))
	if code != http.StatusInternalServerError {
		t.Fatalf("a press whose DM cannot be opened answered %d, want 500", code)
	}
	if n := len(rec.committed("U1")) + len(rec.committed("U2")); n != 0 || len(h.slack.Messages()) != 0 {
		t.Fatalf("%d commits, messages:%s", n, summary(h.slack.Messages()))
	}
}

// In Socket Mode, app_home_opened and a bystander's press are acknowledged and handled as
// over HTTP.
func TestSocketMode_HomeAndBystander(t *testing.T) {
	h := newHarness(t, func(h *harness) {
		h.opts.SigningSecret = ""
		h.opts.AppToken = "xapp-test"
	})
	h.slack.WaitConnected(wait)
	h.slack.SetLocale("U2", "zh-CN")
	h.slack.WaitAck(h.slack.SendEnvelope("events_api", slacktest.EventBody("EvS1", slacktest.AppHomeOpened("U2", "DU2", "home", false))), wait)
	checkHome(t, h.kb, h.slack.WaitViews(1, wait)[0], "U2", "zh-Hans")

	h.slack.WaitAck(h.slack.SendEnvelope("events_api", slacktest.EventBody("EvS2", slacktest.Mention("C1", "U1", "<@U0BOT> hi", "1700000000.000100", ""))), wait)
	menu := h.slack.WaitMessages(1, wait)[0]
	h.slack.WaitAck(h.slack.SendEnvelope("interactive", slacktest.PressPayload(slacktest.Press{Channel: "C1", User: "U2", TriggerID: "ts1", Message: menu, Button: menu.Buttons[0]})), wait)
	note := h.slack.WaitMessages(2, wait)[1]
	if note.Method != "chat.postEphemeral" || note.User != "U2" || note.ThreadTS != menu.ThreadTS || note.Text != escape(h.kb.Text("zh-Hans", kb.MsgSlackNotYourMenu, nil)) {
		t.Fatalf("bystander got %+v", note)
	}
}
