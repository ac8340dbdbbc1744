package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/paydoctor/bot/internal/adapters/telegram"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/store/pgstore"
)

// TelegramConfig configures the Telegram adapter.
type TelegramConfig struct {
	Token string
	// APIEndpoint is the Bot API URL in the library's format ("https://api.telegram.org/bot%s/%s"
	// when empty): a local Bot API server or a test server otherwise.
	APIEndpoint string
	// WebhookURL selects webhook mode; empty means long polling.
	WebhookURL string
	// WebhookSecret is checked on every webhook request. Generated at start when WebhookURL
	// is set and it is empty.
	WebhookSecret string
}

func (c TelegramConfig) enabled() bool { return c.Token != "" }

func telegramConfigFromEnv(getenv func(string) string) (TelegramConfig, error) {
	c := TelegramConfig{
		Token:         strings.TrimSpace(getenv("TELEGRAM_BOT_TOKEN")),
		APIEndpoint:   strings.TrimSpace(getenv("TELEGRAM_API_ENDPOINT")),
		WebhookURL:    strings.TrimSpace(getenv("TELEGRAM_WEBHOOK_URL")),
		WebhookSecret: getenv("TELEGRAM_WEBHOOK_SECRET"),
	}
	if c.Token == "" {
		if c.APIEndpoint != "" || c.WebhookURL != "" || c.WebhookSecret != "" {
			return c, errors.New("TELEGRAM_API_ENDPOINT, TELEGRAM_WEBHOOK_URL or TELEGRAM_WEBHOOK_SECRET is set but TELEGRAM_BOT_TOKEN is not")
		}
		return c, nil
	}
	if strings.ContainsAny(c.Token, " \t\r\n/?#%") {
		return c, errors.New("TELEGRAM_BOT_TOKEN: not a bot token (it looks like 123456789:AA...)")
	}
	if c.APIEndpoint != "" {
		if err := checkEndpoint(c.APIEndpoint); err != nil {
			return c, fmt.Errorf("TELEGRAM_API_ENDPOINT: %w", err)
		}
	}
	if c.WebhookURL == "" {
		if c.WebhookSecret != "" {
			return c, errors.New("TELEGRAM_WEBHOOK_SECRET is set but TELEGRAM_WEBHOOK_URL is not")
		}
		return c, nil
	}
	u, err := url.Parse(c.WebhookURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.Fragment != "" {
		return c, fmt.Errorf("TELEGRAM_WEBHOOK_URL: want a public https:// URL ending in %s, got %q", telegram.WebhookPath, c.WebhookURL)
	}
	if c.WebhookSecret == "" {
		// Telegram is told the secret at every start, so a fresh one works for one process.
		// Several replicas behind one URL need TELEGRAM_WEBHOOK_SECRET set to the same value.
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return c, fmt.Errorf("generate a webhook secret: %w", err)
		}
		c.WebhookSecret = hex.EncodeToString(b)
	}
	if err := checkSecret(c.WebhookSecret); err != nil {
		return c, fmt.Errorf("TELEGRAM_WEBHOOK_SECRET: %w", err)
	}
	return c, nil
}

// checkEndpoint checks the library's endpoint format: a URL with %s for the token and then
// %s for the method.
func checkEndpoint(e string) error {
	if strings.Count(e, "%s") != 2 || strings.Count(e, "%") != 2 {
		return fmt.Errorf("want a URL with %%s for the token and %%s for the method, like https://api.telegram.org/bot%%s/%%s; got %q", e)
	}
	u, err := url.Parse(fmt.Sprintf(e, "TOKEN", "getMe"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("not an http(s) URL: %q", e)
	}
	return nil
}

// checkSecret applies Telegram's rule for secret_token: 1 to 256 of A-Z, a-z, 0-9, _ and -.
func checkSecret(s string) error {
	if len(s) > 256 {
		return errors.New("longer than 256 characters")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return errors.New("only A-Z, a-z, 0-9, _ and - are allowed")
		}
	}
	return nil
}

// setupTelegram builds the Telegram adapter, adds its Outbox to the hub and its webhook to
// the mux, and returns what runs it.
func (m *Main) setupTelegram(env platformEnv) (func(context.Context) error, error) {
	c := m.Config.Telegram
	b := telegram.New(env.hub, telegram.Options{
		Token:         c.Token,
		KB:            env.kb,
		Lang:          env.lang,
		HandoffChat:   m.Config.Handoff.TelegramChat,
		APIEndpoint:   c.APIEndpoint,
		WebhookURL:    c.WebhookURL,
		WebhookSecret: c.WebhookSecret,
		Log:           env.log,
		Elector:       env.elector,
		Pictures:      env.pictures,
	})
	if err := env.addOutbox(telegram.Platform, b, b.Limits()); err != nil {
		return nil, err
	}
	if c.WebhookURL != "" {
		env.mux.Handle(telegram.WebhookPath, b.WebhookHandler())
	}
	return func(ctx context.Context) error {
		watchCtx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		go env.health.watch(watchCtx, telegram.Platform, healthEvery, telegramCheck(c))
		return b.Run(ctx)
	}, nil
}

// telegramCheck returns a health check calling getMe, with its own client: the adapter's
// long poll must not wait behind it, nor it behind the poll.
func telegramCheck(c TelegramConfig) func(context.Context) error {
	endpoint := c.APIEndpoint
	if endpoint == "" {
		endpoint = tgbotapi.APIEndpoint
	}
	api := &tgbotapi.BotAPI{Token: c.Token, Client: &http.Client{Timeout: 10 * time.Second}, Buffer: 1}
	api.SetAPIEndpoint(endpoint)
	return func(context.Context) error {
		if _, err := api.GetMe(); err != nil {
			// The client's errors carry the request URL, and the token is part of it.
			return fmt.Errorf("getMe: %s", strings.ReplaceAll(err.Error(), c.Token, "<token>"))
		}
		return nil
	}
}

// pgElector elects through PostgreSQL advisory locks (pgstore.Campaign).
type pgElector struct{ s *pgstore.Store }

func (e pgElector) Campaign(ctx context.Context, role string) (conversation.Role, error) {
	l, err := e.s.Campaign(ctx, role)
	if err != nil {
		return nil, err
	}
	return l, nil
}
