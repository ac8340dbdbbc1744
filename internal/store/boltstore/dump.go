package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"iter"
	"strings"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/storemove"
)

// Dump implements storemove.Dumper: it calls fn with every dialog, inbound id, outbox entry
// and event, in one read transaction (so as of one moment), dialogs first, each kind in key
// order. Holds of the outbox (Claim's leases) are not records: they live in memory.
func (s *Store) Dump(ctx context.Context, fn func(storemove.Record) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		each := func(bucket []byte, f func(k, v []byte) error) error {
			b := tx.Bucket(bucket)
			if b == nil {
				return nil // a file from before that bucket, opened read-only
			}
			return b.ForEach(func(k, v []byte) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				return f(k, v)
			})
		}
		err := each(dialogsBucket, func(k, v []byte) error {
			platform, chat, user, ok := splitKey(string(k))
			if !ok {
				return fmt.Errorf("dialog key %q: not platform:chat:user", k)
			}
			body, err := dialogJSON(v)
			if err != nil {
				return fmt.Errorf("dialog %s: %w", k, err)
			}
			return fn(storemove.Record{Kind: storemove.KindDialog, Platform: platform, Chat: chat, User: user, Body: bytes.Clone(body)})
		})
		if err != nil {
			return err
		}
		err = each(inboundBucket, func(k, v []byte) error {
			platform, id, ok := strings.Cut(string(k), ":")
			if !ok {
				return fmt.Errorf("inbound key %q: not platform:id", k)
			}
			return fn(storemove.Record{Kind: storemove.KindInbound, Platform: platform, ID: id, At: decodeTime(v).UTC()})
		})
		if err != nil {
			return err
		}
		err = each(outboxBucket, func(k, v []byte) error {
			id := binary.BigEndian.Uint64(k)
			r, err := outboxRecord(id, v)
			if err != nil {
				return fmt.Errorf("outbox entry %d: %w", id, err)
			}
			return fn(r)
		})
		if err != nil {
			return err
		}
		return each(eventsBucket, func(k, v []byte) error {
			body, err := eventJSON(v)
			if err != nil {
				return fmt.Errorf("event %d: %w", binary.BigEndian.Uint64(k), err)
			}
			return fn(storemove.Record{Kind: storemove.KindEvent, Seq: binary.BigEndian.Uint64(k), Body: bytes.Clone(body)})
		})
	})
}

// splitKey splits "platform:chat:user". Platform ids hold no ':', and the user id is the
// last field; a chat id may hold one (Slack's enterprise-wide ids).
func splitKey(k string) (platform, chat, user string, ok bool) {
	platform, rest, ok := strings.Cut(k, ":")
	if !ok {
		return "", "", "", false
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return "", "", "", false
	}
	return platform, rest[:i], rest[i+1:], true
}

// Load implements storemove.Loader: it writes the records into this store, which must be
// empty, in one write transaction. Outbox entries and events keep their numbers, and the
// buckets' sequences continue after the largest. The transaction is its own, not the
// writer's: records can be read only once, and a group may run its writes again.
func (s *Store) Load(ctx context.Context, records iter.Seq2[storemove.Record, error]) error {
	if s.writer == nil {
		return berrors.ErrDatabaseReadOnly
	}
	return update(s.db, func(tx *bolt.Tx) error {
		for _, name := range [][]byte{dialogsBucket, inboundBucket, outboxBucket, eventsBucket} {
			if k, _ := tx.Bucket(name).Cursor().First(); k != nil {
				return fmt.Errorf("%w: %s holds %s", storemove.ErrNotEmpty, s.db.Path(), name)
			}
		}
		var maxOutbox, maxEvent uint64
		for r, err := range records {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := r.Check(); err != nil {
				return err
			}
			switch r.Kind {
			case storemove.KindDialog:
				key := conversation.Key{Platform: r.Platform, Chat: r.Chat, User: r.User}.String()
				if err := tx.Bucket(dialogsBucket).Put([]byte(key), r.Body); err != nil {
					return err
				}
			case storemove.KindInbound:
				if err := tx.Bucket(inboundBucket).Put([]byte(r.Platform+":"+r.ID), encodeTime(r.At)); err != nil {
					return err
				}
			case storemove.KindOutbox:
				var reply conversation.Reply
				if err := json.Unmarshal(r.Body, &reply); err != nil {
					return fmt.Errorf("outbox entry %d: %w", r.Seq, err)
				}
				k := conversation.Key{Platform: r.Platform, Chat: r.Chat, User: r.User}
				e := appendOutboxEntry(nil, outboxEntry{Key: k, Route: r.Route, Reply: reply, Created: r.At})
				if err := tx.Bucket(outboxBucket).Put(encodeID(r.Seq), e); err != nil {
					return err
				}
				maxOutbox = max(maxOutbox, r.Seq)
			case storemove.KindEvent:
				if err := tx.Bucket(eventsBucket).Put(encodeID(r.Seq), r.Body); err != nil {
					return err
				}
				maxEvent = max(maxEvent, r.Seq)
			}
		}
		if err := tx.Bucket(outboxBucket).SetSequence(max(maxOutbox, tx.Bucket(outboxBucket).Sequence())); err != nil {
			return err
		}
		return tx.Bucket(eventsBucket).SetSequence(max(maxEvent, tx.Bucket(eventsBucket).Sequence()))
	})
}
