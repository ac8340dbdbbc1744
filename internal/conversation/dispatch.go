package conversation

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ErrStopped is passed to a submitted message's done function when the dispatcher stopped
// before handling it: the platform should deliver it again.
var ErrStopped = errors.New("dispatcher stopped before handling the message")

// ErrEarlierFailed is passed to the done function of a message of a person whose earlier
// message failed and has not come again yet: handling it would put the person's messages out
// of order, so it must come again after the failed one.
var ErrEarlierFailed = errors.New("an earlier message of the same person failed")

// DispatcherOptions configures a Dispatcher. The zero value works.
type DispatcherOptions struct {
	// Workers is how many messages are handled at once; a person's messages always go to the
	// same worker, in order. Zero means 16.
	Workers int
	// QueueLen is how many messages wait per worker before Submit blocks. Zero means 64.
	QueueLen int
	// FloodLimit messages within FloodWindow are answered; the next one gets a single "slow
	// down" and the rest are ignored until the person's pace drops. Zero means 5 in 10 s.
	FloodLimit  int
	FloodWindow time.Duration
	// Flood, if set, is used instead of a guard built from FloodLimit and FloodWindow.
	Flood *FloodGuard
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Dispatcher runs inbound messages through a Service with bounded memory and goroutines: one
// person's messages in order, different people's concurrently (so that their commits share
// the store's group commits), and a person who floods the bot slowed down without making
// anyone else wait. Delivery is the caller's: each committed reply is handed to a deliver
// function, which may send it at once or queue it with the platform's own pacing.
type Dispatcher struct {
	svc     *Service
	deliver func(context.Context, Delivery)
	opts    DispatcherOptions
	seed    maphash.Seed
	queues  []chan job
	flood   *FloodGuard
}

type job struct {
	in   Inbound
	done func(error)
}

// failure is a person's message whose commit failed, which their later messages wait for.
type failure struct {
	inboundID string
	at        time.Time
}

// failureHold is how long a person's messages wait for a failed one to come again. Platforms
// resend within seconds (Telegram at the next poll, Slack within minutes, and only thrice);
// after this the person is served again even if it never does.
const failureHold = time.Minute

// NewDispatcher returns a Dispatcher handing each committed reply to deliver, in the worker
// that committed it, after the message's done function was called. deliver must eventually
// call Service.Deliver (or leave the reply in the outbox for Service.Redeliver). Run starts
// the dispatcher.
func NewDispatcher(svc *Service, deliver func(context.Context, Delivery), opts DispatcherOptions) *Dispatcher {
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = 64
	}
	if opts.FloodLimit <= 0 {
		opts.FloodLimit = 5
	}
	if opts.FloodWindow <= 0 {
		opts.FloodWindow = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{svc: svc, deliver: deliver, opts: opts, seed: maphash.MakeSeed()}
	d.queues = make([]chan job, opts.Workers)
	for i := range d.queues {
		d.queues[i] = make(chan job, opts.QueueLen)
	}
	d.flood = opts.Flood
	if d.flood == nil {
		d.flood = NewFloodGuard(opts.FloodLimit, opts.FloodWindow)
	}
	return d
}

// Submit queues in for handling. done, if not nil, is called once the message is committed
// (nil), found to be a duplicate or ignored as flooding (nil), failed (the error: the
// platform should deliver it again), or dropped because the dispatcher stopped (ErrStopped).
// Submit blocks while the person's worker queue is full, until ctx is done.
func (d *Dispatcher) Submit(ctx context.Context, in Inbound, done func(error)) error {
	if done == nil {
		done = func(error) {}
	}
	switch d.flood.Check(in.Key, d.opts.Now()) {
	case FloodIgnore:
		done(nil)
		return nil
	case FloodWarn:
		in.Input = Input{Kind: InputFlooded, LangHint: in.Input.LangHint, From: in.Input.From}
	}
	q := d.queues[maphash.Comparable(d.seed, in.Key)%uint64(len(d.queues))]
	select {
	case q <- job{in: in, done: done}:
		return nil
	case <-ctx.Done():
		done(ErrStopped)
		return ctx.Err()
	}
}

// Run handles submitted messages until ctx is done. Messages in flight then are finished
// (within stopTimeout); queued ones get ErrStopped.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, q := range d.queues {
		wg.Go(func() { d.work(ctx, q) })
	}
	wg.Wait()
}

// stopTimeout bounds how long a message in flight may take once the dispatcher is stopping.
const stopTimeout = 3 * time.Second

