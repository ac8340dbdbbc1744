package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/storemove"
)

// outboxEntry is an outbox value.
//
// It is stored in a binary form (outboxFormatBinary, then each field). Values that start with
// '{' are JSON, as earlier versions wrote them, and are still read.
type outboxEntry struct {
	Key     conversation.Key   `json:"key"`
	Route   []byte             `json:"route,omitempty"`
	Reply   conversation.Reply `json:"reply"`
	Created time.Time          `json:"created"`
}

const outboxFormatBinary = 1

var errOutboxEntry = errors.New("unreadable outbox entry")

// outboxRecord is outbox entry id, stored as v, as a storemove record, with the reply as
// JSON.
func outboxRecord(id uint64, v []byte) (storemove.Record, error) {
	e, err := decodeOutboxEntry(v)
	if err != nil {
		return storemove.Record{}, err
	}
	reply, err := json.Marshal(e.Reply)
	return storemove.Record{Kind: storemove.KindOutbox, Platform: e.Key.Platform, Chat: e.Key.Chat, User: e.Key.User,
		Seq: id, Body: reply, Route: e.Route, At: e.Created}, err
}

func appendOutboxEntry(b []byte, e outboxEntry) []byte {
	b = append(b, outboxFormatBinary)
	b = appendString(b, e.Key.Platform)
	b = appendString(b, e.Key.Chat)
	b = appendString(b, e.Key.User)
	b = appendString(b, string(e.Route))
	b = appendTime(b, e.Created)
	r := e.Reply
	b = appendString(b, r.Text)
	b = binary.AppendUvarint(b, uint64(len(r.Buttons)))
	for _, btn := range r.Buttons {
		b = appendString(b, btn.ID)
		b = appendString(b, btn.Label)
	}
	b = appendString(b, r.Cause)
	b = binary.AppendUvarint(b, uint64(len(r.Solutions)))
	for _, s := range r.Solutions {
		b = appendString(b, s)
	}
	return appendString(b, r.Lang)
}

func decodeOutboxEntry(v []byte) (outboxEntry, error) {
	var e outboxEntry
	if len(v) > 0 && v[0] == '{' {
		err := json.Unmarshal(v, &e)
		return e, err
	}
	if len(v) == 0 || v[0] != outboxFormatBinary {
		return e, errOutboxEntry
	}
	d := decoder{b: v[1:]}
	e.Key = conversation.Key{Platform: d.string(), Chat: d.string(), User: d.string()}
	if route := d.string(); route != "" {
		e.Route = []byte(route)
	}
	e.Created = d.time()
	e.Reply.Text = d.string()
	if n := d.count(); n > 0 {
		e.Reply.Buttons = make([]conversation.Button, n)
		for i := range e.Reply.Buttons {
			e.Reply.Buttons[i] = conversation.Button{ID: d.string(), Label: d.string()}
		}
	}
	e.Reply.Cause = d.string()
	if n := d.count(); n > 0 {
		e.Reply.Solutions = make([]string, n)
		for i := range e.Reply.Solutions {
			e.Reply.Solutions[i] = d.string()
		}
	}
	e.Reply.Lang = d.string()
	if d.failed || len(d.b) != 0 {
		return outboxEntry{}, errOutboxEntry
	}
	return e, nil
}

// Pending implements conversation.Store.
func (s *Store) Pending(ctx context.Context, platform string, limit int) ([]conversation.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []conversation.Delivery
	err := s.db.View(func(tx *bolt.Tx) error {
		return scanOutbox(ctx, tx, platform, 0, nil, func(d conversation.Delivery) bool {
			out = append(out, d)
			return len(out) < limit
		})
	})
	return out, err
}

// Claim implements conversation.Store. Holds live in memory, for Options.Lease.
func (s *Store) Claim(ctx context.Context, platform string, after uint64, limit int) ([]conversation.Delivery, error) {
	if limit <= 0 || after == math.MaxUint64 {
		return nil, nil
	}
	// s.mu is held from before the read begins until the holds are taken: MarkDelivered
	// releases its holds only after its delete committed, so a reply this read still sees
	// after that commit is held, and skipped, until the scan is done.
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for id, until := range s.held {
		if !now.Before(until) {
			delete(s.held, id)
		}
	}
	var out []conversation.Delivery
	err := s.db.View(func(tx *bolt.Tx) error {
		held := func(id uint64) bool { _, ok := s.held[id]; return ok }
		return scanOutbox(ctx, tx, platform, after+1, held, func(d conversation.Delivery) bool {
			out = append(out, d)
			return len(out) < limit
		})
	})
	if err != nil {
		return nil, err
	}
	for _, d := range out {
		s.held[d.ID] = now.Add(s.lease)
	}
	return out, nil
}

// Unclaim implements conversation.Store.
func (s *Store) Unclaim(ctx context.Context, ids ...uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.held, id)
	}
	return nil
}

// MarkDelivered implements conversation.Store: the deletes are one write through the writer,
// shared with concurrent ones, and it returns once they are durable. If the commit fails,
// nothing changed, holds included.
func (s *Store) MarkDelivered(ctx context.Context, ids ...uint64) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(outboxBucket)
		for _, id := range ids {
			if err := b.Delete(encodeID(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.Unclaim(ctx, ids...)
}

// scanOutbox calls visit with the undelivered replies of platform from id from on, oldest
// first, until visit returns false.
func scanOutbox(ctx context.Context, tx *bolt.Tx, platform string, from uint64, skip func(id uint64) bool, visit func(conversation.Delivery) bool) error {
	c := tx.Bucket(outboxBucket).Cursor()
	for k, v := c.Seek(encodeID(from)); k != nil; k, v = c.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		id := binary.BigEndian.Uint64(k)
		if skip != nil && skip(id) {
			continue // without decoding: a sender's rescan passes over all it holds
		}
		e, err := decodeOutboxEntry(v)
		if err != nil {
			return fmt.Errorf("outbox entry %d: %w", id, err)
		}
		if e.Key.Platform == platform && !visit(conversation.Delivery{ID: id, Key: e.Key, Route: e.Route, Reply: e.Reply, Created: e.Created}) {
			return nil
		}
	}
	return nil
}
