package boltstore_test

import (
	"path/filepath"
	"testing"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/store/benchtest"
	"github.com/paydoctor/bot/internal/store/boltstore"
)

// BenchmarkThroughput runs the whole path (benchtest.Run: 1,000 concurrent dialogs through
// the dispatcher, the engine, a commit with fsync, rendering and the outbox delete) on bbolt.
// "batched" groups concurrent commits into one bbolt transaction; "per-message" commits each
// on its own. The PostgreSQL figure is BenchmarkThroughput/postgres in package pgstore.
func BenchmarkThroughput(b *testing.B) {
	for _, mode := range []struct {
		name  string
		alone bool
	}{{"batched", false}, {"per-message", true}} {
		b.Run(mode.name, func(b *testing.B) {
			benchtest.Run(b, func(b *testing.B) conversation.Store {
				s, err := boltstore.Open(filepath.Join(b.TempDir(), "bot.db"), boltstore.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if mode.alone {
					boltstore.CommitEachAlone(s)
				}
				return s
			})
		})
	}
}
