package main

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
	"github.com/paydoctor/bot/internal/kb"
)

func TestTelegramConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"nothing", nil, ""},
		{"token only", map[string]string{"TELEGRAM_BOT_TOKEN": "1:A"}, ""},
		{"webhook without token", map[string]string{"TELEGRAM_WEBHOOK_URL": "https://x.example/telegram/webhook"}, "TELEGRAM_BOT_TOKEN"},
		{"local endpoint", map[string]string{"TELEGRAM_BOT_TOKEN": "1:A", "TELEGRAM_API_ENDPOINT": "http://127.0.0.1:8081/bot%s/%s"}, ""},
		{"endpoint without verbs", map[string]string{"TELEGRAM_BOT_TOKEN": "1:A", "TELEGRAM_API_ENDPOINT": "https://api.telegram.org/"}, "TELEGRAM_API_ENDPOINT"},
		{"endpoint with other verbs", map[string]string{"TELEGRAM_BOT_TOKEN": "1:A", "TELEGRAM_API_ENDPOINT": "https://h/bot%s/%s?%d"}, "TELEGRAM_API_ENDPOINT"},
		{"http webhook", map[string]string{"TELEGRAM_BOT_TOKEN": "1:A", "TELEGRAM_WEBHOOK_URL": "http://x.example/telegram/webhook"}, "https"},
		{"webhook, secret generated", map[string]string{"TELEGRAM_BOT_TOKEN": "1:A", "TELEGRAM_WEBHOOK_URL": "https://x.example/telegram/webhook"}, ""},
		{"bad secret", map[string]string{"TELEGRAM_BOT_TOKEN": "1:A", "TELEGRAM_WEBHOOK_URL": "https://x.example/telegram/webhook", "TELEGRAM_WEBHOOK_SECRET": "no spaces please"}, "TELEGRAM_WEBHOOK_SECRET"},
		{"secret without webhook", map[string]string{"TELEGRAM_BOT_TOKEN": "1:A", "TELEGRAM_WEBHOOK_SECRET": "abc"}, "TELEGRAM_WEBHOOK_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := telegramConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if c.WebhookURL != "" && checkSecret(c.WebhookSecret) != nil || c.WebhookURL != "" && c.WebhookSecret == "" {
					t.Errorf("webhook secret %q", c.WebhookSecret)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
			}
		})
	}
}

// runBot runs the bot in-process with env and returns a function that stops it and checks
// it exits within 5 s.
func runBot(t *testing.T, env map[string]string) func() {
	t.Helper()
	var stderr bytes.Buffer
	m := NewMain(strings.NewReader(""), &bytes.Buffer{}, &stderr, func(k string) string { return env[k] })
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	return func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil && err != context.Canceled {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the bot did not stop within 5s")
		}
		if err := m.Close(); err != nil {
			t.Error(err)
		}
		if strings.Contains(stderr.String(), telegramtest.Token) {
			t.Errorf("the token was logged: %s", stderr.String())
		}
	}
}

func TestTelegram_EndToEnd_Polling(t *testing.T) {
	fake := telegramtest.NewServer(t)
	env := map[string]string{
		"BOT_DB":                filepath.Join(t.TempDir(), "bot.db"),
		"BOT_HTTP_ADDR":         freeAddr(t),
		"TELEGRAM_BOT_TOKEN":    telegramtest.Token,
		"TELEGRAM_API_ENDPOINT": fake.Endpoint(),
	}
	stop := runBot(t, env)
	u := telegramtest.User{ID: 42, FirstName: "Wei", Lang: "zh-hans"}
	fake.AddUpdate(telegramtest.PrivateText(u, "/start"))
	m := fake.WaitMessages(t, 1, 10*time.Second)[0]
	if m.ChatID != u.ID || len(m.Buttons()) == 0 {
		t.Errorf("reply %+v, want a menu to %d", m, u.ID)
	}
	stop()

	// After a restart on the same file, the old menu still works.
	stop = runBot(t, env)
	defer stop()
	fake.AddUpdate(telegramtest.Callback(u, telegramtest.PrivateChat(u), m.MessageID, m.Buttons()[0].CallbackData))
	if got := fake.WaitMessages(t, 2, 10*time.Second); len(got) != 2 || len(got[1].Buttons()) == 0 {
		t.Errorf("after restart: %+v", got)
	}
	// The bbolt file is the whole database: no journal beside it.
	if extra, _ := filepath.Glob(env["BOT_DB"] + ".journal*"); len(extra) > 0 {
		t.Errorf("files beside the database after serving: %v", extra)
	}
}

