package conversation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// OutboxOptions configures an Outbox. Platform and Sender are required; the zero value of
// every other field works.
type OutboxOptions struct {
	// Platform names the replies this Outbox sends (Key.Platform).
	Platform string
	Sender   Sender
	Limits   Limits
	// Window bounds the replies held in memory at once (claimed, being sent, or sent and not
	// yet marked delivered); the rest wait in the store. Zero means 1024.
	Window int
	// ChatWindow bounds those of one chat, so that a chat with a long backlog does not fill
	// the window. Zero means 16.
	ChatWindow int
	// Senders is how many sends may be under way at once, each to a different chat. Zero
	// means 32.
	Senders int
	// Backoff is the first wait after a send or a store call failed for a passing reason; it
	// doubles with each failure in a row, up to a minute. Zero means 1 s.
	Backoff time.Duration
	// Rescan is how often the outbox is read again from its start, for replies committed by
	// other replicas or given back by a stopped sender; a Notify reads what is new at once.
	// Zero means 1 s.
	Rescan time.Duration
	// Drain is how long Run goes on sending what it holds after its context is done; what is
	// left stays in the outbox for the next start. Zero means 3 s.
	Drain time.Duration
	// Elector, when several replicas share one database, makes this Outbox send only while
	// its replica holds the role "sender:<Platform>", so that one replica sends each
	// platform's replies, in order, under one set of limits. Nil: this process is the only one.
	Elector Elector
	// Metrics counts sends, rate limits and retries; nil counts nothing.
	Metrics DeliveryMetrics
	// Log receives failures, never reply text; nil discards.
	Log *slog.Logger
}

// Outbox delivers the replies one platform's dialogs commit: it claims them from the store
// oldest first, sends each chat's in commit order through the platform's Sender, paced by
// the platform's Limits, retries passing failures with backoff and 429s after the wait the
// platform asks for, and marks what was sent delivered, in batches. It is the only place
// that sends: a reply committed while a backlog waits goes out after it, and after a crash
// the outbox is sent again from where the store says it stands (a reply sent but not yet
// marked delivered then goes out twice, nothing is lost).
type Outbox struct {
	store Store
	opts  OutboxOptions
	log   *slog.Logger
	wake  chan struct{}
	// running is the state of the serve under way, if any.
	running atomic.Pointer[outboxRun]
	// unmarked are replies sent by a serve that ended (its role lost, the store unreachable)
	// before it could mark them delivered: the next serve marks them first, and never sends
	// them again.
	mu       sync.Mutex
	unmarked []uint64
}

const (
	// markBatch is how many sent replies make the marker commit at once; fewer wait for
	// markDelay, so that a reply sent at a platform's pace does not cost a commit of its own.
	markBatch = 256
	markDelay = 100 * time.Millisecond
	// maxBackoff bounds the wait after failures in a row.
	maxBackoff = time.Minute
)

