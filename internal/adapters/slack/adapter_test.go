package slack

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/store/boltstore"
)

const wait = 5 * time.Second

func TestCommand_ChineseAnswerWithin3s(t *testing.T) {
	h := newHarness(t, nil)
	respond := h.slack.ResponseURL()
	start := time.Now()
	code, body, took := h.post("/slack/commands", slacktest.CommandBody(slacktest.Command{
		Channel: "C1", User: "U1", Text: "支付失败", ResponseURL: respond, TriggerID: "tr1",
	}))
	if code != http.StatusOK || body != "" {
		t.Fatalf("status %d body %q, want 200 and an empty body", code, body)
	}
	if took > 3*time.Second {
		t.Fatalf("acknowledged after %s", took)
	}
	m := h.slack.WaitMessages(1, 3*time.Second)[0]
	if d := m.At.Sub(start); d > 3*time.Second {
		t.Fatalf("answered after %s", d)
	}
	if m.Method != "response_url" || m.ResponseURL != respond || m.ResponseType != "ephemeral" || m.ReplaceOriginal {
		t.Fatalf("answer %+v, want an ephemeral response_url post", m)
	}
	want := (&dialog{e: h.engine}).step(conversation.Input{Kind: conversation.InputText, Text: "支付失败"})
	if m.BlockText != shown(want) || !hasHan(m.BlockText) || want.Lang != "zh-Hans" {
		t.Fatalf("answer text %q, want the Chinese reply %q", m.BlockText, shown(want))
	}
	if len(m.Buttons) != len(want.Buttons) || len(m.Buttons) == 0 {
		t.Fatalf("buttons %+v, want %d", m.Buttons, len(want.Buttons))
	}
	version := h.engine.KB().Version
	for i, b := range m.Buttons {
		if b.Value != version+"|"+want.Buttons[i].ID || b.Text != want.Buttons[i].Label || b.BlockID != "pd|U1|1" {
			t.Fatalf("button %d = %+v, want value %s|%s", i, b, version, want.Buttons[i].ID)
		}
	}
}

func TestCommand_HelpWordAndEmpty(t *testing.T) {
	h := newHarness(t, nil)
	h.slack.SetLocale("U1", "en-US")
	h.mustPost("/slack/commands", slacktest.CommandBody(slacktest.Command{Channel: "C1", User: "U1", Text: "help", ResponseURL: h.slack.ResponseURL(), TriggerID: "t1"}))
	h.mustPost("/slack/commands", slacktest.CommandBody(slacktest.Command{Channel: "C1", User: "U1", Text: "", ResponseURL: h.slack.ResponseURL(), TriggerID: "t2"}))
	msgs := h.slack.WaitMessages(2, wait)
	d := &dialog{e: h.engine}
	if want := d.step(conversation.Input{Kind: conversation.InputText, Text: "/help", LangHint: "en-US"}); msgs[0].BlockText != shown(want) {
		t.Fatalf("help answered %q, want %q", msgs[0].BlockText, shown(want))
	}
	if want := d.step(conversation.Input{Kind: conversation.InputResume, LangHint: "en-US"}); msgs[1].BlockText != shown(want) {
		t.Fatalf("empty command answered %q, want %q", msgs[1].BlockText, shown(want))
	}
}

func TestDM_EnglishLocaleAnsweredInEnglish(t *testing.T) {
	h := newHarness(t, nil)
	h.slack.SetLocale("U1", "en-US")
	h.mustPost("/slack/events", slacktest.EventBody("Ev1", slacktest.DM("D1", "U1", "hello", "1700000000.000100")))
	m := h.slack.WaitMessages(1, wait)[0]
	want := (&dialog{e: h.engine}).step(conversation.Input{Kind: conversation.InputText, Text: "hello", LangHint: "en-US"})
	if m.Method != "chat.postMessage" || m.Channel != "D1" || m.ThreadTS != "" {
		t.Fatalf("answer %+v, want chat.postMessage in D1, not threaded", m)
	}
	if want.Lang != "en" || m.BlockText != shown(want) || hasHan(m.BlockText) {
		t.Fatalf("answer %q, want the English reply %q", m.BlockText, shown(want))
	}
	if h.slack.Calls("users.info") != 1 {
		t.Fatalf("users.info called %d times", h.slack.Calls("users.info"))
	}
	// The locale is cached.
	h.mustPost("/slack/events", slacktest.EventBody("Ev2", slacktest.DM("D1", "U1", "/help", "1700000000.000200")))
	h.slack.WaitMessages(2, wait)
	if n := h.slack.Calls("users.info"); n != 1 {
		t.Fatalf("users.info called %d times, want 1 (cached)", n)
	}
}

