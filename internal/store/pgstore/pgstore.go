package pgstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/paydoctor/bot/internal/conversation"
)

// ErrUnavailable: PostgreSQL could not be reached, or the connection to it broke. Nothing is
// known to have been saved; the operation may be tried again once the database is back.
var ErrUnavailable = errors.New("PostgreSQL is unreachable")

// Options configures Open. The zero value works.
type Options struct {
	// Now is the clock used to stamp inbound ids and outbox entries; nil means time.Now.
	// A seam for hermetic tests.
	Now func() time.Time
	// Lease is how long a sender holds the outbox rows it claimed before another replica may
	// send them. It must be longer than a send usually takes; a process never sends one reply
	// twice at once, so a send waiting out a long 429 only risks a second replica taking it
	// over, and only the elected sender sends Telegram replies. Zero means 10 s.
	Lease time.Duration
	// MaxConns caps the connection pool. Zero means the DSN's pool_max_conns if it sets one,
	// else the larger of 16 and four times the number of CPUs: a commit mostly waits for the
	// disk, and concurrent commits share its flushes, so more connections than CPUs pay off
	// (on 2 cores, 16 connections gave 10% more than 8 in BenchmarkThroughput/postgres, 32
	// less again).
	MaxConns int32
}

// Store is a conversation.Store on PostgreSQL. Several processes may open the same database
// at once; they share dialogs, inbound ids and the outbox.
type Store struct {
	pool     *pgxpool.Pool
	now      func() time.Time
	lease    time.Duration
	target   string // host:port/database, for messages; never the DSN, which may hold a password
	schema   string // the schema the tables are in, which roles are elected within
	zero     []byte // MarshalDialog of the zero Dialog: what a new dialog row holds until step ran
	migrated []int  // the migrations this Open applied, for tests
}

var _ conversation.Store = (*Store)(nil)

// maxAttempts bounds how often Commit runs a transaction that PostgreSQL aborted with a
// serialization failure or a deadlock.
const maxAttempts = 5

// Open connects to the database dsn names (a postgres:// URL or key=value pairs, as libpq
// reads them), applies the schema migrations it lacks, and returns the store. Tables live in
// the first schema of the search_path, which the DSN may set (search_path=...).
//
// Errors never contain the DSN. If the database cannot be reached the error wraps
// ErrUnavailable; if its schema was migrated by a newer bot, conversation.ErrUnknownVersion.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message quotes the DSN with passwords redacted on a best-effort basis; a DSN
		// that does not parse is exactly where that can fail, so say less.
		return nil, errors.New("open postgres: the DSN cannot be parsed (it is not shown, as it may hold a password); " +
			"expected postgres://user[:password]@host[:port]/database[?param=value] or host=... dbname=... key=value pairs")
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(dsn, "pool_max_conns"):
		cfg.MaxConns = max(16, 4*int32(runtime.NumCPU()))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	target := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	zero, err := conversation.MarshalDialog(conversation.Dialog{})
	if err != nil {
		return nil, err
	}
	migrations, err := loadMigrations(migrationFiles)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, wrapErr("open postgres "+target, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, wrapErr("open postgres "+target, err)
	}
	applied, err := migrate(ctx, pool, migrations)
	if err != nil {
		pool.Close()
		return nil, wrapErr("open postgres "+target+": migrate", err)
	}
	// Roles are per schema: two deployments in one database (search_path=staging and
	// search_path=prod) elect their leaders apart.
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, wrapErr("open postgres "+target, err)
	}
	if opts.Lease <= 0 {
		opts.Lease = 10 * time.Second
	}
	return &Store{pool: pool, now: opts.Now, lease: opts.Lease, target: target, schema: schema, zero: zero, migrated: applied}, nil
}

