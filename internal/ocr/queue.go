package ocr

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
)

// Reader reads the text in an image; *Tesseract is one.
type Reader interface {
	Read(ctx context.Context, img []byte) (string, error)
}

// Fetch downloads a picture, at most limit bytes (more is an error wrapping ErrTooLarge).
type Fetch func(ctx context.Context, limit int64) ([]byte, error)

// inlet is where messages go once their pictures are read: conversation.Hub.
type inlet interface {
	Submit(ctx context.Context, in conversation.Inbound, done func(error)) error
}

// QueueOptions configures a Queue. Reader is required; the zero value of the rest works.
type QueueOptions struct {
	Reader Reader
	// MaxBytes bounds the pictures fetched; zero means DefaultLimits.MaxBytes.
	MaxBytes int64
	// Workers is how many pictures are read at once. Zero: 2, one per core of a small
	// machine; Tesseract takes one core each (see Tesseract). Twice as many may be
	// downloaded or held downloaded, so that a slow download does not keep a core idle.
	Workers int
	// QueueLen is how many pictures may wait or be read at once; a picture beyond it is
	// answered at once with the request to paste the text. Zero: 32.
	QueueLen int
	// FetchTimeout bounds each download (Telegram's getFile and the file together). Zero:
	// 15 s.
	FetchTimeout time.Duration
	// Retry is the first wait before handing a read picture to the hub again after its
	// commit failed; zero: one second, doubling (see handIn).
	Retry time.Duration
	// Log receives what goes wrong, never an image or the text read from one.
	Log *slog.Logger
}

// Queue reads the pictures people send off the platforms' delivery path: a picture is taken
// at once (Telegram's offset moves on, Slack gets its 200), read by one of Workers, and then
// handed to the hub like any message. Everyone else's messages go straight to the hub and
// never wait behind a picture; the same person's later messages wait behind theirs, so that
// their answers keep the order they wrote in.
//
// A picture is acknowledged to the platform before its commit, so a crash while it is read
// loses it (docs/screenshots.md). A stop does not: Run hands every picture still waiting to
// the hub unread, which answers it with the request to paste the text.
type Queue struct {
	next   inlet
	opts   QueueOptions
	cpu    chan struct{} // a token per picture being read (Reader.Read)
	inHand chan struct{} // a token per picture being downloaded or downloaded and not yet read

	mu sync.Mutex
	// runCtx is Run's context: nil before Run and once it stops.
	runCtx context.Context
	// chains holds, per person with a picture taken, their messages from the first picture
	// on, handed to the hub in order by one goroutine (drain); a person is in it until the
	// last of them is handed in.
	chains map[conversation.Key][]item
	// taken holds the messages in chains: a platform's redelivery of one is acknowledged
	// and not taken twice.
	taken map[msgID]struct{}
	// failed holds the messages passed straight to the hub whose commit failed, and when:
	// the platform sends them again, and then they go straight to the hub again rather than
	// behind a picture sent after them (see Submit).
	failed map[msgID]time.Time
	// committed holds the pictures committed lately, and when: a Telegram batch held back
	// behind a failed update comes again every second for up to a minute, and a picture in it
	// committed already is acknowledged, not downloaded and read again for the hub to call it
	// a duplicate.
	committed map[msgID]time.Time
	waiting   int            // pictures taken and not yet committed
	idle      sync.WaitGroup // one per chain
}

// msgID names a message: a person's InboundID.
type msgID struct {
	key conversation.Key
	id  string
}

func idOf(in conversation.Inbound) msgID { return msgID{in.Key, in.InboundID} }

type item struct {
	in    conversation.Inbound
	fetch Fetch // nil: not a picture, or one handed in unread
}

// maxChain bounds the messages waiting behind a person's pictures. Someone writing more than
// this while their picture is read is flooding; the flood guard would drop them too.
const maxChain = 16

// failedHold is how long a failed message is remembered to come again: the dispatcher holds
// the person's later messages for a minute (conversation's failureHold) and serves them
// after, whether it came or not.
const failedHold = time.Minute

