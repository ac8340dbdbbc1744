package boltstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/store/boltstore"
	"github.com/paydoctor/bot/internal/store/storetest"
)

func TestStoreSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) func() conversation.Store {
		path := filepath.Join(t.TempDir(), "bot.db")
		t.Cleanup(func() { checkConsistent(t, path) })
		return func() conversation.Store {
			s, err := boltstore.Open(path, boltstore.Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	})
}

// checkConsistent runs bbolt's own consistency check on the file once the test closed it.
func checkConsistent(t *testing.T, path string) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Errorf("reopen for check: %v", err)
		return
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Errorf("bbolt consistency check: %v", err)
	}
}

func TestOpen_ErrLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	first, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	start := time.Now()
	second, err := boltstore.Open(path, boltstore.Options{LockTimeout: 300 * time.Millisecond})
	if err == nil {
		second.Close()
		t.Fatal("a second open of a locked file succeeded")
	}
	if !errors.Is(err, conversation.ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want ErrLocked naming the file", err)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("gave up after %s, want about the lock timeout", waited)
	}
}

// TestCommit_MigratesVersion1 stores a dialog record in the version-1 encoding
// (testdata/store/dialog-v1.json) and reads it through the store.
func TestCommit_MigratesVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	key := conversation.Key{Platform: "telegram", Chat: "5", User: "5"}
	putRaw(t, path, key.String(), storetest.Version1Record(t))
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.CheckVersion1Migrated(t, s, key)
}

func TestCommit_RecordFromTheFuture(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	key := conversation.Key{Platform: "console", Chat: "a", User: "a"}
	putRaw(t, path, key.String(), []byte(`{"v":99,"d":{}}`))
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Commit(context.Background(), conversation.Turn{Key: key}, func(d *conversation.Dialog) (conversation.Result, error) {
		t.Error("step called on an unreadable record")
		return conversation.Result{}, nil
	})
	if !errors.Is(err, conversation.ErrUnknownVersion) {
		t.Errorf("err = %v, want ErrUnknownVersion", err)
	}
}

func putRaw(t *testing.T, path, key string, value []byte) {
	t.Helper()
	s, err := boltstore.Open(path, boltstore.Options{}) // creates the buckets
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("dialogs")).Put([]byte(key), value) })
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkHandle is one message through the whole core: the engine's step and a bbolt commit
// (fsync on) of the dialog, the inbound id and the outbox reply, then the outbox delete. The
// "100k-idle" case first fills the file with 100,000 idle dialogs: handling must not slow
// down with the number stored. Each case reports the size of the file, once closed, per
// stored dialog.
func BenchmarkHandle(b *testing.B) {
	for _, tc := range []struct {
		name string
		idle int
	}{{"empty", 0}, {"100k-idle", 100_000}} {
		b.Run(tc.name, func(b *testing.B) { benchmarkHandle(b, tc.idle) })
	}
}

func benchmarkHandle(b *testing.B, idle int) {
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		b.Fatal(err)
	}
	e, err := conversation.NewEngine(k, conversation.EngineOptions{Lang: "zh-Hans"})
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "bot.db")
	prefill(b, e, path, idle)
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	svc := conversation.NewService(e, s, conversation.ServiceOptions{})
	ctx := context.Background()
	texts := []string{"/start", "我的卡被拒绝了 card_declined", "[no]"}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		in := conversation.Inbound{
			Turn:  conversation.Turn{Key: conversation.Key{Platform: "bench", Chat: "c", User: strconv.Itoa(i % 1000)}, InboundID: strconv.Itoa(i)},
			Input: conversation.Input{Kind: conversation.InputText, Text: texts[i%len(texts)]},
		}
		d, err := svc.Handle(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.MarkDelivered(ctx, d.ID); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.StopTimer()
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(fi.Size())/float64(idle+min(i, 1000)), "file-bytes/dialog")
}

