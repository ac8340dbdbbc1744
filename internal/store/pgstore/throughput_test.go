package pgstore_test

import (
	"context"
	"testing"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/store/benchtest"
	"github.com/paydoctor/bot/internal/store/pgstore"
	"github.com/paydoctor/bot/internal/store/pgtest"
)

// BenchmarkThroughput/postgres runs the whole path (benchtest.Run: 1,000 concurrent dialogs
// through the dispatcher, the engine, a PostgreSQL commit, rendering and the outbox delete),
// as BenchmarkThroughput in package boltstore does on bbolt. It needs BOT_TEST_POSTGRES_DSN
// and skips, saying so, without it. BENCH_CONNS sets the pool size (default: the store's).
func BenchmarkThroughput(b *testing.B) {
	b.Run("postgres", func(b *testing.B) {
		dsn := pgtest.FreshSchema(b)
		benchtest.Run(b, func(b *testing.B) conversation.Store {
			s, err := pgstore.Open(context.Background(), dsn, pgstore.Options{MaxConns: int32(envInt("BENCH_CONNS", 0))})
			if err != nil {
				b.Fatal(err)
			}
			return s
		})
	})
}
