package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"

	slackadapter "github.com/paydoctor/bot/internal/adapters/slack"
)

// SlackConfig configures the Slack adapter. HTTP mode needs the bot token and the signing
// secret; Socket Mode the bot token and the app-level token. With both, the bot connects in
// Socket Mode and also serves the HTTP endpoints.
type SlackConfig struct {
	BotToken      string // SLACK_BOT_TOKEN, xoxb-...
	SigningSecret string // SLACK_SIGNING_SECRET: HTTP mode, /slack/commands, /slack/events, /slack/interactions
	AppToken      string // SLACK_APP_TOKEN, xapp-...: Socket Mode
	APIURL        string // SLACK_API_URL, default https://slack.com/api/
}

const defaultSlackAPIURL = "https://slack.com/api/"

func (c SlackConfig) enabled() bool { return c.BotToken != "" }

func slackConfigFromEnv(getenv func(string) string) (SlackConfig, error) {
	c := SlackConfig{
		BotToken:      strings.TrimSpace(getenv("SLACK_BOT_TOKEN")),
		SigningSecret: strings.TrimSpace(getenv("SLACK_SIGNING_SECRET")),
		AppToken:      strings.TrimSpace(getenv("SLACK_APP_TOKEN")),
		APIURL:        strings.TrimSpace(getenv("SLACK_API_URL")),
	}
	if c.APIURL == "" {
		c.APIURL = defaultSlackAPIURL
	}
	if !strings.HasSuffix(c.APIURL, "/") {
		c.APIURL += "/"
	}
	if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return SlackConfig{}, fmt.Errorf("SLACK_API_URL %q: want an http(s) URL such as %s", c.APIURL, defaultSlackAPIURL)
	}
	switch {
	case c.BotToken == "" && (c.SigningSecret != "" || c.AppToken != ""):
		return SlackConfig{}, errors.New("SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not: the bot token (xoxb-...) is required too")
	case c.BotToken == "":
		return c, nil
	case c.SigningSecret == "" && c.AppToken == "":
		return SlackConfig{}, errors.New("SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP Events API) nor SLACK_APP_TOKEN (Socket Mode) is: set one of them")
	case c.AppToken != "" && !strings.HasPrefix(c.AppToken, "xapp-"):
		return SlackConfig{}, errors.New("SLACK_APP_TOKEN must be an app-level token (xapp-...), with the connections:write scope")
	}
	return c, nil
}

// setupSlack builds the Slack adapter, adds its Outbox to the hub and its endpoints to the
// mux, and returns what runs it.
func (m *Main) setupSlack(env platformEnv) (func(context.Context) error, error) {
	c := m.Config.Slack
	a, err := slackadapter.New(env.hub, slackadapter.Options{
		BotToken:       c.BotToken,
		KB:             env.kb,
		Lang:           env.lang,
		HandoffChannel: m.Config.Handoff.SlackChannel,
		SigningSecret:  c.SigningSecret,
		AppToken:       c.AppToken,
		APIURL:         c.APIURL,
		Log:            env.log,
		Pictures:       env.pictures,
	})
	if err != nil {
		return nil, err
	}
	if err := env.addOutbox(slackadapter.Platform, a, a.Limits()); err != nil {
		return nil, err
	}
	if c.SigningSecret != "" {
		a.Register(env.mux)
	}
	return func(ctx context.Context) error {
		watchCtx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		go env.health.watch(watchCtx, slackadapter.Platform, healthEvery, slackCheck(c))
		return refusedToken(a.Run(ctx))
	}, nil
}

// slackCheck returns a health check calling auth.test.
func slackCheck(c SlackConfig) func(context.Context) error {
	client := slack.New(c.BotToken, slack.OptionAPIURL(c.APIURL), slack.OptionHTTPClient(&http.Client{Timeout: 10 * time.Second}))
	return func(ctx context.Context) error {
		if _, err := client.AuthTestContext(ctx); err != nil {
			return fmt.Errorf("auth.test: %w", err)
		}
		return nil
	}
}

// refusedToken turns Slack's refusal of a token into an error naming the setting to fix.
func refusedToken(err error) error {
	var refused *slackadapter.RefusedError
	switch {
	case !errors.As(err, &refused):
		return err
	case refused.AppToken:
		return fmt.Errorf("slack: Slack refused the app-level token (%s): check SLACK_APP_TOKEN (xapp-..., with the connections:write scope), or generate a new one in the app's Basic Information", refused.Code)
	}
	return fmt.Errorf("slack: Slack refused the bot token (%s): check SLACK_BOT_TOKEN, or reinstall the app for a new one", refused.Code)
}
