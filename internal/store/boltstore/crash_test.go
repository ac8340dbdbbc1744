package boltstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paydoctor/bot/internal/conversation"
)

// A copy of the file taken in the middle of a burst, as a kill -9 leaves it, holds every
// commit answered before: bbolt's guarantee, as every commit is bbolt's. The read
// transaction held during the copy stands in for the instant of a kill: it keeps the pages
// the copy reads from being reused meanwhile.
func TestCrashImage_KeepsEveryAnsweredCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	s := mustOpen(t, path, Options{})
	ctx := context.Background()
	var mu sync.Mutex
	var answered []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			k := conversation.Key{Platform: "t", Chat: fmt.Sprint(w), User: "u"}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprint(w, "-", i)
				if _, err := s.Commit(ctx, conversation.Turn{Key: k, InboundID: id}, say(id)); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				answered = append(answered, id)
				mu.Unlock()
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	before := slices.Clone(answered)
	mu.Unlock()
	crashed := filepath.Join(t.TempDir(), "bot.db")
	if err := s.db.View(func(*bolt.Tx) error { return copyFile(path, crashed) }); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if len(before) < 16 {
		t.Fatalf("only %d commits before the copy", len(before))
	}

	c := mustOpen(t, crashed, Options{})
	notAgain := func(*conversation.Dialog) (conversation.Result, error) {
		return conversation.Result{}, errors.New("handled again")
	}
	for _, id := range before {
		k := conversation.Key{Platform: "t", Chat: "x", User: "x"}
		if _, err := c.Commit(ctx, conversation.Turn{Key: k, InboundID: id}, notAgain); !errors.Is(err, conversation.ErrDuplicate) {
			t.Errorf("update %s, answered before the copy, is not in it: %v", id, err)
		}
	}
	c.Close()
	checkFile(t, crashed)
	t.Logf("%d commits answered before the copy, %d in all", len(before), len(answered))
}
