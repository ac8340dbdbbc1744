package conversation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
)

// TestStep_Picture: a screenshot read by OCR is answered like the text it holds, with one line
// quoting what mattered, in the language of the screen; one with nothing about a payment gets
// a request for the text and the menu.
func TestStep_Picture(t *testing.T) {
	e := newEngine(t, "en")
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name              string
		caption, seen     string
		hint              string
		wantLang          string
		wantQuote         string // "" when the reply quotes nothing
		wantCause         string
		wantAskingToPaste bool
	}{
		{
			name:      "checkout in English",
			seen:      "9:41\nPay OpenAI, LLC\nCard information\nYour card was declined.\nPay",
			hint:      "en",
			wantLang:  "en",
			wantQuote: "I can see: “Your card was declined.”",
			wantCause: "cross-border-restricted",
		},
		{
			name:      "checkout in Chinese, English app",
			seen:      "支付 OpenAI\n银行卡信息\n您的银行卡被拒绝了。\n支付",
			hint:      "en",
			wantLang:  "zh-Hans",
			wantQuote: "“您的银行卡被拒绝了。”",
			wantCause: "cross-border-restricted",
		},
		{
			name:      "a stray glyph in an English screen",
			seen:      "9:41 口\nPay OpenAI, LLC\nYour card was declined.\n口 Pay",
			hint:      "en",
			wantLang:  "en",
			wantQuote: "I can see: “Your card was declined.”",
			wantCause: "cross-border-restricted",
		},
		{
			name:      "caption decides the language",
			caption:   "why does this keep happening to me",
			seen:      "Your card was declined.",
			hint:      "zh-CN",
			wantLang:  "en",
			wantQuote: "I can see: “Your card was declined.”",
			wantCause: "cross-border-restricted",
		},
		{
			name:              "nothing about a payment",
			seen:              "12:30\nPhotos\nAlbums",
			hint:              "en",
			wantLang:          "en",
			wantAskingToPaste: true,
		},
		{
			name:              "no text at all",
			hint:              "zh-CN",
			wantLang:          "zh-Hans",
			wantAskingToPaste: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := conversation.Input{Kind: conversation.InputImage, Text: tc.caption, Seen: tc.seen, LangHint: tc.hint}
			d, r := stepReply(e, conversation.Dialog{}, in, at)
			if r.Lang != tc.wantLang {
				t.Errorf("answered in %s, want %s", r.Lang, tc.wantLang)
			}
			if tc.wantQuote != "" && !strings.Contains(r.Text, tc.wantQuote) {
				t.Errorf("reply does not quote %q:\n%s", tc.wantQuote, r.Text)
			}
			if r.Cause != tc.wantCause {
				t.Errorf("cause %q, want %q", r.Cause, tc.wantCause)
			}
			noText := e.KB().Text(tc.wantLang, kb.MsgImageNoText, nil)
			if got := strings.Contains(r.Text, noText); got != tc.wantAskingToPaste {
				t.Errorf("asks to paste the text: %v, want %v:\n%s", got, tc.wantAskingToPaste, r.Text)
			}
			if tc.wantAskingToPaste && (len(r.Buttons) == 0 || d.Stage != conversation.StageAsking) {
				t.Errorf("no menu with the request to paste: stage %v, buttons %+v", d.Stage, r.Buttons)
			}
		})
	}
}

// TestStep_PictureCardDataNeverKept: card data read off a screenshot reaches neither the
// dialog, the reply nor the helpers.
func TestStep_PictureCardDataNeverKept(t *testing.T) {
	e := newEngineWith(t, conversation.EngineOptions{Lang: "en", Handoff: true})
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	seen := "Card number\n4000 0566 5566 5556\nMM / YY 12/29  CVC 737\nYour card was declined."
	secrets := []string{"4000", "5566", "5556", "737"}

	d, r := stepReply(e, conversation.Dialog{}, conversation.Input{Kind: conversation.InputImage, Seen: seen}, at)
	if r.Cause != "cross-border-restricted" {
		t.Errorf("cause %q, want cross-border-restricted", r.Cause)
	}
	d, _ = stepReply(e, d, conversation.Input{Kind: conversation.InputText, Text: "/human", Ref: "telegram:1:1"}, at.Add(time.Minute))
	// Another one while the handoff is open goes to the helpers as it was read.
	d, res := e.Step(d, conversation.Input{Kind: conversation.InputImage, Seen: seen, Ref: "telegram:1:1"}, at.Add(2*time.Minute))
	if len(res.Notices) != 1 || !strings.Contains(res.Notices[0].Reply.Text, "declined") {
		t.Fatalf("the picture did not reach the helpers: %+v", res.Notices)
	}
	summary := e.HandoffSummary(d, conversation.Person{Name: "Ann"}, "telegram", "telegram:1:1")
	enc, err := conversation.MarshalDialog(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range secrets {
		for where, s := range map[string]string{"dialog": string(enc), "reply": r.Text, "notice": res.Notices[0].Reply.Text, "summary": summary.Text} {
			if strings.Contains(s, secret) {
				t.Errorf("%q survives in the %s: %s", secret, where, s)
			}
		}
	}
}