// Close closes every connection of the pool, waiting for those in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping commits a write (the time, into the one row of table ping), so that it fails when
// commits fail, not only when the server does not answer.
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO ping (id, at) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET at = excluded.at`)
	return wrapErr("ping postgres "+s.target, err)
}

const (
	sqlBegin    = `BEGIN ISOLATION LEVEL READ COMMITTED`
	sqlCommit   = `COMMIT`
	sqlRemember = `INSERT INTO inbound (platform, id, seen) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
	sqlLock     = `SELECT record FROM dialogs WHERE platform = $1 AND chat = $2 AND user_id = $3 FOR UPDATE`
	sqlCreate   = `INSERT INTO dialogs (platform, chat, user_id, record, last_active) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`
	sqlSave     = `UPDATE dialogs SET record = $4, last_active = $5 WHERE platform = $1 AND chat = $2 AND user_id = $3`
	sqlQueue    = `INSERT INTO outbox (platform, chat, user_id, route, reply, created) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`
	sqlEvent    = `INSERT INTO events (at, body) VALUES ($1, $2)`
	sqlEvents   = `SELECT body FROM events WHERE at >= $1 ORDER BY id`
)

// Events implements conversation.Store.
func (s *Store) Events(ctx context.Context, since time.Time, fn func(conversation.Event) error) error {
	rows, err := s.pool.Query(ctx, sqlEvents, since)
	if err != nil {
		return wrapErr("events", err)
	}
	defer rows.Close()
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return wrapErr("events", err)
		}
		var e conversation.Event
		if err := json.Unmarshal(body, &e); err != nil {
			return fmt.Errorf("decode event: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return wrapErr("events", rows.Err())
}

// stepError carries the error of the caller's step out of the transaction unchanged.
type stepError struct{ err error }

func (e stepError) Error() string { return e.err.Error() }

// Commit implements conversation.Store. The transaction (read committed) records the inbound
// id first, so a concurrent duplicate waits for the first to finish and is then refused; then
// it locks the dialog row (creating it if missing), so that commits of one person serialize
// across processes; then it calls step, saves the dialog and queues the reply. A transaction
// PostgreSQL aborts with a serialization failure or deadlock is run again, step included.
func (s *Store) Commit(ctx context.Context, t conversation.Turn, step func(*conversation.Dialog) (conversation.Result, error)) (conversation.Delivery, error) {
	for attempt := 1; ; attempt++ {
		d, err := s.commit(ctx, t, step)
		var se stepError
		switch {
		case err == nil:
			return d, nil
		case errors.As(err, &se):
			return conversation.Delivery{}, se.err
		case errors.Is(err, conversation.ErrDuplicate):
			return conversation.Delivery{}, err
		case attempt < maxAttempts && retryable(err) && ctx.Err() == nil:
			continue
		}
		return conversation.Delivery{}, wrapErr("commit "+t.Key.String(), err)
	}
}

func (s *Store) commit(ctx context.Context, t conversation.Turn, step func(*conversation.Dialog) (conversation.Result, error)) (conversation.Delivery, error) {
	k := t.Key
	now := s.now().Truncate(time.Microsecond) // what PostgreSQL keeps of a timestamp
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return conversation.Delivery{}, err
	}
	// The transaction's BEGIN and COMMIT travel in the batches around step, so a commit
	// takes two round trips. Until COMMIT succeeded, leaving rolls back; a connection still
	// inside a transaction after that is closed by Release, never reused.
	defer conn.Release()
	inTx := true
	defer func() {
		if inTx {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			conn.Exec(rctx, "ROLLBACK")
		}
	}()

	// Round trip 1: begin, remember the inbound id, lock the dialog.
	var b pgx.Batch
	b.Queue(sqlBegin)
	if t.InboundID != "" {
		b.Queue(sqlRemember, k.Platform, t.InboundID, now)
	}
	b.Queue(sqlLock, k.Platform, k.Chat, k.User)
	record, err := func() ([]byte, error) {
		br := conn.SendBatch(ctx, &b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return nil, err
		}
		if t.InboundID != "" {
			tag, err := br.Exec()
			if err != nil {
				return nil, err
			}
			if tag.RowsAffected() == 0 {
				return nil, conversation.ErrDuplicate
			}
		}
		var record []byte
		if err := br.QueryRow().Scan(&record); err != nil {
			return nil, err
		}
		return record, br.Close()
	}()
	if errors.Is(err, pgx.ErrNoRows) {
		record, err = s.create(ctx, conn, k)
	}
	if err != nil {
		return conversation.Delivery{}, err
	}

	var d conversation.Dialog
	if record != nil {
		if d, err = conversation.UnmarshalDialog(record); err != nil {
			return conversation.Delivery{}, fmt.Errorf("dialog %s: %w", k, err)
		}
	}
	res, err := step(&d)
	if err != nil {
		return conversation.Delivery{}, stepError{err}
	}
	reply := res.Reply
	enc, err := conversation.MarshalDialog(d)
	if err != nil {
		return conversation.Delivery{}, stepError{fmt.Errorf("encode dialog %s: %w", k, err)}
	}
	encReply, err := json.Marshal(reply)
	if err != nil {
		return conversation.Delivery{}, stepError{fmt.Errorf("encode reply for %s: %w", k, err)}
	}

	// Round trip 2: save the dialog, queue the reply, commit.
	b = pgx.Batch{}
	b.Queue(sqlSave, k.Platform, k.Chat, k.User, enc, d.LastActive)
	hasReply, to := !reply.Empty(), t.Replier()
	if hasReply {
		b.Queue(sqlQueue, to.Platform, to.Chat, to.User, t.Route, encReply, now)
	}
	for _, n := range res.Notices {
		encNotice, err := json.Marshal(n.Reply)
		if err != nil {
			return conversation.Delivery{}, stepError{fmt.Errorf("encode notice for %s: %w", n.Key, err)}
		}
		b.Queue(sqlQueue, n.Key.Platform, n.Key.Chat, n.Key.User, n.Route, encNotice, now)
	}
	for _, e := range res.Events {
		encEvent, err := json.Marshal(e)
		if err != nil {
			return conversation.Delivery{}, stepError{fmt.Errorf("encode event for %s: %w", k, err)}
		}
		b.Queue(sqlEvent, e.At, encEvent)
	}
	b.Queue(sqlCommit)
	id, err := func() (int64, error) {
		br := conn.SendBatch(ctx, &b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return 0, err
		}
		var id int64
		if hasReply {
			if err := br.QueryRow().Scan(&id); err != nil {
				return 0, err
			}
		}
		for range res.Notices {
			var noticeID int64
			if err := br.QueryRow().Scan(&noticeID); err != nil {
				return 0, err
			}
		}
		for range res.Events {
			if _, err := br.Exec(); err != nil {
				return 0, err
			}
		}
		tag, err := br.Exec()
		if err != nil {
			return 0, err
		}
		if tag.String() != "COMMIT" {
			return 0, fmt.Errorf("commit ended as %q", tag)
		}
		return id, br.Close()
	}()
	if err != nil {
		return conversation.Delivery{}, err
	}
	inTx = false
	if !hasReply {
		return conversation.Delivery{}, nil
	}
	return conversation.Delivery{ID: uint64(id), Key: to, Route: t.Route, Reply: reply, Created: now}, nil
}

