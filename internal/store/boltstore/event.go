package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paydoctor/bot/internal/conversation"
)

// Events are stored in a binary form (eventFormatBinary, then each field), less than half the
// size of their JSON: they are kept for months (BOT_EVENTS_TTL). Values that start with '{'
// are JSON, as earlier versions and Load write them; both are read, and Dump hands every
// event on as JSON. Format 2 adds Wait and Dialog at the end; format 1 is still read.
const eventFormatBinary = 2

var errEvent = errors.New("unreadable event")

func appendEvent(b []byte, e conversation.Event) []byte {
	b = append(b, eventFormatBinary)
	b = appendString(b, string(e.Kind))
	b = appendString(b, e.Platform)
	b = appendString(b, e.Lang)
	b = appendString(b, e.Outcome)
	b = appendString(b, e.Cause)
	b = appendString(b, e.Solution)
	b = appendTime(b, e.At)
	b = binary.AppendVarint(b, int64(e.Wait))
	return appendString(b, e.Dialog)
}

// decodeEvent reads an event of either form.
func decodeEvent(v []byte) (conversation.Event, error) {
	var e conversation.Event
	if len(v) > 0 && v[0] == '{' {
		err := json.Unmarshal(v, &e)
		return e, err
	}
	if len(v) == 0 || v[0] < 1 || v[0] > eventFormatBinary {
		return e, errEvent
	}
	d := decoder{b: v[1:]}
	e.Kind = conversation.EventKind(d.string())
	e.Platform = d.string()
	e.Lang = d.string()
	e.Outcome = d.string()
	e.Cause = d.string()
	e.Solution = d.string()
	e.At = d.time()
	if v[0] >= 2 {
		e.Wait = time.Duration(d.varint())
		e.Dialog = d.string()
	}
	if d.failed || len(d.b) != 0 {
		return conversation.Event{}, errEvent
	}
	return e, nil
}

// eventJSON is a stored event as JSON, as Dump hands it on.
func eventJSON(v []byte) ([]byte, error) {
	if len(v) > 0 && v[0] == '{' {
		return v, nil
	}
	e, err := decodeEvent(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(e)
}

// Events implements conversation.Store. It reads every event recorded, in commit order:
// statistics are read rarely, by an operator, and never on the path of a message.
func (s *Store) Events(ctx context.Context, since time.Time, fn func(conversation.Event) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(eventsBucket)
		if b == nil {
			return nil // a file from before events, opened read-only
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			e, err := decodeEvent(v)
			if err != nil {
				return fmt.Errorf("event %d: %w", binary.BigEndian.Uint64(k), err)
			}
			if e.At.Before(since) {
				continue
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}
