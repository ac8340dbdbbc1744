package ocr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
)

// hub records what it is handed, committing at once (or failing the first fails calls).
type hub struct {
	mu    sync.Mutex
	got   []conversation.Inbound
	at    []time.Time
	fails int
	added chan struct{}
}

func newHub() *hub { return &hub{added: make(chan struct{}, 1000)} }

func (h *hub) Submit(_ context.Context, in conversation.Inbound, done func(error)) error {
	h.mu.Lock()
	if h.fails > 0 {
		h.fails--
		h.mu.Unlock()
		done(errors.New("store down"))
		return nil
	}
	h.got = append(h.got, in)
	h.at = append(h.at, time.Now())
	h.mu.Unlock()
	h.added <- struct{}{}
	done(nil)
	return nil
}

func (h *hub) wait(t *testing.T, n int) []conversation.Inbound {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		h.mu.Lock()
		if len(h.got) >= n {
			out := append([]conversation.Inbound(nil), h.got...)
			h.mu.Unlock()
			return out
		}
		h.mu.Unlock()
		select {
		case <-h.added:
		case <-deadline:
			t.Fatalf("the hub got %d messages, want %d", len(h.got), n)
		}
	}
}

// concurrency counts how many are inside at once, and the most there ever were.
type concurrency struct{ now, max atomic.Int32 }

// enter counts one in; the returned function counts it out.
func (c *concurrency) enter() (leave func()) {
	n := c.now.Add(1)
	for {
		m := c.max.Load()
		if n <= m || c.max.CompareAndSwap(m, n) {
			break
		}
	}
	return func() { c.now.Add(-1) }
}

// slowReader takes d per picture and reads its bytes as the text; it counts how many read at once.
type slowReader struct {
	d time.Duration
	concurrency
}

