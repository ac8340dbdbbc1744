package slack

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/slack-go/slack"
	"golang.org/x/time/rate"
)

// maxFallbackText bounds the plain-text fallback of a message (notifications, screen readers).
const maxFallbackText = 3000

// Send delivers one reply where its route says. A rate-limited call waits for Retry-After and
// is tried again until ctx is done. A reply Slack refuses for good is logged and reported as
// sent, so that it leaves the outbox; other failures return an error and it stays there.
func (a *Adapter) Send(ctx context.Context, d conversation.Delivery) error {
	r, err := decodeRoute(d.Route)
	if err != nil {
		a.log.Error("undeliverable reply: bad route", "delivery", d.ID, "err", err)
		return nil
	}
	version := a.svc.Engine().KB().Version
	msg := []slack.MsgOption{
		slack.MsgOptionText(truncate(escape(d.Reply.Text), maxFallbackText), false),
		slack.MsgOptionBlocks(blocks(d.Reply, version, d.Key.User)...),
	}
	err = a.call(ctx, r.Channel, func() error { return a.send(ctx, r, msg) })
	if err != nil && r.Mode == modeRespond && r.Channel != "" && r.User != "" && permanent(err) {
		// The response_url expired (30 minutes, five uses): show it to the person directly.
		a.log.Warn("response_url refused; posting ephemeral", "chat", d.Key.Chat, "err", err)
		err = a.call(ctx, r.Channel, func() error {
			_, err := a.api.PostEphemeralContext(ctx, r.Channel, r.User, msg...)
			return err
		})
	}
	if err != nil && permanent(err) {
		a.log.Error("slack refused a reply; dropping it", "chat", d.Key.Chat, "mode", r.Mode, "delivery", d.ID, "err", err)
		return nil
	}
	if err == nil {
		a.opts.Metrics.MessageSent()
	}
	return err
}

// HandoffRoute addresses handoff summaries to channel (a channel id such as C0123 or G0123,
// as BOT_HANDOFF_SLACK_CHANNEL gives it; the bot must be a member), in the form Send reads:
// the key and the route of a conversation.HandoffTarget.
func HandoffRoute(channel string) (conversation.Key, []byte) {
	return conversation.Key{Platform: Platform, Chat: channel}, route{Mode: modePost, Channel: channel}.encode()
}

func (a *Adapter) send(ctx context.Context, r route, msg []slack.MsgOption) error {
	switch r.Mode {
	case modePost:
		if r.Thread != "" {
			msg = append(msg, slack.MsgOptionTS(r.Thread))
		}
		_, _, err := a.api.PostMessageContext(ctx, r.Channel, msg...)
		return err
	case modeUpdate:
		_, _, _, err := a.api.UpdateMessageContext(ctx, r.Channel, r.TS, msg...)
		return err
	case modeRespond:
		if r.Replace {
			msg = append(msg, slack.MsgOptionReplaceOriginal(r.ResponseURL))
		} else {
			msg = append(msg, slack.MsgOptionResponseURL(r.ResponseURL, slack.ResponseTypeEphemeral))
		}
		_, _, err := a.api.PostMessageContext(ctx, "", msg...)
		return err
	}
	return errUnknownMode
}

var errUnknownMode = errors.New("slack: unknown route mode")

// call runs f paced for channel, and again after the wait Slack asks for as long as it
// answers with a rate limit, until ctx is done.
func (a *Adapter) call(ctx context.Context, channel string, f func() error) error {
	for {
		if err := a.pace.wait(ctx, channel); err != nil {
			return err
		}
		err := f()
		var limited *slack.RateLimitedError
		if !errors.As(err, &limited) {
			return err
		}
		wait := max(limited.RetryAfter, time.Second)
		a.log.Warn("rate limited; retrying", "channel", channel, "retry_after", wait)
		a.opts.Metrics.RateLimited()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// permanent reports whether Slack refused a call for a reason that retrying will not fix.
func permanent(err error) bool {
	if errors.Is(err, errUnknownMode) {
		return true
	}
	var refused slack.SlackErrorResponse
	if errors.As(err, &refused) {
		return true
	}
	var status slack.StatusCodeError
	if errors.As(err, &status) {
		return status.Code >= 400 && status.Code < 500 && status.Code != http.StatusTooManyRequests
	}
	return false
}

// pacer spaces calls to one channel by interval.
type pacer struct {
	interval time.Duration
	mu       sync.Mutex
	m        map[string]*rate.Limiter
}

func (p *pacer) wait(ctx context.Context, channel string) error {
	p.mu.Lock()
	if p.m == nil {
		p.m = make(map[string]*rate.Limiter)
	}
	l, ok := p.m[channel]
	if !ok {
		if len(p.m) >= maxCached {
			// Drop the idle ones: a full limiter is the same as a new one.
			for k, l := range p.m {
				if l.Tokens() >= 1 {
					delete(p.m, k)
				}
			}
		}
		l = rate.NewLimiter(rate.Every(p.interval), 1)
		p.m[channel] = l
	}
	p.mu.Unlock()
	return l.Wait(ctx)
}
