package boltstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	storetest.Run(t, func(t *testing.T) func() conversation.Store {
		path := filepath.Join(t.TempDir(), "bot.db")
		t.Cleanup(func() { checkConsistent(t, path) })
		return func() conversation.Store {
			s, err := boltstore.Open(path, boltstore.Options{})
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
	v1, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "store", "dialog-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bot.db")
	key := conversation.Key{Platform: "telegram", Chat: "5", User: "5"}
	putRaw(t, path, key.String(), v1)

	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got conversation.Dialog
	_, err = s.Commit(context.Background(), conversation.Turn{Key: key}, func(d *conversation.Dialog) (conversation.Result, error) {
		got = *d
		return conversation.Result{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Stage != conversation.StageSolving || got.Cause != "bank-verification" || got.Current != 1 ||
		len(got.Plan) != 3 || got.Plan[1] != "payment-timing" || got.Lang != "en" || got.LastActive.Unix() != 1764150000 {
		t.Errorf("migrated dialog = %+v", got)
	}
	if sol, _ := got.CurrentSolution(); sol != "payment-timing" {
		t.Errorf("current solution %q", sol)
	}
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
// (fsync on) of the dialog, the inbound id and the outbox reply, then the outbox delete.
func BenchmarkHandle(b *testing.B) {
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		b.Fatal(err)
	}
	e, err := conversation.NewEngine(k, "zh-Hans")
	if err != nil {
		b.Fatal(err)
	}
	s, err := boltstore.Open(filepath.Join(b.TempDir(), "bot.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	svc := conversation.NewService(e, s, nil)
	ctx := context.Background()
	texts := []string{"/start", "我的卡被拒绝了 card_declined", "[no]"}
	b.ReportAllocs()
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

func TestPing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	t.Cleanup(func() { checkConsistent(t, path) })
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	s.Close()
	if err := s.Ping(context.Background()); err == nil {
		t.Error("Ping succeeded on a closed store")
	}
}
