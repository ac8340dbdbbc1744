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
	// down" and the rest are ignored until the person's pace drops. Zero means 5 in 10 s; a
	// negative FloodLimit turns the guard off (the terminal chat, whose input is a script).
	FloodLimit  int
	FloodWindow time.Duration
	// Notify is told, after each commit, the platform of every reply it queued in the outbox
	// (the person's, and a handoff summary's), so that platform's Outbox sends it now.
	Notify func(platform string)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Dispatcher runs inbound messages through a Service with bounded memory and goroutines: one
// person's messages in order, different people's concurrently (so that their commits share
// the store's group commits), and a person who floods the bot slowed down without making
// anyone else wait. It is what every adapter hands its inbound messages to; the replies go
// out through each platform's Outbox.
type Dispatcher struct {
	svc    *Service
	opts   DispatcherOptions
	seed   maphash.Seed
	queues []chan job
	flood  *FloodGuard // nil: off

	// Stopping: closed is set and stopping closed when Run's context is done, so that Submit
	// refuses; once the Submits already past that check have returned (submitting), drained
	// is closed and the workers answer what is left in their queues with ErrStopped. So every
	// message submitted gets its done call.
	mu         sync.RWMutex
	closed     bool
	stopping   chan struct{}
	submitting sync.WaitGroup
	drained    chan struct{}
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

// NewDispatcher returns a Dispatcher committing through svc. Run starts it.
func NewDispatcher(svc *Service, opts DispatcherOptions) *Dispatcher {
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = 64
	}
	if opts.FloodLimit == 0 {
		opts.FloodLimit = 5
	}
	if opts.FloodWindow <= 0 {
		opts.FloodWindow = 10 * time.Second
	}
	if opts.Notify == nil {
		opts.Notify = func(string) {}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{svc: svc, opts: opts, seed: maphash.MakeSeed(), stopping: make(chan struct{}), drained: make(chan struct{})}
	d.queues = make([]chan job, opts.Workers)
	for i := range d.queues {
		d.queues[i] = make(chan job, opts.QueueLen)
	}
	if opts.FloodLimit > 0 {
		d.flood = NewFloodGuard(opts.FloodLimit, opts.FloodWindow)
	}
	return d
}

// Submit queues in for handling. done, if not nil, is called exactly once: when the message
// is committed (nil), found to be a duplicate or ignored as flooding (nil), failed (the
// error: the platform should deliver it again), or dropped because the dispatcher stopped or
// ctx ended first (ErrStopped). Submit blocks while the person's worker queue is full, until
// ctx is done or the dispatcher stops.
func (d *Dispatcher) Submit(ctx context.Context, in Inbound, done func(error)) error {
	if done == nil {
		done = func(error) {}
	}
	d.mu.RLock()
	if d.closed {
		d.mu.RUnlock()
		done(ErrStopped)
		return ErrStopped
	}
	d.submitting.Add(1)
	d.mu.RUnlock()
	defer d.submitting.Done()
	q := d.queues[maphash.Comparable(d.seed, in.Key)%uint64(len(d.queues))]
	select {
	case q <- job{in: in, done: done}:
		return nil // if the dispatcher is stopping, a worker answers it ErrStopped
	case <-d.stopping:
		done(ErrStopped)
		return ErrStopped
	case <-ctx.Done():
		done(ErrStopped)
		return ctx.Err()
	}
}

// MoveChat re-keys the dialogs of a chat that changed its id (a Telegram group that became a
// supergroup); see Store.MoveChat.
func (d *Dispatcher) MoveChat(ctx context.Context, platform, from, to string) (int, error) {
	return d.svc.store.MoveChat(ctx, platform, from, to)
}

// Run handles submitted messages until ctx is done. Messages in flight then are finished
// (within stopTimeout); queued ones get ErrStopped.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, q := range d.queues {
		wg.Go(func() { d.work(ctx, q) })
	}
	<-ctx.Done()
	d.mu.Lock()
	d.closed = true
	close(d.stopping)
	d.mu.Unlock()
	d.submitting.Wait()
	close(d.drained)
	wg.Wait()
}

// stopTimeout bounds how long a message in flight may take once the dispatcher is stopping.
const stopTimeout = 3 * time.Second

