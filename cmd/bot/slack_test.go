package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/paydoctor/bot/internal/adapters/slack/slacktest"
)

func TestSlackConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    SlackConfig
		wantErr string
	}{
		{name: "nothing", want: SlackConfig{APIURL: defaultSlackAPIURL}},
		{name: "HTTP mode", env: map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"},
			want: SlackConfig{BotToken: "xoxb-1", SigningSecret: "s", APIURL: defaultSlackAPIURL}},
		{name: "Socket Mode, API URL without slash", env: map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1", "SLACK_API_URL": "http://127.0.0.1:9/api"},
			want: SlackConfig{BotToken: "xoxb-1", AppToken: "xapp-1", APIURL: "http://127.0.0.1:9/api/"}},
		{name: "bot token alone", env: map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, wantErr: "neither SLACK_SIGNING_SECRET"},
		{name: "secret without bot token", env: map[string]string{"SLACK_SIGNING_SECRET": "s"}, wantErr: "SLACK_BOT_TOKEN is not"},
		{name: "app token without bot token", env: map[string]string{"SLACK_APP_TOKEN": "xapp-1"}, wantErr: "SLACK_BOT_TOKEN is not"},
		{name: "bot token as app token", env: map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-1"}, wantErr: "xapp-"},
		{name: "bad API URL", env: map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "slack.com/api"}, wantErr: "SLACK_API_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := slackConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestMain_SlackMissingSecretIsAClearError(t *testing.T) {
	m := NewMain(strings.NewReader(""), io.Discard, io.Discard, func(k string) string {
		return map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}[k]
	})
	err := m.ParseFlags(nil)
	if err == nil || !strings.Contains(err.Error(), "SLACK_SIGNING_SECRET") || !strings.Contains(err.Error(), "SLACK_APP_TOKEN") {
		t.Fatalf("ParseFlags = %v, want an error naming both settings", err)
	}
}

