package conversation_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/store/boltstore"
)

// memOutbox is the outbox part of a Store, in memory, for tests of the Outbox alone: replies
// in id order, holds without leases (a test's outbox never outlives them).
type memOutbox struct {
	conversation.Store // nil: only the outbox methods are there
	mu                 sync.Mutex
	entries            map[uint64]conversation.Delivery
	held               map[uint64]bool
	next               uint64
	failMarks          int // MarkDelivered fails this many more times
}

func newMemOutbox() *memOutbox {
	return &memOutbox{entries: map[uint64]conversation.Delivery{}, held: map[uint64]bool{}}
}

// add commits a reply numbered seq for chat.
func (m *memOutbox) add(chat string, seq int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	m.entries[m.next] = conversation.Delivery{ID: m.next, Key: conversation.Key{Platform: "test", Chat: chat, User: chat}, Reply: conversation.Reply{Text: strconv.Itoa(seq)}}
}

func (m *memOutbox) Claim(_ context.Context, platform string, after uint64, limit int) ([]conversation.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []conversation.Delivery
	for id := after + 1; id <= m.next && len(out) < limit; id++ {
		if d, ok := m.entries[id]; ok && !m.held[id] && d.Key.Platform == platform {
			m.held[id] = true
			out = append(out, d)
		}
	}
	return out, nil
}

func (m *memOutbox) Pending(_ context.Context, platform string, limit int) ([]conversation.Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []conversation.Delivery
	for id := uint64(1); id <= m.next && len(out) < limit; id++ {
		if d, ok := m.entries[id]; ok && d.Key.Platform == platform {
			out = append(out, d)
		}
	}
	return out, nil
}

func (m *memOutbox) Unclaim(_ context.Context, ids ...uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		delete(m.held, id)
	}
	return nil
}

func (m *memOutbox) MarkDelivered(_ context.Context, ids ...uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failMarks > 0 {
		m.failMarks--
		return errors.New("no space left on device")
	}
	for _, id := range ids {
		delete(m.entries, id)
		delete(m.held, id)
	}
	return nil
}

func (m *memOutbox) waiting() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// chatSender records what it sends per chat, and fails as fail says (nil: never).
type chatSender struct {
	mu       sync.Mutex
	got      map[string][]int
	times    map[string][]time.Time
	attempts map[uint64]int
	sent     atomic.Int64
	fail     func(d conversation.Delivery, attempt int) error
}

func newChatSender(fail func(conversation.Delivery, int) error) *chatSender {
	return &chatSender{got: map[string][]int{}, times: map[string][]time.Time{}, attempts: map[uint64]int{}, fail: fail}
}

func (s *chatSender) Send(_ context.Context, d conversation.Delivery) error {
	s.mu.Lock()
	s.attempts[d.ID]++
	attempt := s.attempts[d.ID]
	s.times[d.Key.Chat] = append(s.times[d.Key.Chat], time.Now())
	s.mu.Unlock()
	if s.fail != nil {
		if err := s.fail(d, attempt); err != nil {
			return err
		}
	}
	n, _ := strconv.Atoi(d.Reply.Text)
	s.mu.Lock()
	s.got[d.Key.Chat] = append(s.got[d.Key.Chat], n)
	s.mu.Unlock()
	s.sent.Add(1)
	return nil
}

func (s *chatSender) of(chat string) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got[chat])
}

func (s *chatSender) timesOf(chat string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.times[chat])
}

type countingMetrics struct{ sent, limited, retried atomic.Int64 }

func (m *countingMetrics) MessageSent() { m.sent.Add(1) }
func (m *countingMetrics) RateLimited() { m.limited.Add(1) }
func (m *countingMetrics) Retried()     { m.retried.Add(1) }

