package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/adapters/console"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/store/boltstore"
)

// chat runs one terminal session on the bbolt file at path with the given input.
func chat(t *testing.T, path string, opts console.Options, input string) string {
	t.Helper()
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := conversation.NewEngine(k, conversation.EngineOptions{Lang: "zh-Hans"})
	if err != nil {
		t.Fatal(err)
	}
	store, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var out strings.Builder
	opts.In, opts.Out = strings.NewReader(input), &out
	// Wired as cmd/bot wires it: a hub without a flood guard, and the chat as the console
	// platform's Sender.
	hub := conversation.NewHub(conversation.NewService(e, store, conversation.ServiceOptions{}), conversation.DispatcherOptions{FloodLimit: -1})
	c := console.New(hub, opts)
	if _, err := hub.AddPlatform(conversation.OutboxOptions{Platform: console.Platform, Sender: c}); err != nil {
		t.Fatal(err)
	}
	ctx, stopHub := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { hub.Run(ctx); close(hubDone) }()
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopHub()
	<-hubDone
	return out.String()
}

type jsonReply struct {
	Text    string `json:"text"`
	Buttons []struct {
		ID    string `json:"id"`
		Label string `json:"label"`
	} `json:"buttons"`
	Cause     string   `json:"cause"`
	Solutions []string `json:"solutions"`
	Lang      string   `json:"lang"`
}

func parseReplies(t *testing.T, out string) []jsonReply {
	t.Helper()
	var replies []jsonReply
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r jsonReply
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("output line is not one JSON object: %q: %v", sc.Text(), err)
		}
		if r.Buttons == nil || r.Solutions == nil {
			t.Errorf("buttons and solutions must be arrays, even empty: %q", sc.Text())
		}
		replies = append(replies, r)
	}
	return replies
}

func TestJSON_OneReplyPerLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	input := strings.Join([]string{
		`/lang en`,
		`{"button": "a:what_happened:declined"}`,
		`{"text": "It's a UnionPay card (银联)"}`,
		`{not json at all`,
		``,
		`{"button": 123}`,
		`{"button": "no:international-card"}`,
	}, "\n")
	replies := parseReplies(t, chat(t, path, console.Options{JSON: true, User: "ann"}, input))
	if len(replies) != 7 {
		t.Fatalf("%d replies to 7 lines: a script reads one per line it writes", len(replies))
	}
	// A blank line: where the dialog stands. A button that is no string: no text to read.
	if r := replies[4]; len(r.Solutions) != 1 || r.Solutions[0] != "international-card" {
		t.Errorf("blank line: %+v", r)
	}
	if r := replies[5]; !strings.HasPrefix(r.Text, "I can only read text") || len(r.Solutions) != 1 {
		t.Errorf("a button that is a number: %+v", r)
	}
	replies = slices.Delete(replies, 4, 6)
	if r := replies[1]; r.Lang != "en" || len(r.Buttons) != 4 || r.Buttons[0].ID != "a:card_type:unionpay" {
		t.Errorf("button press: %+v", r)
	}
	// A UnionPay-only card: another card first, whatever the bank enables (flow.toml's rules_out).
	if r := replies[2]; r.Cause != "cross-border-restricted" || len(r.Solutions) != 3 || r.Solutions[0] != "international-card" {
		t.Errorf("free text diagnosis: cause %q solutions %v", r.Cause, r.Solutions)
	}
	// Read as text, it says nothing the bot can act on: the solution shown stays.
	if r := replies[3]; r.Text == "" || len(r.Solutions) != 1 || r.Solutions[0] != "international-card" {
		t.Errorf("malformed JSON must be read as text: %+v", r)
	}
	if r := replies[4]; len(r.Solutions) != 1 || r.Solutions[0] != "virtual-card" {
		t.Errorf("next solution: %v", r.Solutions)
	}
}

func TestInteractive_NumbersAndResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	first := chat(t, path, console.Options{User: "bo"}, "1\n2\nquit\n")
	if !strings.Contains(first, "你好") || !strings.Contains(first, "  1) 💳 银行卡被拒绝") {
		t.Fatalf("a new user is not greeted with numbered choices:\n%s", first)
	}
	if !strings.Contains(first, "这张卡开通了境外网上支付") {
		t.Fatalf("choices 1 then 2 did not reach the overseas-payment question:\n%s", first)
	}
	second := chat(t, path, console.Options{User: "bo"}, "")
	if !strings.Contains(second, "欢迎回来") || !strings.Contains(second, "这张卡开通了境外网上支付") {
		t.Errorf("the same user does not continue where the dialog was:\n%s", second)
	}
	other := chat(t, path, console.Options{User: "cy"}, "")
	if !strings.Contains(other, "你好") {
		t.Errorf("another user does not get a dialog of their own:\n%s", other)
	}
}

// Lines longer than the console keeps (here 2 MiB of one line) are cut, not fatal: the chat
// answers and goes on.
func TestJSON_HugeLineIsCutNotFatal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	input := strings.Repeat("x", 2<<20) + "\n/solution paypal\n"
	replies := parseReplies(t, chat(t, path, console.Options{JSON: true, User: "big"}, input))
	if len(replies) != 2 {
		t.Fatalf("%d replies, want one for the huge line and one after it", len(replies))
	}
	if len(replies[1].Solutions) != 1 || replies[1].Solutions[0] != "paypal" {
		t.Errorf("the line after the huge one: %+v", replies[1])
	}
}