// prefill writes n dialogs that went through a diagnosis and two solutions, as stored idle
// dialogs look, straight into the file.
func prefill(b *testing.B, e *conversation.Engine, path string, n int) {
	b.Helper()
	var d conversation.Dialog
	now := time.Now().Add(-24 * time.Hour)
	for _, in := range []conversation.Input{
		{Kind: conversation.InputText, Text: "/start"},
		{Kind: conversation.InputButton, Text: "a:what_happened:declined"},
		{Kind: conversation.InputButton, Text: "a:card_type:unionpay"},
		{Kind: conversation.InputButton, Text: "no:enable-cross-border"},
	} {
		d, _ = e.Step(d, in, now)
	}
	record := boltstore.EncodeDialog(nil, d)
	s, err := boltstore.Open(path, boltstore.Options{}) // creates the buckets
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for start := 0; start < n; start += 10_000 {
		err := db.Update(func(tx *bolt.Tx) error {
			dialogs := tx.Bucket([]byte("dialogs"))
			for i := start; i < min(start+10_000, n); i++ {
				key := conversation.Key{Platform: "telegram", Chat: strconv.Itoa(1_000_000 + i), User: strconv.Itoa(1_000_000 + i)}
				if err := dialogs.Put([]byte(key.String()), record); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func TestOpen_ErrDamaged(t *testing.T) {
	tests := map[string]func(path string) error{
		"not a database": func(p string) error { return os.WriteFile(p, []byte("hello, not a database"), 0o600) },
		"meta pages overwritten": func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, page := range []int{0, boltstore.PageSize} {
				for i := page + 16; i < page+80; i++ {
					b[i] ^= 0xff
				}
			}
			return os.WriteFile(p, b, 0o600)
		},
		"truncated":          func(p string) error { return os.Truncate(p, 5000) },
		"data pages garbled": func(p string) error { return garble(p, 2*boltstore.PageSize) },
		"dialog pages garbled": func(p string) error {
			page, err := dialogsRoot(p)
			if err != nil {
				return err
			}
			return garble(p, page*boltstore.PageSize)
		},
	}
	for name, damage := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bot.db")
			s, err := boltstore.Open(path, boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			// Enough dialogs for a page of their own.
			for i := range 300 {
				k := conversation.Key{Platform: "t", Chat: strconv.Itoa(i), User: "u"}
				if _, err := s.Commit(context.Background(), conversation.Turn{Key: k}, func(d *conversation.Dialog) (conversation.Result, error) {
					d.Lang = "en"
					return conversation.Result{}, nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			if err := damage(path); err != nil {
				t.Fatal(err)
			}
			s, err = boltstore.Open(path, boltstore.Options{})
			if err == nil {
				s.Close()
				t.Fatal("a damaged file opened without error")
			}
			if !errors.Is(err, conversation.ErrDamaged) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "backup") {
				t.Errorf("err = %v, want ErrDamaged naming the file and how to restore", err)
			}
		})
	}
}

// garble overwrites the file from offset on with a fixed pattern.
// dialogsRoot returns the page number of the root of the dialogs bucket.
func dialogsRoot(path string) (int, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var page int
	err = db.View(func(tx *bolt.Tx) error {
		page = int(tx.Bucket([]byte("dialogs")).Root())
		return nil
	})
	if err == nil && page == 0 {
		err = errors.New("the dialogs bucket is inline, in its parent's page")
	}
	return page, err
}

func garble(path string, from int) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for i := from; i < len(b); i++ {
		b[i] = 0xAB
	}
	return os.WriteFile(path, b, 0o600)
}

// TestExpire_SpaceIsReused: bbolt never shrinks its file, but the pages of expired dialogs go
// back to its free list, so new dialogs fill them instead of growing the file.
func TestExpire_SpaceIsReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	s, err := boltstore.Open(path, boltstore.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// Concurrent commits share bbolt commits (and fsyncs), which keeps the test fast.
	fill := func(round int) {
		var wg sync.WaitGroup
		for w := range 32 {
			wg.Go(func() {
				for i := w; i < 2000; i += 32 {
					k := conversation.Key{Platform: "t", Chat: fmt.Sprint(round, "-", i), User: "u"}
					d, err := s.Commit(ctx, conversation.Turn{Key: k}, func(d *conversation.Dialog) (conversation.Result, error) {
						d.Lang, d.LastActive, d.Plan = "en", now, []string{"paypal", "virtual-card", "choose-plan"}
						return conversation.Result{Reply: conversation.Reply{Text: strings.Repeat("x", 300)}}, nil
					})
					if err != nil {
						t.Error(err)
						return
					}
					s.MarkDelivered(ctx, d.ID)
				}
			})
		}
		wg.Wait()
	}
	// The size bbolt has used, up to its highest page: what a backup copies. The file itself
	// grows in steps of powers of two while it is small, so its size says little here.
	size := func() int64 {
		n, err := s.Backup(io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	fill(1)
	afterFirst := size()
	now = now.Add(60 * 24 * time.Hour)
	if n, err := s.Expire(ctx, conversation.Cutoffs{IdleDialogs: now.Add(-30 * 24 * time.Hour), Inbound: now}); err != nil || n != 2000 {
		t.Fatalf("Expire = %d, %v", n, err)
	}
	fill(2)
	// Without reuse the second 2,000 would take as much again. Some pages freed by Expire are
	// still pending (a read transaction older than the delete may be open) while the new
	// dialogs are written, so some growth is normal.
	if grown := size(); grown > afterFirst*5/4 {
		t.Errorf("the database grew from %d to %d bytes: the expired dialogs' space was not reused", afterFirst, grown)
	}
}

// commitTurns commits n dialogs' first message, each recording an event.
func commitTurns(t *testing.T, s *boltstore.Store, n int) {
	t.Helper()
	for i := range n {
		turn := conversation.Turn{Key: conversation.Key{Platform: "telegram", Chat: strconv.Itoa(i), User: "u"}, InboundID: strconv.Itoa(i)}
		_, err := s.Commit(context.Background(), turn, func(d *conversation.Dialog) (conversation.Result, error) {
			d.Lang = "en"
			return conversation.Result{Reply: conversation.Reply{Text: "hi"}, Events: []conversation.Event{{Kind: conversation.EventStarted, Platform: "telegram", Lang: "en", At: time.Unix(int64(1700000000+i), 0)}}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func countEvents(t *testing.T, s *boltstore.Store) int {
	t.Helper()
	n := 0
	if err := s.Events(context.Background(), time.Time{}, func(conversation.Event) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBackup_CopyHasEverything(t *testing.T) {
	dir := t.TempDir()
	s, err := boltstore.Open(filepath.Join(dir, "bot.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	commitTurns(t, s, 25)
	out := filepath.Join(dir, "copy.db")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Backup(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil || n == 0 {
		t.Fatalf("Backup = %d, %v", n, err)
	}
	// The copy is a consistent bbolt file, readable while the original stays open.
	checkConsistent(t, out)
	c, err := boltstore.Open(out, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := countEvents(t, c); got != 25 {
		t.Errorf("the copy has %d events, want 25", got)
	}
	pending, err := c.Pending(context.Background(), "telegram", 100)
	if err != nil || len(pending) != 25 {
		t.Errorf("the copy has %d replies waiting (%v), want 25", len(pending), err)
	}
}

func TestOpen_ReadOnly(t *testing.T) {
	dir := t.TempDir()
	if _, err := boltstore.Open(filepath.Join(dir, "missing.db"), boltstore.Options{ReadOnly: true}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only open of a missing file: %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only open created the file")
	}
	// An empty file (touched, or created by a bot that never wrote it) says so, where bbolt
	// said "bad file descriptor".
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := boltstore.Open(empty, boltstore.Options{ReadOnly: true}); !errors.Is(err, boltstore.ErrEmpty) {
		t.Errorf("read-only open of an empty file: %v, want ErrEmpty", err)
	}
	path := filepath.Join(dir, "bot.db")
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	commitTurns(t, s, 3)
	// A running bot holds the exclusive lock: a reader gives up with ErrLocked.
	if _, err := boltstore.Open(path, boltstore.Options{ReadOnly: true, LockTimeout: 50 * time.Millisecond}); !errors.Is(err, conversation.ErrLocked) {
		t.Errorf("read-only open of a held file: %v, want ErrLocked", err)
	}
	s.Close()
	r, err := boltstore.Open(path, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := countEvents(t, r); got != 3 {
		t.Errorf("%d events, want 3", got)
	}
	if err := r.Ping(context.Background()); err == nil {
		t.Error("Ping succeeded on a read-only store")
	}
}

// A directory where the file should be is named as one, in either mode: read-only, bbolt
// reads no database in it, which said "damaged, restore it from a backup".
func TestOpen_Directory(t *testing.T) {
	dir := t.TempDir()
	for _, readOnly := range []bool{true, false} {
		_, err := boltstore.Open(dir, boltstore.Options{ReadOnly: readOnly})
		if !errors.Is(err, syscall.EISDIR) || errors.Is(err, conversation.ErrDamaged) || err.Error() != "open "+dir+": is a directory" {
			t.Errorf("Open(a directory, ReadOnly %v) = %v, want \"open %s: is a directory\"", readOnly, err, dir)
		}
	}
}
