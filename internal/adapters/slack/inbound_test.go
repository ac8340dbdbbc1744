package slack

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/slack-go/slack"
)

func TestStripMentions(t *testing.T) {
	for in, want := range map[string]string{
		"<@U0BOT> card declined":             "card declined",
		"<@U0BOT|paydoctor>   支付失败":          "支付失败",
		"hi <@W123ABC> and <@U0BOT>":         "hi  and",
		"no mention":                         "no mention",
		"<#C123|general> stays, <!here> too": "<#C123|general> stays, <!here> too",
	} {
		if got := stripMentions(in); got != want {
			t.Errorf("stripMentions(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCommandText(t *testing.T) {
	for in, want := range map[string]string{
		"help":                   "/help",
		" Start ":                "/Start",
		"lang en":                "/lang en",
		"solution paypal":        "/solution paypal",
		"/help":                  "/help",
		"Your card was declined": "Your card was declined",
		"helpful text":           "helpful text",
	} {
		if got := commandText(in); got != want {
			t.Errorf("commandText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBlocks_Limits(t *testing.T) {
	long := strings.Repeat("支付失败。\n", 1000) // 16 KB, more than five sections
	r := conversation.Reply{Text: long + "<&>"}
	for i := range 30 {
		r.Buttons = append(r.Buttons, conversation.Button{ID: "b" + strconv.Itoa(i), Label: strings.Repeat("x", 100)})
	}
	bs := blocks(r, "v1", "U1")
	if len(bs) > maxBlocks {
		t.Fatalf("%d blocks", len(bs))
	}
	var text strings.Builder
	var buttons int
	ids := map[string]bool{}
	for _, b := range bs {
		switch b := b.(type) {
		case *slack.SectionBlock:
			if len(b.Text.Text) > maxSectionText {
				t.Errorf("section of %d bytes", len(b.Text.Text))
			}
			text.WriteString(b.Text.Text)
		case *slack.ActionBlock:
			if ids[b.BlockID] || blockOwner(b.BlockID) != "U1" {
				t.Errorf("block_id %q duplicate or not naming U1", b.BlockID)
			}
			ids[b.BlockID] = true
			if n := len(b.Elements.ElementSet); n > maxActionsBlock {
				t.Errorf("%d buttons in one actions block", n)
			}
			for _, e := range b.Elements.ElementSet {
				btn := e.(*slack.ButtonBlockElement)
				if utf8.RuneCountInString(btn.Text.Text) > maxButtonText {
					t.Errorf("button label of %d runes", utf8.RuneCountInString(btn.Text.Text))
				}
				if btn.Value != "v1|b"+strconv.Itoa(buttons) || btn.ActionID != "pd:"+strconv.Itoa(buttons) {
					t.Errorf("button %d: action %q value %q", buttons, btn.ActionID, btn.Value)
				}
				buttons++
			}
		default:
			t.Errorf("unexpected block %T", b)
		}
	}
	if buttons != 30 || len(ids) != 2 {
		t.Fatalf("%d buttons in %d actions blocks, want 30 in 2", buttons, len(ids))
	}
	if got, want := strings.ReplaceAll(text.String(), "\n", ""), strings.ReplaceAll(escape(r.Text), "\n", ""); got != want {
		t.Error("sections lost text")
	}
	if !strings.HasSuffix(text.String(), "&lt;&amp;&gt;") {
		t.Error("mrkdwn not escaped")
	}
}

// Messages carry when Slack says they were sent, which the flood guard paces people by.
func TestTsTime(t *testing.T) {
	for ts, want := range map[string]time.Time{
		"1700000000.000100": time.Unix(1700000000, 100*int64(time.Microsecond)),
		"1700000000":        time.Unix(1700000000, 0),
		"":                  {},
		"not a ts":          {},
		"-5.1":              {},
	} {
		if got := tsTime(ts); !got.Equal(want) {
			t.Errorf("tsTime(%q) = %v, want %v", ts, got, want)
		}
	}
}
