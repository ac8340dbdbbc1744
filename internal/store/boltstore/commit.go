package boltstore

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/paydoctor/bot/internal/conversation"
)

// Commit implements conversation.Store.
//
// The step runs outside the write transaction, on the dialog read in a read transaction; the
// write transaction checks that the stored record is still that one and otherwise Commit
// starts over. A duplicate inbound id is found in the read transaction before the step, or
// in the write transaction after it. The write transaction is shared with the concurrent
// ones (writer), so the engine's work never holds up the writer.
func (s *Store) Commit(ctx context.Context, t conversation.Turn, step func(*conversation.Dialog) (conversation.Result, error)) (conversation.Delivery, error) {
	key := []byte(t.Key.String())
	var inboundKey []byte
	if t.InboundID != "" {
		inboundKey = []byte(t.Key.Platform + ":" + t.InboundID)
	}
	for {
		if err := ctx.Err(); err != nil {
			return conversation.Delivery{}, err
		}
		var stored []byte
		var d conversation.Dialog
		var duplicate bool
		err := s.db.View(func(tx *bolt.Tx) error {
			duplicate = inboundKey != nil && tx.Bucket(inboundBucket).Get(inboundKey) != nil
			stored = bytes.Clone(tx.Bucket(dialogsBucket).Get(key))
			return nil
		})
		if err != nil {
			return conversation.Delivery{}, err
		}
		if duplicate {
			return conversation.Delivery{}, conversation.ErrDuplicate
		}
		if stored != nil {
			if d, err = decodeDialogRecord(stored); err != nil {
				return conversation.Delivery{}, fmt.Errorf("dialog %s: %w", t.Key, err)
			}
		}
		res, err := step(&d)
		if err != nil {
			return conversation.Delivery{}, err
		}
		// Everything is encoded here, in the caller's goroutine, so that the writer only
		// puts bytes.
		enc := appendDialogRecord(nil, d)
		now := s.now()
		var outgoing [][]byte
		hasReply := !res.Reply.Empty()
		if hasReply {
			outgoing = append(outgoing, appendOutboxEntry(nil, outboxEntry{Key: t.Replier(), Route: t.Route, Reply: res.Reply, Created: now}))
		}
		for _, n := range res.Notices {
			outgoing = append(outgoing, appendOutboxEntry(nil, outboxEntry{Key: n.Key, Route: n.Route, Reply: n.Reply, Created: now}))
		}
		events := make([][]byte, len(res.Events))
		for i, e := range res.Events {
			events[i] = appendEvent(nil, e)
		}

		var id uint64
		var conflict bool
		err = s.update(ctx, func(tx *bolt.Tx) error {
			id, conflict, duplicate = 0, false, false
			if inboundKey != nil && tx.Bucket(inboundBucket).Get(inboundKey) != nil {
				duplicate = true
				return nil
			}
			dialogs := tx.Bucket(dialogsBucket)
			if !bytes.Equal(dialogs.Get(key), stored) {
				conflict = true
				return nil
			}
			if err := dialogs.Put(key, enc); err != nil {
				return err
			}
			if inboundKey != nil {
				if err := tx.Bucket(inboundBucket).Put(inboundKey, encodeTime(now)); err != nil {
					return err
				}
			}
			for i, entry := range outgoing {
				seq, err := appendSequenced(tx, outboxBucket, entry)
				if err != nil {
					return err
				}
				if i == 0 && hasReply {
					id = seq
				}
			}
			for _, e := range events {
				if _, err := appendSequenced(tx, eventsBucket, e); err != nil {
					return err
				}
			}
			return nil
		})
		switch {
		case err != nil:
			return conversation.Delivery{}, err
		case duplicate:
			return conversation.Delivery{}, conversation.ErrDuplicate
		case !conflict && !hasReply:
			return conversation.Delivery{}, nil
		case !conflict:
			return conversation.Delivery{ID: id, Key: t.Replier(), Route: t.Route, Reply: res.Reply, Created: now}, nil
		}
	}
}
