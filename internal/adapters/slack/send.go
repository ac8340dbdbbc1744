package slack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/slack-go/slack"
)

// maxFallbackText bounds the plain-text fallback of a message (notifications, screen readers).
const maxFallbackText = 3000

// Send delivers one reply where its route says (conversation.Sender). A 429 is returned as a
// *conversation.RetryAfterError; a refusal that sending again will not fix wraps
// conversation.ErrUndeliverable; other failures are returned as they are, to be retried.
func (a *Adapter) Send(ctx context.Context, d conversation.Delivery) error {
	r, err := decodeRoute(d.Route)
	if err != nil {
		return fmt.Errorf("%w: bad route: %v", conversation.ErrUndeliverable, err)
	}
	msg := []slack.MsgOption{
		slack.MsgOptionText(truncate(escape(d.Reply.Text), maxFallbackText), false),
		slack.MsgOptionBlocks(blocks(d.Reply, a.opts.KB.Version, d.Key.User)...),
	}
	ts, err := a.send(ctx, r, msg)
	if err == nil {
		a.rememberPosted(r, ts, d.Reply)
	}
	if err != nil && r.Mode == modeRespond && r.Channel != "" && r.User != "" && permanent(err) {
		// The response_url expired (30 minutes, five uses): show it to the person directly.
		a.log.Warn("response_url refused; posting ephemeral", "chat", d.Key.Chat, "err", err)
		_, err = a.api.PostEphemeralContext(ctx, r.Channel, r.User, msg...)
	}
	var limited *slack.RateLimitedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &limited):
		return &conversation.RetryAfterError{After: max(limited.RetryAfter, time.Second), Err: err}
	case permanent(err):
		return fmt.Errorf("%w: %s reply in %s: %v", conversation.ErrUndeliverable, r.Mode, d.Key.Chat, err)
	}
	return err
}

// HandoffRoute addresses handoff summaries to channel (a channel id such as C0123 or G0123,
// as BOT_HANDOFF_SLACK_CHANNEL gives it; the bot must be a member), in the form Send reads:
// the key and the route of a conversation.HandoffTarget.
func HandoffRoute(channel string) (conversation.Key, []byte) {
	return conversation.Key{Platform: Platform, Chat: channel}, route{Mode: modePost, Channel: channel}.encode()
}

// send makes the call r says; ts is the new message's, for a post.
func (a *Adapter) send(ctx context.Context, r route, msg []slack.MsgOption) (ts string, err error) {
	switch r.Mode {
	case modePost:
		if r.Thread != "" {
			msg = append(msg, slack.MsgOptionTS(r.Thread))
		}
		_, ts, err := a.api.PostMessageContext(ctx, r.Channel, msg...)
		return ts, err
	case modeUpdate:
		_, _, _, err := a.api.UpdateMessageContext(ctx, r.Channel, r.TS, msg...)
		return "", err
	case modeRespond:
		if r.Replace {
			msg = append(msg, slack.MsgOptionReplaceOriginal(r.ResponseURL))
		} else {
			msg = append(msg, slack.MsgOptionResponseURL(r.ResponseURL, slack.ResponseTypeEphemeral))
		}
		_, _, err := a.api.PostMessageContext(ctx, "", msg...)
		return "", err
	}
	return "", errUnknownMode
}

var errUnknownMode = errors.New("slack: unknown route mode")

// permanent reports whether Slack refused a call for a reason that retrying will not fix.
func permanent(err error) bool {
	if errors.Is(err, errUnknownMode) {
		return true
	}
	var refused slack.SlackErrorResponse
	if errors.As(err, &refused) {
		// A refused token is not the reply's fault: dropping every waiting reply for it
		// would lose them all; they wait, and /healthz says so (auth.test).
		switch refused.Err {
		case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
			return false
		}
		return true
	}
	var status slack.StatusCodeError
	if errors.As(err, &status) {
		return status.Code >= 400 && status.Code < 500 && status.Code != http.StatusTooManyRequests
	}
	return false
}
