package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/store/boltstore"
)

func TestParseFlags_OperationsConfig(t *testing.T) {
	tg := map[string]string{"TELEGRAM_BOT_TOKEN": "1:A"}
	sl := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name string
		args []string
		vars map[string]string
		want string // in the error; empty: no error
	}{
		{"telegram handoff", nil, with(tg, "BOT_HANDOFF_TELEGRAM_CHAT", "-1001234567890"), ""},
		{"telegram handoff not a number", nil, with(tg, "BOT_HANDOFF_TELEGRAM_CHAT", "@helpers"), "want a Telegram chat id"},
		{"telegram handoff in a topic", nil, with(tg, "BOT_HANDOFF_TELEGRAM_CHAT", "-1001234567890/42"), ""},
		{"telegram handoff topic not a number", nil, with(tg, "BOT_HANDOFF_TELEGRAM_CHAT", "-1001234567890/general"), "forum topic"},
		{"telegram handoff topic zero", nil, with(tg, "BOT_HANDOFF_TELEGRAM_CHAT", "-1001234567890/0"), "forum topic"},
		{"telegram handoff without telegram", nil, with(sl, "BOT_HANDOFF_TELEGRAM_CHAT", "-100"), "TELEGRAM_BOT_TOKEN is not"},
		{"slack handoff", nil, with(sl, "BOT_HANDOFF_SLACK_CHANNEL", "C0123ABCD"), ""},
		{"slack handoff by name", nil, with(sl, "BOT_HANDOFF_SLACK_CHANNEL", "#payments-help"), "want a channel id"},
		{"slack handoff without slack", nil, with(tg, "BOT_HANDOFF_SLACK_CHANNEL", "G0123"), "SLACK_BOT_TOKEN is not"},
		{"both handoffs", nil, with(with(tg, "BOT_HANDOFF_TELEGRAM_CHAT", "-100"), "SLACK_BOT_TOKEN", "xoxb-1", "SLACK_APP_TOKEN", "xapp-1", "BOT_HANDOFF_SLACK_CHANNEL", "C1234"), "set only one"},
		{"bad log format", nil, map[string]string{"BOT_LOG_FORMAT": "xml"}, "BOT_LOG_FORMAT"},
		{"bad log level", nil, map[string]string{"BOT_LOG_LEVEL": "loud"}, "BOT_LOG_LEVEL"},
		{"bad http addr", nil, map[string]string{"BOT_HTTP_ADDR": "8080"}, "BOT_HTTP_ADDR"},
		{"public admin addr", nil, map[string]string{"BOT_ADMIN_ADDR": "0.0.0.0:9091"}, "loopback"},
		{"all-interfaces admin addr", nil, map[string]string{"BOT_ADMIN_ADDR": ":9091"}, "loopback"},
		{"loopback admin addr", nil, map[string]string{"BOT_ADMIN_ADDR": "127.0.0.1:9091"}, ""},
		{"socket admin addr", nil, map[string]string{"BOT_ADMIN_ADDR": "unix:/run/paydoctor/admin.sock"}, ""},
		{"stats since", []string{"stats", "--since", "7d"}, nil, ""},
		{"stats bad since", []string{"stats", "--since", "a week"}, nil, "--since"},
		{"since outside stats", []string{"chat", "--since", "7d"}, nil, "--since is for bot stats"},
		{"backup without OUT", []string{"backup"}, nil, "name the file to write"},
		{"backup OUT then flags", []string{"backup", "copy.db", "--db", "x.db"}, nil, ""},
		{"backup two files", []string{"backup", "a.db", "b.db"}, nil, `unexpected argument "b.db"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMain(strings.NewReader(""), &strings.Builder{}, &strings.Builder{}, env(tc.vars))
			err := m.ParseFlags(tc.args)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseFlags_Defaults(t *testing.T) {
	m := NewMain(strings.NewReader(""), &strings.Builder{}, &strings.Builder{}, env(map[string]string{"BOT_DB": "/var/lib/paydoctor/bot.db"}))
	if err := m.ParseFlags([]string{"chat"}); err != nil {
		t.Fatal(err)
	}
	if got := m.Config.Admin; got != (AdminAddr{Network: "unix", Addr: "/var/lib/paydoctor/bot.db.admin.sock"}) {
		t.Errorf("default admin address %v, want a socket next to the database", got)
	}
	if m.Config.LogLevel != slog.LevelWarn {
		t.Errorf("the terminal chat logs at %v, want warn", m.Config.LogLevel)
	}
	m = NewMain(strings.NewReader(""), &strings.Builder{}, &strings.Builder{}, env(map[string]string{"TELEGRAM_BOT_TOKEN": "1:A"}))
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if m.Config.LogLevel != slog.LevelInfo {
		t.Errorf("serving logs at %v, want info", m.Config.LogLevel)
	}
	m = NewMain(strings.NewReader(""), &strings.Builder{}, &strings.Builder{}, env(nil))
	if err := m.ParseFlags([]string{"backup", "out.db", "--db", "in.db"}); err != nil || m.Config.Out != "out.db" || m.Config.DB != "in.db" {
		t.Errorf("backup OUT --db: %v, %+v", err, m.Config)
	}
}

func TestParsePeriod(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "12h": 12 * time.Hour, "1.5d": 36 * time.Hour} {
		if got, err := parsePeriod(in); err != nil || got != want {
			t.Errorf("parsePeriod(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "0h", "soon"} {
		if _, err := parsePeriod(in); err == nil {
			t.Errorf("parsePeriod(%q) accepted", in)
		}
	}
}

func TestHelpNamesSubcommandsAndOperationsVariables(t *testing.T) {
	var stderr strings.Builder
	m := NewMain(strings.NewReader(""), &strings.Builder{}, &stderr, env(nil))
	if err := m.ParseFlags([]string{"help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"bot chat", "bot stats", "bot backup", "--since",
		"BOT_ADMIN_ADDR", "BOT_LOG_FORMAT", "BOT_LOG_LEVEL", "BOT_HANDOFF_TELEGRAM_CHAT", "BOT_HANDOFF_SLACK_CHANNEL"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("--help does not mention %s", want)
		}
	}
}

// .env.example names every variable bot --help does.
func TestEnvExampleNamesEveryVariable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(envHelp, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.Contains(f[0], "_") || strings.ToUpper(f[0]) != f[0] {
			continue
		}
		if !strings.Contains(string(b), f[0]+"=") {
			t.Errorf(".env.example lacks %s", f[0])
		}
	}
}

// The stats of a stopped bot whose file is locked by someone else say why.
func TestStats_FileHeldAndNoBot(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bot.db")
	held, err := openForTest(db)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, _, err = runMain(t, nil, "", "stats", "--db", db)
	if err == nil || !strings.Contains(err.Error(), "in use by another process") || !strings.Contains(err.Error(), "BOT_ADMIN_ADDR") {
		t.Errorf("err = %v, want the lock and the admin address named", err)
	}
	_, _, err = runMain(t, nil, "", "stats", "--db", filepath.Join(t.TempDir(), "missing.db"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stats of a missing file: %v", err)
	}
}

func openForTest(path string) (interface{ Close() error }, error) {
	return boltstore.Open(path, boltstore.Options{})
}

// A terminal chat holds the file as a served bot does, and answers "bot stats" the same way.
func TestStats_WhileChatting(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bot.db")
	in, feed := io.Pipe()
	var stdout strings.Builder
	m := NewMain(in, &stdout, io.Discard, env(nil))
	if err := m.ParseFlags([]string{"chat", "--json", "--db", db, "--user", "ann"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background()) }()
	defer m.Close()
	defer feed.Close() // a t.Fatal ends the chat too
	if _, err := io.WriteString(feed, "卡被拒了\n"); err != nil {
		t.Fatal(err)
	}
	var out string
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if out, _, err = runMain(t, nil, "", "stats", "--json", "--db", db); err == nil && strings.Contains(out, `"diagnosed": 1`) {
			break
		}
	}
	if err != nil || !strings.Contains(out, `"diagnosed": 1`) {
		t.Errorf("stats while chatting: %v\n%s", err, out)
	}
	feed.Close()
	if err := <-done; err != nil {
		t.Errorf("chat: %v", err)
	}
}
