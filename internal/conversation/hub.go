package conversation

import (
	"context"
	"fmt"
	"sync"
)

// Hub is the one delivery path of the bot, for every platform: a Dispatcher that commits
// inbound messages (one person's in order, floods slowed down) and an Outbox per platform
// that sends the replies (each chat's in commit order, paced, retried, resent after a
// crash). An adapter hands its inbound messages to Submit and sends what its Outbox gives
// it; docs/adapters.md has the contract.
type Hub struct {
	*Dispatcher
	outboxes map[string]*Outbox
	store    Store
	started  bool
	mu       sync.Mutex
}

// NewHub returns a Hub committing through svc, with the dispatcher configured by opts
// (whose Notify is the Hub's own). Add the platforms, then Run.
func NewHub(svc *Service, opts DispatcherOptions) *Hub {
	h := &Hub{outboxes: map[string]*Outbox{}, store: svc.store}
	opts.Notify = h.notify
	h.Dispatcher = NewDispatcher(svc, opts)
	return h
}

// AddPlatform adds the Outbox of opts.Platform. Call it before Run, once per platform.
func (h *Hub) AddPlatform(opts OutboxOptions) (*Outbox, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.started:
		return nil, fmt.Errorf("add platform %s: the hub runs already", opts.Platform)
	case opts.Platform == "" || opts.Sender == nil:
		return nil, fmt.Errorf("add platform %q: a platform name and a Sender are required", opts.Platform)
	case h.outboxes[opts.Platform] != nil:
		return nil, fmt.Errorf("add platform %s: added twice", opts.Platform)
	}
	o := NewOutbox(h.store, opts)
	h.outboxes[opts.Platform] = o
	return o, nil
}

// notify wakes the Outbox of platform. Replies for a platform this process does not serve
// wait in the store for one that does.
func (h *Hub) notify(platform string) {
	if o := h.outboxes[platform]; o != nil {
		o.Notify()
	}
}

// Run runs the dispatcher and the outboxes until ctx is done. Stopping, the dispatcher
// finishes the messages in flight first, so that their replies are committed, and then the
// outboxes send what they can within their Drain; the rest waits in the store for the next
// start.
func (h *Hub) Run(ctx context.Context) {
	h.mu.Lock()
	h.started = true
	h.mu.Unlock()
	outboxCtx, stopOutboxes := context.WithCancel(context.WithoutCancel(ctx))
	defer stopOutboxes()
	var outboxes sync.WaitGroup
	for _, o := range h.outboxes {
		outboxes.Go(func() { o.Run(outboxCtx) })
	}
	h.Dispatcher.Run(ctx)
	stopOutboxes()
	outboxes.Wait()
}
