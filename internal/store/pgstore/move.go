package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/storemove"
)

// Dump implements storemove.Dumper: it calls fn with every dialog, inbound id, outbox row and
// event, in one read-only repeatable-read transaction (so as of one moment), dialogs first,
// each kind in key order. Outbox claims (leases) are not records and are not dumped.
func (s *Store) Dump(ctx context.Context, fn func(storemove.Record) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return wrapErr("dump", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	each := func(sql string, scan []any, rec func() storemove.Record) error {
		rows, _ := tx.Query(ctx, sql)
		_, err := pgx.ForEachRow(rows, scan, func() error { return fn(rec()) })
		return err
	}
	var (
		platform, chat, user, id string
		body, route              []byte
		at                       time.Time
		seq                      int64
	)
	err = each(`SELECT platform, chat, user_id, record FROM dialogs ORDER BY platform, chat, user_id`,
		[]any{&platform, &chat, &user, &body}, func() storemove.Record {
			return storemove.Record{Kind: storemove.KindDialog, Platform: platform, Chat: chat, User: user, Body: clone(body)}
		})
	if err == nil {
		err = each(`SELECT platform, id, seen FROM inbound ORDER BY platform, id`,
			[]any{&platform, &id, &at}, func() storemove.Record {
				return storemove.Record{Kind: storemove.KindInbound, Platform: platform, ID: id, At: at.UTC()}
			})
	}
	if err == nil {
		err = each(`SELECT id, platform, chat, user_id, route, reply, created FROM outbox ORDER BY id`,
			[]any{&seq, &platform, &chat, &user, &route, &body, &at}, func() storemove.Record {
				return storemove.Record{Kind: storemove.KindOutbox, Platform: platform, Chat: chat, User: user,
					Seq: uint64(seq), Body: clone(body), Route: clone(route), At: at.UTC()}
			})
	}
	if err == nil {
		err = each(`SELECT id, body FROM events ORDER BY id`, []any{&seq, &body}, func() storemove.Record {
			return storemove.Record{Kind: storemove.KindEvent, Seq: uint64(seq), Body: clone(body)}
		})
	}
	if err != nil {
		return wrapErr("dump", err)
	}
	return wrapErr("dump", tx.Commit(ctx))
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// Load implements storemove.Loader: it writes the records into this store, whose tables must
// be empty, in one transaction. Outbox rows and events keep their ids, and the id sequences
// continue after the largest. A dialog's last_active is read from its record, so a record
// this bot cannot read (conversation.ErrUnknownVersion) fails the load.
func (s *Store) Load(ctx context.Context, records iter.Seq2[storemove.Record, error]) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrapErr("load", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var nonEmpty string
	err = tx.QueryRow(ctx, `SELECT coalesce(
		(SELECT 'dialogs' FROM dialogs LIMIT 1), (SELECT 'inbound' FROM inbound LIMIT 1),
		(SELECT 'outbox' FROM outbox LIMIT 1), (SELECT 'events' FROM events LIMIT 1), '')`).Scan(&nonEmpty)
	if err != nil {
		return wrapErr("load", err)
	}
	if nonEmpty != "" {
		return fmt.Errorf("%w: %s holds rows in %s", storemove.ErrNotEmpty, s.target, nonEmpty)
	}
	var b pgx.Batch
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		err := tx.SendBatch(ctx, &b).Close()
		b = pgx.Batch{}
		return err
	}
	for r, err := range records {
		if err != nil {
			return err
		}
		if err := r.Check(); err != nil {
			return err
		}
		switch r.Kind {
		case storemove.KindDialog:
			d, err := conversation.UnmarshalDialog(r.Body)
			if err != nil {
				return fmt.Errorf("dialog %s:%s:%s: %w", r.Platform, r.Chat, r.User, err)
			}
			b.Queue(`INSERT INTO dialogs (platform, chat, user_id, record, last_active) VALUES ($1, $2, $3, $4, $5)`,
				r.Platform, r.Chat, r.User, []byte(r.Body), d.LastActive)
		case storemove.KindInbound:
			b.Queue(`INSERT INTO inbound (platform, id, seen) VALUES ($1, $2, $3)`, r.Platform, r.ID, r.At)
		case storemove.KindOutbox:
			if r.Seq > 1<<63-1 {
				return fmt.Errorf("outbox entry %d: id too large for PostgreSQL", r.Seq)
			}
			b.Queue(`INSERT INTO outbox (id, platform, chat, user_id, route, reply, created) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				int64(r.Seq), r.Platform, r.Chat, r.User, r.Route, []byte(r.Body), r.At)
		case storemove.KindEvent:
			if r.Seq > 1<<63-1 {
				return fmt.Errorf("event %d: id too large for PostgreSQL", r.Seq)
			}
			var e conversation.Event
			if err := json.Unmarshal(r.Body, &e); err != nil {
				return fmt.Errorf("event %d: %w", r.Seq, err)
			}
			b.Queue(`INSERT INTO events (id, at, body) VALUES ($1, $2, $3)`, int64(r.Seq), e.At, []byte(r.Body))
		}
		if b.Len() >= 500 {
			if err := flush(); err != nil {
				return wrapErr("load", err)
			}
		}
	}
	if err := flush(); err != nil {
		return wrapErr("load", err)
	}
	// Ids given explicitly do not advance the sequences; new rows must come after them.
	for _, table := range []string{"outbox", "events"} {
		_, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('`+table+`', 'id'),
			greatest((SELECT max(id) FROM `+table+`), 1), (SELECT max(id) FROM `+table+`) IS NOT NULL)`)
		if err != nil {
			return wrapErr("load: "+table+" sequence", err)
		}
	}
	return wrapErr("load", tx.Commit(ctx))
}