func TestDM_FileWithoutText(t *testing.T) {
	h := newHarness(t, nil)
	ev := slacktest.DM("D1", "U1", "", "1700000000.000100")
	ev["subtype"] = "file_share"
	ev["files"] = []map[string]any{{"id": "F1", "name": "screenshot.png"}}
	h.mustPost("/slack/events", slacktest.EventBody("Ev1", ev))
	m := h.slack.WaitMessages(1, wait)[0]
	want := (&dialog{e: h.engine}).step(conversation.Input{Kind: conversation.InputUnsupported})
	if m.BlockText != shown(want) {
		t.Fatalf("answer %q, want %q", m.BlockText, shown(want))
	}
}

// An @mention is answered in its thread, once, however often Slack retries it, also after a
// restart.
func TestMention_AnsweredOnceInThread(t *testing.T) {
	h := newHarness(t, nil)
	h.slack.SetLocale("U1", "en-US")
	mention := slacktest.EventBody("EvM1", slacktest.Mention("C1", "U1", "<@U0BOT> Your card was declined", "1700000000.000100", ""))
	h.mustPost("/slack/events", mention)
	h.mustPost("/slack/events", mention, "X-Slack-Retry-Num", "1", "X-Slack-Retry-Reason", "http_timeout")
	h.mustPost("/slack/events", mention, "X-Slack-Retry-Num", "2", "X-Slack-Retry-Reason", "http_timeout")
	m := h.slack.WaitMessages(1, wait)[0]
	want := (&dialog{e: h.engine}).step(conversation.Input{Kind: conversation.InputText, Text: "Your card was declined", LangHint: "en-US"})
	if m.Method != "chat.postMessage" || m.Channel != "C1" || m.ThreadTS != "1700000000.000100" || m.BlockText != shown(want) {
		t.Fatalf("answer %+v, want %q in the thread of the mention", m, shown(want))
	}

	h.restart()
	// Each 200 comes after the commit (or the finding that it is a duplicate): once the new
	// mention is answered, the retry has been handled.
	h.mustPost("/slack/events", mention, "X-Slack-Retry-Num", "3", "X-Slack-Retry-Reason", "http_timeout")
	h.mustPost("/slack/events", slacktest.EventBody("EvM2", slacktest.Mention("C1", "U1", "<@U0BOT>", "1700000000.000300", "1700000000.000100")))
	h.slack.WaitMessages(2, wait)
	time.Sleep(50 * time.Millisecond)
	if msgs := h.slack.Messages(); len(msgs) != 2 {
		t.Fatalf("%d messages, want 2 (the retries answered once):%s", len(msgs), summary(msgs))
	}
	if msgs := h.slack.Messages(); msgs[1].ThreadTS != "1700000000.000100" {
		t.Fatalf("second answer in thread %q, want the mention's thread", msgs[1].ThreadTS)
	}
}

