package conversation

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"time"
)

// Inbound is one platform-neutral message with what the store needs to commit it.
type Inbound struct {
	Turn
	Input Input
	// At is when the person sent it, as the platform says; zero means now. The flood guard
	// paces people by it, so that messages held up by an outage and handled in one burst
	// afterwards are not taken for a flood.
	At time.Time
}

// Service runs inbound messages through the engine and the store.
type Service struct {
	engine *Engine
	store  Store
	opts   ServiceOptions
}

// HandoffTarget is the chat where the humans who take over handoffs read the summaries,
// addressed the way its platform's adapter reads routes.
type HandoffTarget struct {
	Key   Key
	Route []byte
}

// Observer is told about each message Handle handled: the inbound message, what handling it
// produced (the zero Result when err is not nil), the error (ErrDuplicate for a message seen
// before) and how long it took. It runs on the path of the message, so it must be quick; the
// bot feeds its metrics and its health from it.
type Observer func(in Inbound, res Result, err error, took time.Duration)

// ServiceOptions configures a Service. The zero value works.
type ServiceOptions struct {
	// Handoff, if set, is where every handoff posts a summary. The engine must be built with
	// EngineOptions.Handoff set for people to be offered one.
	Handoff *HandoffTarget
	// Observe, if set, is called after each message.
	Observe Observer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewService returns a Service.
func NewService(engine *Engine, store Store, opts ServiceOptions) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{engine: engine, store: store, opts: opts}
}

// Handle runs one inbound message through the engine and commits the new dialog and its reply
// (queued in the outbox). It returns the reply's delivery, ErrDuplicate if the message was
// handled before, or a *PanicError (with nothing committed) if handling it panicked.
func (s *Service) Handle(ctx context.Context, in Inbound) (Delivery, error) {
	var d Delivery
	_, err := s.commit(ctx, in, &d)
	return d, err
}

// handle is Handle for the Dispatcher: it returns the platforms of the replies it queued.
func (s *Service) handle(ctx context.Context, in Inbound) ([]string, error) {
	return s.commit(ctx, in, nil)
}

func (s *Service) commit(ctx context.Context, in Inbound, delivery *Delivery) ([]string, error) {
	now := s.opts.Now()
	start := time.Now()
	in.Input.Ref = in.Key.String()
	var committed Result
	d, err := s.store.Commit(ctx, in.Turn, func(d *Dialog) (r Result, err error) {
		defer func() {
			if p := recover(); p != nil {
				err = &PanicError{Value: p, Stack: debug.Stack()}
			}
		}()
		prev := *d
		next, res := s.engine.Step(*d, in.Input, now)
		if in.Input.Kind == InputHelperReply && next.Handoff != nil {
			next.Handoff.HelpersKey, next.Handoff.HelpersRoute = in.Replier(), in.Route
		}
		pseudonym := DialogPseudonym(in.Key)
		for i := range res.Events {
			res.Events[i].Platform, res.Events[i].Dialog = in.Key.Platform, pseudonym
			if res.Events[i].Kind == EventHandoff && s.opts.Handoff != nil {
				if next.Handoff != nil {
					// Where the helpers' answers go: where the person asked from.
					next.Handoff.Route = in.Route
				}
				res.Notices = append(res.Notices, Notice{
					Key:   s.opts.Handoff.Key,
					Route: s.opts.Handoff.Route,
					Reply: s.engine.HandoffSummary(next, in.Input.From, in.Key.Platform, in.Input.Ref),
				})
			}
		}
		res.Notices = s.address(in, helpersThread(prev, next), res.Notices)
		*d = next
		committed = res
		return res, nil
	})
	if err != nil {
		committed = Result{}
	}
	if s.opts.Observe != nil {
		s.opts.Observe(in, committed, err, time.Since(start))
	}
	if err != nil {
		return nil, err
	}
	if delivery != nil {
		*delivery = d
	}
	platforms := replyPlatforms(committed.Notices)
	if !committed.Reply.Empty() && !slices.Contains(platforms, in.Replier().Platform) {
		platforms = append(platforms, in.Replier().Platform)
	}
	return platforms, nil
}

// address gives the notices the engine made for "the helpers" or "the person" their chat:
// the thread helpers last answered in (helpers, if set), else the handoff target, or in's
// dialog. Without either the helpers' are dropped.
func (s *Service) address(in Inbound, helpers *Handoff, notices []Notice) []Notice {
	out := notices[:0]
	for _, n := range notices {
		switch {
		case n.Key != (Key{}):
		case n.To == ToHelpers && helpers != nil:
			n.Key, n.Route = helpers.HelpersKey, helpers.HelpersRoute
		case n.To == ToHelpers && s.opts.Handoff != nil:
			n.Key, n.Route = s.opts.Handoff.Key, s.opts.Handoff.Route
		case n.To == ToPerson:
			n.Key = in.Key
		default:
			continue
		}
		out = append(out, n)
	}
	return out
}

// helpersThread is the handoff, before or after the step, whose helpers answered in a
// thread of their own, if any: a handoff that just closed still tells its helpers there.
func helpersThread(prev, next Dialog) *Handoff {
	for _, h := range []*Handoff{next.Handoff, prev.Handoff} {
		if h != nil && h.HelpersKey != (Key{}) {
			return h
		}
	}
	return nil
}

// replyPlatforms lists the platforms of notices, once each.
func replyPlatforms(notices []Notice) []string {
	var platforms []string
	for _, n := range notices {
		if !slices.Contains(platforms, n.Key.Platform) {
			platforms = append(platforms, n.Key.Platform)
		}
	}
	return platforms
}

// PanicError is a panic recovered while handling one inbound message.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// apologize commits an apology as the reply to in, leaving the dialog where it was, and
// records in's id, so that a message whose handling panicked is answered and not retried.
func (s *Service) apologize(ctx context.Context, in Inbound) ([]string, error) {
	now := s.opts.Now()
	_, err := s.store.Commit(ctx, in.Turn, func(d *Dialog) (Result, error) {
		d.LastActive = now
		return Result{Reply: s.engine.Apology(*d)}, nil
	})
	if err != nil {
		return nil, err
	}
	return []string{in.Replier().Platform}, nil
}

// Retention is how long a Service keeps what it stores.
type Retention struct {
	Dialogs time.Duration // since a dialog's last activity
	Inbound time.Duration // since an update id was handled: longer than platforms redeliver
	Events  time.Duration // the events statistics are made of; zero keeps them forever
}

// closeStaleHandoffs closes the handoffs open longer than the engine's HandoffTTL, each in a
// commit of its own (the engine's InputSweep), with a note to the person and to the helpers.
func (s *Service) closeStaleHandoffs(ctx context.Context, now time.Time) (int, error) {
	keys, err := s.store.StaleHandoffs(ctx, now.Add(-s.engine.HandoffTTL()))
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if _, err := s.commit(ctx, Inbound{Turn: Turn{Key: k}, Input: Input{Kind: InputSweep}}, nil); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// SweepExpired deletes what r says has been kept long enough, and closes the handoffs past
// their time to live, once at the start and then every interval, until ctx is done.
func (s *Service) SweepExpired(ctx context.Context, interval time.Duration, r Retention, log *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		now := s.opts.Now()
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
		closed, err := s.closeStaleHandoffs(ctx, now)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("close handoffs past their time to live", "err", err)
		case closed > 0:
			log.Info("closed handoffs past their time to live", "count", closed)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
