package main

import (
	"context"
	"errors"
)

// TelegramConfig configures the Telegram adapter (issue 3 fills it in).
type TelegramConfig struct {
	Token string
}

func (c TelegramConfig) enabled() bool { return c.Token != "" }

func telegramConfigFromEnv(getenv func(string) string) (TelegramConfig, error) {
	return TelegramConfig{Token: getenv("TELEGRAM_BOT_TOKEN")}, nil
}

func (m *Main) runTelegram(ctx context.Context, env platformEnv) error {
	return errors.New("telegram: not implemented yet")
}