func (d *Dispatcher) work(ctx context.Context, q chan job) {
	// The people of this worker whose last message failed: their next messages fail too
	// until the failed one comes again.
	failed := map[Key]failure{}
	// A message taken is finished even while stopping, so that its reply is committed, but
	// for no longer than stopTimeout once the stop began.
	jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stopWatch := context.AfterFunc(ctx, func() { time.AfterFunc(stopTimeout, cancel) })
	defer stopWatch()
	for {
		// Checked first: select picks at random among ready cases, and a stopping dispatcher
		// must not start on another queued message.
		if ctx.Err() != nil {
			d.refuse(q)
			return
		}
		select {
		case <-ctx.Done():
		case j := <-q:
			// Forget the failures of people who never came back (Slack gives up after
			// three tries): the map holds those of the last failureHold only.
			for k, f := range failed {
				if d.opts.Now().Sub(f.at) >= failureHold {
					delete(failed, k)
				}
			}
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

// refuse answers ErrStopped to what q holds and what Submits still put in it, until none can.
func (d *Dispatcher) refuse(q chan job) {
	for {
		select {
		case j := <-q:
			j.done(ErrStopped)
		case <-d.drained:
			for {
				select {
				case j := <-q:
					j.done(ErrStopped)
				default:
					return
				}
			}
		}
	}
}

// handle commits j and tells the outboxes of the replies it queued; it reports whether the
// message was handled (a duplicate or a message ignored as flooding counts as handled).
//
// The flood guard is asked before the commit and told after it: a message counts toward
// the person's pace only once it is committed, so that an update the platform delivers
// again (a duplicate) or one whose commit failed (the store was down, it comes again) never
// counts, and the person is not taken for a flood when the store comes back.
func (d *Dispatcher) handle(ctx context.Context, j job) (ok bool) {
	// Built only when there is something to log: this runs for every message.
	log := func() *slog.Logger { return d.opts.Log.With("platform", j.in.Key.Platform, "update", j.in.InboundID) }
	acknowledged, handled := false, false
	done := func(err error) { acknowledged, handled = true, err == nil; j.done(err) }
	defer func() {
		// A panic outside the engine (in the store) must not take the process down, nor
		// leave the platform waiting for an answer about the update.
		if p := recover(); p != nil {
			log().Error("panic while handling an update", "panic", p, "stack", string(debug.Stack()))
			if !acknowledged {
				j.done(fmt.Errorf("panic: %v", p))
			}
			ok = handled
		}
	}()
	now := j.in.At
	if now.IsZero() {
		now = d.opts.Now()
	}
	verdict := FloodAllow
	if d.flood != nil {
		verdict = d.flood.Peek(j.in.Key, now)
	}
	in := j.in
	switch verdict {
	case FloodIgnore:
		done(nil)
		return true
	case FloodWarn:
		in.Input = Input{Kind: InputFlooded, LangHint: in.Input.LangHint, From: in.Input.From}
	}
	platforms, err := d.svc.handle(ctx, in)
	var pe *PanicError
	if errors.As(err, &pe) {
		log().Error("panic while handling an update; answering with an apology", "panic", pe.Value, "stack", string(pe.Stack))
		platforms, err = d.svc.apologize(ctx, in)
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
	if d.flood != nil {
		d.flood.Record(j.in.Key, now, verdict)
	}
	done(nil)
	for _, p := range platforms {
		d.opts.Notify(p)
	}
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

// Peek says what to do with a message from k at now, without counting it: Record counts it
// once it is handled.
func (g *FloodGuard) Peek(k Key, now time.Time) FloodVerdict {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweep(now)
	s, ok := g.people[k]
	switch {
	case !ok || s.limiter.TokensAt(now) >= 1:
		return FloodAllow
	case s.warned:
		return FloodIgnore
	}
	return FloodWarn
}

// Record counts a handled message from k at now, which Peek answered with verdict.
func (g *FloodGuard) Record(k Key, now time.Time, verdict FloodVerdict) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s, ok := g.people[k]
	if !ok {
		s = &floodState{limiter: rate.NewLimiter(g.every, g.burst)}
		g.people[k] = s
	}
	s.last = now
	switch verdict {
	case FloodAllow:
		s.limiter.AllowN(now, 1)
		s.warned = false
	case FloodWarn:
		s.warned = true
	}
}

// sweep forgets people quiet for a whole window, so the map holds only the active ones.
// g.mu is held.
func (g *FloodGuard) sweep(now time.Time) {
	if now.Sub(g.lastSweep) <= g.window {
		return
	}
	for key, s := range g.people {
		if now.Sub(s.last) > g.window {
			delete(g.people, key)
		}
	}
	g.lastSweep = now
}
