package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paydoctor/bot/internal/kb/kbtest"
)

// TestChatJSON_EveryDeclineCodeAlone types each of Stripe's decline codes alone, one after
// another in one dialog, as people paste them: each answer names a cause or shows a solution.
func TestChatJSON_EveryDeclineCodeAlone(t *testing.T) {
	codes := kbtest.DeclineCodes(t)
	var input strings.Builder
	for _, code := range codes {
		if code == "testmode_decline" { // a test card's code: no real checkout returns it
			continue
		}
		input.WriteString(code + "\n")
	}
	sent := strings.Fields(input.String())
	out, _, err := runMain(t, nil, input.String(), "chat", "--json", "--db", filepath.Join(t.TempDir(), "bot.db"), "--lang", "en")
	if err != nil {
		t.Fatal(err)
	}
	rs := replies(t, out)
	if len(rs) != len(sent) {
		t.Fatalf("%d replies to %d codes", len(rs), len(sent))
	}
	for i, r := range rs {
		if r.Cause == "" && (len(r.Solutions) == 0 || len(r.Solutions) == 8) {
			t.Errorf("%s: neither a cause nor a solution: %q", sent[i], r.Text)
		}
	}
}

// TestChatJSON_BeyondTheFourCauses: money taken with nothing to show for it leads to OpenAI's
// support first; chatter about something else gets one line on what the bot is for, and the
// menu.
func TestChatJSON_BeyondTheFourCauses(t *testing.T) {
	tests := []struct {
		name, lang, text string
		check            func(t *testing.T, r chatReply)
	}{
		{"money taken, en", "en", "I was charged $20 for ChatGPT Plus but my account still shows the free plan", func(t *testing.T, r chatReply) {
			if len(r.Solutions) == 0 || r.Solutions[0] != "contact-support" {
				t.Errorf("solutions %v, want contact-support first", r.Solutions)
			}
		}},
		{"money taken, zh", "zh-Hans", "钱已经扣了，但是 API 余额还是 0", func(t *testing.T, r chatReply) {
			if len(r.Solutions) == 0 || r.Solutions[0] != "contact-support" {
				t.Errorf("solutions %v, want contact-support first", r.Solutions)
			}
		}},
		{"off-topic, en", "en", "how do I stream responses with the python sdk?", func(t *testing.T, r chatReply) {
			if !strings.HasPrefix(r.Text, "I'm a bot for one thing") || len(r.Buttons) < 6 || !strings.HasPrefix(r.Buttons[0].ID, "a:what_happened:") {
				t.Errorf("want the scope line and the start menu: %q %+v", r.Text, r.Buttons)
			}
		}},
		{"off-topic, zh", "zh-Hans", "大家觉得 Claude 和 GPT 哪个写代码更好？", func(t *testing.T, r chatReply) {
			if !strings.HasPrefix(r.Text, "我只负责一件事") || len(r.Buttons) < 6 || !strings.HasPrefix(r.Buttons[0].ID, "a:what_happened:") {
				t.Errorf("want the scope line and the start menu: %q %+v", r.Text, r.Buttons)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runMain(t, nil, tc.text+"\n", "chat", "--json", "--db", filepath.Join(t.TempDir(), "bot.db"), "--lang", tc.lang)
			if err != nil {
				t.Fatal(err)
			}
			var r chatReply
			if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &r); err != nil {
				t.Fatalf("not one JSON line: %q", out)
			}
			if r.Lang != tc.lang {
				t.Errorf("answered in %s, want %s", r.Lang, tc.lang)
			}
			tc.check(t, r)
		})
	}
}

// chatReply is a reply of bot chat --json with its buttons.
type chatReply struct {
	reply
	Buttons []struct {
		ID    string `json:"id"`
		Label string `json:"label"`
	} `json:"buttons"`
}
