package main

import (
	"context"
	"errors"
)

// SlackConfig configures the Slack adapter (issue 4 fills it in).
type SlackConfig struct {
	BotToken string
}

func (c SlackConfig) enabled() bool { return c.BotToken != "" }

func slackConfigFromEnv(getenv func(string) string) (SlackConfig, error) {
	return SlackConfig{BotToken: getenv("SLACK_BOT_TOKEN")}, nil
}

func (m *Main) runSlack(ctx context.Context, env platformEnv) error {
	return errors.New("slack: not implemented yet")
}
