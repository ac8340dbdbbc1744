package boltstore

import (
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// writeTx is what a commit's write function works on: the stored records as the writes
// before it left them, and the changes it makes. boltTx is a bbolt write transaction of its
// own (Options.Unbatched); groupTx collects the changes of a group of writes for the journal.
type writeTx interface {
	dialog(key string) []byte
	seen(inboundKey string) bool
	putDialog(key string, record []byte) error
	putInbound(key string, at time.Time) error
	// addOutbox stores a reply to deliver and returns its outbox id.
	addOutbox(entry []byte) (uint64, error)
	addEvent(body []byte) error
	deleteOutbox(id uint64) error
}

// boltTx is a writeTx straight on a bbolt write transaction.
type boltTx struct{ tx *bolt.Tx }

func (t boltTx) dialog(key string) []byte { return t.tx.Bucket(dialogsBucket).Get([]byte(key)) }

func (t boltTx) seen(key string) bool { return t.tx.Bucket(inboundBucket).Get([]byte(key)) != nil }

func (t boltTx) putDialog(key string, record []byte) error {
	return t.tx.Bucket(dialogsBucket).Put([]byte(key), record)
}

func (t boltTx) putInbound(key string, at time.Time) error {
	return t.tx.Bucket(inboundBucket).Put([]byte(key), encodeTime(at))
}

func (t boltTx) addOutbox(entry []byte) (uint64, error) {
	return appendSequenced(t.tx, outboxBucket, entry)
}

func (t boltTx) addEvent(body []byte) error {
	_, err := appendSequenced(t.tx, eventsBucket, body)
	return err
}

func (t boltTx) deleteOutbox(id uint64) error {
	return t.tx.Bucket(outboxBucket).Delete(encodeID(id))
}

// appendSequenced puts v under the bucket's next sequence number. The outbox and events
// buckets are only appended to (and deleted from at the front), so their pages are filled.
func appendSequenced(tx *bolt.Tx, bucket []byte, v []byte) (uint64, error) {
	b := tx.Bucket(bucket)
	b.FillPercent = 1
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	return seq, b.Put(encodeID(seq), v)
}

// change is one change to the file, as the journal records it.
type change struct {
	kind  changeKind
	key   string // dialog key or inbound key
	value []byte // dialog record, outbox entry or event
	id    uint64 // outbox or event id
	at    int64  // when an inbound id was seen, in Unix nanoseconds
}

type changeKind byte

const (
	changeDialog changeKind = iota + 1
	changeInbound
	changeOutbox
	changeDelivered // an outbox entry delivered, to delete
	changeEvent
)

var errJournalRecord = errors.New("unreadable journal record")

func appendChanges(b []byte, changes []change) []byte {
	for _, c := range changes {
		b = append(b, byte(c.kind))
		switch c.kind {
		case changeDialog:
			b = appendString(b, c.key)
			b = appendBytes(b, c.value)
		case changeInbound:
			b = appendString(b, c.key)
			b = binary.AppendVarint(b, c.at)
		case changeOutbox, changeEvent:
			b = binary.AppendUvarint(b, c.id)
			b = appendBytes(b, c.value)
		case changeDelivered:
			b = binary.AppendUvarint(b, c.id)
		}
	}
	return b
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// decodeChanges reads what appendChanges wrote. The values are copies: the journal's read
// buffer is reused.
func decodeChanges(b []byte) ([]change, error) {
	var out []change
	d := decoder{b: b}
	for len(d.b) > 0 && !d.failed {
		c := change{kind: changeKind(d.byte())}
		switch c.kind {
		case changeDialog:
			c.key = d.string()
			c.value = []byte(d.string())
		case changeInbound:
			c.key = d.string()
			c.at = d.varint()
		case changeOutbox, changeEvent:
			c.id = d.uvarint()
			c.value = []byte(d.string())
		case changeDelivered:
			c.id = d.uvarint()
		default:
			return nil, errJournalRecord
		}
		out = append(out, c)
	}
	if d.failed {
		return nil, errJournalRecord
	}
	return out, nil
}

// memtable holds the changes committed to the journal and not yet to the bbolt file, with
// the last one of each dialog and inbound id, so that commits see them.
type memtable struct {
	dialogs map[string][]byte
	inbound map[string]int64
	outbox  map[uint64][]byte // replies committed since the last checkpoint and not delivered
	deletes []uint64          // delivered replies that the file holds
	// delivered is every reply delivered since the last checkpoint, whether or not the file
	// holds it: the Store's delivered marks wait for the checkpoint.
	delivered []uint64
	events    []change
	outboxID  uint64 // the largest outbox id given out
	eventID   uint64 // the largest event id given out
}

func newMemtable() *memtable {
	return &memtable{dialogs: map[string][]byte{}, inbound: map[string]int64{}, outbox: map[uint64][]byte{}}
}

func (m *memtable) empty() bool {
	return len(m.dialogs) == 0 && len(m.inbound) == 0 && len(m.outbox) == 0 && len(m.deletes) == 0 && len(m.events) == 0
}

func (m *memtable) apply(changes []change) {
	for _, c := range changes {
		switch c.kind {
		case changeDialog:
			m.dialogs[c.key] = c.value
		case changeInbound:
			m.inbound[c.key] = c.at
		case changeOutbox:
			m.outbox[c.id] = c.value
			m.outboxID = max(m.outboxID, c.id)
		case changeDelivered:
			m.delivered = append(m.delivered, c.id)
			if _, ok := m.outbox[c.id]; ok {
				delete(m.outbox, c.id) // never reaches the file
			} else {
				m.deletes = append(m.deletes, c.id)
			}
		case changeEvent:
			m.events = append(m.events, c)
			m.eventID = max(m.eventID, c.id)
		}
	}
}

// writeTo applies the changes to the buckets of a bbolt write transaction.
func (m *memtable) writeTo(tx *bolt.Tx) error {
	dialogs := tx.Bucket(dialogsBucket)
	for _, k := range slices.Sorted(maps.Keys(m.dialogs)) {
		if err := dialogs.Put([]byte(k), m.dialogs[k]); err != nil {
			return err
		}
	}
	inbound := tx.Bucket(inboundBucket)
	for _, k := range slices.Sorted(maps.Keys(m.inbound)) {
		if err := inbound.Put([]byte(k), encodeTime(time.Unix(0, m.inbound[k]))); err != nil {
			return err
		}
	}
	outbox := tx.Bucket(outboxBucket)
	outbox.FillPercent = 1
	for _, id := range m.deletes {
		if err := outbox.Delete(encodeID(id)); err != nil {
			return err
		}
	}
	for _, id := range slices.Sorted(maps.Keys(m.outbox)) {
		if err := outbox.Put(encodeID(id), m.outbox[id]); err != nil {
			return err
		}
	}
	if err := outbox.SetSequence(max(outbox.Sequence(), m.outboxID)); err != nil {
		return err
	}
	events := tx.Bucket(eventsBucket)
	events.FillPercent = 1
	for _, e := range m.events {
		if err := events.Put(encodeID(e.id), e.value); err != nil {
			return err
		}
	}
	return events.SetSequence(max(events.Sequence(), m.eventID))
}