func (r *slowReader) Read(ctx context.Context, img []byte) (string, error) {
	defer r.enter()()
	select {
	case <-time.After(r.d):
		return string(img), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func picture(user int, id string) conversation.Inbound {
	return conversation.Inbound{
		Turn:  conversation.Turn{Key: conversation.Key{Platform: "test", Chat: strconv.Itoa(user), User: strconv.Itoa(user)}, InboundID: id},
		Input: conversation.Input{Kind: conversation.InputImage},
	}
}

func text(user int, id, s string) conversation.Inbound {
	in := picture(user, id)
	in.Input = conversation.Input{Kind: conversation.InputText, Text: s}
	return in
}

func bytesOf(s string) Fetch {
	return func(context.Context, int64) ([]byte, error) { return []byte(s), nil }
}

func runQueue(t *testing.T, q *Queue) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for { // until Run has taken its context
		q.mu.Lock()
		ok := q.runCtx != nil
		q.mu.Unlock()
		if ok {
			return cancel
		}
		time.Sleep(time.Millisecond)
	}
}

// gateReader reads a picture's bytes as its text once gate is closed; it counts how many
// read at once.
type gateReader struct {
	gate chan struct{}
	concurrency
}

func newGateReader() *gateReader { return &gateReader{gate: make(chan struct{})} }

func (r *gateReader) Read(ctx context.Context, img []byte) (string, error) {
	defer r.enter()()
	select {
	case <-r.gate:
		return string(img), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// until waits for cond, polling, and fails the test after 10 s.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestQueue_OthersDoNotWait: 20 pictures at once are taken at once and read two at a time;
// someone else's text reaches the hub while they are still being read.
func TestQueue_OthersDoNotWait(t *testing.T) {
	h := newHub()
	r := newGateReader()
	q := NewQueue(h, QueueOptions{Reader: r})
	runQueue(t, q)
	for i := range 20 {
		acked := false
		q.SubmitImage(context.Background(), picture(i, "p"+strconv.Itoa(i)), bytesOf("declined"), func(err error) { acked = err == nil })
		if !acked {
			t.Fatalf("picture %d was not acknowledged at once", i)
		}
	}
	until(t, "two pictures being read", func() bool { return r.now.Load() == 2 })
	q.Submit(context.Background(), text(99, "t", "hello"), nil)
	// No picture can be handed in before the gate opens: the text is first.
	if got := h.wait(t, 1); got[0].Input.Text != "hello" {
		t.Fatalf("the first message handed in was %+v, want the text", got[0].Input)
	}
	close(r.gate)
	got := h.wait(t, 21)
	for _, in := range got[1:] {
		if in.Input.Kind != conversation.InputImage || in.Input.Seen != "declined" {
			t.Fatalf("handed in %+v, want a picture read as declined", in.Input)
		}
	}
	if m := r.max.Load(); m != 2 {
		t.Fatalf("%d pictures were read at once, want 2", m)
	}
}

// TestQueue_PersonOrder: a person's text written after their picture reaches the hub after it.
func TestQueue_PersonOrder(t *testing.T) {
	h := newHub()
	q := NewQueue(h, QueueOptions{Reader: &slowReader{d: 50 * time.Millisecond}})
	runQueue(t, q)
	q.SubmitImage(context.Background(), picture(1, "1"), bytesOf("declined"), nil)
	q.Submit(context.Background(), text(1, "2", "still there?"), nil)
	got := h.wait(t, 2)
	if got[0].InboundID != "1" || got[1].InboundID != "2" {
		t.Fatalf("handed in %s then %s, want 1 then 2", got[0].InboundID, got[1].InboundID)
	}
}

// TestQueue_Full: a picture beyond the queue is handed in at once, unread.
func TestQueue_Full(t *testing.T) {
	h := newHub()
	q := NewQueue(h, QueueOptions{Reader: newGateReader(), QueueLen: 2})
	runQueue(t, q)
	q.SubmitImage(context.Background(), picture(1, "1"), bytesOf("a"), nil)
	q.SubmitImage(context.Background(), picture(2, "2"), bytesOf("b"), nil)
	q.SubmitImage(context.Background(), picture(3, "3"), bytesOf("c"), nil)
	got := h.wait(t, 1)
	if got[0].InboundID != "3" || got[0].Input.Seen != "" || got[0].Input.Kind != conversation.InputImage {
		t.Fatalf("handed in %+v first, want picture 3 unread", got[0])
	}
}

// TestQueue_StopHandsInUnread: a stop hands every picture waiting to the hub, unread, and
// Run returns after.
func TestQueue_StopHandsInUnread(t *testing.T) {
	h := newHub()
	q := NewQueue(h, QueueOptions{Reader: newGateReader()}) // never opened
	cancel := runQueue(t, q)
	for i := range 5 {
		q.SubmitImage(context.Background(), picture(i, strconv.Itoa(i)), bytesOf("x"), nil)
	}
	cancel()
	got := h.wait(t, 5)
	for _, in := range got {
		if in.Input.Seen != "" {
			t.Fatalf("handed in %+v, want it unread", in.Input)
		}
	}
	// Refused as soon as the stop is signalled, whether Run has noticed it or not.
	var err error
	q.SubmitImage(context.Background(), picture(9, "9"), bytesOf("x"), func(e error) { err = e })
	if !errors.Is(err, ErrNotRunning) {
		t.Fatalf("a picture after the stop: %v, want ErrNotRunning", err)
	}
}

// TestQueue_RetriesFailedCommit: the platform was told the picture arrived, so a failed
// commit is tried again.
func TestQueue_RetriesFailedCommit(t *testing.T) {
	h := newHub()
	h.fails = 2
	q := NewQueue(h, QueueOptions{Reader: &slowReader{}, Retry: time.Millisecond})
	runQueue(t, q)
	q.SubmitImage(context.Background(), picture(1, "1"), bytesOf("declined"), nil)
	if got := h.wait(t, 1); got[0].Input.Seen != "declined" {
		t.Fatalf("handed in %+v", got[0].Input)
	}
}

// TestQueue_FetchTooLarge: a download over the limit is not read; the hub asks for the text.
func TestQueue_FetchTooLarge(t *testing.T) {
	h := newHub()
	q := NewQueue(h, QueueOptions{Reader: &slowReader{}, MaxBytes: 10})
	runQueue(t, q)
	var limit int64
	q.SubmitImage(context.Background(), picture(1, "1"), func(_ context.Context, l int64) ([]byte, error) {
		limit = l
		return nil, ErrTooLarge
	}, nil)
	if got := h.wait(t, 1); got[0].Input.Seen != "" || limit != 10 {
		t.Fatalf("handed in %+v with a limit of %d", got[0].Input, limit)
	}
}

func TestDownload(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer xoxb-1" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		if r.URL.Path == "/chunked" {
			// No Content-Length: the limit is found while reading.
			for range 10 {
				w.Write([]byte("0123456789"))
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Write([]byte("0123456789"))
	}))
	defer srv.Close()
	auth := http.Header{"Authorization": {"Bearer xoxb-1"}}
	if b, err := Download(context.Background(), srv.Client(), srv.URL+"/f", auth, 10); err != nil || string(b) != "0123456789" {
		t.Fatalf("Download = %q, %v", b, err)
	}
	if _, err := Download(context.Background(), srv.Client(), srv.URL+"/f", auth, 9); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v, want ErrTooLarge", err)
	}
	if _, err := Download(context.Background(), srv.Client(), srv.URL+"/chunked", auth, 50); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("chunked, over the limit: %v, want ErrTooLarge", err)
	}
	if _, err := Download(context.Background(), srv.Client(), srv.URL+"/f", nil, 10); err == nil {
		t.Fatal("refused: no error")
	}
	// The client's error (a *url.Error) names the URL, and with it Telegram's token.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	secret := closed.URL + "/file/bot123:SECRET/photos/f.jpg"
	_, err := srv.Client().Get(secret)
	if !strings.Contains(fmt.Sprint(err), "SECRET") {
		t.Fatalf("the client's own error %v does not name the URL: the case below tests nothing", err)
	}
	if _, err := Download(context.Background(), srv.Client(), secret, nil, 10); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("connection refused: %v, want an error without the URL", err)
	}
}

