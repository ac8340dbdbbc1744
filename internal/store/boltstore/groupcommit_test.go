package boltstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func openGroupCommit(t *testing.T) (*bolt.DB, *groupCommit) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("b"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	g := newGroupCommit(db)
	t.Cleanup(func() {
		g.close()
		db.Close()
	})
	return db, g
}

func put(key string) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte(key), []byte("v")) }
}

func stored(t *testing.T, db *bolt.DB) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	err := db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("b")).ForEach(func(k, _ []byte) error { keys[string(k)] = true; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// While the writer is busy, the writes that arrive wait for it and are then committed
// together, in one transaction.
func TestGroupCommit_WritesWaitingForTheWriterShareOneTransaction(t *testing.T) {
	db, g := openGroupCommit(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var first sync.WaitGroup
	first.Go(func() {
		err := g.do(func(tx *bolt.Tx) error {
			close(entered)
			<-release
			return put("first")(tx)
		})
		if err != nil {
			t.Error(err)
		}
	})
	<-entered

	const waiting = 50
	var mu sync.Mutex
	txIDs := map[int]int{} // transaction id -> writes in it
	var writes sync.WaitGroup
	for i := range waiting {
		writes.Go(func() {
			err := g.do(func(tx *bolt.Tx) error {
				mu.Lock()
				txIDs[tx.ID()]++
				mu.Unlock()
				return put(fmt.Sprint(i))(tx)
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	// All of them are queued before the writer is let go.
	for {
		g.mu.Lock()
		n := len(g.queue)
		g.mu.Unlock()
		if n == waiting {
			break
		}
		runtime.Gosched()
	}
	close(release)
	first.Wait()
	writes.Wait()

	if len(txIDs) != 1 {
		t.Errorf("%d waiting writes were committed in %d transactions %v, want 1", waiting, len(txIDs), txIDs)
	}
	if got := len(stored(t, db)); got != waiting+1 {
		t.Errorf("%d keys stored, want %d", got, waiting+1)
	}
}

// A write that fails, or panics, gets its error; the others of its group are committed all
// the same, and the writer goes on.
func TestGroupCommit_AFailingWriteFailsAlone(t *testing.T) {
	db, g := openGroupCommit(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		g.do(func(tx *bolt.Tx) error { close(entered); <-release; return nil })
	})
	<-entered

	refused := errors.New("refused")
	results := make([]error, 6)
	for i := range results {
		wg.Go(func() {
			switch i {
			case 2:
				results[i] = g.do(func(tx *bolt.Tx) error { put("2")(tx); return refused })
			case 4:
				results[i] = g.do(func(tx *bolt.Tx) error { put("4")(tx); panic("a bug") })
			default:
				results[i] = g.do(put(fmt.Sprint(i)))
			}
		})
	}
	for {
		g.mu.Lock()
		n := len(g.queue)
		g.mu.Unlock()
		if n == len(results) {
			break
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()

	keys := stored(t, db)
	for i, err := range results {
		switch i {
		case 2:
			if !errors.Is(err, refused) {
				t.Errorf("write 2: %v, want its own error", err)
			}
		case 4:
			if err == nil {
				t.Error("the panicking write reported no error")
			}
		default:
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
		if want := i != 2 && i != 4; keys[fmt.Sprint(i)] != want {
			t.Errorf("key %d stored: %v, want %v", i, keys[fmt.Sprint(i)], want)
		}
	}
	if err := g.do(put("after")); err != nil {
		t.Errorf("a write after the failures: %v", err)
	}
}

// close commits what was queued before it; writes after it fail without blocking.
func TestGroupCommit_CloseCommitsQueuedWrites(t *testing.T) {
	db, g := openGroupCommit(t)
	done := make(chan error, 20)
	for i := range cap(done) {
		if err := g.queueWrite(put(fmt.Sprint(i)), func(err error) { done <- err }); err != nil {
			t.Fatal(err)
		}
	}
	g.close()
	for range cap(done) {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if got := len(stored(t, db)); got != cap(done) {
		t.Errorf("%d keys stored after close, want %d", got, cap(done))
	}
	if err := g.do(put("late")); !errors.Is(err, bolt.ErrDatabaseNotOpen) {
		t.Errorf("a write after close: %v, want %v", err, bolt.ErrDatabaseNotOpen)
	}
}
