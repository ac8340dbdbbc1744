package conversation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Sender delivers replies on one platform; each platform adapter is one. The Outbox calls
// Send for one chat at a time, in commit order, paced by the adapter's Limits, and decides
// what happens next from the error:
//
//   - nil: the platform accepted the reply; it is removed from the outbox.
//   - a *RetryAfterError: the platform asked to wait (HTTP 429); the chat is not sent to
//     until then, and the reply is sent again.
//   - an error wrapping ErrUndeliverable: the platform refused the reply for good (the
//     person blocked the bot, the chat is gone); it is logged and removed.
//   - any other error: a passing fault (network, 5xx); sent again after a backoff.
//
// Send must not retry by itself nor wait for rate limits: that is the Outbox's job.
type Sender interface {
	Send(ctx context.Context, d Delivery) error
}

// ErrUndeliverable marks a reply the platform refused for good.
var ErrUndeliverable = errors.New("the platform refused the reply for good")

// RetryAfterError is the platform asking the bot to wait before sending to the chat again.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("rate limited, retry after %s: %v", e.After, e.Err)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// Rate is a pace: Burst sends at once, then one every Every. A zero Every is no limit.
type Rate struct {
	Every time.Duration
	Burst int
}

// Limits are a platform's published sending limits, declared by its adapter and enforced by
// the Outbox. The zero value sends as fast as the platform answers.
type Limits struct {
	// Global bounds the sends over all chats.
	Global Rate
	// Chat, if set, gives the rate for the chat of d (d.Key.Chat), which may depend on the
	// kind of chat (a Telegram group is paced slower than a private chat).
	Chat func(d Delivery) Rate
}

// Elector hands out a role that one replica holds at a time, when several replicas share
// one database.
type Elector interface {
	// Campaign blocks until this replica holds role, or ctx is done.
	Campaign(ctx context.Context, role string) (Role, error)
}

// Role is held until Release, or until Lost is closed because the holder's claim broke.
type Role interface {
	Lost() <-chan struct{}
	Release()
}

// errRoleLost is the cause of the end of serve's context in RunElected when the role was
// lost: another replica may be doing the work already, so serve stops at once.
var errRoleLost = errors.New("the role was lost")

// RunElected runs serve whenever this replica holds role, campaigning again each time the
// role is lost, until ctx is done (nil) or serve fails (its error). serve's context ends when
// the role is lost. A campaign that fails (the database unreachable) is tried again, with a
// doubling wait up to a minute: a replica never stops competing for its roles. log is told
// when the role is won and lost.
func RunElected(ctx context.Context, e Elector, role string, log *slog.Logger, serve func(context.Context) error) error {
	failures := 0
	for ctx.Err() == nil {
		held, err := e.Campaign(ctx, role)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			failures++
			wait := backoff(time.Second, failures)
			log.Error("campaign for a role; trying again", "role", role, "err", err, "in", wait)
			if sleep(ctx, wait) != nil {
				return nil
			}
			continue
		}
		failures = 0
		log.Info("elected", "role", role)
		leadCtx, stop := context.WithCancelCause(ctx)
		go func() {
			select {
			case <-held.Lost():
				log.Warn("lost the role; another replica takes over", "role", role)
				stop(errRoleLost)
			case <-leadCtx.Done():
			}
		}()
		err = serve(leadCtx)
		stop(nil)
		held.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// DeliveryMetrics counts what an Outbox sends, for /metrics. Its methods must be quick and
// safe for concurrent use.
type DeliveryMetrics interface {
	// MessageSent: the platform accepted a reply.
	MessageSent()
	// RateLimited: the platform answered with a RetryAfterError.
	RateLimited()
	// Retried: a send failed for a passing reason and will be made again.
	Retried()
}

type noMetrics struct{}

func (noMetrics) MessageSent() {}
func (noMetrics) RateLimited() {}
func (noMetrics) Retried()     {}