// dispatchHub commits like conversation.Dispatcher for one person: the commits of the
// InboundIDs in fail fail once, and until a failed one comes again the person's other
// messages get ErrEarlierFailed.
type dispatchHub struct {
	mu        sync.Mutex
	fail      map[string]bool
	failed    string
	committed []string
	refused   int // messages refused with ErrEarlierFailed
}

func (h *dispatchHub) Submit(_ context.Context, in conversation.Inbound, done func(error)) error {
	h.mu.Lock()
	var err error
	switch {
	case h.fail[in.InboundID]:
		delete(h.fail, in.InboundID)
		h.failed = in.InboundID
		err = errors.New("store down")
	case h.failed != "" && h.failed != in.InboundID:
		err = conversation.ErrEarlierFailed
		h.refused++
	case slices.Contains(h.committed, in.InboundID): // a duplicate
	default:
		h.failed = ""
		h.committed = append(h.committed, in.InboundID)
	}
	h.mu.Unlock()
	done(err)
	return nil
}

func (h *dispatchHub) commits() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.committed)
}

// submit submits in through submit and returns what done was given.
func submit(t *testing.T, submit func(context.Context, conversation.Inbound, func(error)) error, in conversation.Inbound) error {
	t.Helper()
	result := make(chan error, 1)
	submit(context.Background(), in, func(err error) { result <- err })
	select {
	case err := <-result:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("no answer about %s", in.InboundID)
		return nil
	}
}

