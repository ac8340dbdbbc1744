package boltstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openTestJournal(t *testing.T) (*bolt.DB, *journal) {
	t.Helper()
	return openTestJournalWith(t, func(*journal) {})
}

// openTestJournalWith opens a journal on a new file, lets set change it, and starts it.
func openTestJournalWith(t *testing.T, set func(*journal)) (*bolt.DB, *journal) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "j.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{dialogsBucket, inboundBucket, outboxBucket, eventsBucket, metaBucket} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	j, err := openJournal(db)
	if err != nil {
		t.Fatal(err)
	}
	set(j)
	go j.run()
	t.Cleanup(func() {
		j.close()
		db.Close()
	})
	return db, j
}

func put(key string) func(writeTx) error {
	return func(w writeTx) error { return w.putDialog(key, []byte("v")) }
}

// storedDialogs checkpoints and returns the keys of the dialogs bucket.
func storedDialogs(t *testing.T, db *bolt.DB, j *journal) map[string]bool {
	t.Helper()
	if err := j.direct(nil); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	err := db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(dialogsBucket).ForEach(func(k, _ []byte) error { keys[string(k)] = true; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// records counts the records of the journal's current generation.
func records(t *testing.T, j *journal) int {
	t.Helper()
	n := 0
	for off := int64(0); ; n++ {
		body, ok, err := readRecord(j.files[j.gen%2], off, j.id, j.gen)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return n
		}
		off += recordHeader + int64(len(body))
	}
}

// waitQueued waits until n writes wait for the writer.
func waitQueued(j *journal, n int) {
	for {
		j.mu.Lock()
		queued := len(j.queue)
		j.mu.Unlock()
		if queued == n {
			return
		}
		runtime.Gosched()
	}
}

// While the writer is busy, the writes that arrive wait for it and are then recorded
// together, in one record with one fdatasync.
func TestJournal_WritesWaitingForTheWriterShareOneRecord(t *testing.T) {
	db, j := openTestJournal(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var first sync.WaitGroup
	first.Go(func() {
		err := j.do(func(w writeTx) error {
			close(entered)
			<-release
			return put("first")(w)
		})
		if err != nil {
			t.Error(err)
		}
	})
	<-entered

	const waiting = 50
	var writes sync.WaitGroup
	for i := range waiting {
		writes.Go(func() {
			if err := j.do(put(fmt.Sprint(i))); err != nil {
				t.Error(err)
			}
		})
	}
	waitQueued(j, waiting)
	close(release)
	first.Wait()
	writes.Wait()

	if got := records(t, j); got != 2 {
		t.Errorf("the first write and %d waiting ones were recorded in %d records, want 2", waiting, got)
	}
	if got := len(storedDialogs(t, db, j)); got != waiting+1 {
		t.Errorf("%d keys stored, want %d", got, waiting+1)
	}
}

// A write that fails, or panics, gets its error and leaves no change; the others of its
// group are recorded all the same, and the writer goes on.
func TestJournal_AFailingWriteFailsAlone(t *testing.T) {
	db, j := openTestJournal(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		j.do(func(writeTx) error { close(entered); <-release; return nil })
	})
	<-entered

	refused := errors.New("refused")
	results := make([]error, 6)
	for i := range results {
		wg.Go(func() {
			switch i {
			case 2:
				results[i] = j.do(func(w writeTx) error { put("2")(w); return refused })
			case 4:
				results[i] = j.do(func(w writeTx) error { put("4")(w); panic("a bug") })
			default:
				results[i] = j.do(put(fmt.Sprint(i)))
			}
		})
	}
	waitQueued(j, len(results))
	close(release)
	wg.Wait()

	keys := storedDialogs(t, db, j)
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
	if err := j.do(put("after")); err != nil {
		t.Errorf("a write after the failures: %v", err)
	}
}

// A write sees what the writes before it in the same group changed.
func TestJournal_AWriteSeesTheGroupsEarlierWrites(t *testing.T) {
	_, j := openTestJournal(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { j.do(func(writeTx) error { close(entered); <-release; return nil }) })
	<-entered
	seen := make([]string, 3)
	for i := range seen {
		wg.Go(func() {
			err := j.do(func(w writeTx) error {
				seen[i] = string(w.dialog("k"))
				return w.putDialog("k", fmt.Append(w.dialog("k"), i))
			})
			if err != nil {
				t.Error(err)
			}
		})
		waitQueued(j, i+1) // in this order
	}
	close(release)
	wg.Wait()
	if want := []string{"", "0", "01"}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("the writes saw %q, want %q", seen, want)
	}
	if got, _ := j.pendingDialog("k"); string(got) != "012" {
		t.Errorf("dialog k after the group: %q, want 012", got)
	}
}

// close records and checkpoints what was queued before it; writes after it fail without
// blocking.
func TestJournal_CloseCommitsQueuedWrites(t *testing.T) {
	db, j := openTestJournal(t)
	done := make(chan error, 20)
	for i := range cap(done) {
		if err := j.queueWrite(pendingWrite{change: put(fmt.Sprint(i)), done: func(err error) { done <- err }}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	for range cap(done) {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	n := 0
	db.View(func(tx *bolt.Tx) error { n = tx.Bucket(dialogsBucket).Stats().KeyN; return nil })
	if n != cap(done) {
		t.Errorf("%d keys in the file after close, want %d", n, cap(done))
	}
	if err := j.do(put("late")); !errors.Is(err, bolt.ErrDatabaseNotOpen) {
		t.Errorf("a write after close: %v, want %v", err, bolt.ErrDatabaseNotOpen)
	}
}

// A write is answered only once the records before it are on disk, even one that changed
// nothing (a duplicate found in a record not yet synced is no duplicate if that record is
// lost).
func TestJournal_AnswersWaitForTheSync(t *testing.T) {
	release := make(chan struct{})
	_, j := openTestJournalWith(t, func(j *journal) {
		j.datasync = func(f *os.File) error { <-release; return datasync(f) }
	})
	first, second := make(chan error, 1), make(chan error, 1)
	if err := j.queueWrite(pendingWrite{change: put("a"), done: func(err error) { first <- err }}); err != nil {
		t.Fatal(err)
	}
	if err := j.queueWrite(pendingWrite{change: func(writeTx) error { return nil }, done: func(err error) { second <- err }}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-first:
		t.Fatalf("a write was answered (%v) before its record was synced", err)
	case err := <-second:
		t.Fatalf("a write that changed nothing was answered (%v) before the record before it was synced", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	for _, ch := range []chan error{first, second} {
		if err := <-ch; err != nil {
			t.Error(err)
		}
	}
}

// A failed fdatasync fails the writes waiting for it and every later one: what the file holds
// is no longer known. The store says so until it is opened again.
func TestJournal_AFailedSyncFailsEveryLaterWrite(t *testing.T) {
	disk := errors.New("input/output error")
	failing := atomic.Bool{}
	db, j := openTestJournalWith(t, func(j *journal) {
		j.datasync = func(f *os.File) error {
			if failing.Load() {
				return disk
			}
			return datasync(f)
		}
	})
	if err := j.do(put("before")); err != nil {
		t.Fatal(err)
	}
	failing.Store(true)
	if err := j.do(put("lost")); !errors.Is(err, disk) {
		t.Errorf("the write whose sync failed: %v, want %v", err, disk)
	}
	failing.Store(false)
	if err := j.do(put("after")); !errors.Is(err, disk) {
		t.Errorf("a write after the failed sync: %v, want %v", err, disk)
	}
	if err := j.direct(nil); !errors.Is(err, disk) {
		t.Errorf("a flush after the failed sync: %v, want %v", err, disk)
	}
	if err := j.close(); !errors.Is(err, disk) {
		t.Errorf("close after the failed sync: %v, want %v", err, disk)
	}
	keys := map[string]bool{}
	db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(dialogsBucket).ForEach(func(k, _ []byte) error { keys[string(k)] = true; return nil })
	})
	if keys["after"] {
		t.Errorf("a write refused after the failed sync reached the file: %v", keys)
	}
}

// A checkpoint that fails after it began a generation leaves the file naming a generation
// with no records while the writer goes on in the next: a restart replays that one too.
func TestJournal_AFailedCheckpointLeavesNoGapInTheReplay(t *testing.T) {
	failing := atomic.Bool{}
	full := errors.New("no space left on device")
	db, j := openTestJournalWith(t, func(j *journal) {
		j.update = func(db *bolt.DB, fn func(*bolt.Tx) error) error {
			if failing.Load() {
				return full
			}
			return update(db, fn)
		}
	})
	if err := j.do(put("before")); err != nil {
		t.Fatal(err)
	}
	if err := j.direct(nil); err != nil {
		t.Fatal(err)
	}
	failing.Store(true)
	if err := j.direct(func(*bolt.Tx) error { return nil }); !errors.Is(err, full) {
		t.Fatalf("a direct write with the disk full: %v, want %v", err, full)
	}
	if err := j.do(put("after")); err != nil {
		t.Fatalf("a journal write after the failed checkpoint: %v", err)
	}
	// Killed now: the bbolt file and the journal as they are.
	dir := t.TempDir()
	crashed := filepath.Join(dir, "j.db")
	for _, suffix := range []string{"", ".journal.0", ".journal.1"} {
		b, err := os.ReadFile(db.Path() + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(crashed+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(crashed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys := map[string]bool{}
	s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(dialogsBucket).ForEach(func(k, _ []byte) error { keys[string(k)] = true; return nil })
	})
	if !keys["before"] || !keys["after"] {
		t.Errorf("after the restart the file holds %v, want before and after", keys)
	}
}
