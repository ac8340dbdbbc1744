package ocr

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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

// slowReader takes d per picture and reads its bytes as the text; it counts how many read at once.
type slowReader struct {
	d        time.Duration
	now, max atomic.Int32
}

func (r *slowReader) Read(ctx context.Context, img []byte) (string, error) {
	n := r.now.Add(1)
	defer r.now.Add(-1)
	for {
		m := r.max.Load()
		if n <= m || r.max.CompareAndSwap(m, n) {
			break
		}
	}
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

// TestQueue_OthersDoNotWait: 20 pictures at once are taken at once and read two at a time;
// someone else's text reaches the hub at once.
func TestQueue_OthersDoNotWait(t *testing.T) {
	h := newHub()
	r := &slowReader{d: 100 * time.Millisecond}
	q := NewQueue(h, QueueOptions{Reader: r})
	runQueue(t, q)
	for i := range 20 {
		acked := false
		q.SubmitImage(context.Background(), picture(i, "p"+strconv.Itoa(i)), bytesOf("declined"), func(err error) { acked = err == nil })
		if !acked {
			t.Fatalf("picture %d was not acknowledged at once", i)
		}
	}
	start := time.Now()
	q.Submit(context.Background(), text(99, "t", "hello"), nil)
	got := h.wait(t, 1)
	if got[0].Input.Text != "hello" || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("the first message handed in was %+v after %s, want the text at once", got[0].Input, time.Since(start))
	}
	got = h.wait(t, 21)
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
	q := NewQueue(h, QueueOptions{Reader: &slowReader{d: time.Second}, QueueLen: 2})
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
	q := NewQueue(h, QueueOptions{Reader: &slowReader{d: time.Hour}})
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
	q := NewQueue(h, QueueOptions{Reader: &slowReader{}, Limits: Limits{MaxBytes: 10}})
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
	if _, err := Download(context.Background(), srv.Client(), srv.URL+"/bot123:SECRET/f", nil, 10); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("refused: %v, want an error without the URL", err)
	}
}