// TestQueue_EarlierFailedComesFirst: a person's text fails to commit, and their picture sent
// after it is taken; the platform sends both again. The text is committed first, then the
// picture, each once.
func TestQueue_EarlierFailedComesFirst(t *testing.T) {
	h := &dispatchHub{fail: map[string]bool{"1": true}}
	q := NewQueue(h, QueueOptions{Reader: &slowReader{}, Retry: time.Millisecond})
	runQueue(t, q)
	if err := submit(t, q.Submit, text(1, "1", "payment failed")); err == nil {
		t.Fatal("the text's commit did not fail")
	}
	if err := submit(t, func(ctx context.Context, in conversation.Inbound, done func(error)) error {
		return q.SubmitImage(ctx, in, bytesOf("declined"), done)
	}, picture(1, "2")); err != nil {
		t.Fatalf("the picture was not taken: %v", err)
	}
	// The picture is read and waits for the text, longer than failed commits are tried.
	until(t, "the picture to wait", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.refused > maxCommitTries
	})
	// The redelivery, in order: the text, then the picture.
	if err := submit(t, q.Submit, text(1, "1", "payment failed")); err != nil {
		t.Fatalf("the text again: %v", err)
	}
	if err := submit(t, func(ctx context.Context, in conversation.Inbound, done func(error)) error {
		return q.SubmitImage(ctx, in, bytesOf("declined"), done)
	}, picture(1, "2")); err != nil {
		t.Fatalf("the picture again: %v", err)
	}
	until(t, "the picture's commit", func() bool { return len(h.commits()) >= 2 })
	until(t, "the queue to empty", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return len(q.chains) == 0
	})
	if got := h.commits(); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("committed %v, want [1 2]", got)
	}
}

// TestQueue_Redelivered: a picture, and a text behind it, sent again while they wait are
// acknowledged and handed in once.
func TestQueue_Redelivered(t *testing.T) {
	h := newHub()
	r := newGateReader()
	q := NewQueue(h, QueueOptions{Reader: r})
	runQueue(t, q)
	for range 2 {
		if err := submit(t, func(ctx context.Context, in conversation.Inbound, done func(error)) error {
			return q.SubmitImage(ctx, in, bytesOf("declined"), done)
		}, picture(1, "1")); err != nil {
			t.Fatal(err)
		}
		if err := submit(t, q.Submit, text(1, "2", "hello?")); err != nil {
			t.Fatal(err)
		}
	}
	close(r.gate)
	h.wait(t, 2)
	until(t, "the queue to empty", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return len(q.chains) == 0 && len(q.taken) == 0
	})
	if got := h.wait(t, 0); len(got) != 2 || got[0].InboundID != "1" || got[1].InboundID != "2" {
		t.Fatalf("handed in %d messages, want 1 and 2 once each", len(got))
	}
}

// TestQueue_Panics: a fetch or a reader that panics leaves the picture unread, the process
// running, and the log without what the panic carried.
func TestQueue_Panics(t *testing.T) {
	h := newHub()
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&syncWriter{w: &logged}, nil))
	q := NewQueue(h, QueueOptions{Reader: panicReader{}, Log: log})
	runQueue(t, q)
	q.SubmitImage(context.Background(), picture(1, "1"), func(context.Context, int64) ([]byte, error) {
		panic("SECRET fetched")
	}, nil)
	q.SubmitImage(context.Background(), picture(2, "2"), bytesOf("x"), nil)
	for _, in := range h.wait(t, 2) {
		if in.Input.Seen != "" {
			t.Fatalf("handed in %+v, want it unread", in.Input)
		}
	}
	if s := logged.String(); strings.Contains(s, "SECRET") || strings.Count(s, "panic while reading") != 2 {
		t.Fatalf("logged:\n%s", s)
	}
}

type panicReader struct{}

func (panicReader) Read(context.Context, []byte) (string, error) { panic("SECRET read") }

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// TestQueue_DownloadHoldsNoCore: with one core, a picture whose download hangs does not
// hold up another's reading.
func TestQueue_DownloadHoldsNoCore(t *testing.T) {
	h := newHub()
	q := NewQueue(h, QueueOptions{Reader: &slowReader{}, Workers: 1})
	runQueue(t, q)
	hanging := make(chan struct{})
	q.SubmitImage(context.Background(), picture(1, "1"), func(ctx context.Context, _ int64) ([]byte, error) {
		close(hanging)
		// Until the other picture is read and handed in (not t.Fatal: not the test's goroutine).
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
			h.mu.Lock()
			n := len(h.got)
			h.mu.Unlock()
			if n > 0 {
				return []byte("late"), nil
			}
		}
		return nil, errors.New("the other picture was not read while this one downloaded")
	}, nil)
	<-hanging
	q.SubmitImage(context.Background(), picture(2, "2"), bytesOf("declined"), nil)
	got := h.wait(t, 2)
	if got[0].InboundID != "2" || got[0].Input.Seen != "declined" || got[1].Input.Seen != "late" {
		t.Fatalf("handed in %s (%q) then %s (%q), want 2 then 1, both read", got[0].InboundID, got[0].Input.Seen, got[1].InboundID, got[1].Input.Seen)
	}
}

