package conversation_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/store/boltstore"
)

// recordingSender collects delivered replies per dialog.
type recordingSender struct {
	mu      sync.Mutex
	replies map[conversation.Key][]conversation.Reply
	all     chan conversation.Delivery
}

func newRecordingSender() *recordingSender {
	return &recordingSender{replies: map[conversation.Key][]conversation.Reply{}, all: make(chan conversation.Delivery, 10000)}
}

func (s *recordingSender) Send(_ context.Context, d conversation.Delivery) error {
	s.mu.Lock()
	s.replies[d.Key] = append(s.replies[d.Key], d.Reply)
	s.mu.Unlock()
	s.all <- d
	return nil
}

func (s *recordingSender) of(k conversation.Key) []conversation.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]conversation.Reply(nil), s.replies[k]...)
}

// panickyStore hands step a nil dialog the first time it commits one inbound id, as a bug in
// handling that message would make it panic.
type panickyStore struct {
	conversation.Store
	poison string
	once   *sync.Once
}

func (s panickyStore) Commit(ctx context.Context, t conversation.Turn, step func(*conversation.Dialog) (conversation.Result, error)) (conversation.Delivery, error) {
	first := false
	if t.InboundID == s.poison {
		s.once.Do(func() { first = true })
	}
	if first {
		if _, err := step(nil); err != nil {
			return conversation.Delivery{}, err
		}
	}
	return s.Store.Commit(ctx, t, step)
}

// newDispatcher runs a hub on a new bbolt file with a recording sender as the outbox of
// platform "test".
func newDispatcher(t *testing.T, wrap func(conversation.Store) conversation.Store, opts conversation.DispatcherOptions) (*conversation.Hub, *recordingSender, func()) {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "bot.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var s conversation.Store = store
	if wrap != nil {
		s = wrap(store)
	}
	sender := newRecordingSender()
	svc := conversation.NewService(newEngine(t, "en"), s, conversation.ServiceOptions{})
	hub := conversation.NewHub(svc, opts)
	if _, err := hub.AddPlatform(conversation.OutboxOptions{Platform: "test", Sender: sender}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Run(ctx); close(done) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done; store.Close() }) }
	t.Cleanup(stop)
	return hub, sender, stop
}

func text(k conversation.Key, id, s string) conversation.Inbound {
	return conversation.Inbound{Turn: conversation.Turn{Key: k, InboundID: id}, Input: conversation.Input{Kind: conversation.InputText, Text: s}}
}

func waitFor(t *testing.T, sender *recordingSender, n int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for range n {
		select {
		case <-sender.all:
		case <-timeout:
			t.Fatalf("timed out waiting for %d replies", n)
		}
	}
}

