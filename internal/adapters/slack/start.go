package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/slack-go/slack"
)

// RefusedError is Run's error when Slack refused one of the adapter's tokens: trying again
// cannot help, so Run gives up instead of retrying.
type RefusedError struct {
	// AppToken: Slack refused the app-level token (apps.connections.open, Socket Mode), not
	// the bot token (auth.test). They are set apart, as an operator must know which to fix.
	AppToken bool
	// Code is Slack's error: invalid_auth, not_authed, token_revoked, token_expired or
	// account_inactive.
	Code string
}

func (e *RefusedError) Error() string {
	token := "bot token"
	if e.AppToken {
		token = "app-level token"
	}
	return fmt.Sprintf("slack: Slack refused the %s (%s)", token, e.Code)
}

// refusal returns the RefusedError err is, if Slack refused the token it was called with.
func refusal(err error, appToken bool) (*RefusedError, bool) {
	var answer slack.SlackErrorResponse
	if !errors.As(err, &answer) {
		return nil, false
	}
	switch answer.Err {
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
		return &RefusedError{AppToken: appToken, Code: answer.Err}, true
	}
	return nil, false
}

// maxRetryWait caps the wait between two auth.test calls at start.
const maxRetryWait = 30 * time.Second

// authTest asks Slack who the bot is until it answers. Slack unreachable, answering 5xx or
// rate limiting is tried again after a wait growing from Options.RetryBackoff to 30 s, as
// the Telegram adapter does with getMe: an outage while the bot starts must not stop it, or
// a service manager's start limit turns a short outage into a bot down for good. Meanwhile
// requests are answered 503 and Slack sends them again. A refused token (*RefusedError), or
// any other answer, ends it.
func (a *Adapter) authTest(ctx context.Context) (*slack.AuthTestResponse, error) {
	wait := a.opts.RetryBackoff
	for {
		self, err := a.api.AuthTestContext(ctx)
		if err == nil {
			return self, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if refused, ok := refusal(err, false); ok {
			return nil, refused
		}
		d, ok := retryable(err, wait)
		if !ok {
			return nil, fmt.Errorf("slack auth.test: %w", err)
		}
		a.log.Warn("auth.test failed; retrying", "err", err, "in", d)
		if err := sleep(ctx, d); err != nil {
			return nil, err
		}
		wait = min(2*wait, maxRetryWait)
	}
}

// retryable reports whether err may pass by itself, and how long to wait first: wait, or
// what a rate limit asks.
func retryable(err error, wait time.Duration) (time.Duration, bool) {
	var limited *slack.RateLimitedError
	var status slack.StatusCodeError
	var answer slack.SlackErrorResponse
	switch {
	case errors.As(err, &limited):
		return max(limited.RetryAfter, wait), true
	case errors.As(err, &status):
		return wait, status.Code >= 500 || status.Code == http.StatusRequestTimeout
	case errors.As(err, &answer):
		// Slack's answers that say the trouble is on its side; any other is about the
		// request, and asking again gets the same.
		switch answer.Err {
		case "internal_error", "fatal_error", "service_unavailable", "request_timeout":
			return wait, true
		}
		return 0, false
	}
	// No answer at all: the network, DNS, a timeout.
	return wait, true
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
