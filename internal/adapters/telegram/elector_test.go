package telegram

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/adapters/telegram/telegramtest"
	"github.com/paydoctor/bot/internal/conversation"
)

// memElector hands one role to one campaigner at a time, as pgstore's advisory lock does
// for replicas.
type memElector struct{ token chan struct{} }

func newMemElector() *memElector {
	e := &memElector{token: make(chan struct{}, 1)}
	e.token <- struct{}{}
	return e
}

func (e *memElector) Campaign(ctx context.Context, role string) (conversation.Role, error) {
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
	opts.Elector = newMemElector()
	h := newHarness(t, fake, "", opts)
	opts.KB, opts.Log = h.kb, h.bot.opts.Log
	replicas := []*Bot{h.bot, New(h.hub, opts)} // two replicas' adapters; one hub sends for both
	h.startHub()
	stops := make([]context.CancelFunc, len(replicas))
	dones := make([]chan error, len(replicas))
	for i, b := range replicas {
		ctx, cancel := context.WithCancel(context.Background())
		stops[i], dones[i] = cancel, make(chan error, 1)
		go func() { dones[i] <- b.Run(ctx) }()
	}
	fake.AddUpdate(telegramtest.PrivateText(alice, "/start"))
	fake.WaitMessages(t, 1, 5*time.Second)
	for range 20 {
		if n := fake.Polling(); n > 1 {
			t.Fatalf("%d replicas poll at once", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	polling := -1
	for i, b := range replicas {
		if b.self.Load() != nil {
			if polling >= 0 {
				t.Fatal("both replicas poll")
			}
			polling = i
		}
	}
	if polling < 0 {
		t.Fatal("no replica polls")
	}
	// Stop the poller; the other replica takes the role and answers what comes next.
	stops[polling]()
	if err := <-dones[polling]; err != nil {
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
	other := 1 - polling
	stops[other]()
	if err := <-dones[other]; err != nil {
		t.Error(err)
	}
}
