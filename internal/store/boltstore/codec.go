package boltstore

import (
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The binary forms of dialogs, outbox entries and events share these: strings and byte
// strings length-prefixed with a uvarint, times as seconds and nanoseconds. Keys of the
// outbox and events buckets, and inbound ids' times, are big-endian uint64s.

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendStrings writes the count of ss, then each.
func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// appendTime writes t's instant as seconds and nanoseconds since 1970, which also holds the
// zero time (whose nanoseconds since 1970 do not fit in an int64).
func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

func encodeID(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

func encodeTime(t time.Time) []byte { return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())) }

func decodeTime(b []byte) time.Time {
	if len(b) != 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)))
}

// appendSequenced puts v under the bucket's next sequence number and returns it. The outbox
// and events buckets are only appended to (and deleted from at the front), so their pages
// are filled.
func appendSequenced(tx *bolt.Tx, bucket []byte, v []byte) (uint64, error) {
	b := tx.Bucket(bucket)
	b.FillPercent = 1
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	return seq, b.Put(encodeID(seq), v)
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

// strings reads what appendStrings wrote; nil for none.
func (d *decoder) strings() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.string()
	}
	return ss
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