// The bot as a new user runs it, with SLACK_API_URL pointing at a fake Slack.
func TestMain_SlackHTTP(t *testing.T) {
	fake := slacktest.NewServer(t)
	fake.SetLocale("UEN", "en-US")
	const secret = "e2e-secret"
	addr := freeAddr(t)
	env := map[string]string{
		"SLACK_BOT_TOKEN":      "xoxb-e2e",
		"SLACK_SIGNING_SECRET": secret,
		"SLACK_API_URL":        fake.URL,
		"BOT_HTTP_ADDR":        addr,
		"BOT_DB":               filepath.Join(t.TempDir(), "bot.db"),
	}
	var stderr bytes.Buffer
	m := NewMain(strings.NewReader(""), io.Discard, &stderr, func(k string) string { return env[k] })
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	base := "http://" + addr
	waitServing(t, base)

	post := func(path string, body []byte, at time.Time, secret string, header ...string) int {
		t.Helper()
		req := slacktest.NewRequest(base+path, secret, at, body)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// A signed "/paydoctor 支付失败": 200 within 3 s, and a Chinese answer.
	start := time.Now()
	respond := fake.ResponseURL()
	cmd := slacktest.CommandBody(slacktest.Command{Channel: "C1", User: "UZH", Text: "支付失败", ResponseURL: respond, TriggerID: "t1"})
	if code := post("/slack/commands", cmd, time.Now(), secret); code != http.StatusOK || time.Since(start) > 3*time.Second {
		t.Fatalf("command: %d after %s", code, time.Since(start))
	}
	m1 := fake.WaitMessages(1, 3*time.Second)[0]
	if m1.ResponseURL != respond || m1.ResponseType != "ephemeral" || !hasHan(m1.BlockText) || len(m1.Buttons) == 0 {
		t.Fatalf("command answered %+v, want a Chinese ephemeral answer with buttons", m1)
	}

	// Forged and 10-minute-old requests are refused.
	other := slacktest.CommandBody(slacktest.Command{Channel: "C1", User: "UZH", Text: "help", ResponseURL: fake.ResponseURL(), TriggerID: "t2"})
	if code := post("/slack/commands", other, time.Now(), "forged"); code != http.StatusUnauthorized {
		t.Fatalf("forged: %d", code)
	}
	if code := post("/slack/commands", other, time.Now().Add(-10*time.Minute), secret); code != http.StatusUnauthorized {
		t.Fatalf("10 minutes old: %d", code)
	}

	// An @mention is answered once, in its thread, even when Slack retries it.
	mention := slacktest.EventBody("EvE2E", slacktest.Mention("C1", "UEN", "<@U0BOT> card_declined", "1700000000.000100", ""))
	for i := range 3 {
		h := []string{}
		if i > 0 {
			h = []string{"X-Slack-Retry-Num", string(rune('0' + i))}
		}
		if code := post("/slack/events", mention, time.Now(), secret, h...); code != http.StatusOK {
			t.Fatalf("mention %d: %d", i, code)
		}
	}
	m2 := fake.WaitMessages(2, 5*time.Second)[1]
	if m2.Channel != "C1" || m2.ThreadTS != "1700000000.000100" || hasHan(m2.BlockText) {
		t.Fatalf("mention answered %+v, want English in the thread", m2)
	}

	// A DM from an English-locale user is answered in English, and pressing the first button
	// of each answer walks to a solution.
	if code := post("/slack/events", slacktest.EventBody("EvDM", slacktest.DM("D1", "UEN", "hi", "1700000000.000200")), time.Now(), secret); code != http.StatusOK {
		t.Fatalf("DM: %d", code)
	}
	msgs := fake.WaitMessages(3, 5*time.Second)
	dm := msgs[2]
	if dm.Channel != "D1" || hasHan(dm.BlockText) || !strings.Contains(dm.BlockText, "?") {
		t.Fatalf("DM answered %+v, want an English question", dm)
	}
	last := dm
	for press := 1; ; press++ {
		if press > 10 {
			t.Fatalf("no solution after 10 presses; last answer %q", last.BlockText)
		}
		p := slacktest.PressBody(slacktest.Press{Channel: "D1", User: "UEN", TriggerID: "p" + string(rune('0'+press)), Message: dm, Button: last.Buttons[0]})
		if code := post("/slack/interactions", p, time.Now(), secret); code != http.StatusOK {
			t.Fatalf("press %d: %d", press, code)
		}
		msgs = fake.WaitMessages(3+press, 5*time.Second)
		last = msgs[len(msgs)-1]
		if last.Method != "chat.update" || last.TS != dm.TS {
			t.Fatalf("press %d answered %+v, want chat.update of the DM answer", press, last)
		}
		// A solution asks whether it worked, with "worked" and "didn't work" buttons.
		if len(last.Buttons) > 0 && strings.Contains(last.Buttons[0].Value, "|ok:") {
			break
		}
	}
	time.Sleep(100 * time.Millisecond)
	if got := len(fake.Messages()); got != len(msgs) {
		t.Fatalf("%d messages, want %d: the retried mention answered more than once?", got, len(msgs))
	}
	for _, private := range []string{"xoxb-e2e", secret, "支付失败", "card_declined"} {
		if strings.Contains(stderr.String(), private) {
			t.Fatalf("%q in the log:\n%s", private, stderr.String())
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitServing(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(base + "/slack/events")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("bot not serving: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// The manifests in deploy/ ask for what the adapter uses.
func TestSlackManifests(t *testing.T) {
	common := []string{
		"command: /paydoctor", "- commands", "- chat:write", "- app_mentions:read", "- im:history",
		"- im:read", "- im:write", "- users:read", "- app_mention", "- message.im", "is_enabled: true",
		"messages_tab_enabled: true", "home_tab_enabled: true", "- app_home_opened",
		"- channels:history", "- groups:history", "- message.channels", "- message.groups",
		"- files:read",
	}
	for file, extra := range map[string][]string{
		"slack-manifest.yaml":        {"socket_mode_enabled: false", "/slack/commands", "/slack/events", "/slack/interactions"},
		"slack-manifest-socket.yaml": {"socket_mode_enabled: true"},
	} {
		b, err := os.ReadFile(filepath.Join("..", "..", "deploy", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range append(common, extra...) {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s lacks %q", file, want)
			}
		}
		if strings.Contains(string(b), "\t") {
			t.Errorf("%s has tabs; YAML wants spaces", file)
		}
	}
}

// Slack failing at start (5xx) keeps the bot up: /healthz says why with 503, auth.test is
// tried again after 1 s and 2 s, and then Socket Mode connects and messages are answered.
// Exiting instead would let a service manager's start limit turn a short outage into a bot
// down for good.
func TestSlack_FailingAtStartIsWaitedFor(t *testing.T) {
	fake := slacktest.NewServer(t)
	// The health check takes one of them, the adapter the others.
	for range 3 {
		fake.Fail("auth.test", http.StatusInternalServerError)
	}
	addr := freeAddr(t)
	logs, stop := startBot(t, map[string]string{
		"SLACK_BOT_TOKEN": "xoxb-e2e",
		"SLACK_APP_TOKEN": "xapp-e2e",
		"SLACK_API_URL":   fake.URL,
		"BOT_HTTP_ADDR":   addr,
		"BOT_DB":          filepath.Join(t.TempDir(), "bot.db"),
	})
	eventually(t, "/healthz says Slack failed", func() bool {
		code, body := get(t, "http://"+addr+"/healthz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "slack: auth.test: slack server error: 500")
	})
	fake.WaitConnected(10 * time.Second)
	if n := fake.Calls("auth.test"); n != 4 {
		t.Errorf("auth.test called %d times, want 4 (3 failures, then the one that worked)", n)
	}
	id := fake.SendEnvelope("events_api", slacktest.EventBody("EvUp", slacktest.DM("D1", "U1", "hi", "1700000000.000100")))
	fake.WaitAck(id, 5*time.Second)
	fake.WaitMessages(1, 5*time.Second)
	stop()
	if out := logs.String(); strings.Count(out, "auth.test failed; retrying") != 2 || strings.Contains(out, "xoxb-e2e") || strings.Contains(out, "xapp-e2e") {
		t.Errorf("log: want two retries and no token:\n%s", out)
	}
}
