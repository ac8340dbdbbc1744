package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// healthEvery is how often each platform's API is asked whether it knows the bot.
const healthEvery = 30 * time.Second

// pinger is a store that can tell whether it can commit (boltstore.Store).
type pinger interface {
	Ping(ctx context.Context) error
}

// health serves /healthz: 200 when the store commits and each platform answered its last
// check, 503 with the reasons otherwise. Platforms are checked in the background (watch), so
// a probe never calls a platform's API.
type health struct {
	store pinger

	mu     sync.Mutex
	checks map[string]checkResult
}

type checkResult struct {
	err error
	at  time.Time
}

var errNotChecked = fmt.Errorf("not checked yet")

func newHealth(store pinger) *health {
	return &health{store: store, checks: map[string]checkResult{}}
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
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		ok = false
		lines = append(lines, "store: "+err.Error())
	} else {
		lines = append(lines, "store: ok")
	}
	h.mu.Lock()
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
