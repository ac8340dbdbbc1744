package boltstore

import (
	"context"
	"fmt"
	"slices"
	"sync"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// maxGroup bounds how many writes share a transaction, and how long the first waits for the
// last.
const maxGroup = 1024

// writer is the store's group commit: one goroutine runs every write, and whenever it is free
// it takes all the writes that arrived meanwhile into one bbolt transaction and commit (with
// its fsync). A lone write is committed at once; a crowd shares as few commits as the disk
// allows. (bbolt's DB.Batch instead waits MaxBatchDelay, busy or not.)
type writer struct {
	db   *bolt.DB
	wake chan struct{} // a write was queued; holds at most one signal
	done chan struct{} // closed when run has returned

	mu       sync.Mutex
	queue    []write
	spare    []write // the previous group's slice, reused for the next queue
	closed   bool
	maxGroup int
}

type write struct {
	ctx    context.Context
	fn     func(*bolt.Tx) error
	result chan error
}

func newWriter(db *bolt.DB) *writer {
	w := &writer{db: db, wake: make(chan struct{}, 1), done: make(chan struct{}), maxGroup: maxGroup}
	go w.run()
	return w
}

// do runs fn in a transaction shared with the writes queued at the same time and returns
// fn's error, or the commit's once the commit is durable, or ctx's error if ctx ends first
// (the write may then still commit). fn may run more than once (when another write of its
// group fails). A write whose ctx is done before its turn is not run.
func (w *writer) do(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	result := make(chan error, 1)
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return berrors.ErrDatabaseNotOpen
	}
	w.queue = append(w.queue, write{ctx: ctx, fn: fn, result: result})
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default: // a signal is pending already; run will see this write with it
	}
	// A disk that stalls must not hold the caller past its deadline: a health probe then
	// reports the stall. The write may still commit; a message's platform sends it again and
	// finds it a duplicate, a delivered mark is marked again.
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close commits the writes queued so far and stops; later writes fail.
func (w *writer) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.done
}

func (w *writer) run() {
	defer close(w.done)
	for {
		w.mu.Lock()
		n := min(len(w.queue), w.maxGroup)
		group := w.queue[:n:n]
		if n == len(w.queue) {
			w.queue, w.spare = w.spare[:0], w.queue
		} else {
			w.queue = w.queue[n:]
		}
		closed := w.closed
		w.mu.Unlock()
		if n == 0 {
			if closed {
				return
			}
			<-w.wake
			continue
		}
		w.commit(group)
		clear(group) // let the functions' closures go
	}
}

// commit runs the group in one transaction. A write that fails (or panics) gets its error and
// the others run again without it; a commit that fails gives its error to every write.
func (w *writer) commit(group []write) {
	live := make([]write, 0, len(group))
	for _, wr := range group {
		if err := wr.ctx.Err(); err != nil {
			wr.result <- err
			continue
		}
		live = append(live, wr)
	}
	for len(live) > 0 {
		failed := -1
		err := update(w.db, func(tx *bolt.Tx) error {
			for i, wr := range live {
				if err := call(wr.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, wr := range live {
				wr.result <- err
			}
			return
		}
		live[failed].result <- err
		live = slices.Delete(live, failed, failed+1)
	}
}

// call runs fn with a panic turned into its error.
func call(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in a write: %v", p)
		}
	}()
	return fn(tx)
}

// update is DB.Update with a panic in bbolt itself (it panics on some kinds of damage) turned
// into an error: the writer serves every conversation, and must not take the process down.
// DB.Update rolls the transaction back before the panic reaches here.
func update(db *bolt.DB, fn func(*bolt.Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in a write transaction: %v", p)
		}
	}()
	return db.Update(fn)
}
