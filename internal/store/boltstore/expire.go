package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paydoctor/bot/internal/conversation"
)

// MoveChat implements conversation.Store, in one write.
func (s *Store) MoveChat(ctx context.Context, platform, from, to string) (int, error) {
	if from == to {
		return 0, nil
	}
	moved := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		moved = 0
		dialogs := tx.Bucket(dialogsBucket)
		prefix := []byte(conversation.Key{Platform: platform, Chat: from}.String())
		var found []record
		c := dialogs.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			found = append(found, record{bytes.Clone(k), bytes.Clone(v)})
		}
		for _, r := range found {
			user := string(r.key[len(prefix):])
			newKey := []byte(conversation.Key{Platform: platform, Chat: to, User: user}.String())
			if dialogs.Get(newKey) == nil {
				if err := dialogs.Put(newKey, r.value); err != nil {
					return err
				}
				moved++
			}
			if err := dialogs.Delete(r.key); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	return moved, err
}

type record struct{ key, value []byte }

// StaleHandoffs implements conversation.Store. It scans every dialog, as Expire does: it runs
// in the background, hourly.
func (s *Store) StaleHandoffs(ctx context.Context, openedBefore time.Time) ([]conversation.Key, error) {
	var keys []conversation.Key
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(dialogsBucket).ForEach(func(k, v []byte) error {
			d, err := decodeDialogRecord(v)
			if err != nil {
				return fmt.Errorf("dialog %s: %w", k, err)
			}
			if d.Handoff != nil && d.Handoff.Opened.Before(openedBefore) {
				platform, chat, user, ok := splitKey(string(k))
				if !ok {
					return fmt.Errorf("dialog key %q: not platform:chat:user", k)
				}
				keys = append(keys, conversation.Key{Platform: platform, Chat: chat, User: user})
			}
			return ctx.Err()
		})
	})
	return keys, err
}

// expireChunk is how many records one write of Expire deletes: a sweep of many must not hold
// the writer, and with it every conversation, for long.
const expireChunk = 1000

// Expire implements conversation.Store. It finds what is due in one read transaction and
// deletes it in writes of expireChunk records, each shared with the commits of the moment.
func (s *Store) Expire(ctx context.Context, c conversation.Cutoffs) (int, error) {
	var dialogs, inbound []record
	err := s.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(dialogsBucket).ForEach(func(k, v []byte) error {
			d, err := decodeDialogRecord(v)
			if err != nil {
				return fmt.Errorf("dialog %s: %w", k, err)
			}
			if d.LastActive.Before(c.IdleDialogs) {
				dialogs = append(dialogs, record{bytes.Clone(k), bytes.Clone(v)})
			}
			return ctx.Err()
		})
		if err != nil {
			return err
		}
		return tx.Bucket(inboundBucket).ForEach(func(k, v []byte) error {
			if decodeTime(v).Before(c.Inbound) {
				inbound = append(inbound, record{key: bytes.Clone(k)})
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	deleted, err := s.deleteRecords(ctx, dialogsBucket, dialogs)
	if err != nil {
		return deleted, err
	}
	if _, err := s.deleteRecords(ctx, inboundBucket, inbound); err != nil {
		return deleted, err
	}
	if !c.Events.IsZero() {
		if err := s.expireEvents(ctx, c.Events); err != nil {
			return deleted, err
		}
	}
	return deleted, ctx.Err()
}

// deleteRecords deletes records from bucket, a record with a value only if it still holds
// that value (a dialog that moved on since it was found is active again), and returns how
// many it deleted.
func (s *Store) deleteRecords(ctx context.Context, bucket []byte, records []record) (int, error) {
	deleted := 0
	for start := 0; start < len(records); start += expireChunk {
		part := records[start:min(start+expireChunk, len(records))]
		n := 0
		err := s.update(ctx, func(tx *bolt.Tx) error {
			n = 0
			b := tx.Bucket(bucket)
			for _, r := range part {
				if r.value != nil && !bytes.Equal(b.Get(r.key), r.value) {
					continue
				}
				if err := b.Delete(r.key); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return deleted, err
		}
		deleted += n
	}
	return deleted, nil
}

// expireEvents deletes events recorded before cutoff. Events are appended in commit order,
// so the old ones are a run at the start of the bucket, deleted a chunk at a time.
func (s *Store) expireEvents(ctx context.Context, cutoff time.Time) error {
	for {
		n := 0
		err := s.update(ctx, func(tx *bolt.Tx) error {
			n = 0
			c := tx.Bucket(eventsBucket).Cursor()
			for k, v := c.First(); k != nil && n < expireChunk; k, v = c.First() {
				e, err := decodeEvent(v)
				if err != nil {
					return fmt.Errorf("event %d: %w", binary.BigEndian.Uint64(k), err)
				}
				if !e.At.Before(cutoff) {
					return nil
				}
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil || n < expireChunk {
			return err
		}
	}
}