// NewOutbox returns an Outbox sending the replies of opts.Platform from store. Run starts it.
func NewOutbox(store Store, opts OutboxOptions) *Outbox {
	if opts.Window <= 0 {
		opts.Window = 1024
	}
	if opts.ChatWindow <= 0 {
		opts.ChatWindow = 16
	}
	if opts.Senders <= 0 {
		opts.Senders = 32
	}
	if opts.Backoff <= 0 {
		opts.Backoff = time.Second
	}
	if opts.Rescan <= 0 {
		opts.Rescan = time.Second
	}
	if opts.Drain <= 0 {
		opts.Drain = 3 * time.Second
	}
	if opts.Metrics == nil {
		opts.Metrics = noMetrics{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Outbox{store: store, opts: opts, log: opts.Log.With("platform", opts.Platform), wake: make(chan struct{}, 1)}
}

// Notify tells the Outbox that a reply of its platform was committed, so that it looks now
// rather than at the next Rescan. It never blocks.
func (o *Outbox) Notify() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx is done, then goes on for at most Options.Drain with what it holds,
// and gives back what it could not send. With an Elector it sends only while elected.
func (o *Outbox) Run(ctx context.Context) {
	if o.opts.Elector == nil {
		o.serve(ctx)
		return
	}
	RunElected(ctx, o.opts.Elector, "sender:"+o.opts.Platform, o.log, func(ctx context.Context) error {
		o.releaseStaleHolds(ctx)
		o.serve(ctx)
		return nil
	})
}

// releaseStaleHolds gives up, at the start of a term as the platform's one sender, the holds
// a past term left on the oldest replies (its sender died, or could not give them back with
// the database unreachable): held, they would let a person's newer replies overtake them
// until their lease ran out. The holds are on the oldest replies, since senders claim
// oldest first; a few windows' worth are looked at.
func (o *Outbox) releaseStaleHolds(ctx context.Context) {
	pending, err := o.store.Pending(ctx, o.opts.Platform, 2*o.opts.Window)
	if err != nil || len(pending) == 0 {
		return // the holds run out by themselves
	}
	ids := make([]uint64, len(pending))
	for i, d := range pending {
		ids[i] = d.ID
	}
	if err := o.store.Unclaim(ctx, ids...); err != nil {
		o.log.Warn("give up the holds of a past term; they run out by themselves", "err", err)
	}
}

// chatLane is one chat's replies held in memory, in commit order, with its pace.
type chatLane struct {
	chat  string
	queue []Delivery
	// limiter paces the chat; nil when the platform declares no per-chat limit.
	limiter *rate.Limiter
	// reserved: a token of limiter is taken for queue[0] already (it waited for it).
	reserved  bool
	notBefore time.Time // a 429 or a backoff
	failures  int       // failed sends in a row
	// active: the lane is in the ready queue, waiting on a timer, or being sent; a lane is
	// scheduled at most once, so the ready queue never holds more lanes than replies.
	active bool
}

// outboxRun is the state of one serve: what is held in memory, per chat.
type outboxRun struct {
	o      *Outbox
	global *rate.Limiter
	ready  chan *chatLane

	mu    sync.Mutex
	lanes map[string]*chatLane
	held  map[uint64]struct{} // claimed and not yet marked delivered or given back
	// sent are delivered replies waiting to be marked; markNow wakes the marker.
	sent    []uint64
	markNow chan struct{}
	// cursor is the largest id claimed in this pass over the outbox; skipped are the chats
	// passed over in it because their lane was full, so that none of their later replies
	// overtakes the one passed over. A pass restarts from the start at each Rescan, or when
	// a skipped chat's lane empties.
	cursor  uint64
	skipped map[string]bool
	rewind  bool
}

func (o *Outbox) serve(ctx context.Context) {
	r := &outboxRun{
		o:       o,
		global:  newLimiter(o.opts.Limits.Global),
		ready:   make(chan *chatLane, o.opts.Window+1),
		lanes:   map[string]*chatLane{},
		held:    map[uint64]struct{}{},
		markNow: make(chan struct{}, 1),
		skipped: map[string]bool{},
	}
	o.mu.Lock()
	r.sent, o.unmarked = o.unmarked, nil
	o.mu.Unlock()
	for _, id := range r.sent {
		r.held[id] = struct{}{}
	}
	if len(r.sent) > 0 {
		r.wakeMarker()
	}
	o.running.Store(r)
	defer o.running.Store(nil)
	// Sends in flight when ctx is done go on, for Drain at most; not at all when the sender
	// role was lost, since another replica may be sending already.
	sendCtx, stopSending := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSending()
	stopDrain := context.AfterFunc(ctx, func() {
		if errors.Is(context.Cause(ctx), errRoleLost) {
			stopSending()
			return
		}
		time.AfterFunc(o.opts.Drain, stopSending)
	})
	defer stopDrain()

	var workers sync.WaitGroup
	for range o.opts.Senders {
		workers.Go(func() { r.work(sendCtx) })
	}
	// The marker stops after the workers, so that what they sent last is marked too.
	markCtx, stopMarking := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMarking()
	marked := make(chan struct{})
	go func() { defer close(marked); r.mark(markCtx) }()

	r.claimUntil(ctx)
	// Draining: what is held goes out, and nothing more is claimed, until nothing is held or
	// the time is up.
	for sendCtx.Err() == nil && r.holding() {
		select {
		case <-sendCtx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	stopSending()
	workers.Wait()
	stopMarking()
	<-marked
	r.giveBack()
}

// holding reports whether r holds replies: to send, or sent and not yet marked delivered.
func (r *outboxRun) holding() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.held) > 0
}

// keepUnmarked hands what r sent and could not mark to the next serve.
func (r *outboxRun) keepUnmarked() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sent) == 0 {
		return
	}
	r.o.mu.Lock()
	defer r.o.mu.Unlock()
	r.o.unmarked = append(r.o.unmarked, r.sent...)
}