func TestDispatcher_OrderPerPersonAndEveryoneAnswered(t *testing.T) {
	d, sender, _ := newDispatcher(t, nil, conversation.DispatcherOptions{Workers: 4, QueueLen: 2, FloodLimit: 100})
	solutions := []string{"paypal", "virtual-card", "choose-plan", "payment-timing"}
	const people = 30
	ctx := context.Background()
	for i, sol := range solutions {
		for p := range people {
			k := conversation.Key{Platform: "test", Chat: fmt.Sprint(p), User: fmt.Sprint(p)}
			if err := d.Submit(ctx, text(k, fmt.Sprint(p, "-", i), "/solution "+sol), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, sender, people*len(solutions))
	for p := range people {
		got := sender.of(conversation.Key{Platform: "test", Chat: fmt.Sprint(p), User: fmt.Sprint(p)})
		if len(got) != len(solutions) {
			t.Fatalf("person %d got %d replies, want %d", p, len(got), len(solutions))
		}
		for i, r := range got {
			if r.Solutions[0] != solutions[i] {
				t.Errorf("person %d: reply %d shows %v, want %s: messages handled out of order", p, i, r.Solutions, solutions[i])
			}
		}
	}
}

func TestDispatcher_FloodIsSlowedDownAndOthersStillAnswered(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	d, sender, _ := newDispatcher(t, nil, conversation.DispatcherOptions{Workers: 2, Now: clock})
	ctx := context.Background()
	flooder := conversation.Key{Platform: "test", Chat: "f", User: "f"}
	calm := conversation.Key{Platform: "test", Chat: "c", User: "c"}
	for i := range 150 {
		if err := d.Submit(ctx, text(flooder, fmt.Sprint("f", i), "hello?"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Submit(ctx, text(calm, "c1", "/start"), nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sender, 7) // 5 answers and one "slow down" for the flooder, one for the other person
	time.Sleep(100 * time.Millisecond)
	got := sender.of(flooder)
	if len(got) != 6 || !strings.Contains(got[5].Text, "faster than I can answer") {
		t.Errorf("flooder got %d replies (want 5 and one slow-down): last %q", len(got), got[len(got)-1].Text)
	}
	if other := sender.of(calm); len(other) != 1 || !strings.Contains(other[0].Text, "What happened") {
		t.Errorf("the other person's /start: %+v", other)
	}
	// Once the flooder calms down they are answered again.
	mu.Lock()
	now = now.Add(10 * time.Second)
	mu.Unlock()
	if err := d.Submit(ctx, text(flooder, "f-later", "/help"), nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, sender, 1)
	if got := sender.of(flooder); !strings.Contains(got[len(got)-1].Text, "/solutions") {
		t.Errorf("after calming down: %q", got[len(got)-1].Text)
	}
}

func TestDispatcher_PanicIsAnsweredWithAnApology(t *testing.T) {
	d, sender, _ := newDispatcher(t, func(s conversation.Store) conversation.Store {
		return panickyStore{Store: s, poison: "bad", once: &sync.Once{}}
	}, conversation.DispatcherOptions{})
	k := conversation.Key{Platform: "test", Chat: "p", User: "p"}
	errs := make(chan error, 2)
	ctx := context.Background()
	d.Submit(ctx, text(k, "bad", "/start"), func(err error) { errs <- err })
	d.Submit(ctx, text(k, "good", "/help"), func(err error) { errs <- err })
	waitFor(t, sender, 2)
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("done(%v): a recovered panic must still acknowledge the update", err)
		}
	}
	got := sender.of(k)
	if !strings.HasPrefix(got[0].Text, "Sorry, something went wrong") {
		t.Errorf("first reply %q, want the apology", got[0].Text)
	}
	if !strings.Contains(got[1].Text, "/solutions") {
		t.Errorf("the process did not go on serving: %q", got[1].Text)
	}
}

func TestDispatcher_DuplicateAcknowledgedOnce(t *testing.T) {
	d, sender, _ := newDispatcher(t, nil, conversation.DispatcherOptions{})
	k := conversation.Key{Platform: "test", Chat: "d", User: "d"}
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		d.Submit(context.Background(), text(k, "same", "/start"), func(err error) {
			if err != nil {
				t.Errorf("done(%v) for a duplicate", err)
			}
			wg.Done()
		})
	}
	wg.Wait()
	time.Sleep(50 * time.Millisecond)
	if n := len(sender.of(k)); n != 1 {
		t.Errorf("%d replies to one update delivered three times", n)
	}
}

func TestDispatcher_StopReportsQueuedMessages(t *testing.T) {
	blocked := make(chan struct{})
	d, _, stop := newDispatcher(t, func(s conversation.Store) conversation.Store { return slowStore{Store: s, release: blocked} }, conversation.DispatcherOptions{Workers: 1, QueueLen: 8})
	k := conversation.Key{Platform: "test", Chat: "s", User: "s"}
	results := make(chan error, 3)
	for i := range 3 {
		d.Submit(context.Background(), text(k, fmt.Sprint(i), "/start"), func(err error) { results <- err })
	}
	time.Sleep(50 * time.Millisecond) // the first is in flight, two wait
	go func() { time.Sleep(50 * time.Millisecond); close(blocked) }()
	stop()
	var stopped, handled int
	for range 3 {
		switch err := <-results; err {
		case nil:
			handled++
		case conversation.ErrStopped:
			stopped++
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if handled != 1 || stopped != 2 {
		t.Errorf("handled %d, stopped %d; want the one in flight finished and two reported stopped", handled, stopped)
	}
}

// slowStore holds every commit until release is closed.
type slowStore struct {
	conversation.Store
	release chan struct{}
}

func (s slowStore) Commit(ctx context.Context, t conversation.Turn, step func(*conversation.Dialog) (conversation.Result, error)) (conversation.Delivery, error) {
	<-s.release
	return s.Store.Commit(ctx, t, step)
}

// failOnce fails the first commit of one inbound id, as a full disk would.
type failOnce struct {
	conversation.Store
	id     string
	failed *sync.Once
}

func (s failOnce) Commit(ctx context.Context, t conversation.Turn, step func(*conversation.Dialog) (conversation.Result, error)) (conversation.Delivery, error) {
	fail := false
	if t.InboundID == s.id {
		s.failed.Do(func() { fail = true })
	}
	if fail {
		return conversation.Delivery{}, fmt.Errorf("disk full")
	}
	return s.Store.Commit(ctx, t, step)
}

func TestDispatcher_AFailureKeepsThePersonsOrder(t *testing.T) {
	blocked := make(chan struct{})
	d, sender, _ := newDispatcher(t, func(s conversation.Store) conversation.Store {
		return slowStore{Store: failOnce{Store: s, id: "1", failed: &sync.Once{}}, release: blocked}
	}, conversation.DispatcherOptions{Workers: 1})
	k := conversation.Key{Platform: "test", Chat: "o", User: "o"}
	other := conversation.Key{Platform: "test", Chat: "x", User: "x"}
	results := make([]chan error, 4)
	for i := range results {
		results[i] = make(chan error, 1)
	}
	ctx := context.Background()
	d.Submit(ctx, text(k, "1", "/solution paypal"), func(err error) { results[0] <- err })
	d.Submit(ctx, text(k, "2", "/solution virtual-card"), func(err error) { results[1] <- err })
	d.Submit(ctx, text(other, "3", "/start"), func(err error) { results[2] <- err })
	close(blocked)
	if err := <-results[0]; err == nil {
		t.Fatal("the failing commit reported success")
	}
	if err := <-results[1]; !errors.Is(err, conversation.ErrEarlierFailed) {
		t.Errorf("the person's next message: %v, want ErrEarlierFailed (it must come again after the failed one)", err)
	}
	if err := <-results[2]; err != nil {
		t.Errorf("another person's message failed too: %v", err)
	}
	// The platform sends both again, in order: now they are handled, in order.
	d.Submit(ctx, text(k, "1", "/solution paypal"), func(err error) { results[3] <- err })
	d.Submit(ctx, text(k, "2", "/solution virtual-card"), nil)
	if err := <-results[3]; err != nil {
		t.Fatal(err)
	}
	waitFor(t, sender, 3)
	got := sender.of(k)
	if len(got) != 2 || got[0].Solutions[0] != "paypal" || got[1].Solutions[0] != "virtual-card" {
		t.Errorf("the person's replies: %+v", got)
	}
}

// flakyStore fails every commit while down is set, as a store that lost its disk or its
// server does.
type flakyStore struct {
	conversation.Store
	down *atomic.Bool
}

func (s flakyStore) Commit(ctx context.Context, t conversation.Turn, step func(*conversation.Dialog) (conversation.Result, error)) (conversation.Delivery, error) {
	if s.down.Load() {
		return conversation.Delivery{}, errors.New("store unreachable")
	}
	return s.Store.Commit(ctx, t, step)
}

// Redeliveries of an update (a platform retrying it, a poller re-submitting it through a
// store outage) never count toward the flood limit: only committed first deliveries do.
func TestDispatcher_FloodCountsOnlyCommittedFirstDeliveries(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	d, sender, _ := newDispatcher(t, func(s conversation.Store) conversation.Store { return flakyStore{Store: s, down: &down} }, conversation.DispatcherOptions{Workers: 1})
	ctx := context.Background()
	k := conversation.Key{Platform: "test", Chat: "r", User: "r"}
	submit := func(id, line string) error {
		result := make(chan error, 1)
		if err := d.Submit(ctx, text(k, id, line), func(err error) { result <- err }); err != nil {
			t.Fatal(err)
		}
		return <-result
	}
	// The outage: the poller sends the same update again every second, a dozen times.
	for range 12 {
		if err := submit("u1", "/solution paypal"); err == nil {
			t.Fatal("a commit succeeded while the store was down")
		}
	}
	down.Store(false)
	if err := submit("u1", "/solution paypal"); err != nil {
		t.Fatal(err)
	}
	// Telegram delivers it again once more (the offset was not confirmed yet): a duplicate.
	for range 5 {
		if err := submit("u1", "/solution paypal"); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		if err := submit(fmt.Sprint("u", i+2), "/solution virtual-card"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, sender, 5)
	for i, r := range sender.of(k) {
		if strings.Contains(r.Text, "faster than I can answer") {
			t.Errorf("reply %d is the flood notice: retries and duplicates were counted as messages", i)
		}
	}
	if got := sender.of(k); len(got) != 5 || got[0].Solutions[0] != "paypal" {
		t.Errorf("got %d replies (want 5, the first for paypal): %+v", len(got), got)
	}
}

// A message submitted while the dispatcher stops, or after, is answered ErrStopped: every
// Submit gets its done call, so a poller waiting for its batch never hangs on shutdown.
func TestDispatcher_EverySubmitAnsweredAroundTheStop(t *testing.T) {
	d, _, stop := newDispatcher(t, nil, conversation.DispatcherOptions{Workers: 2, QueueLen: 1, FloodLimit: -1})
	var answered atomic.Int64
	var submitters sync.WaitGroup
	for i := range 200 {
		submitters.Go(func() {
			k := conversation.Key{Platform: "test", Chat: fmt.Sprint(i % 7), User: fmt.Sprint(i % 7)}
			d.Submit(context.Background(), text(k, fmt.Sprint(i), "/help"), func(error) { answered.Add(1) })
		})
		if i == 100 {
			go stop()
		}
	}
	submitters.Wait()
	stop()
	if n := answered.Load(); n != 200 {
		t.Errorf("%d of 200 submitted messages got their done call", n)
	}
	late := make(chan error, 1)
	d.Submit(context.Background(), text(conversation.Key{Platform: "test", Chat: "z", User: "z"}, "late", "/help"), func(err error) { late <- err })
	select {
	case err := <-late:
		if !errors.Is(err, conversation.ErrStopped) {
			t.Errorf("a message after the stop: %v, want ErrStopped", err)
		}
	case <-time.After(time.Second):
		t.Error("a message submitted after the stop never got its done call")
	}
}

// Messages a person wrote slowly during an outage, handled in one burst once the store is
// back, are paced by when they were sent: none is taken for a flood.
func TestDispatcher_FloodPacedBySendingTime(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	d, sender, _ := newDispatcher(t, func(s conversation.Store) conversation.Store { return flakyStore{Store: s, down: &down} }, conversation.DispatcherOptions{Workers: 1})
	k := conversation.Key{Platform: "test", Chat: "slow", User: "slow"}
	sent := time.Now().Add(-time.Minute)
	var ins []conversation.Inbound
	for i := range 8 {
		in := text(k, fmt.Sprint("s", i), "/solution paypal")
		in.At = sent.Add(time.Duration(i) * 3 * time.Second) // one every 3 s: slower than 5 in 10 s
		ins = append(ins, in)
	}
	down.Store(false) // the outage is over: all eight come at once
	for _, in := range ins {
		result := make(chan error, 1)
		d.Submit(context.Background(), in, func(err error) { result <- err })
		if err := <-result; err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, sender, 8)
	for i, r := range sender.of(k) {
		if strings.Contains(r.Text, "faster than I can answer") {
			t.Errorf("message %d, sent 3 s after the one before, was taken for a flood", i)
		}
	}
}

// The flood guard holds only the people active within its window: 100,000 people who each
// wrote once are forgotten a window later.
func TestFloodGuard_ForgetsQuietPeople(t *testing.T) {
	g := conversation.NewFloodGuard(5, 10*time.Second)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for i := range 100_000 {
		k := conversation.Key{Platform: "test", Chat: fmt.Sprint(i), User: fmt.Sprint(i)}
		g.Record(k, now, g.Peek(k, now))
	}
	if n := conversation.People(g); n != 100_000 {
		t.Fatalf("%d people held, want 100000 right after they wrote", n)
	}
	later := now.Add(11 * time.Second)
	k := conversation.Key{Platform: "test", Chat: "new", User: "new"}
	g.Record(k, later, g.Peek(k, later))
	if n := conversation.People(g); n != 1 {
		t.Errorf("%d people held a window later, want only the one who just wrote", n)
	}
}