// "@bot" in the thread of a pasted error asks about the error: the thread's first message is
// read with the mention. A first message that mentioned the bot was answered already and is
// not read again.
func TestMention_InAThreadReadsItsFirstMessage(t *testing.T) {
	h := newHarness(t, nil)
	h.slack.SetLocale("U1", "en-US")
	const pasted = "Your card was declined. decline_code: do_not_honor"
	h.slack.Said("C1", "U2", pasted, "1700000100.000100", "")
	h.mustPost("/slack/events", slacktest.EventBody("EvQ1", slacktest.Mention("C1", "U1", "<@U0BOT>", "1700000100.000200", "1700000100.000100")))
	m := h.slack.WaitMessages(1, wait)[0]
	want := (&dialog{e: h.engine}).step(conversation.Input{Kind: conversation.InputText, Quoted: pasted, LangHint: "en-US"})
	if m.ThreadTS != "1700000100.000100" || m.BlockText != shown(want) {
		t.Fatalf("answer %+v, want %q in the thread", m, shown(want))
	}
	if want.Cause == "" {
		t.Fatalf("the pasted error leads to no cause: %q", shown(want))
	}
	// Their next mention in the thread is read on its own words, and the thread's first
	// message is not fetched again.
	h.mustPost("/slack/events", slacktest.EventBody("EvQ1b", slacktest.Mention("C1", "U1", "<@U0BOT>", "1700000100.000300", "1700000100.000100")))
	m = h.slack.WaitMessages(2, wait)[1]
	if strings.Contains(m.BlockText, h.engine.KB().Text("en", kb.CodeMeaning("no_reason"), nil)) { // what do_not_honor means
		t.Errorf("a second bare mention diagnosed the thread's first message again: %q", m.BlockText)
	}
	if c := h.slack.Calls("conversations.replies"); c != 1 {
		t.Errorf("conversations.replies called %d times for one thread, want 1", c)
	}

	// Asked about their own message with a card number in it, the person is told to delete
	// it; the answer carries no digits of it.
	h.slack.SetLocale("U5", "en-US")
	h.slack.Said("C1", "U5", "my card 4111 1111 1111 1111 keeps getting declined", "1700000400.000100", "")
	h.mustPost("/slack/events", slacktest.EventBody("EvQ3", slacktest.Mention("C1", "U5", "<@U0BOT> ?", "1700000400.000200", "1700000400.000100")))
	m = h.slack.WaitMessages(3, wait)[2]
	if !strings.Contains(m.BlockText, h.engine.KB().Text("en", kb.MsgCardDataWarning, nil)) || strings.Contains(m.BlockText, "1111") {
		t.Errorf("answer to a mention under the person's own card number: %q, want the warning and no digits", m.BlockText)
	}

	// Under a message that mentioned the bot (answered already), and under a deleted one's
	// placeholder, a bare mention shows where the dialog stands.
	h.slack.Said("C1", "U3", "<@U0BOT> "+pasted, "1700000200.000100", "")
	h.slack.Said("C1", "USLACKBOT", "This message was deleted.", "1700000300.000100", "")
	resume := shown((&dialog{e: h.engine}).step(conversation.Input{Kind: conversation.InputResume, LangHint: "en-US"}))
	for i, thread := range []string{"1700000200.000100", "1700000300.000100"} {
		asker := []string{"U3", "U4"}[i] // each new to the bot, so each is answered the same
		h.slack.SetLocale(asker, "en-US")
		h.mustPost("/slack/events", slacktest.EventBody("EvQ2"+thread, slacktest.Mention("C1", asker, "<@U0BOT>", thread[:len(thread)-1]+"9", thread)))
		if m = h.slack.WaitMessages(4+i, wait)[3+i]; m.BlockText != resume {
			t.Errorf("answer in thread %s: %q, want where the dialog stands, %q", thread, m.BlockText, resume)
		}
	}
}