// claimUntil claims replies into the lanes whenever there is room and something may be
// waiting, until ctx is done.
func (r *outboxRun) claimUntil(ctx context.Context) {
	ticker := time.NewTicker(r.o.opts.Rescan)
	defer ticker.Stop()
	failures := 0
	for {
		more, err := r.fill(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			failures++
			r.o.log.Warn("read the outbox; trying again", "err", err, "failures", failures)
			// A commit's Notify cuts the wait short: the store works again for it.
			t := time.NewTimer(backoff(r.o.opts.Backoff, failures))
			select {
			case <-ctx.Done():
			case <-t.C:
			case <-r.o.wake:
			}
			t.Stop()
			continue
		case more:
			failures = 0
			continue
		}
		failures = 0
		select {
		case <-ctx.Done():
			return
		case <-r.o.wake:
		case <-ticker.C:
			r.mu.Lock()
			// While chats were passed over for a full lane, a pass from the start would only
			// claim and give back their backlog again; the first of their lanes to empty
			// starts it.
			if len(r.skipped) == 0 {
				r.rewind = true
			}
			r.forgetIdle(time.Now())
			r.mu.Unlock()
		}
	}
}

// fill claims as many replies as there is room for into their chats' lanes. It reports
// whether the store may hold more than there was room for.
func (r *outboxRun) fill(ctx context.Context) (more bool, err error) {
	r.mu.Lock()
	if r.rewind {
		r.cursor, r.rewind = 0, false
		clear(r.skipped)
	}
	after, room := r.cursor, r.o.opts.Window-len(r.held)
	r.mu.Unlock()
	if room <= 0 {
		return false, nil
	}
	claimed, err := r.o.store.Claim(ctx, r.o.opts.Platform, after, room)
	if err != nil {
		return false, err
	}
	var giveBack []uint64
	r.mu.Lock()
	for _, d := range claimed {
		r.cursor = max(r.cursor, d.ID)
		if _, ok := r.held[d.ID]; ok {
			continue // held here already; its lease in the store ran out and was renewed
		}
		l := r.lane(d)
		if r.skipped[l.chat] || len(l.queue) >= r.o.opts.ChatWindow {
			r.skipped[l.chat] = true
			giveBack = append(giveBack, d.ID)
			continue
		}
		r.held[d.ID] = struct{}{}
		l.queue = append(l.queue, d)
		if !l.active {
			l.active = true
			r.ready <- l
		}
	}
	r.mu.Unlock()
	if len(giveBack) > 0 {
		if err := r.o.store.Unclaim(ctx, giveBack...); err != nil {
			// Their holds run out by themselves; until then the next pass skips them.
			r.o.log.Warn("give back replies of a chat with a full lane", "err", err)
		}
	}
	return len(claimed) == room, nil
}

