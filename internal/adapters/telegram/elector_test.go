package telegram

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
)

// memElector hands one role to one campaigner at a time, as pgstore's advisory lock does
// for replicas.
type memElector struct{ token chan struct{} }

func newMemElector() *memElector {
	e := &memElector{token: make(chan struct{}, 1)}
	e.token <- struct{}{}
	return e
}

func (e *memElector) Campaign(ctx context.Context, role string) (Role, error) {
	select {
	case <-e.token:
		return &memRole{e: e, lost: make(chan struct{})}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type memRole struct {
	e    *memElector
	lost chan struct{}
	once sync.Once
}

func (r *memRole) Lost() <-chan struct{} { return r.lost }
func (r *memRole) Release()              { r.once.Do(func() { r.e.token <- struct{}{} }) }

// Two replicas share one store and one elector: one polls and sends; when it stops, the
// other takes over, and every update is answered once.
func TestElected_OnePollerAndTakeover(t *testing.T) {
	fake := telegramtest.NewServer(t)
	opts := testOptions(fake)
	elector := newMemElector()
	opts.Elector = elector
	h := newHarness(t, fake, "", opts)
	second := New(h.svc, h.store, opts)

	runA, stopA := context.WithCancel(context.Background())
	doneA := make(chan error, 1)
	go func() { doneA <- h.bot.Run(runA) }()
	runB, stopB := context.WithCancel(context.Background())
	doneB := make(chan error, 1)
	go func() { doneB <- second.Run(runB) }()

	fake.AddUpdate(telegramtest.PrivateText(alice, "/start"))
	fake.WaitMessages(t, 1, 5*time.Second)
	for range 20 {
		if n := fake.Polling(); n > 1 {
			t.Fatalf("%d replicas poll at once", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	aLeads := h.bot.sending.Load()
	if aLeads == second.sending.Load() {
		t.Fatalf("sending: A %v, B %v; want exactly one", aLeads, second.sending.Load())
	}
	// Stop the leader; the other replica takes the role and answers what comes next.
	stopLeader, leaderDone, stopOther, otherDone := stopA, doneA, stopB, doneB
	if !aLeads {
		stopLeader, leaderDone, stopOther, otherDone = stopB, doneB, stopA, doneA
	}
	stopLeader()
	if err := <-leaderDone; err != nil {
		t.Fatal(err)
	}
	fake.AddUpdate(telegramtest.PrivateText(bob, "/start"))
	fake.WaitMessages(t, 2, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := len(fake.Messages()); n != 2 {
		t.Errorf("%d messages, want each update answered once", n)
	}
	if len(fake.MessagesTo(bob.ID)) != 1 {
		t.Error("the update after the takeover was not answered")
	}
	stopOther()
	if err := <-otherDone; err != nil {
		t.Error(err)
	}
}