// runOutbox runs o until the test ends, or until the returned stop is called.
func runOutbox(t *testing.T, o *conversation.Outbox) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { o.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Error("Outbox.Run did not return within 10 s of its stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	eventuallyWithin(t, 15*time.Second, what, cond)
}

func eventuallyWithin(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A backlog larger than the window, and replies committed while it goes out, reach every
// chat complete, once each, and in commit order; a chat whose lane is full does not stop
// the others.
func TestOutbox_BacklogAndNewRepliesInCommitOrderPerChat(t *testing.T) {
	store := newMemOutbox()
	const chats, backlog, fresh = 300, 10, 5
	for seq := range backlog {
		for c := range chats {
			store.add(fmt.Sprint("c", c), seq)
		}
	}
	sender := newChatSender(nil)
	o := conversation.NewOutbox(store, conversation.OutboxOptions{Platform: "test", Sender: sender, Window: 100, ChatWindow: 3, Rescan: 20 * time.Millisecond})
	runOutbox(t, o)
	for seq := backlog; seq < backlog+fresh; seq++ {
		for c := range chats {
			store.add(fmt.Sprint("c", c), seq)
		}
		o.Notify()
	}
	eventually(t, "every reply sent and marked", func() bool { return store.waiting() == 0 })
	for c := range chats {
		got := sender.of(fmt.Sprint("c", c))
		want := make([]int, backlog+fresh)
		for i := range want {
			want[i] = i
		}
		if !slices.Equal(got, want) {
			t.Fatalf("chat c%d got %v, want %v", c, got, want)
		}
	}
}

// A 429 holds back its chat for the time the platform asks, and no other chat.
func TestOutbox_RetryAfterHoldsBackOnlyThatChat(t *testing.T) {
	store := newMemOutbox()
	store.add("limited", 0)
	store.add("other", 0)
	const wait = 300 * time.Millisecond
	sender := newChatSender(func(d conversation.Delivery, attempt int) error {
		if d.Key.Chat == "limited" && attempt == 1 {
			return &conversation.RetryAfterError{After: wait, Err: errors.New("Too Many Requests")}
		}
		return nil
	})
	var m countingMetrics
	start := time.Now()
	runOutbox(t, conversation.NewOutbox(store, conversation.OutboxOptions{Platform: "test", Sender: sender, Metrics: &m}))
	eventually(t, "both sent", func() bool { return sender.sent.Load() == 2 })
	times := sender.timesOf("limited")
	if len(times) != 2 {
		t.Fatalf("%d attempts for the limited chat, want 2", len(times))
	}
	if gap := times[1].Sub(times[0]); gap < wait {
		t.Errorf("sent again %s after the 429, before the %s asked for", gap, wait)
	}
	if other := sender.timesOf("other"); other[0].Sub(start) > wait/2 {
		t.Errorf("the other chat waited %s behind the limited one", other[0].Sub(start))
	}
	if m.limited.Load() != 1 || m.sent.Load() != 2 {
		t.Errorf("metrics: %d rate limited, %d sent; want 1 and 2", m.limited.Load(), m.sent.Load())
	}
}

// Passing failures are retried after a backoff that doubles; a reply is sent once it works,
// and the next reply of the chat waits for it.
func TestOutbox_PassingFailuresBackOffAndKeepOrder(t *testing.T) {
	store := newMemOutbox()
	store.add("c", 0)
	store.add("c", 1)
	const first = 20 * time.Millisecond
	sender := newChatSender(func(d conversation.Delivery, attempt int) error {
		if d.Reply.Text == "0" && attempt <= 3 {
			return errors.New("connection reset by peer")
		}
		return nil
	})
	var m countingMetrics
	runOutbox(t, conversation.NewOutbox(store, conversation.OutboxOptions{Platform: "test", Sender: sender, Backoff: first, Metrics: &m}))
	eventually(t, "both sent and marked", func() bool { return store.waiting() == 0 })
	if got := sender.of("c"); !slices.Equal(got, []int{0, 1}) {
		t.Errorf("sent %v, want [0 1]", got)
	}
	times := sender.timesOf("c")
	for i, want := range []time.Duration{first, 2 * first, 4 * first} {
		if gap := times[i+1].Sub(times[i]); gap < want {
			t.Errorf("retry %d came %s after the failure, want at least %s", i+1, gap, want)
		}
	}
	if m.retried.Load() != 3 {
		t.Errorf("%d retries counted, want 3", m.retried.Load())
	}
}

// A reply the platform refuses for good leaves the outbox after one try.
func TestOutbox_UndeliverableIsDroppedOnce(t *testing.T) {
	store := newMemOutbox()
	store.add("blocked-the-bot", 0)
	sender := newChatSender(func(conversation.Delivery, int) error {
		return fmt.Errorf("%w: Forbidden: bot was blocked by the user", conversation.ErrUndeliverable)
	})
	runOutbox(t, conversation.NewOutbox(store, conversation.OutboxOptions{Platform: "test", Sender: sender, Backoff: time.Millisecond}))
	eventually(t, "the reply dropped", func() bool { return store.waiting() == 0 })
	time.Sleep(20 * time.Millisecond)
	if n := len(sender.timesOf("blocked-the-bot")); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

// A store that cannot mark sent replies delivered (a full disk) makes the Outbox try the
// mark again, never send the replies again.
func TestOutbox_FailedMarkNeverResends(t *testing.T) {
	store := newMemOutbox()
	for i := range 20 {
		store.add(fmt.Sprint("c", i%4), i)
	}
	store.failMarks = 3
	sender := newChatSender(nil)
	runOutbox(t, conversation.NewOutbox(store, conversation.OutboxOptions{Platform: "test", Sender: sender, Backoff: 10 * time.Millisecond, Rescan: 5 * time.Millisecond}))
	eventually(t, "every reply marked", func() bool { return store.waiting() == 0 })
	if n := sender.sent.Load(); n != 20 {
		t.Errorf("%d sends for 20 replies: a failed mark made the outbox send again", n)
	}
}

// However many replies wait, the Outbox holds at most its window in memory, and forgets the
// pace of chats it is done with.
func TestOutbox_MemoryBoundedByWindowAndIdleChatsForgotten(t *testing.T) {
	store := newMemOutbox()
	const chats = 100_000
	for c := range chats {
		store.add(fmt.Sprint("c", c), 0)
	}
	release := make(chan struct{})
	var inFlight, maxInFlight atomic.Int64
	sender := newChatSender(func(conversation.Delivery, int) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		return nil
	})
	const window = 256
	o := conversation.NewOutbox(store, conversation.OutboxOptions{
		Platform: "test", Sender: sender, Window: window, Rescan: 20 * time.Millisecond,
		Limits: conversation.Limits{Chat: func(conversation.Delivery) conversation.Rate {
			return conversation.Rate{Every: time.Millisecond, Burst: 1}
		}},
	})
	runOutbox(t, o)
	eventually(t, "the window filled", func() bool { return conversation.Held(o) == window })
	time.Sleep(50 * time.Millisecond)
	if held := conversation.Held(o); held > window {
		t.Errorf("%d replies held in memory, window %d", held, window)
	}
	close(release)
	// 100,000 sends take a few seconds, and several times that under the race detector on a
	// busy machine.
	eventuallyWithin(t, 2*time.Minute, "every reply sent", func() bool { return store.waiting() == 0 })
	eventually(t, "idle chats forgotten", func() bool { return o.Chats() < 100 })
	if n := sender.sent.Load(); n != chats {
		t.Errorf("%d sent, want %d", n, chats)
	}
}

// Stopping gives back what could not be sent within the drain; the next Outbox on the same
// store sends it, in commit order, and nothing twice.
func TestOutbox_StopGivesBackAndNextSenderResumes(t *testing.T) {
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "bot.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	for i := range 30 {
		_, err := store.Commit(ctx, conversation.Turn{Key: conversation.Key{Platform: "test", Chat: fmt.Sprint("c", i%3), User: "u"}}, func(*conversation.Dialog) (conversation.Result, error) {
			return conversation.Result{Reply: conversation.Reply{Text: strconv.Itoa(i / 3)}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The platform is down: every send fails until the first Outbox stops.
	down := newChatSender(func(conversation.Delivery, int) error { return errors.New("502 Bad Gateway") })
	stop := runOutbox(t, conversation.NewOutbox(store, conversation.OutboxOptions{Platform: "test", Sender: down, Backoff: 10 * time.Millisecond, Drain: 50 * time.Millisecond}))
	eventually(t, "a few attempts", func() bool { return len(down.timesOf("c0")) >= 2 })
	stop()
	if held, err := store.Claim(ctx, "test", 0, 100); err != nil || len(held) != 30 {
		t.Fatalf("after the stop, Claim found %d replies (%v): the stopped Outbox kept holds", len(held), err)
	} else {
		ids := make([]uint64, len(held))
		for i, d := range held {
			ids[i] = d.ID
		}
		store.Unclaim(ctx, ids...)
	}
	up := newChatSender(nil)
	runOutbox(t, conversation.NewOutbox(store, conversation.OutboxOptions{Platform: "test", Sender: up}))
	eventually(t, "the next sender delivered everything", func() bool {
		p, _ := store.Pending(ctx, "test", 100)
		return len(p) == 0
	})
	for c := range 3 {
		if got := up.of(fmt.Sprint("c", c)); !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Errorf("chat c%d got %v", c, got)
		}
	}
}

// flakyRole is an Elector whose role is lost when lose is called, and given again at the
// next Campaign.
type flakyRole struct {
	mu   sync.Mutex
	lost chan struct{}
	runs atomic.Int64
}

func (e *flakyRole) Campaign(ctx context.Context, role string) (conversation.Role, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lost = make(chan struct{})
	e.runs.Add(1)
	return e, nil
}

func (e *flakyRole) Lost() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lost
}

func (e *flakyRole) Release() {}

func (e *flakyRole) lose() {
	e.mu.Lock()
	defer e.mu.Unlock()
	close(e.lost)
}

// A sender that loses its role (its database connection broke) while the marks of what it
// sent fail keeps those replies as sent: elected again, it marks them and does not send them
// a second time.
func TestOutbox_SentButUnmarkedSurvivesALostRole(t *testing.T) {
	store := newMemOutbox()
	for i := range 5 {
		store.add("c", i)
	}
	store.failMarks = 1 << 30
	sender := newChatSender(nil)
	elector := &flakyRole{}
	o := conversation.NewOutbox(store, conversation.OutboxOptions{Platform: "test", Sender: sender, Elector: elector, Backoff: 5 * time.Millisecond, Drain: 20 * time.Millisecond, Rescan: 5 * time.Millisecond})
	runOutbox(t, o)
	eventually(t, "all five sent", func() bool { return sender.sent.Load() == 5 })
	elector.lose()
	eventually(t, "elected again", func() bool { return elector.runs.Load() >= 2 })
	store.mu.Lock()
	store.failMarks = 0
	store.mu.Unlock()
	eventually(t, "the five marked", func() bool { return store.waiting() == 0 })
	if n := sender.sent.Load(); n != 5 {
		t.Errorf("%d sends for 5 replies: the new term sent again what the last one could not mark", n)
	}
}

// A sender elected anew gives up the holds a past term left (its sender died, or could not
// give them back), so that a person's newer reply does not overtake an older one still held.
func TestOutbox_NewTermReleasesStaleHolds(t *testing.T) {
	store := newMemOutbox()
	store.add("c", 0)
	store.add("c", 1)
	// A past term claimed the first reply and died holding it.
	if got, _ := store.Claim(context.Background(), "test", 0, 1); len(got) != 1 {
		t.Fatal("could not claim the first reply")
	}
	sender := newChatSender(nil)
	runOutbox(t, conversation.NewOutbox(store, conversation.OutboxOptions{Platform: "test", Sender: sender, Elector: &flakyRole{}}))
	eventually(t, "both sent", func() bool { return store.waiting() == 0 })
	if got := sender.of("c"); !slices.Equal(got, []int{0, 1}) {
		t.Errorf("the chat got %v, want [0 1]: the newer reply overtook the one a past term held", got)
	}
}