// lane returns the lane of d's chat, made with the chat's pace if new. r.mu is held.
func (r *outboxRun) lane(d Delivery) *chatLane {
	l := r.lanes[d.Key.Chat]
	if l == nil {
		l = &chatLane{chat: d.Key.Chat}
		if r.o.opts.Limits.Chat != nil {
			l.limiter = newLimiter(r.o.opts.Limits.Chat(d))
		}
		r.lanes[d.Key.Chat] = l
	}
	return l
}

// forgetIdle drops the lanes with nothing to send whose pace is back where a new lane's
// starts, so that the lanes are those of chats sent to lately. r.mu is held.
func (r *outboxRun) forgetIdle(now time.Time) {
	for chat, l := range r.lanes {
		if l.active || len(l.queue) > 0 || now.Before(l.notBefore) {
			continue
		}
		if l.limiter != nil && l.limiter.TokensAt(now) < float64(l.limiter.Burst()) {
			continue
		}
		delete(r.lanes, chat)
	}
}

// Chats reports how many chats the running Outbox keeps a pace for: those it sent to within
// about a Rescan, or holds replies for.
func (o *Outbox) Chats() int {
	r := o.running.Load()
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lanes)
}

func (r *outboxRun) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case l := <-r.ready:
			r.sendNext(ctx, l)
		}
	}
}

// sendNext sends the first reply of l once its pace allows, and schedules l again if it
// has more.
func (r *outboxRun) sendNext(ctx context.Context, l *chatLane) {
	now := time.Now()
	r.mu.Lock()
	d := l.queue[0]
	if wait := l.notBefore.Sub(now); wait > 0 {
		r.mu.Unlock()
		r.later(l, wait)
		return
	}
	if l.limiter != nil && !l.reserved {
		l.reserved = true
		if wait := l.limiter.ReserveN(now, 1).DelayFrom(now); wait > 0 {
			r.mu.Unlock()
			r.later(l, wait)
			return
		}
	}
	r.mu.Unlock()
	if err := r.global.Wait(ctx); err != nil {
		return // stopping: d stays held, and is given back
	}
	err := r.send(ctx, d)
	if ctx.Err() != nil && err != nil {
		return
	}
	var retry *RetryAfterError
	r.mu.Lock()
	defer r.mu.Unlock()
	l.reserved = false
	switch {
	case err == nil || errors.Is(err, ErrUndeliverable):
		if err != nil {
			r.o.log.Error("the platform refused a reply for good; dropped", "delivery", d.ID, "err", err)
		} else {
			r.o.opts.Metrics.MessageSent()
		}
		l.queue = l.queue[1:]
		l.failures = 0
		r.sent = append(r.sent, d.ID)
		if len(r.sent) == 1 || len(r.sent) >= r.markBatch() {
			select {
			case r.markNow <- struct{}{}:
			default:
			}
		}
	case errors.As(err, &retry):
		r.o.opts.Metrics.RateLimited()
		r.o.log.Warn("rate limited", "chat", l.chat, "retry_after", retry.After)
		l.notBefore = time.Now().Add(retry.After)
	default:
		l.failures++
		r.o.opts.Metrics.Retried()
		wait := backoff(r.o.opts.Backoff, l.failures)
		r.o.log.Warn("send failed; retrying", "delivery", d.ID, "err", err, "in", wait)
		l.notBefore = time.Now().Add(wait)
	}
	if len(l.queue) == 0 {
		l.active = false
		if r.skipped[l.chat] {
			r.rewind = true
			r.o.Notify()
		}
		return
	}
	r.ready <- l // never blocks: ready has room for every lane
}

// send calls the Sender, turning a panic into ErrUndeliverable: sending the same reply again
// would panic again.
func (r *outboxRun) send(ctx context.Context, d Delivery) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.o.log.Error("panic while sending", "delivery", d.ID, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: panic: %v", ErrUndeliverable, p)
		}
	}()
	return r.o.opts.Sender.Send(ctx, d)
}