func TestURLVerification(t *testing.T) {
	h := newHarness(t, nil)
	code, body, _ := h.post("/slack/events", []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`))
	if code != http.StatusOK || body != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("url_verification answered %d %q", code, body)
	}
}

// Forged and stale requests are refused with 401 and change nothing: the same event id,
// sent properly afterwards, is answered as new.
func TestForgedAndStale_Refused(t *testing.T) {
	h := newHarness(t, nil)
	ev := slacktest.EventBody("EvF", slacktest.DM("D1", "U1", "/solution paypal", "1700000000.000100"))
	cmd := slacktest.CommandBody(slacktest.Command{Channel: "C1", User: "U1", Text: "help", ResponseURL: h.slack.ResponseURL(), TriggerID: "tf"})
	press := slacktest.PressBody(slacktest.Press{Channel: "D1", User: "U1", TriggerID: "tp", Button: slacktest.Button{ActionID: "pd:0", BlockID: "pd|U1|1", Value: h.engine.KB().Version + "|all"}})
	for _, tc := range []struct {
		name   string
		at     time.Time
		secret string
		header []string
	}{
		{name: "forged", at: time.Now(), secret: "not-the-secret"},
		{name: "ten minutes old", at: time.Now().Add(-10 * time.Minute), secret: testSecret},
		{name: "from the future", at: time.Now().Add(10 * time.Minute), secret: testSecret},
		{name: "unsigned", at: time.Now(), secret: testSecret, header: []string{"X-Slack-Signature", ""}},
	} {
		for path, body := range map[string][]byte{"/slack/events": ev, "/slack/commands": cmd, "/slack/interactions": press} {
			if code, _, _ := h.postAt(path, body, tc.at, tc.secret, tc.header...); code != http.StatusUnauthorized {
				t.Errorf("%s %s: status %d, want 401", tc.name, path, code)
			}
		}
	}
	// Signed with the right secret but a body changed afterwards.
	req := slacktest.NewRequest(h.http.URL+"/slack/events", testSecret, time.Now(), ev)
	req.Body = http.NoBody
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("changed body: %v %v, want 401", resp.StatusCode, err)
	}
	h.restart() // a refused request would have had to be committed by now
	if p, err := h.store.Pending(t.Context(), Platform, 10); err != nil || len(p) != 0 {
		t.Fatalf("outbox %v %v, want empty", p, err)
	}
	if n := len(h.slack.Messages()) + h.slack.Calls("users.info"); n != 0 {
		t.Fatalf("Slack was called %d times for refused requests", n)
	}
	h.mustPost("/slack/events", ev)
	m := h.slack.WaitMessages(1, wait)[0]
	want := (&dialog{e: h.engine}).step(conversation.Input{Kind: conversation.InputText, Text: "/solution paypal"})
	if m.BlockText != shown(want) {
		t.Fatalf("answer %q, want %q", m.BlockText, shown(want))
	}
}

// Its own messages, other bots', edits and deletions come back as events; none is answered.
func TestOwnAndBotMessages_Ignored(t *testing.T) {
	h := newHarness(t, nil)
	own := slacktest.DM("D1", slacktest.BotUserID, "a reply of mine", "1700000000.000100")
	ownBot := slacktest.DM("D1", slacktest.BotUserID, "a reply of mine", "1700000000.000101")
	ownBot["bot_id"] = slacktest.BotID
	other := slacktest.DM("D1", "U2", "beep", "1700000000.000102")
	other["bot_id"] = "B0OTHER"
	other["subtype"] = "bot_message"
	changed := slacktest.DM("D1", "", "", "1700000000.000103")
	changed["subtype"] = "message_changed"
	changed["message"] = map[string]any{"type": "message", "user": "U1", "text": "edited", "ts": "1700000000.000090"}
	deleted := slacktest.DM("D1", "", "", "1700000000.000104")
	deleted["subtype"] = "message_deleted"
	deleted["deleted_ts"] = "1700000000.000090"
	mentionByBot := slacktest.Mention("C1", "U3", "<@U0BOT> hi", "1700000000.000105", "")
	mentionByBot["bot_id"] = "B0OTHER"
	channelMsg := slacktest.DM("C1", "U1", "not a DM", "1700000000.000106")
	channelMsg["channel_type"] = "channel"
	for i, ev := range []map[string]any{own, ownBot, other, changed, deleted, mentionByBot, channelMsg} {
		h.mustPost("/slack/events", slacktest.EventBody("EvIgnored"+string(rune('a'+i)), ev))
	}
	// Each 200 comes after the commit: the sentinel is committed after all of them.
	h.mustPost("/slack/events", slacktest.EventBody("EvSentinel", slacktest.DM("D1", "U1", "hello", "1700000000.000200")))
	h.slack.WaitMessages(1, wait)
	time.Sleep(50 * time.Millisecond)
	if msgs := h.slack.Messages(); len(msgs) != 1 || msgs[0].Channel != "D1" {
		t.Fatalf("messages %+v, want only the answer to U1", msgs)
	}
	if n := h.slack.Calls("users.info"); n != 1 {
		t.Fatalf("users.info called %d times, want 1 (only for U1)", n)
	}
}

// Pressing the first button of each answer in a DM walks to a solution, each press updating
// the message it was pressed on.
func TestButtonPress_WalksToSolution(t *testing.T) {
	h := newHarness(t, nil)
	h.slack.SetLocale("U1", "en-US")
	h.mustPost("/slack/events", slacktest.EventBody("Ev1", slacktest.DM("D1", "U1", "hi", "1700000000.000100")))
	d := &dialog{e: h.engine}
	want := d.step(conversation.Input{Kind: conversation.InputText, Text: "hi", LangHint: "en-US"})
	msgs := h.slack.WaitMessages(1, wait)
	shownOn := msgs[0] // the message the buttons are on
	for press := 1; len(want.Solutions) == 0; press++ {
		if press > 10 {
			t.Fatal("no solution after 10 presses of the first button")
		}
		last := msgs[len(msgs)-1]
		if last.BlockText != shown(want) {
			t.Fatalf("press %d: message %q, want %q", press, last.BlockText, shown(want))
		}
		if len(last.Buttons) == 0 {
			t.Fatalf("press %d: no buttons on %+v", press, last)
		}
		h.mustPost("/slack/interactions", slacktest.PressBody(slacktest.Press{
			Channel: "D1", User: "U1", TriggerID: "trig" + string(rune('0'+press)), Message: shownOn, Button: last.Buttons[0],
		}))
		want = d.step(conversation.Input{Kind: conversation.InputButton, Text: want.Buttons[0].ID, FlowVersion: h.engine.KB().Version})
		msgs = h.slack.WaitMessages(press+1, wait)
		m := msgs[press]
		if m.Method != "chat.update" || m.Channel != "D1" || m.TS != shownOn.TS {
			t.Fatalf("press %d answered %+v, want chat.update of %s", press, m, shownOn.TS)
		}
	}
	if got := msgs[len(msgs)-1].BlockText; got != shown(want) {
		t.Fatalf("solution shown as %q, want %q", got, shown(want))
	}
}

// A button of an ephemeral answer (the slash command's) replaces it through the press's
// response_url; a button of an older flow version gets "this menu is out of date".
func TestButtonPress_EphemeralAndStale(t *testing.T) {
	h := newHarness(t, nil)
	h.mustPost("/slack/commands", slacktest.CommandBody(slacktest.Command{Channel: "C1", User: "U1", Text: "start", ResponseURL: h.slack.ResponseURL(), TriggerID: "t1"}))
	d := &dialog{e: h.engine}
	d.step(conversation.Input{Kind: conversation.InputText, Text: "/start"})
	first := h.slack.WaitMessages(1, wait)[0]

	stale := first.Buttons[0]
	stale.Value = "0ldversion|" + strings.SplitN(stale.Value, "|", 2)[1]
	respond := h.slack.ResponseURL()
	h.mustPost("/slack/interactions", slacktest.PressBody(slacktest.Press{Channel: "C1", User: "U1", TriggerID: "t2", Message: first, Button: stale, Ephemeral: true, ResponseURL: respond}))
	want := d.step(conversation.Input{Kind: conversation.InputButton, Text: "whatever", FlowVersion: "0ldversion"})
	m := h.slack.WaitMessages(2, wait)[1]
	if m.Method != "response_url" || m.ResponseURL != respond || !m.ReplaceOriginal || m.BlockText != shown(want) {
		t.Fatalf("stale press answered %+v, want %q replacing the original", m, shown(want))
	}

	h.mustPost("/slack/interactions", slacktest.PressBody(slacktest.Press{Channel: "C1", User: "U1", TriggerID: "t3", Message: first, Button: first.Buttons[0], Ephemeral: true, ResponseURL: h.slack.ResponseURL()}))
	want = d.step(conversation.Input{Kind: conversation.InputButton, Text: strings.SplitN(first.Buttons[0].Value, "|", 2)[1], FlowVersion: h.engine.KB().Version})
	if m := h.slack.WaitMessages(3, wait)[2]; !m.ReplaceOriginal || m.BlockText != shown(want) {
		t.Fatalf("press answered %+v, want %q", m, shown(want))
	}
}

// A 429 delays the reply by Retry-After; it is sent, once, and the Outbox counts the send
// and the 429.
func TestRateLimited_DelaysNotDrops(t *testing.T) {
	var counts countingMetrics
	h := newHarness(t, func(h *harness) { h.metrics = &counts })
	h.slack.RateLimit("chat.postMessage", 1)
	start := time.Now()
	h.mustPost("/slack/events", slacktest.EventBody("Ev1", slacktest.DM("D1", "U1", "hello", "1700000000.000100")))
	m := h.slack.WaitMessages(1, wait)[0]
	if d := m.At.Sub(start); d < time.Second {
		t.Fatalf("sent %s after the event, want after Retry-After (1s)", d)
	}
	if n := h.slack.Calls("chat.postMessage"); n != 2 {
		t.Fatalf("chat.postMessage called %d times, want 2", n)
	}
	h.waitDelivered()
	if counts.sent.Load() != 1 || counts.limited.Load() != 1 || counts.retried.Load() != 0 {
		t.Errorf("counted %d sent, %d 429s, %d retries; want 1, 1, 0", counts.sent.Load(), counts.limited.Load(), counts.retried.Load())
	}
}

// The limits the adapter declares are Slack's: about one message a second per channel, with
// short bursts, and none over all channels.
func TestLimits_OnePerSecondPerChannel(t *testing.T) {
	l := newAdapter(nil, &stubAPI{}, Options{}).Limits()
	if l.Global != (conversation.Rate{}) {
		t.Errorf("global limit %+v, want none", l.Global)
	}
	if l.Chat == nil {
		t.Fatal("no per-channel limit")
	}
	if r := l.Chat(conversation.Delivery{Key: conversation.Key{Platform: Platform, Chat: "T1/C1"}}); r != (conversation.Rate{Every: time.Second, Burst: 3}) {
		t.Errorf("per channel %+v, want one a second, burst 3", r)
	}
}

// Replies in one channel are paced by the Outbox at the adapter's limits: a burst of three,
// then one a second; another channel does not wait for them.
func TestPacedPerChannel(t *testing.T) {
	h := newHarness(t, func(h *harness) {
		limits := newAdapter(nil, &stubAPI{}, Options{}).Limits()
		h.limits = &limits
	})
	users := []string{"U1", "U2", "U3", "U4"}
	for i, user := range users {
		h.mustPost("/slack/events", slacktest.EventBody("Ev"+user, slacktest.Mention("C1", user, "<@U0BOT> hi", "1700000000.00010"+strconv.Itoa(i), "")))
	}
	h.mustPost("/slack/events", slacktest.EventBody("EvOther", slacktest.Mention("C2", "U1", "<@U0BOT> hi", "1700000000.000200", "")))
	msgs := h.slack.WaitMessages(len(users)+1, wait)
	var inC1 []time.Time
	var inC2 time.Time
	for _, m := range msgs {
		switch m.Channel {
		case "C1":
			inC1 = append(inC1, m.At)
		case "C2":
			inC2 = m.At
		}
	}
	if len(inC1) != len(users) || inC2.IsZero() {
		t.Fatalf("messages:%s\nwant %d in C1 and one in C2", summary(msgs), len(users))
	}
	if d := inC1[3].Sub(inC1[0]); d < 900*time.Millisecond {
		t.Fatalf("four messages in C1 within %s, want the fourth a second after the burst", d)
	}
	if inC2.After(inC1[3]) {
		t.Fatalf("the reply in C2 waited for C1's pace")
	}
}

// A slash command answered after its response_url expired reaches the person through
// chat.postEphemeral.
func TestExpiredResponseURL_FallsBackToEphemeral(t *testing.T) {
	h := newHarness(t, nil)
	respond := h.slack.ResponseURL()
	h.slack.Expire(respond)
	h.mustPost("/slack/commands", slacktest.CommandBody(slacktest.Command{Channel: "C1", User: "U1", Text: "help", ResponseURL: respond, TriggerID: "t1"}))
	m := h.slack.WaitMessages(1, wait)[0]
	if m.Method != "chat.postEphemeral" || m.Channel != "C1" || m.User != "U1" {
		t.Fatalf("answer %+v, want chat.postEphemeral to U1 in C1", m)
	}
}

// A reply committed but not sent before a crash is sent when the bot starts again.
func TestRedeliverOnStart(t *testing.T) {
	h := newHarness(t, nil)
	h.stop()
	store, err := boltstore.Open(h.db, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := conversation.NewService(h.engine, store, conversation.ServiceOptions{})
	r := route{Mode: modePost, Channel: "D9"}
	_, err = svc.Handle(t.Context(), conversation.Inbound{
		Turn:  conversation.Turn{Key: conversation.Key{Platform: Platform, Chat: "T0TEAM/D9", User: "U9"}, InboundID: "event:EvCrash", Route: r.encode()},
		Input: conversation.Input{Kind: conversation.InputText, Text: "hi"},
	})
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	h.start()
	if m := h.slack.WaitMessages(1, wait)[0]; m.Channel != "D9" {
		t.Fatalf("redelivered %+v, want to D9", m)
	}
	h.waitDelivered()
}

// The HTTP answer never waits on the Web API: with Slack making the bot wait two seconds,
// the request is still acknowledged at once, and the reply follows.
func TestAck_DoesNotWaitForWebAPI(t *testing.T) {
	h := newHarness(t, nil)
	respond := h.slack.ResponseURL()
	h.slack.RateLimit("response_url", 2)
	start := time.Now()
	code, _, took := h.post("/slack/commands", slacktest.CommandBody(slacktest.Command{Channel: "C1", User: "U1", Text: "help", ResponseURL: respond, TriggerID: "t1"}))
	if code != http.StatusOK || took > 500*time.Millisecond {
		t.Fatalf("acknowledged with %d after %s, want 200 at once", code, took)
	}
	m := h.slack.WaitMessages(1, wait)[0]
	if d := m.At.Sub(start); d < 2*time.Second || m.ResponseURL != respond {
		t.Fatalf("reply %+v after %s, want it through %s after the 2s Retry-After", m, d, respond)
	}
}

// One person's messages are answered in the order they came, while others' go on in parallel;
// a reply Slack rate-limits is not overtaken by the ones after it.
func TestOnePersonInOrder(t *testing.T) {
	h := newHarness(t, nil)
	h.slack.RateLimit("chat.postMessage", 1)
	texts := []string{"/solution paypal", "/solution virtual-card", "/solutions", "/solution choose-plan", "/help", "/solution payment-timing"}
	for i, text := range texts {
		h.mustPost("/slack/events", slacktest.EventBody("EvO"+strconv.Itoa(i), slacktest.DM("D1", "U1", text, "1700000000.00010"+strconv.Itoa(i))))
		h.mustPost("/slack/events", slacktest.EventBody("EvP"+strconv.Itoa(i), slacktest.DM("D2", "U2", text, "1700000000.00020"+strconv.Itoa(i))))
	}
	msgs := h.slack.WaitMessages(2*len(texts), wait)
	for _, user := range []struct{ channel string }{{"D1"}, {"D2"}} {
		d := &dialog{e: h.engine}
		i := 0
		for _, m := range msgs {
			if m.Channel != user.channel {
				continue
			}
			want := d.step(conversation.Input{Kind: conversation.InputText, Text: texts[i]})
			if m.BlockText != shown(want) {
				t.Fatalf("%s: answer %d is %q, want the answer to %q", user.channel, i, m.BlockText, texts[i])
			}
			i++
		}
	}
}

// A person who floods the bot gets one "slow down" and is then ignored for a while; the
// hub's dispatcher decides, after deduplication: Slack's retries of an event never count.
func TestFlood_SlowDownOnce(t *testing.T) {
	h := newHarness(t, func(h *harness) { h.flood, h.floodWindow = 2, time.Minute })
	first := slacktest.EventBody("EvFl0", slacktest.DM("D1", "U1", "/help", "1700000000.000100"))
	h.mustPost("/slack/events", first)
	for i := range 3 {
		h.mustPost("/slack/events", first, "X-Slack-Retry-Num", strconv.Itoa(i+1), "X-Slack-Retry-Reason", "http_timeout")
	}
	for i := 1; i < 4; i++ {
		h.mustPost("/slack/events", slacktest.EventBody("EvFl"+strconv.Itoa(i), slacktest.DM("D1", "U1", "/help", "1700000000.00010"+strconv.Itoa(i))))
	}
	// Another person is not slowed down.
	h.mustPost("/slack/events", slacktest.EventBody("EvOther", slacktest.DM("D2", "U2", "/help", "1700000000.000200")))
	h.slack.WaitMessages(4, wait)
	h.waitDelivered()
	time.Sleep(100 * time.Millisecond)
	msgs := h.slack.Messages()
	var toU1, toU2 []string
	for _, m := range msgs {
		switch m.Channel {
		case "D1":
			toU1 = append(toU1, m.BlockText)
		case "D2":
			toU2 = append(toU2, m.BlockText)
		}
	}
	d := &dialog{e: h.engine}
	help := d.step(conversation.Input{Kind: conversation.InputText, Text: "/help"})
	again := d.step(conversation.Input{Kind: conversation.InputText, Text: "/help"})
	slow := d.step(conversation.Input{Kind: conversation.InputFlooded})
	if len(toU1) != 3 || toU1[0] != shown(help) || toU1[1] != shown(again) || toU1[2] != shown(slow) {
		t.Fatalf("U1 got %d answers:%s\nwant two answers and one slow-down", len(toU1), summary(msgs))
	}
	if len(toU2) != 1 || toU2[0] != shown(help) {
		t.Fatalf("U2 got %d answers:%s\nwant one", len(toU2), summary(msgs))
	}
}
