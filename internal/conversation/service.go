package conversation

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// Sender delivers replies on one platform. Adapters implement it.
type Sender interface {
	Send(ctx context.Context, d Delivery) error
}

// Inbound is one platform-neutral message with what the store needs to commit it.
type Inbound struct {
	Turn
	Input Input
}

// Service runs inbound messages through the engine and the store, and delivers the replies
// through the outbox.
type Service struct {
	engine *Engine
	store  Store
	now    func() time.Time
}

// NewService returns a Service. now is the clock; nil means time.Now.
func NewService(engine *Engine, store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{engine: engine, store: store, now: now}
}

// Engine returns the engine the service runs.
func (s *Service) Engine() *Engine { return s.engine }

// Handle runs one inbound message through the engine and commits the new dialog and its reply
// (queued in the outbox). It returns the delivery to send, ErrDuplicate if the message was
// handled before, or a *PanicError (with nothing committed) if handling it panicked.
func (s *Service) Handle(ctx context.Context, in Inbound) (Delivery, error) {
	now := s.now()
	return s.store.Commit(ctx, in.Turn, func(d *Dialog) (r Reply, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = &PanicError{Value: p, Stack: debug.Stack()}
			}
		}()
		next, reply := s.engine.Step(*d, in.Input, now)
		*d = next
		return reply, nil
	})
}

// PanicError is a panic recovered while handling one inbound message.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Apologize commits an apology as the reply to in, leaving the dialog where it was, and
// records in's id, so that a message whose handling panicked is answered and not retried.
func (s *Service) Apologize(ctx context.Context, in Inbound) (Delivery, error) {
	now := s.now()
	return s.store.Commit(ctx, in.Turn, func(d *Dialog) (Reply, error) {
		d.LastActive = now
		return s.engine.Apology(*d), nil
	})
}

// Deliver sends d and then removes it from the outbox. If sending fails the reply stays in
// the outbox for Redeliver.
func (s *Service) Deliver(ctx context.Context, sender Sender, d Delivery) error {
	if err := sender.Send(ctx, d); err != nil {
		return err
	}
	return s.store.MarkDelivered(ctx, d.ID)
}

// Redeliver sends the replies of platform that were committed but not delivered, as after a
// crash between commit and send, oldest first. It stops at the first failure.
func (s *Service) Redeliver(ctx context.Context, platform string, sender Sender) error {
	for {
		pending, err := s.store.Pending(ctx, platform, 100)
		if err != nil || len(pending) == 0 {
			return err
		}
		for _, d := range pending {
			if err := s.Deliver(ctx, sender, d); err != nil {
				return err
			}
		}
	}
}

// SweepExpired deletes dialogs idle for longer than dialogTTL and forgets inbound ids older
// than inboundTTL, once at the start and then every interval, until ctx is done.
func (s *Service) SweepExpired(ctx context.Context, interval, dialogTTL, inboundTTL time.Duration, log *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		now := s.now()
		n, err := s.store.Expire(ctx, now.Add(-dialogTTL), now.Add(-inboundTTL))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("expire idle dialogs", "err", err)
		case n > 0:
			log.Info("expired idle dialogs", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