func TestTelegram_EndToEnd_Webhook(t *testing.T) {
	fake := telegramtest.NewServer(t)
	addr := freeAddr(t)
	env := map[string]string{
		"BOT_DB":                  filepath.Join(t.TempDir(), "bot.db"),
		"BOT_HTTP_ADDR":           addr,
		"TELEGRAM_BOT_TOKEN":      telegramtest.Token,
		"TELEGRAM_API_ENDPOINT":   fake.Endpoint(),
		"TELEGRAM_WEBHOOK_URL":    "https://bot.example.com/telegram/webhook",
		"TELEGRAM_WEBHOOK_SECRET": "e2e-secret",
	}
	defer runBot(t, env)()
	deadline := time.Now().Add(5 * time.Second)
	for len(fake.Calls("setWebhook")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no setWebhook")
		}
		time.Sleep(10 * time.Millisecond)
	}
	post := func(secret string) int {
		body := `{"update_id":1,"message":{"message_id":1,"from":{"id":42,"is_bot":false,"first_name":"Wei","language_code":"en"},"chat":{"id":42,"first_name":"Wei","type":"private"},"date":1700000000,"text":"/start"}}`
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/telegram/webhook", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("wrong"); code != http.StatusForbidden {
		t.Errorf("wrong secret: %d", code)
	}
	if code := post("e2e-secret"); code != http.StatusOK {
		t.Errorf("right secret: %d", code)
	}
	if m := fake.WaitMessages(t, 1, 5*time.Second)[0]; m.ChatID != 42 {
		t.Errorf("reply to %d", m.ChatID)
	}
}

// A third language is one locale file: with BOT_KB_DIR holding only
// locales/active.fr.toml, the bot answers in French after /lang fr, and Telegram gets a
// French command menu for language_code fr.
func TestTelegram_ThirdLanguageFromKBDir(t *testing.T) {
	fake := telegramtest.NewServer(t)
	dir := filepath.Join("..", "..", "testdata", "kb", "third-language")
	env := map[string]string{
		"BOT_DB":                filepath.Join(t.TempDir(), "bot.db"),
		"BOT_HTTP_ADDR":         freeAddr(t),
		"BOT_KB_DIR":            dir,
		"TELEGRAM_BOT_TOKEN":    telegramtest.Token,
		"TELEGRAM_API_ENDPOINT": fake.Endpoint(),
	}
	defer runBot(t, env)()
	k, err := kb.Load(bot.Data(), os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	u := telegramtest.User{ID: 43, FirstName: "Amélie", Lang: "fr"}
	fake.AddUpdate(telegramtest.PrivateText(u, "/lang fr"))
	m := fake.WaitMessages(t, 1, 10*time.Second)[0]
	if got := html.UnescapeString(m.Text); !strings.Contains(got, k.Text("fr", kb.MsgLangSwitched, nil)) {
		t.Errorf("/lang fr answered %q, want the French %q", got, k.Text("fr", kb.MsgLangSwitched, nil))
	}
	var french []string
	for _, c := range fake.Calls("setMyCommands") {
		if c.Params.Get("language_code") == "fr" {
			french = append(french, c.Params.Get("commands"))
		}
	}
	if len(french) != 1 || !strings.Contains(french[0], k.CommandMenu("fr")[0].Description) {
		t.Errorf("setMyCommands for language_code fr: %q, want the French menu", french)
	}
}
