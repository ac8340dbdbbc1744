package boltstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/storemove"
)

// outboxEntry is an outbox value.
//
// Commit writes it in a binary form (outboxFormatBinary, then each field length-prefixed):
// encoding JSON took a twentieth of the CPU of a message. Values that start with '{' are
// JSON, as earlier versions and Load write them; both are read.
type outboxEntry struct {
	Key     conversation.Key   `json:"key"`
	Route   []byte             `json:"route,omitempty"`
	Reply   conversation.Reply `json:"reply"`
	Created time.Time          `json:"created"`
}

const outboxFormatBinary = 1

var errOutboxEntry = errors.New("unreadable outbox entry")

// outboxRecord is outbox entry id, stored as v, as a storemove record, with the reply as
// JSON. A JSON entry's reply is passed on as stored.
func outboxRecord(id uint64, v []byte) (storemove.Record, error) {
	var e outboxEntry
	var reply []byte
	if len(v) > 0 && v[0] == '{' {
		var raw struct {
			Key     conversation.Key `json:"key"`
			Route   []byte           `json:"route,omitempty"`
			Reply   json.RawMessage  `json:"reply"`
			Created time.Time        `json:"created"`
		}
		if err := json.Unmarshal(v, &raw); err != nil {
			return storemove.Record{}, err
		}
		e = outboxEntry{Key: raw.Key, Route: raw.Route, Created: raw.Created}
		reply = bytes.Clone(raw.Reply)
	} else {
		var err error
		if e, err = decodeOutboxEntry(v); err != nil {
			return storemove.Record{}, err
		}
		if reply, err = json.Marshal(e.Reply); err != nil {
			return storemove.Record{}, err
		}
	}
	return storemove.Record{Kind: storemove.KindOutbox, Platform: e.Key.Platform, Chat: e.Key.Chat, User: e.Key.User,
		Seq: id, Body: reply, Route: e.Route, At: e.Created}, nil
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

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
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

// decoder reads what appendOutboxEntry and appendDialogRecord wrote; after the first error
// every read returns the zero value and failed stays set.
type decoder struct {
	b      []byte
	failed bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.failed = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if d.failed || len(d.b) == 0 {
		d.failed = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// time reads what appendTime wrote, in UTC.
func (d *decoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= uint64(time.Second) {
		d.failed = true
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.failed = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.failed || n > uint64(len(d.b)) {
		d.failed = true
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// count reads a number of elements, each of which takes at least a byte of the value, so a
// damaged count is refused before the caller allocates for more elements than the value
// could hold.
func (d *decoder) count() int {
	n := d.uvarint()
	if d.failed || n > uint64(len(d.b)) {
		d.failed = true
		return 0
	}
	return int(n)
}
