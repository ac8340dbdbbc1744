package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/paydoctor/bot/internal/store/boltstore"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// runMain runs the program in-process as "bot args..." with stdin and returns its stdout.
func runMain(t *testing.T, vars map[string]string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr strings.Builder
	m := NewMain(strings.NewReader(stdin), &stdout, &stderr, env(vars))
	err := m.ParseFlags(args)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err = m.Run(ctx)
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return stdout.String(), stderr.String(), err
}

type reply struct {
	Text      string   `json:"text"`
	Cause     string   `json:"cause"`
	Solutions []string `json:"solutions"`
	Lang      string   `json:"lang"`
}

func replies(t *testing.T, out string) []reply {
	t.Helper()
	var rs []reply
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r reply
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		rs = append(rs, r)
	}
	return rs
}

func TestChatJSON_DiagnosisInBothLanguages(t *testing.T) {
	tests := []struct {
		lang, input, wantCause, wantFirst string
	}{
		{"zh-Hans", "/start\n{\"button\":\"a:what_happened:verification\"}\n{\"button\":\"a:verify_prompt:none\"}\n", "bank-verification", "enable-cross-border"},
		{"en", "/start\n{\"button\":\"a:what_happened:address\"}\n{\"button\":\"a:address_match:no\"}\n", "account-settings", "billing-settings"},
	}
	for _, tc := range tests {
		t.Run(tc.lang, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "bot.db")
			out, _, err := runMain(t, nil, tc.input, "chat", "--json", "--db", db, "--lang", tc.lang, "--user", "u1")
			if err != nil {
				t.Fatal(err)
			}
			rs := replies(t, out)
			last := rs[len(rs)-1]
			if len(rs) != 3 || last.Cause != tc.wantCause || len(last.Solutions) == 0 || last.Solutions[0] != tc.wantFirst {
				t.Fatalf("replies %+v", rs)
			}
			for _, r := range rs {
				if r.Lang != tc.lang {
					t.Errorf("reply in %q, want %q", r.Lang, tc.lang)
				}
				if tc.lang == "en" && strings.IndexFunc(r.Text, func(c rune) bool { return unicode.Is(unicode.Han, c) }) >= 0 {
					t.Errorf("Chinese in the English dialog: %q", r.Text)
				}
			}
		})
	}
}

func TestChatJSON_EverySolutionOpens(t *testing.T) {
	ids := []string{"international-card", "paypal", "enable-cross-border", "billing-settings", "virtual-card", "contact-support", "choose-plan", "payment-timing"}
	var input strings.Builder
	for _, id := range ids {
		input.WriteString("/solution " + id + "\n")
	}
	out, _, err := runMain(t, map[string]string{"BOT_DB": filepath.Join(t.TempDir(), "bot.db"), "BOT_LANG": "en"}, input.String(), "chat", "--json")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range replies(t, out) {
		if len(r.Solutions) != 1 || r.Solutions[0] != ids[i] {
			t.Errorf("/solution %s answered with %v", ids[i], r.Solutions)
		}
	}
}

func TestChat_ContinuesAfterRestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bot.db")
	if _, _, err := runMain(t, nil, "{\"button\":\"a:what_happened:declined\"}\n", "chat", "--json", "--db", db, "--user", "dee"); err != nil {
		t.Fatal(err)
	}
	out, _, err := runMain(t, nil, "{\"button\":\"a:card_type:unionpay\"}\n", "chat", "--json", "--db", db, "--user", "dee")
	if err != nil {
		t.Fatal(err)
	}
	if rs := replies(t, out); rs[0].Cause != "cross-border-restricted" {
		t.Errorf("the second run did not continue the dialog: %+v", rs[0])
	}
}

func TestRun_NothingConfiguredStartsTheTerminalChat(t *testing.T) {
	out, _, err := runMain(t, map[string]string{"BOT_DB": filepath.Join(t.TempDir(), "bot.db")}, "quit\n")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "你好") || !strings.Contains(out, "1) ") {
		t.Errorf("want a greeting with numbered choices, got:\n%s", out)
	}
}

func TestRun_DatabaseInUse(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bot.db")
	held, err := boltstore.Open(db, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	start := time.Now()
	_, _, err = runMain(t, nil, "", "chat", "--db", db)
	if err == nil || !strings.Contains(err.Error(), "database is in use by another process") || !strings.Contains(err.Error(), db) {
		t.Errorf("err = %v, want it to say the file is in use", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("took %s to give up", time.Since(start))
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		vars map[string]string
		want string // in the error; empty: no error
	}{
		{"unknown command", []string{"frob"}, nil, `unknown command "frob"`},
		{"stray argument", []string{"chat", "extra"}, nil, `unexpected argument "extra"`},
		{"bad ttl", nil, map[string]string{"BOT_DIALOG_TTL": "soon"}, "BOT_DIALOG_TTL"},
		{"bad events ttl", nil, map[string]string{"BOT_EVENTS_TTL": "a while"}, "BOT_EVENTS_TTL"},
		{"negative events ttl", []string{"--events-ttl", "-1h"}, nil, "must not be negative"},
		{"negative ttl", []string{"--dialog-ttl", "-1h"}, nil, "must be positive"},
		{"defaults", nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMain(strings.NewReader(""), &strings.Builder{}, &strings.Builder{}, env(tc.vars))
			err := m.ParseFlags(tc.args)
			if tc.want == "" {
				if err != nil || m.Config.DB != "paydoctor.db" || m.Config.Lang != "zh-Hans" || m.Config.DialogTTL != 720*time.Hour {
					t.Errorf("err %v, config %+v", err, m.Config)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestHelpNamesCommandsAndEnvironment(t *testing.T) {
	var stderr strings.Builder
	m := NewMain(strings.NewReader(""), &strings.Builder{}, &stderr, env(nil))
	if err := m.ParseFlags([]string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"chat", "--json", "BOT_DB", "BOT_LANG", "BOT_KB_DIR", "BOT_HTTP_ADDR",
		"TELEGRAM_BOT_TOKEN", "TELEGRAM_API_ENDPOINT", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET",
		"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("--help does not mention %s", want)
		}
	}
}