// querier is what create needs of a connection.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// create inserts the row of a dialog that has none, which locks it for the transaction. If
// another transaction created it meanwhile, the insert waits for that one to finish and
// create locks the row it left instead. It returns the record found, or nil for a new dialog.
func (s *Store) create(ctx context.Context, tx querier, k conversation.Key) ([]byte, error) {
	for range 5 {
		tag, err := tx.Exec(ctx, sqlCreate, k.Platform, k.Chat, k.User, s.zero, time.Time{})
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == 1 {
			return nil, nil
		}
		var record []byte
		err = tx.QueryRow(ctx, sqlLock, k.Platform, k.Chat, k.User).Scan(&record)
		if !errors.Is(err, pgx.ErrNoRows) {
			return record, err
		}
		// Created and deleted again (Expire, MoveChat) between the two statements: once more.
	}
	return nil, fmt.Errorf("dialog %s: could not lock its row: created and deleted repeatedly meanwhile", k)
}

// Pending implements conversation.Store.
func (s *Store) Pending(ctx context.Context, platform string, limit int) ([]conversation.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, _ := s.pool.Query(ctx, `SELECT id, chat, user_id, route, reply, created FROM outbox
		WHERE platform = $1 ORDER BY id LIMIT $2`, platform, limit)
	out, err := scanDeliveries(rows, platform)
	if err != nil {
		return nil, wrapErr("pending "+platform, err)
	}
	return out, nil
}