// NewQueue returns a Queue handing messages to next. Run starts its workers.
func NewQueue(next inlet, opts QueueOptions) *Queue {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = 32
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultLimits.MaxBytes
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = 15 * time.Second
	}
	if opts.Retry <= 0 {
		opts.Retry = time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Queue{
		next: next, opts: opts,
		cpu: make(chan struct{}, opts.Workers), inHand: make(chan struct{}, 2*opts.Workers),
		chains: map[conversation.Key][]item{}, taken: map[msgID]struct{}{}, failed: map[msgID]time.Time{},
		committed: map[msgID]time.Time{},
	}
}

// MaxBytes is the largest picture fetched: an adapter refuses a larger file before
// downloading it.
func (q *Queue) MaxBytes() int64 { return q.opts.MaxBytes }

// ErrNotRunning: Run has not started or has stopped; the platform should deliver the picture
// again.
var ErrNotRunning = errors.New("ocr: the picture queue is not running")

// Submit hands in to the hub, or, when a picture of the same person is waiting, queues it
// behind that picture and acknowledges it at once (done(nil)). done is called once, as
// conversation.Dispatcher.Submit calls it.
//
// A message whose commit failed when it went straight to the hub goes straight to the hub
// again when the platform sends it again, even if a picture of the person's is waiting now:
// it was written before that picture, whose hand-in waits for it (the dispatcher refuses
// the person's later messages with ErrEarlierFailed until it comes; see handIn).
func (q *Queue) Submit(ctx context.Context, in conversation.Inbound, done func(error)) error {
	if done == nil {
		done = func(error) {}
	}
	q.mu.Lock()
	items, waiting := q.chains[in.Key]
	if !waiting || q.failedBefore(in) {
		q.mu.Unlock()
		return q.direct(ctx, in, done)
	}
	// done is called once the lock is released: it may call back into the queue.
	switch {
	case q.isTaken(in): // a redelivery of one waiting already
	case len(items) >= maxChain:
		q.opts.Log.Warn("a person's messages behind their picture are too many; dropped one", "platform", in.Key.Platform, "update", in.InboundID)
	default:
		q.take(item{in: in})
	}
	q.mu.Unlock()
	done(nil)
	return nil
}

// direct hands in to the hub, noting whether its commit failed (see Submit).
func (q *Queue) direct(ctx context.Context, in conversation.Inbound, done func(error)) error {
	if in.InboundID == "" {
		return q.next.Submit(ctx, in, done)
	}
	return q.next.Submit(ctx, in, func(err error) {
		q.mu.Lock()
		if err == nil {
			delete(q.failed, idOf(in))
		} else {
			now := time.Now()
			for id, at := range q.failed {
				if now.Sub(at) >= failedHold {
					delete(q.failed, id)
				}
			}
			q.failed[idOf(in)] = now
		}
		q.mu.Unlock()
		done(err)
	})
}

// failedBefore reports whether in went straight to the hub lately and its commit failed.
// q.mu is held.
func (q *Queue) failedBefore(in conversation.Inbound) bool {
	at, ok := q.failed[idOf(in)]
	return ok && time.Since(at) < failedHold
}

// committedLately reports whether in is a picture committed within failedHold. q.mu is held.
func (q *Queue) committedLately(in conversation.Inbound) bool {
	at, ok := q.committed[idOf(in)]
	return ok && in.InboundID != "" && time.Since(at) < failedHold
}

// isTaken reports whether in waits in its person's chain already. q.mu is held.
func (q *Queue) isTaken(in conversation.Inbound) bool {
	_, ok := q.taken[idOf(in)]
	return ok && in.InboundID != ""
}

// take appends it to its person's chain. q.mu is held and the chain exists.
func (q *Queue) take(it item) {
	q.chains[it.in.Key] = append(q.chains[it.in.Key], it)
	if it.in.InboundID != "" {
		q.taken[idOf(it.in)] = struct{}{}
	}
}

