package pgstore

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paydoctor/bot/internal/conversation"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one numbered file under migrations/, such as 0001_init.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the numbered .sql files of fsys, in order, and checks that the numbers
// run 1, 2, 3... without gaps or repeats.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql", base)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: version, name: strings.TrimSuffix(base, ".sql"), sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return out, nil
}

// migrate applies the migrations the schema lacks, all in one transaction, and records each in
// schema_migrations. A transaction-scoped advisory lock, keyed by the current schema, makes
// replicas that start at once take turns: the first applies, the others find nothing left to
// do. It returns the versions it applied.
func migrate(ctx context.Context, pool *pgxpool.Pool, migrations []migration) ([]int, error) {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)

	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('paydoctor-bot schema_migrations ' || coalesce(current_schema(), ''), 0))`); err != nil {
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	var schema *string
	if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, err
	}
	if schema == nil {
		return nil, fmt.Errorf("no schema of the search_path exists; create it or fix search_path")
	}
	_, err = tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`)
	if err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, _ := tx.Query(ctx, `SELECT version FROM schema_migrations`)
	done, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	if newest := slices.Max(append(done, 0)); newest > len(migrations) {
		return nil, fmt.Errorf("%w: schema %q is at migration %d, this bot knows up to %d",
			conversation.ErrUnknownVersion, *schema, newest, len(migrations))
	}
	var applied []int
	for _, m := range migrations {
		if slices.Contains(done, m.version) {
			continue
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return nil, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			return nil, fmt.Errorf("record migration %s: %w", m.name, err)
		}
		applied = append(applied, m.version)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return applied, nil
}
