package conversation

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
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
	engine  *Engine
	store   Store
	now     func() time.Time
	handoff *HandoffTarget
	observe Observer

	mu    sync.Mutex
	taken map[uint64]bool // replies this process has queued or is sending (Take)
}

// HandoffTarget is the chat where the humans who take over handoffs read the summaries,
// addressed the way its platform's adapter reads routes.
type HandoffTarget struct {
	Key   Key
	Route []byte
}

// ServiceOption configures NewService.
type ServiceOption func(*Service)

// WithHandoffTarget makes every handoff post a summary to target. The engine must be built
// WithHandoff for people to be offered one.
func WithHandoffTarget(target HandoffTarget) ServiceOption {
	return func(s *Service) { s.handoff = &target }
}

// Observer is told about each message Handle handled: the inbound message, what handling it
// produced (the zero Result when err is not nil), the error (ErrDuplicate for a message seen
// before) and how long it took. It runs on the path of the message, so it must be quick; the
// bot feeds its metrics from it.
type Observer func(in Inbound, res Result, err error, took time.Duration)

// WithObserver makes Handle call observe after each message.
func WithObserver(observe Observer) ServiceOption {
	return func(s *Service) { s.observe = observe }
}

// NewService returns a Service. now is the clock; nil means time.Now.
func NewService(engine *Engine, store Store, now func() time.Time, opts ...ServiceOption) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{engine: engine, store: store, now: now, taken: map[uint64]bool{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Engine returns the engine the service runs.
func (s *Service) Engine() *Engine { return s.engine }

// Handle runs one inbound message through the engine and commits the new dialog and its reply
// (queued in the outbox). It returns the delivery to send, ErrDuplicate if the message was
// handled before, or a *PanicError (with nothing committed) if handling it panicked.
func (s *Service) Handle(ctx context.Context, in Inbound) (Delivery, error) {
	now := s.now()
	if s.observe == nil {
		return s.handle(ctx, in, now, nil)
	}
	start := time.Now()
	var res Result
	d, err := s.handle(ctx, in, now, &res)
	if err != nil {
		res = Result{}
	}
	s.observe(in, res, err, time.Since(start))
	return d, err
}

// handle is Handle; if committed is not nil it receives the result of the step that was
// committed (the store may call the step more than once).
func (s *Service) handle(ctx context.Context, in Inbound, now time.Time, committed *Result) (Delivery, error) {
	return s.store.Commit(ctx, in.Turn, func(d *Dialog) (r Result, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = &PanicError{Value: p, Stack: debug.Stack()}
			}
		}()
		next, res := s.engine.Step(*d, in.Input, now)
		for i := range res.Events {
			res.Events[i].Platform = in.Key.Platform
			if res.Events[i].Kind == EventHandoff && s.handoff != nil {
				res.Notices = append(res.Notices, Notice{
					Key:   s.handoff.Key,
					Route: s.handoff.Route,
					Reply: s.engine.HandoffSummary(next, in.Input.From, in.Key.Platform),
				})
			}
		}
		*d = next
		if committed != nil {
			*committed = res
		}
		return res, nil
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
	return s.store.Commit(ctx, in.Turn, func(d *Dialog) (Result, error) {
		d.LastActive = now
		return Result{Reply: s.engine.Apology(*d)}, nil
	})
}

// Unclaimer is a Store whose holds on replies (the lease Commit and Claim put on them) can
// be given up before they run out.
type Unclaimer interface {
	// Unclaim gives up the hold on reply id, if any, so that any sender may Claim it now.
	Unclaim(ctx context.Context, id uint64) error
}

// Leave is for a process that committed d but does not send its platform's replies (another
// replica does): it gives up the hold Commit put on d, so that the sender claims it at its
// next Redeliver instead of after the lease. With a store that is not an Unclaimer the hold
// simply runs out.
func (s *Service) Leave(ctx context.Context, d Delivery) error {
	if u, ok := s.store.(Unclaimer); ok {
		return u.Unclaim(ctx, d.ID)
	}
	return nil
}

// Deliver sends d and then removes it from the outbox, unless this process has taken it
// already (it waits in an adapter's queue or is being sent). If sending fails the reply
// stays in the outbox for Redeliver.
func (s *Service) Deliver(ctx context.Context, sender Sender, d Delivery) error {
	if !s.Take(d.ID) {
		return nil
	}
	return s.DeliverTaken(ctx, sender, d)
}

// Take marks reply id as this process's to send, from when an adapter queues it until
// DeliverTaken (or Release) is done with it, and reports false if it was taken already. A
// reply can wait in a queue, or in a send held up by a 429, longer than its lease in the
// store; Take is what keeps Redeliver from claiming and sending it a second time meanwhile.
func (s *Service) Take(id uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.taken[id] {
		return false
	}
	s.taken[id] = true
	return true
}

// Release gives up a reply taken with Take without sending it (the adapter is stopping); it
// stays in the outbox.
func (s *Service) Release(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.taken, id)
}

// DeliverTaken sends a reply taken with Take, removes it from the outbox, and releases it.
func (s *Service) DeliverTaken(ctx context.Context, sender Sender, d Delivery) error {
	defer s.Release(d.ID)
	if err := sender.Send(ctx, d); err != nil {
		return err
	}
	return s.store.MarkDelivered(ctx, d.ID)
}

// Redeliver sends the replies of platform waiting in the outbox, oldest first: those a crash
// left between commit and send, those whose sending failed, and notices (handoff summaries)
// committed by any platform's dialogs. It takes them with Store.Claim, so replies another
// sender holds (being sent right now) are skipped. It stops at the first failure.
func (s *Service) Redeliver(ctx context.Context, platform string, sender Sender) error {
	// One page; RedeliverEvery picks up whatever is left.
	pending, err := s.store.Claim(ctx, platform, 1000)
	if err != nil {
		return err
	}
	for _, d := range pending {
		if err := s.Deliver(ctx, sender, d); err != nil {
			return err
		}
	}
	return nil
}

// RedeliverEvery runs Redeliver every interval until ctx is done, logging failures.
func (s *Service) RedeliverEvery(ctx context.Context, platform string, sender Sender, interval time.Duration, log *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		if err := s.Redeliver(ctx, platform, sender); err != nil && ctx.Err() == nil {
			log.Warn("deliver waiting replies; will try again", "platform", platform, "err", err)
		}
	}
}

// Retention is how long a Service keeps what it stores.
type Retention struct {
	Dialogs time.Duration // since a dialog's last activity
	Inbound time.Duration // since an update id was handled: longer than platforms redeliver
	Events  time.Duration // the events statistics are made of; zero keeps them forever
}

// SweepExpired deletes what r says has been kept long enough, once at the start and then
// every interval, until ctx is done.
func (s *Service) SweepExpired(ctx context.Context, interval time.Duration, r Retention, log *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		now := s.now()
		c := Cutoffs{IdleDialogs: now.Add(-r.Dialogs), Inbound: now.Add(-r.Inbound)}
		if r.Events > 0 {
			c.Events = now.Add(-r.Events)
		}
		n, err := s.store.Expire(ctx, c)
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