// TestQueue_FetchTimeout: a download is given up after FetchTimeout, and the picture handed
// in unread.
func TestQueue_FetchTimeout(t *testing.T) {
	h := newHub()
	q := NewQueue(h, QueueOptions{Reader: &slowReader{}, FetchTimeout: time.Millisecond})
	runQueue(t, q)
	deadline := make(chan bool, 1)
	q.SubmitImage(context.Background(), picture(1, "1"), func(ctx context.Context, _ int64) ([]byte, error) {
		_, ok := ctx.Deadline()
		deadline <- ok
		<-ctx.Done()
		return nil, ctx.Err()
	}, nil)
	if !<-deadline {
		t.Fatal("the download has no deadline")
	}
	if got := h.wait(t, 1); got[0].Input.Seen != "" {
		t.Fatalf("handed in %+v, want it unread", got[0].Input)
	}
}

// failingHub refuses every commit, as a hub over a failing store does.
type failingHub struct{}

func (failingHub) Submit(_ context.Context, _ conversation.Inbound, done func(error)) error {
	done(errors.New("store down"))
	return nil
}

// TestQueue_FullCountsUncommitted: a picture counts against the queue's length until it is
// committed, not only until it is read. With the store down, only QueueLen pictures are
// acknowledged to the platform; the rest get the hub's error, and the platform keeps them.
func TestQueue_FullCountsUncommitted(t *testing.T) {
	q := NewQueue(failingHub{}, QueueOptions{Reader: &slowReader{}, QueueLen: 2, Retry: time.Hour})
	runQueue(t, q)
	var acknowledged, refused int
	for i := range 10 {
		q.SubmitImage(context.Background(), picture(i, strconv.Itoa(i)), bytesOf("x"), func(err error) {
			if err == nil {
				acknowledged++
			} else {
				refused++
			}
		})
		time.Sleep(5 * time.Millisecond) // room for the first ones to be read and fail
	}
	if acknowledged != 2 || refused != 8 {
		t.Errorf("acknowledged %d and refused %d of 10 pictures, want 2 and 8", acknowledged, refused)
	}
}

// TestQueue_RedeliveredAfterCommit: a picture committed already, sent again (a Telegram batch
// held back behind a failed update comes every second), is acknowledged without being
// downloaded or read again.
func TestQueue_RedeliveredAfterCommit(t *testing.T) {
	h := newHub()
	q := NewQueue(h, QueueOptions{Reader: &slowReader{}})
	runQueue(t, q)
	var fetches atomic.Int32
	fetch := func(context.Context, int64) ([]byte, error) {
		fetches.Add(1)
		return []byte("declined"), nil
	}
	pictureIn := func() error {
		return submit(t, func(ctx context.Context, in conversation.Inbound, done func(error)) error {
			return q.SubmitImage(ctx, in, fetch, done)
		}, picture(1, "1"))
	}
	if err := pictureIn(); err != nil {
		t.Fatal(err)
	}
	h.wait(t, 1)
	until(t, "the commit to be noted", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return len(q.chains) == 0
	})
	if err := pictureIn(); err != nil {
		t.Fatalf("the redelivery: %v, want it acknowledged", err)
	}
	until(t, "the queue to be idle", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return len(q.chains) == 0 && len(q.taken) == 0
	})
	if n := fetches.Load(); n != 1 {
		t.Errorf("the picture was downloaded %d times, want once", n)
	}
	if got := h.wait(t, 1); len(got) != 1 {
		t.Errorf("handed in %d times, want once", len(got))
	}
}
