package slack

import (
	"errors"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
	"github.com/paydoctor/bot/internal/conversation"
)

// In Socket Mode every envelope is acknowledged and handled as over HTTP: a DM, a slash
// command, a button press, and an event retried in a second envelope answered once.
func TestSocketMode_EnvelopesAckedAndAnswered(t *testing.T) {
	h := newHarness(t, func(h *harness) {
		h.opts.SigningSecret = ""
		h.opts.AppToken = "xapp-test"
	})
	h.slack.WaitConnected(wait)
	h.slack.SetLocale("U1", "en-US")

	dm := slacktest.EventBody("EvS1", slacktest.DM("D1", "U1", "hello", "1700000000.000100"))
	h.slack.WaitAck(h.slack.SendEnvelope("events_api", dm), wait)
	m := h.slack.WaitMessages(1, wait)[0]
	d := &dialog{e: h.engine}
	if want := d.step(conversation.Input{Kind: conversation.InputText, Text: "hello", LangHint: "en-US"}); m.Method != "chat.postMessage" || m.Channel != "D1" || m.BlockText != shown(want) {
		t.Fatalf("DM answered %+v, want %q in D1", m, shown(want))
	}
	h.slack.WaitAck(h.slack.SendEnvelope("events_api", dm), wait) // Slack's retry

	press := slacktest.PressPayload(slacktest.Press{Channel: "D1", User: "U1", TriggerID: "ts1", Message: m, Button: m.Buttons[0]})
	h.slack.WaitAck(h.slack.SendEnvelope("interactive", press), wait)
	want := d.step(conversation.Input{Kind: conversation.InputButton, Text: d.lastButton(0, m), FlowVersion: h.engine.KB().Version})
	if m := h.slack.WaitMessages(2, wait)[1]; m.Method != "chat.update" || m.TS != h.slack.Messages()[0].TS || m.BlockText != shown(want) {
		t.Fatalf("press answered %+v, want chat.update with %q", m, shown(want))
	}

	respond := h.slack.ResponseURL()
	cmd := slacktest.CommandPayload(slacktest.Command{Channel: "C1", User: "U1", Text: "help", ResponseURL: respond, TriggerID: "ts2"})
	h.slack.WaitAck(h.slack.SendEnvelope("slash_commands", cmd), wait)
	// C1 is another chat, so another dialog.
	want = (&dialog{e: h.engine}).step(conversation.Input{Kind: conversation.InputText, Text: "/help", LangHint: "en-US"})
	msgs := h.slack.WaitMessages(3, wait)
	if m := msgs[2]; m.Method != "response_url" || m.ResponseURL != respond || m.ResponseType != "ephemeral" || m.BlockText != shown(want) {
		t.Fatalf("command answered %+v, want %q ephemeral", m, shown(want))
	}
	if len(msgs) != 3 {
		t.Fatalf("messages:%s\nwant 3 (the retried event answered once)", summary(msgs))
	}
}

// An app-level token Slack refuses ends Run with an error saying it is that token, instead of
// retrying for ever.
func TestSocketMode_RefusedTokenEndsRun(t *testing.T) {
	fake := slacktest.NewServer(t)
	// Nothing is taken before the connection opens: no hub is needed.
	a, err := New(nil, Options{BotToken: "xoxb-test", KB: testKB(t), AppToken: "xoxb-not-an-app-token", APIURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(t.Context()) }()
	select {
	case err := <-done:
		var refused *RefusedError
		if !errors.As(err, &refused) || !refused.AppToken || refused.Code != "invalid_auth" {
			t.Fatalf("Run = %v, want the app-level token refused (invalid_auth)", err)
		}
	case <-time.After(wait):
		t.Fatal("Run still running with a refused token")
	}
}

// New refuses options without what the adapter cannot work without, rather than failing at
// the first message.
func TestNew_RequiredOptions(t *testing.T) {
	k := testKB(t)
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no bot token", Options{KB: k, SigningSecret: "s"}},
		{"no knowledge base", Options{BotToken: "xoxb-test", SigningSecret: "s"}},
		{"neither signing secret nor app token", Options{BotToken: "xoxb-test", KB: k}},
	} {
		if _, err := New(nil, tc.opts); err == nil {
			t.Errorf("%s: New accepted the options", tc.name)
		}
	}
	if _, err := New(nil, Options{BotToken: "xoxb-test", KB: k, AppToken: "xapp-test"}); err != nil {
		t.Errorf("Socket Mode options refused: %v", err)
	}
}