// The claims: rows after $5 held by nobody, or whose hold ran out, oldest first, held until
// $3. After a cursor, a row whose chat has an older row at or below it that nobody holds is
// passed over; from the start there is nothing below the cursor to check, and the rescans
// from 0 that take the rows passed over do not pay for the check.
const (
	sqlClaimFromStart = `UPDATE outbox SET claimed_until = $3
		WHERE id IN (SELECT id FROM outbox
			WHERE platform = $1 AND id > $5 AND (claimed_until IS NULL OR claimed_until < $4)
			ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING id, chat, user_id, route, reply, created`
	sqlClaimAfter = `UPDATE outbox SET claimed_until = $3
		WHERE id IN (SELECT id FROM outbox o
			WHERE platform = $1 AND id > $5 AND (claimed_until IS NULL OR claimed_until < $4)
				AND NOT EXISTS (SELECT 1 FROM outbox e
					WHERE e.platform = $1 AND e.chat = o.chat AND e.id <= $5
						AND (e.claimed_until IS NULL OR e.claimed_until < $4))
			ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING id, chat, user_id, route, reply, created`
)

// Claim implements conversation.Store: rows after after held by nobody, or whose lease ran
// out, are taken with FOR UPDATE SKIP LOCKED, so concurrent claims by several replicas get
// disjoint rows, and held until now+Options.Lease. A row is passed over while its chat has
// an older row at or below after that nobody holds: one that committed after a larger id
// was claimed (see the package's caveat on ids as a cursor), which must go out first, when
// a claim from the start takes both.
func (s *Store) Claim(ctx context.Context, platform string, after uint64, limit int) ([]conversation.Delivery, error) {
	if limit <= 0 || after >= math.MaxInt64 {
		return nil, nil
	}
	now := s.now()
	sql := sqlClaimFromStart
	if after > 0 {
		sql = sqlClaimAfter
	}
	rows, _ := s.pool.Query(ctx, sql, platform, limit, now.Add(s.lease), now, int64(after))
	out, err := scanDeliveries(rows, platform)
	if err != nil {
		return nil, wrapErr("claim "+platform, err)
	}
	slices.SortFunc(out, func(a, b conversation.Delivery) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

func scanDeliveries(rows pgx.Rows, platform string) ([]conversation.Delivery, error) {
	var out []conversation.Delivery
	var (
		id    int64
		reply []byte
		d     conversation.Delivery
	)
	_, err := pgx.ForEachRow(rows, []any{&id, &d.Key.Chat, &d.Key.User, &d.Route, &reply, &d.Created}, func() error {
		d.ID, d.Key.Platform = uint64(id), platform
		if err := json.Unmarshal(reply, &d.Reply); err != nil {
			return fmt.Errorf("outbox entry %d: %w", id, err)
		}
		out = append(out, d)
		d = conversation.Delivery{}
		return nil
	})
	return out, err
}

// Unclaim implements conversation.Store, in one statement.
func (s *Store) Unclaim(ctx context.Context, ids ...uint64) error {
	rows := rowIDs(ids)
	if len(rows) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE outbox SET claimed_until = NULL WHERE id = ANY($1)`, rows)
	return wrapErr(fmt.Sprintf("unclaim %d replies", len(rows)), err)
}

// MarkDelivered implements conversation.Store, in one statement. Ids not in the outbox, or no
// longer, are ignored.
func (s *Store) MarkDelivered(ctx context.Context, ids ...uint64) error {
	rows := rowIDs(ids)
	if len(rows) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM outbox WHERE id = ANY($1)`, rows)
	return wrapErr(fmt.Sprintf("mark %d replies delivered", len(rows)), err)
}

// rowIDs are the ids a bigserial may have issued, as PostgreSQL's bigint.
func rowIDs(ids []uint64) []int64 {
	rows := make([]int64, 0, len(ids))
	for _, id := range ids {
		if id <= math.MaxInt64 {
			rows = append(rows, int64(id))
		}
	}
	return rows
}

// MoveChat implements conversation.Store, in one statement. Moving a chat onto itself does
// nothing.
func (s *Store) MoveChat(ctx context.Context, platform, from, to string) (int, error) {
	if from == to {
		return 0, nil
	}
	var moved int
	err := s.pool.QueryRow(ctx, `WITH old AS (
			DELETE FROM dialogs WHERE platform = $1 AND chat = $2
			RETURNING user_id, record, last_active
		), moved AS (
			INSERT INTO dialogs (platform, chat, user_id, record, last_active)
			SELECT $1, $3, user_id, record, last_active FROM old
			ON CONFLICT DO NOTHING
			RETURNING 1
		)
		SELECT count(*) FROM moved`, platform, from, to).Scan(&moved)
	if err != nil {
		return 0, wrapErr(fmt.Sprintf("move chat %s:%s", platform, from), err)
	}
	return moved, nil
}

// Expire implements conversation.Store, in one statement. It uses the indexes on
// dialogs.last_active, inbound.seen and events.at, so it does not scan every row.
func (s *Store) Expire(ctx context.Context, c conversation.Cutoffs) (int, error) {
	var deleted int
	err := s.pool.QueryRow(ctx, `WITH idle AS (
			DELETE FROM dialogs WHERE last_active < $1 RETURNING 1
		), seen AS (
			DELETE FROM inbound WHERE seen < $2
		), old_events AS (
			DELETE FROM events WHERE $3::timestamptz IS NOT NULL AND at < $3
		)
		SELECT count(*) FROM idle`, c.IdleDialogs, c.Inbound, nullTime(c.Events)).Scan(&deleted)
	if err != nil {
		return 0, wrapErr("expire", err)
	}
	return deleted, nil
}

// StaleHandoffs implements conversation.Store.
func (s *Store) StaleHandoffs(ctx context.Context, openedBefore time.Time) ([]conversation.Key, error) {
	rows, err := s.pool.Query(ctx, `SELECT platform, chat, user_id FROM dialogs
		WHERE record->'d'->'handoff' IS NOT NULL AND record->'d'->'handoff' <> 'null'::jsonb
		AND (record->'d'->'handoff'->>'opened')::timestamptz < $1`, openedBefore)
	if err != nil {
		return nil, wrapErr("stale handoffs", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (conversation.Key, error) {
		var k conversation.Key
		err := row.Scan(&k.Platform, &k.Chat, &k.User)
		return k, err
	})
	if err != nil {
		return nil, wrapErr("stale handoffs", err)
	}
	return keys, nil
}

// nullTime is t, or SQL NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// retryable reports whether PostgreSQL aborted the transaction only because of its timing with
// others: a serialization failure or a deadlock.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// wrapErr prefixes err with what was being done and, when the database could not be reached
// or the connection broke, marks it with ErrUnavailable.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if unreachable(err) {
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func unreachable(err error) bool {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: the server is shutting down or starting.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed)
}
