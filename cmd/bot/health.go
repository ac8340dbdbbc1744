package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
)

// healthEvery is how often each platform's API is asked whether it knows the bot.
const healthEvery = 30 * time.Second

// healthProbeEvery is how often the store is made to commit (Store.Ping), so that a store
// that stopped committing shows in /healthz within a few seconds even when nobody writes.
const healthProbeEvery = 2 * time.Second

// pinger is a store that can tell whether it can commit.
type pinger interface {
	Ping(ctx context.Context) error
}

// health serves /healthz: 200 when the store commits and each platform answered its last
// check, 503 with the reasons otherwise. The store is failing while the probe's last commit
// (Store.Ping, every healthProbeEvery, through the path messages take) failed, or while a
// person's message failed to commit within the last messageFailureHold: a full disk may
// still take the probe's small write and refuse the messages' larger ones. Platforms are
// checked in the background (watch), so a request to /healthz does no I/O.
type health struct {
	store pinger

	mu         sync.Mutex
	probed     checkResult // the probe's last commit
	messageErr checkResult // the last failed commit of a message, if any
	checks     map[string]checkResult
}

type checkResult struct {
	err error
	at  time.Time
}

// messageFailureHold is how long a failed commit of a message keeps /healthz at 503 when no
// later message commit worked.
const messageFailureHold = 10 * time.Second

var errNotChecked = fmt.Errorf("not checked yet")

func newHealth(store pinger) *health {
	return &health{store: store, checks: map[string]checkResult{}, probed: checkResult{err: errNotChecked}}
}

// commitDone records how a message's commit ended; it is the service's Observer's. A
// duplicate is a commit that worked; a panic in the engine or a message given up because the
// bot is stopping says nothing about the store.
func (h *health) commitDone(err error) {
	var pe *conversation.PanicError
	switch {
	case errors.Is(err, conversation.ErrDuplicate):
		err = nil
	case errors.As(err, &pe), errors.Is(err, context.Canceled):
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.messageErr = checkResult{err: err, at: time.Now()}
}

// probe pings the store every interval until ctx is done.
func (h *health) probe(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, interval)
		err := h.store.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no commit within %s", interval)
		}
		h.mu.Lock()
		h.probed = checkResult{err: err, at: time.Now()}
		h.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// watch runs check at once and then every interval until ctx is done, keeping the result
// under name.
func (h *health) watch(ctx context.Context, name string, interval time.Duration, check func(context.Context) error) {
	h.set(name, errNotChecked)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := check(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		h.set(name, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *health) set(name string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = checkResult{err: err, at: time.Now()}
}

func (h *health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var lines []string
	ok := true
	h.mu.Lock()
	switch p, m := h.probed, h.messageErr; {
	case p.err != nil:
		ok = false
		lines = append(lines, "store: "+p.err.Error())
	case m.err != nil && time.Since(m.at) < messageFailureHold:
		ok = false
		lines = append(lines, "store: a message's commit failed "+time.Since(m.at).Round(time.Second).String()+" ago: "+m.err.Error())
	default:
		lines = append(lines, fmt.Sprintf("store: ok (committed %s ago)", time.Since(p.at).Round(time.Second)))
	}
	names := make([]string, 0, len(h.checks))
	for name := range h.checks {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c := h.checks[name]
		if c.err != nil {
			ok = false
			lines = append(lines, fmt.Sprintf("%s: %v", name, c.err))
			continue
		}
		lines = append(lines, fmt.Sprintf("%s: ok (checked %s ago)", name, time.Since(c.at).Round(time.Second)))
	}
	h.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}
