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
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Dispatcher runs inbound messages through a Service with bounded memory and goroutines: one
// person's messages in order, different people's concurrently, and a person who floods the
// bot slowed down without making anyone else wait.
type Dispatcher struct {
	svc    *Service
	sender Sender
	opts   DispatcherOptions
	seed   maphash.Seed
	queues []chan job
	flood  *FloodGuard
}

type job struct {
	in   Inbound
	done func(error)
}

// NewDispatcher returns a Dispatcher delivering replies through sender. Run starts it.
func NewDispatcher(svc *Service, sender Sender, opts DispatcherOptions) *Dispatcher {
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
	d := &Dispatcher{svc: svc, sender: sender, opts: opts, seed: maphash.MakeSeed()}
	d.queues = make([]chan job, opts.Workers)
	for i := range d.queues {
		d.queues[i] = make(chan job, opts.QueueLen)
	}
	d.flood = NewFloodGuard(opts.FloodLimit, opts.FloodWindow)
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
		in.Input = Input{Kind: InputFlooded, LangHint: in.Input.LangHint}
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

// Run first delivers what an earlier run left in the outbox for platform, then handles
// submitted messages, and every few seconds delivers what waits in the outbox, until ctx is
// done. Messages in flight then are finished (within
// stopTimeout); queued ones get ErrStopped.
func (d *Dispatcher) Run(ctx context.Context, platform string) {
	if err := d.svc.Redeliver(ctx, platform, d.sender); err != nil && ctx.Err() == nil {
		d.opts.Log.Error("deliver replies left from an earlier run", "platform", platform, "err", err)
	}
	var wg sync.WaitGroup
	for _, q := range d.queues {
		wg.Go(func() { d.work(ctx, q) })
	}
	// Replies whose sending failed, and notices committed by other platforms' dialogs.
	wg.Go(func() { d.svc.RedeliverEvery(ctx, platform, d.sender, 5*time.Second, d.opts.Log) })
	wg.Wait()
}

// stopTimeout bounds how long a message in flight may take once the dispatcher is stopping.
const stopTimeout = 3 * time.Second

func (d *Dispatcher) work(ctx context.Context, q chan job) {
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
			// A message taken is finished even while stopping, so that its reply goes out,
			// but for no longer than stopTimeout once the stop began.
			jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
			stopWatch := context.AfterFunc(ctx, func() { time.AfterFunc(stopTimeout, cancel) })
			d.handle(jobCtx, j)
			stopWatch()
			cancel()
		}
	}
}

func (d *Dispatcher) handle(ctx context.Context, j job) {
	log := d.opts.Log.With("platform", j.in.Key.Platform, "update", j.in.InboundID)
	acknowledged := false
	done := func(err error) { acknowledged = true; j.done(err) }
	defer func() {
		// A panic outside the engine (in the store or the sender) must not take the process
		// down, nor leave the platform waiting for an answer about the update.
		if p := recover(); p != nil {
			log.Error("panic while handling an update", "panic", p, "stack", string(debug.Stack()))
			if !acknowledged {
				j.done(fmt.Errorf("panic: %v", p))
			}
		}
	}()
	delivery, err := d.svc.Handle(ctx, j.in)
	var pe *PanicError
	if errors.As(err, &pe) {
		log.Error("panic while handling an update; answering with an apology", "panic", pe.Value, "stack", string(pe.Stack))
		delivery, err = d.svc.Apologize(ctx, j.in)
	}
	if errors.Is(err, ErrDuplicate) {
		done(nil)
		return
	}
	if err != nil {
		log.Error("handle update; it stays unacknowledged", "err", err)
		done(err)
		return
	}
	done(nil)
	if err := d.svc.Deliver(ctx, d.sender, delivery); err != nil {
		log.Error("deliver reply; it stays in the outbox", "err", err)
	}
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
