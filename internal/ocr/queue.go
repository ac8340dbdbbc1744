package ocr

import (
	"context"
	"errors"
	"log/slog"
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
	// Limits bound the pictures fetched; the zero value means DefaultLimits.
	Limits Limits
	// Workers is how many pictures are read at once. Zero: 2, one per core of a small
	// machine; Tesseract takes one core each (see Tesseract).
	Workers int
	// QueueLen is how many pictures may wait or be read at once; a picture beyond it is
	// answered at once with the request to paste the text. Zero: 32.
	QueueLen int
	// Retry is the first wait before handing a read picture to the hub again after its
	// commit failed; zero: one second, doubling up to a minute.
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
	next inlet
	opts QueueOptions
	sem  chan struct{} // a token per picture being read

	mu      sync.Mutex
	chains  map[conversation.Key]*chain
	waiting int  // pictures taken and not yet read
	stopped bool // Run's context is done: pictures are handed in unread
	stop    chan struct{}
	runCtx  context.Context
	idle    sync.WaitGroup // one per chain
}

// chain is one person's messages from their first picture waiting on: handed to the hub in
// order by one goroutine.
type chain struct {
	items []item
}

type item struct {
	in    conversation.Inbound
	fetch Fetch // nil: not a picture
	done  func(error)
}

// maxChain bounds the messages waiting behind a person's pictures. Someone writing more than
// this while their picture is read is flooding; the flood guard would drop them too.
const maxChain = 16

// NewQueue returns a Queue handing messages to next. Run starts its workers.
func NewQueue(next inlet, opts QueueOptions) *Queue {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.QueueLen <= 0 {
		opts.QueueLen = 32
	}
	if opts.Limits.MaxBytes <= 0 {
		opts.Limits.MaxBytes = DefaultLimits.MaxBytes
	}
	if opts.Limits.MaxPixels <= 0 {
		opts.Limits.MaxPixels = DefaultLimits.MaxPixels
	}
	if opts.Retry <= 0 {
		opts.Retry = time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Queue{next: next, opts: opts, sem: make(chan struct{}, opts.Workers), chains: map[conversation.Key]*chain{}, stop: make(chan struct{})}
}

// Limits returns the limits pictures are fetched under: an adapter refuses a file larger
// than MaxBytes before downloading it.
func (q *Queue) Limits() Limits { return q.opts.Limits }

// ErrNotRunning: Run has not started or has stopped; the platform should deliver the picture
// again.
var ErrNotRunning = errors.New("ocr: the picture queue is not running")

// Submit hands in to the hub, or, when a picture of the same person is waiting, queues it
// behind that picture and acknowledges it at once (done(nil)). done is called once, as
// conversation.Dispatcher.Submit calls it.
func (q *Queue) Submit(ctx context.Context, in conversation.Inbound, done func(error)) error {
	if done == nil {
		done = func(error) {}
	}
	q.mu.Lock()
	c := q.chains[in.Key]
	if c == nil {
		q.mu.Unlock()
		return q.next.Submit(ctx, in, done)
	}
	defer q.mu.Unlock()
	if len(c.items) >= maxChain {
		q.opts.Log.Warn("a person's messages behind their picture are too many; dropped one", "platform", in.Key.Platform, "update", in.InboundID)
		done(nil)
		return nil
	}
	c.items = append(c.items, item{in: in, done: func(error) {}})
	done(nil)
	return nil
}

// SubmitImage takes a picture message (in.Input.Kind conversation.InputImage, its caption in
// in.Input.Text) to be fetched, read, and handed to the hub with what was read in
// in.Input.Seen. done(nil) is called at once when it is taken: the platform may be told it
// arrived. When the queue is full the message is handed to the hub at once without reading,
// and answered with the request to paste the text; done is then the hub's. ErrNotRunning
// (through done too) means it was not taken.
func (q *Queue) SubmitImage(ctx context.Context, in conversation.Inbound, fetch Fetch, done func(error)) error {
	if done == nil {
		done = func(error) {}
	}
	q.mu.Lock()
	if q.runCtx == nil || q.stopped {
		q.mu.Unlock()
		done(ErrNotRunning)
		return ErrNotRunning
	}
	c := q.chains[in.Key]
	if q.waiting >= q.opts.QueueLen || c != nil && len(c.items) >= maxChain {
		q.mu.Unlock()
		q.opts.Log.Warn("too many pictures waiting; asking for the text instead", "platform", in.Key.Platform, "update", in.InboundID)
		if c != nil {
			// Behind the person's earlier picture, unread, to keep their order.
			return q.Submit(ctx, in, done)
		}
		return q.next.Submit(ctx, in, done)
	}
	q.waiting++
	if c == nil {
		c = &chain{}
		q.chains[in.Key] = c
		q.idle.Add(1)
		go q.drain(in.Key, c)
	}
	c.items = append(c.items, item{in: in, fetch: fetch})
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
	q.mu.Lock()
	q.stopped = true
	close(q.stop)
	q.mu.Unlock()
	q.idle.Wait()
}

// drain hands c's messages to the hub in order, reading each picture first, until c is
// empty.
func (q *Queue) drain(key conversation.Key, c *chain) {
	defer q.idle.Done()
	for {
		q.mu.Lock()
		if len(c.items) == 0 {
			delete(q.chains, key)
			q.mu.Unlock()
			return
		}
		it := c.items[0]
		c.items = c.items[1:]
		runCtx := q.runCtx
		q.mu.Unlock()
		if it.fetch != nil {
			it.in.Input.Seen = q.read(runCtx, it.in, it.fetch)
			q.mu.Lock()
			q.waiting--
			q.mu.Unlock()
		}
		q.handIn(it.in)
	}
}

// read fetches and reads one picture, on one of the workers; "" when it cannot (the
// engine then asks for the text). The image is dropped when read returns.
func (q *Queue) read(ctx context.Context, in conversation.Inbound, fetch Fetch) string {
	select {
	case q.sem <- struct{}{}:
	case <-q.stop:
		return ""
	}
	defer func() { <-q.sem }()
	img, err := fetch(ctx, q.opts.Limits.MaxBytes)
	if err != nil {
		if ctx.Err() == nil {
			q.opts.Log.Warn("could not download a picture", "platform", in.Key.Platform, "update", in.InboundID, "err", err)
		}
		return ""
	}
	text, err := q.opts.Reader.Read(ctx, img)
	if err != nil && ctx.Err() == nil {
		q.opts.Log.Warn("could not read a picture", "platform", in.Key.Platform, "update", in.InboundID, "err", err)
	}
	return text
}

// handIn submits in to the hub and waits for its commit, trying again while the commit
// fails for up to about two minutes: the platform was told long ago that it arrived.
func (q *Queue) handIn(in conversation.Inbound) {
	ctx := context.WithoutCancel(q.runCtx)
	wait := q.opts.Retry
	for try := 1; ; try++ {
		result := make(chan error, 1)
		q.next.Submit(ctx, in, func(err error) { result <- err })
		err := <-result
		if err == nil {
			return
		}
		lost := errors.Is(err, conversation.ErrStopped) || try == 7
		if !lost {
			q.opts.Log.Warn("a message taken behind a picture was not committed; trying again", "platform", in.Key.Platform, "update", in.InboundID, "err", err, "in", wait)
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-q.stop:
				t.Stop()
				lost = true
			}
			wait = min(2*wait, time.Minute)
		}
		if lost {
			q.opts.Log.Error("a message taken behind a picture could not be committed; it is lost", "platform", in.Key.Platform, "update", in.InboundID, "err", err)
			return
		}
	}
}
