// Package pgtest gives tests outside internal/store/pgstore a PostgreSQL schema of their own:
// the DSN of BOT_TEST_POSTGRES_DSN, or a skip with a message saying how to set it.
package pgtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// DSN returns BOT_TEST_POSTGRES_DSN, or skips the test when it is unset.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("BOT_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("BOT_TEST_POSTGRES_DSN is not set, so the PostgreSQL tests do not run; " +
			".ci/run sets it, or set it yourself, e.g. BOT_TEST_POSTGRES_DSN=postgres://postgres@127.0.0.1:5432/test")
	}
	return dsn
}

// FreshSchema creates an empty schema, drops it when the test ends, and returns a DSN whose
// search_path points into it.
func FreshSchema(t testing.TB) string {
	t.Helper()
	dsn := DSN(t)
	schema := "test_" + strings.ToLower(rand.Text()[:16])
	Exec(t, dsn, "CREATE SCHEMA "+schema)
	t.Cleanup(func() { Exec(t, dsn, "DROP SCHEMA "+schema+" CASCADE") })
	return WithParam(dsn, "search_path", schema)
}

// WithParam adds a parameter to a DSN in either of libpq's forms.
func WithParam(dsn, key, value string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			panic(err)
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " " + key + "=" + value
}

// Exec runs one statement on its own connection to dsn.
func Exec(t testing.TB, dsn, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
