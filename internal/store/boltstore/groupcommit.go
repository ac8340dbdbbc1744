package boltstore

import (
	"fmt"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// maxGroup bounds how many writes share one transaction, and so how much one commit holds in
// memory and how long the first write of a group waits for the last.
const maxGroup = 1024

// groupCommit is the store's group commit: one goroutine runs every write, and whenever it is
// free it takes all the writes that arrived meanwhile into one transaction, with one fsync.
//
// bbolt's own DB.Batch cuts a group every MaxBatchDelay whether or not the writer is free, so
// under load groups of a few dozen writes queue up behind each other for the writer, and
// each pays a commit of its own (measured: about 50 writes a commit with 256 waiting). Here a
// group is exactly what waited for the writer: a lone write commits at once, and a crowd
// shares as few commits as the disk's speed allows.
type groupCommit struct {
	db   *bolt.DB
	wake chan struct{} // a write was queued; holds at most one signal
	done chan struct{} // closed when run has returned

	mu     sync.Mutex
	queue  []pendingWrite
	spare  []pendingWrite // the previous group's slice, reused for the next queue
	closed bool
}

type pendingWrite struct {
	fn   func(*bolt.Tx) error
	done func(error)
}

func newGroupCommit(db *bolt.DB) *groupCommit {
	g := &groupCommit{db: db, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go g.run()
	return g
}

// do runs fn in a write transaction shared with the writes queued at the same time, and
// returns fn's error or the commit's. fn may run more than once (a group in which one write
// fails is undone and its writes run again one by one), so it must set its results afresh.
func (g *groupCommit) do(fn func(*bolt.Tx) error) error {
	result := make(chan error, 1)
	if err := g.queueWrite(fn, func(err error) { result <- err }); err != nil {
		return err
	}
	return <-result
}

// queueWrite is do without the wait: done is called, on the writer's goroutine, with what do
// would return. Once close was called it returns bolt.ErrDatabaseNotOpen and done is never
// called.
func (g *groupCommit) queueWrite(fn func(*bolt.Tx) error, done func(error)) error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return bolt.ErrDatabaseNotOpen
	}
	g.queue = append(g.queue, pendingWrite{fn: fn, done: done})
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default: // a signal is pending already; run will see this write with it
	}
	return nil
}

// close commits the writes queued so far and stops; later writes fail.
func (g *groupCommit) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
	<-g.done
}

func (g *groupCommit) run() {
	defer close(g.done)
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxGroup)
		group := g.queue[:n:n]
		if n == len(g.queue) {
			g.queue, g.spare = g.spare[:0], g.queue
		} else {
			g.queue = g.queue[n:]
		}
		closed := g.closed
		g.mu.Unlock()
		if n == 0 {
			if closed {
				return
			}
			<-g.wake
			continue
		}
		g.commit(group)
		clear(group) // let the functions' closures go
	}
}

// commit runs the group in one transaction. If a write fails, or the commit does, the
// transaction is rolled back and each write runs again in a transaction of its own, so that
// only the failing one gets the error.
func (g *groupCommit) commit(group []pendingWrite) {
	err := g.update(func(tx *bolt.Tx) error {
		for _, w := range group {
			if err := w.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(group) == 1 {
		for _, w := range group {
			w.done(err)
		}
		return
	}
	for _, w := range group {
		w.done(g.update(w.fn))
	}
}

// update is DB.Update with a panic, in a write or in bbolt itself (which panics on some kinds
// of damage), turned into an error: the writer goroutine serves every conversation, and one
// bad write must not take it, or the process, down. DB.Update rolls the transaction back
// before the panic reaches here.
func (g *groupCommit) update(fn func(*bolt.Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in a write transaction: %v", p)
		}
	}()
	return g.db.Update(fn)
}