// SubmitImage takes a picture message (in.Input.Kind conversation.InputImage, its caption in
// in.Input.Text) to be fetched, read, and handed to the hub with what was read in
// in.Input.Seen. done(nil) is called at once when it is taken, or when it was taken already
// (a redelivery): the platform may be told it arrived. When the queue is full the message is
// handed to the hub without reading (behind the person's earlier messages, if any wait), and
// answered with the request to paste the text; done is then the hub's. ErrNotRunning
// (through done too) means it was not taken: Run has not started, or its context is done.
func (q *Queue) SubmitImage(ctx context.Context, in conversation.Inbound, fetch Fetch, done func(error)) error {
	if done == nil {
		done = func(error) {}
	}
	q.mu.Lock()
	runCtx := q.runCtx
	if runCtx == nil || runCtx.Err() != nil {
		q.mu.Unlock()
		done(ErrNotRunning)
		return ErrNotRunning
	}
	if q.isTaken(in) || q.committedLately(in) {
		q.mu.Unlock()
		done(nil)
		return nil
	}
	items, waiting := q.chains[in.Key]
	if waiting && q.failedBefore(in) {
		// Written before the pictures waiting: straight to the hub, unread (see Submit).
		q.mu.Unlock()
		return q.direct(ctx, in, done)
	}
	if q.waiting >= q.opts.QueueLen || len(items) >= maxChain {
		q.mu.Unlock()
		q.opts.Log.Warn("too many pictures waiting; asking for the text instead", "platform", in.Key.Platform, "update", in.InboundID)
		return q.Submit(ctx, in, done)
	}
	q.waiting++
	if !waiting {
		q.chains[in.Key] = nil
		q.idle.Add(1)
		go q.drain(runCtx, in.Key)
	}
	q.take(item{in: in, fetch: fetch})
	q.mu.Unlock()
	done(nil)
	return nil
}

// Run lets the queue take pictures until ctx is done. Then it stops reading, hands the
// pictures still waiting to the hub unread, and returns once every one is handed in.
func (q *Queue) Run(ctx context.Context) {
	q.mu.Lock()
	q.runCtx = ctx
	q.mu.Unlock()
	<-ctx.Done()
	// A SubmitImage that found ctx not done yet holds the lock until its drain is counted:
	// taking the lock here orders every such Add before the Wait, and from here on
	// SubmitImage finds no run.
	q.mu.Lock()
	q.runCtx = nil
	q.mu.Unlock()
	q.idle.Wait()
}

// drain hands the messages of key's chain to the hub in order, reading each picture first,
// until the chain is empty. ctx is Run's: once it is done, pictures are handed in unread.
func (q *Queue) drain(ctx context.Context, key conversation.Key) {
	defer q.idle.Done()
	for {
		q.mu.Lock()
		items := q.chains[key]
		if len(items) == 0 {
			delete(q.chains, key)
			q.mu.Unlock()
			return
		}
		it := items[0]
		items[0] = item{}
		q.chains[key] = items[1:]
		q.mu.Unlock()
		if it.fetch != nil {
			it.in.Input.Seen = q.read(ctx, it.in, it.fetch)
		}
		committed := q.handIn(ctx, it.in)
		q.mu.Lock()
		delete(q.taken, idOf(it.in))
		if committed && it.fetch != nil && it.in.InboundID != "" {
			now := time.Now()
			for id, at := range q.committed {
				if now.Sub(at) >= failedHold {
					delete(q.committed, id)
				}
			}
			q.committed[idOf(it.in)] = now
		}
		// A picture counts against QueueLen until it is committed, not only until it is
		// read: it was acknowledged to the platform, and a crash before its commit loses it.
		if it.fetch != nil {
			q.waiting--
		}
		q.mu.Unlock()
	}
}

