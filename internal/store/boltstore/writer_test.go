package boltstore

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The writes queued while the writer is busy share one transaction. One that fails or panics
// gets its error and the others commit; one whose caller gave up meanwhile does not run.
func TestWriter_AFailedWriteLeavesTheRestOfItsGroup(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "w.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bucket := []byte("b")
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucket); return err }); err != nil {
		t.Fatal(err)
	}
	w := newWriter(db)
	defer w.close()
	put := func(key string) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put([]byte(key), []byte("v")) }
	}
	errFailed := errors.New("failed")
	started, release := make(chan struct{}), make(chan struct{})
	gone, giveUp := context.WithCancel(context.Background())
	writes := []struct {
		key string
		ctx context.Context
		fn  func(*bolt.Tx) error
	}{
		{"busy", context.Background(), func(tx *bolt.Tx) error { close(started); <-release; return put("busy")(tx) }},
		{"ok1", context.Background(), put("ok1")},
		{"fails", context.Background(), func(tx *bolt.Tx) error { put("fails")(tx); return errFailed }},
		{"panics", context.Background(), func(tx *bolt.Tx) error { put("panics")(tx); panic("boom") }},
		{"gone", gone, put("gone")},
		{"ok2", context.Background(), put("ok2")},
	}
	errs := make([]error, len(writes))
	var wg sync.WaitGroup
	for i, wr := range writes {
		wg.Go(func() { errs[i] = w.do(wr.ctx, wr.fn) })
		if i == 0 {
			<-started
		}
		for queued := 0; queued < i; time.Sleep(time.Millisecond) { // in order
			w.mu.Lock()
			queued = len(w.queue)
			w.mu.Unlock()
		}
	}
	giveUp()
	close(release)
	wg.Wait()
	want := map[string]bool{"busy": true, "ok1": true, "ok2": true}
	for i, wr := range writes {
		switch {
		case wr.key == "fails" && !errors.Is(errs[i], errFailed),
			wr.key == "panics" && errs[i] == nil,
			wr.key == "gone" && !errors.Is(errs[i], context.Canceled),
			want[wr.key] && errs[i] != nil:
			t.Errorf("write %s: %v", wr.key, errs[i])
		}
	}
	db.View(func(tx *bolt.Tx) error {
		for _, wr := range writes {
			if got := tx.Bucket(bucket).Get([]byte(wr.key)) != nil; got != want[wr.key] {
				t.Errorf("key %s stored: %v, want %v", wr.key, got, want[wr.key])
			}
		}
		return nil
	})
}