func (d *Dispatcher) work(ctx context.Context, q chan job) {
	// The people of this worker whose last message failed: their next messages fail too
	// until the failed one comes again.
	failed := map[Key]failure{}
	// A message taken is finished even while stopping, so that its reply goes out, but for
	// no longer than stopTimeout once the stop began.
	jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stopWatch := context.AfterFunc(ctx, func() { time.AfterFunc(stopTimeout, cancel) })
	defer stopWatch()
	for {
		// Checked first: select picks at random among ready cases, and a stopping dispatcher
		// must not start on another queued message.
		if ctx.Err() != nil {
			for {
				select {
				case j := <-q:
					j.done(ErrStopped)
				default:
					return
				}
			}
		}
		select {
		case <-ctx.Done():
		case j := <-q:
			if f, ok := failed[j.in.Key]; ok {
				if j.in.InboundID != f.inboundID && d.opts.Now().Sub(f.at) < failureHold {
					j.done(ErrEarlierFailed)
					continue
				}
				delete(failed, j.in.Key)
			}
			if !d.handle(jobCtx, j) && j.in.InboundID != "" {
				failed[j.in.Key] = failure{inboundID: j.in.InboundID, at: d.opts.Now()}
			}
		}
	}
}

// handle commits j and hands its reply to deliver; it reports whether the message was
// handled (a duplicate counts as handled).
func (d *Dispatcher) handle(ctx context.Context, j job) (ok bool) {
	// Built only when there is something to log: this runs for every message.
	log := func() *slog.Logger { return d.opts.Log.With("platform", j.in.Key.Platform, "update", j.in.InboundID) }
	acknowledged, handled := false, false
	done := func(err error) { acknowledged, handled = true, err == nil; j.done(err) }
	defer func() {
		// A panic outside the engine (in the store or in deliver) must not take the process
		// down, nor leave the platform waiting for an answer about the update.
		if p := recover(); p != nil {
			log().Error("panic while handling an update", "panic", p, "stack", string(debug.Stack()))
			if !acknowledged {
				j.done(fmt.Errorf("panic: %v", p))
			}
			ok = handled
		}
	}()
	delivery, err := d.svc.Handle(ctx, j.in)
	var pe *PanicError
	if errors.As(err, &pe) {
		log().Error("panic while handling an update; answering with an apology", "panic", pe.Value, "stack", string(pe.Stack))
		delivery, err = d.svc.Apologize(ctx, j.in)
	}
	if errors.Is(err, ErrDuplicate) {
		done(nil)
		return true
	}
	if err != nil {
		log().Error("handle update; it stays unacknowledged", "err", err)
		done(err)
		return false
	}
	done(nil)
	d.deliver(ctx, delivery)
	return true
}

// FloodVerdict is what a FloodGuard says of one message.
type FloodVerdict int

const (
	// FloodAllow: handle the message.
	FloodAllow FloodVerdict = iota
	// FloodWarn: the person is going too fast; answer this one with InputFlooded.
	FloodWarn
	// FloodIgnore: already warned and still too fast; acknowledge the message and drop it.
	FloodIgnore
)

// FloodGuard tells, per person, whether a message comes too soon after many others: limit
// messages per window pass, then one warning, then nothing until the pace drops. It holds
// only the people active within the last window. The zero value is not usable; use
// NewFloodGuard.
type FloodGuard struct {
	mu        sync.Mutex
	every     rate.Limit
	burst     int
	window    time.Duration
	people    map[Key]*floodState
	lastSweep time.Time
}

type floodState struct {
	limiter *rate.Limiter
	warned  bool
	last    time.Time
}

// NewFloodGuard returns a guard letting limit messages through per window and person.
func NewFloodGuard(limit int, window time.Duration) *FloodGuard {
	return &FloodGuard{
		every:  rate.Every(window / time.Duration(limit)),
		burst:  limit,
		window: window,
		people: map[Key]*floodState{},
	}
}

// Check records a message from k at now and says what to do with it.
func (g *FloodGuard) Check(k Key, now time.Time) FloodVerdict {
	g.mu.Lock()
	defer g.mu.Unlock()
	// Forget people quiet for a whole window, so the map holds only the active ones.
	if now.Sub(g.lastSweep) > g.window {
		for key, s := range g.people {
			if now.Sub(s.last) > g.window {
				delete(g.people, key)
			}
		}
		g.lastSweep = now
	}
	s, ok := g.people[k]
	if !ok {
		s = &floodState{limiter: rate.NewLimiter(g.every, g.burst)}
		g.people[k] = s
	}
	s.last = now
	if s.limiter.AllowN(now, 1) {
		s.warned = false
		return FloodAllow
	}
	if s.warned {
		return FloodIgnore
	}
	s.warned = true
	return FloodWarn
}