// read fetches and reads one picture; "" when it cannot (the engine then asks for the text),
// ctx is done, or something panics. The image is dropped when read returns.
//
// At most 2×Workers pictures are downloaded or held downloaded at once, which bounds the
// bytes in memory; a core (one of Workers) is taken only to read one, so a slow download
// keeps no core idle. Each download has FetchTimeout.
func (q *Queue) read(ctx context.Context, in conversation.Inbound, fetch Fetch) (text string) {
	log := func(msg string, args ...any) {
		q.opts.Log.Warn(msg, append([]any{"platform", in.Key.Platform, "update", in.InboundID}, args...)...)
	}
	defer func() {
		if p := recover(); p != nil {
			// Neither the image nor the text read is logged: only a runtime error's own
			// message, and the stack (which holds no bytes of them).
			what := fmt.Sprintf("%T", p)
			if re, ok := p.(runtime.Error); ok {
				what = re.Error()
			}
			log("panic while reading a picture; asking for the text instead", "panic", what, "stack", string(debug.Stack()))
			text = ""
		}
	}()
	if !acquire(ctx, q.inHand) {
		return ""
	}
	defer func() { <-q.inHand }()
	fetchCtx, cancel := context.WithTimeout(ctx, q.opts.FetchTimeout)
	img, err := fetch(fetchCtx, q.opts.MaxBytes)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			log("could not download a picture", "err", err)
		}
		return ""
	}
	if !acquire(ctx, q.cpu) {
		return ""
	}
	defer func() { <-q.cpu }()
	text, err = q.opts.Reader.Read(ctx, img)
	if err != nil {
		if ctx.Err() == nil {
			log("could not read a picture", "err", err)
		}
		return ""
	}
	return text
}

// maxCommitTries is how many times handIn submits a message whose commit keeps failing:
// with the waits between them doubling from Retry (1, 2, 4, 8, 16 and 32 s by default), for
// about a minute.
const maxCommitTries = 7

// behindHold bounds how long handIn waits for a person's earlier message that failed to
// come again (ErrEarlierFailed): longer than the dispatcher holds the person's messages for
// it, which it does for a minute.
const behindHold = 2 * time.Minute

// handIn submits in to the hub and waits for its commit, and reports whether it was
// committed. The platform was told long ago that it arrived, so a failed commit is tried
// again, up to maxCommitTries times.
//
// ErrEarlierFailed is no failure of in's: an earlier message of the person failed and the
// platform sends it again, straight to the hub (see Submit); in is submitted again every
// Retry until that one is committed, for at most behindHold, without counting as a try.
// Once ctx (Run's) is done, in is not tried again.
func (q *Queue) handIn(ctx context.Context, in conversation.Inbound) bool {
	submitCtx := context.WithoutCancel(ctx)
	wait := q.opts.Retry
	var behindSince time.Time
	for try := 1; ; {
		result := make(chan error, 1)
		q.next.Submit(submitCtx, in, func(err error) { result <- err })
		err := <-result
		if err == nil {
			return true
		}
		pause := wait
		switch {
		case errors.Is(err, conversation.ErrEarlierFailed) && (behindSince.IsZero() || time.Since(behindSince) < behindHold):
			if behindSince.IsZero() {
				behindSince = time.Now()
			}
			pause = q.opts.Retry
		case errors.Is(err, conversation.ErrStopped) || try == maxCommitTries:
			q.opts.Log.Error("a message taken behind a picture could not be committed; it is lost", "platform", in.Key.Platform, "update", in.InboundID, "err", err)
			return false
		default:
			q.opts.Log.Warn("a message taken behind a picture was not committed; trying again", "platform", in.Key.Platform, "update", in.InboundID, "err", err, "in", wait)
			try++
			wait = min(2*wait, time.Minute)
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			q.opts.Log.Error("a message taken behind a picture was not committed before the stop; it is lost", "platform", in.Key.Platform, "update", in.InboundID, "err", err)
			return false
		}
	}
}

// acquire takes a slot of sem, or reports false once ctx is done. ctx is looked at first:
// select picks at random among ready cases, and a stopped queue must not start new work.
func acquire(ctx context.Context, sem chan struct{}) bool {
	if ctx.Err() != nil {
		return false
	}
	select {
	case sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}