// later schedules l again after wait.
func (r *outboxRun) later(l *chatLane, wait time.Duration) {
	time.AfterFunc(wait, func() { r.ready <- l })
}

// mark removes sent replies from the outbox, a batch per commit, until ctx is done and
// everything sent is marked (or the marking fails then). A failed mark is tried again; the
// replies stay held meanwhile, so they are never sent again by this process.
func (r *outboxRun) mark(ctx context.Context) {
	failures := 0
	for {
		stopping := false
		select {
		case <-ctx.Done():
			stopping = true
		case <-r.markNow:
			// Let a paced trickle gather into one commit, unless a batch is full.
			stopping = r.gather(ctx)
		}
		r.mu.Lock()
		ids := r.sent
		r.sent = nil
		r.mu.Unlock()
		if len(ids) > 0 {
			if err := r.markDelivered(ctx, stopping, ids); err != nil {
				failures++
				r.o.log.Error("mark sent replies delivered; trying again", "count", len(ids), "err", err, "failures", failures)
				r.mu.Lock()
				r.sent = append(ids, r.sent...)
				r.mu.Unlock()
				if stopping || sleep(ctx, backoff(r.o.opts.Backoff, failures)) != nil {
					return
				}
				r.wakeMarker()
				continue
			}
			failures = 0
			r.mu.Lock()
			for _, id := range ids {
				delete(r.held, id)
			}
			more := len(r.sent) > 0
			r.mu.Unlock()
			r.o.Notify() // room for more
			if more {
				r.wakeMarker()
			}
		}
		if stopping {
			return
		}
	}
}

// gather waits until a batch of sent replies is full or markDelay passed, and reports
// whether ctx ended meanwhile.
func (r *outboxRun) gather(ctx context.Context) (stopping bool) {
	deadline := time.NewTimer(markDelay)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		full := len(r.sent) >= r.markBatch()
		r.mu.Unlock()
		if full {
			return false
		}
		select {
		case <-ctx.Done():
			return true
		case <-deadline.C:
			return false
		case <-r.markNow:
		}
	}
}

// markBatch is how many sent replies are marked at once without waiting for markDelay: a
// quarter of the window at most, so that a full window never waits for the delay.
func (r *outboxRun) markBatch() int {
	return max(1, min(markBatch, r.o.opts.Window/4))
}

// markDelivered marks ids delivered; once stopping, with a little time of its own.
func (r *outboxRun) markDelivered(ctx context.Context, stopping bool, ids []uint64) error {
	if stopping {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
	}
	return r.o.store.MarkDelivered(ctx, ids...)
}

func (r *outboxRun) wakeMarker() {
	select {
	case r.markNow <- struct{}{}:
	default:
	}
}

// giveBack releases the holds on what this run could not send, so that the next sender
// (this process after a restart of the role, or another replica) takes them at once.
func (r *outboxRun) giveBack() {
	r.keepUnmarked()
	r.mu.Lock()
	sent := make(map[uint64]bool, len(r.sent))
	for _, id := range r.sent {
		sent[id] = true
	}
	ids := make([]uint64, 0, len(r.held))
	for id := range r.held {
		if !sent[id] {
			ids = append(ids, id)
		}
	}
	r.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.o.store.Unclaim(ctx, ids...); err != nil {
		r.o.log.Warn("give back unsent replies; their holds run out by themselves", "count", len(ids), "err", err)
	}
	r.o.log.Info("stopping: replies left in the outbox for the next sender", "count", len(ids))
}

func newLimiter(r Rate) *rate.Limiter {
	if r.Every <= 0 {
		return rate.NewLimiter(rate.Inf, 1)
	}
	return rate.NewLimiter(rate.Every(r.Every), max(r.Burst, 1))
}

func backoff(first time.Duration, failures int) time.Duration {
	d := first
	for i := 1; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
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
