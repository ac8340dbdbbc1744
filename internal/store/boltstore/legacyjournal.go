package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paydoctor/bot/internal/conversation"
)

// The journal version of this package (up to commit 0dc3693) kept the latest changes in two
// journal files beside the bbolt file, <file>.journal.0 and .1, and wrote them into the file
// at checkpoints. Open applies what such files hold beyond the last checkpoint, once, and
// deletes them; this reader only reads them.
//
// That version's format: the meta bucket's key "journal" holds the file's journal id and the
// first generation the file lacks (8 bytes each, big-endian). Generation g's records follow
// one another from the start of <file>.journal.<g%2>: a header (id and generation, 8 bytes
// each; the body's length and a CRC-32C of the header's first 20 bytes and the body, 4 bytes
// each), then the body, a list of changes. The replay reads generations g, g+1, ... until one
// after the first has no record, and each up to the first that is not an intact record of
// that id and generation: the end of what was written, or the record a crash tore.

var (
	legacyJournalKey = []byte("journal")
	legacyCRCTable   = crc32.MakeTable(crc32.Castagnoli)
)

const legacyHeader = 24

func legacyJournalPaths(dbPath string) [2]string {
	return [2]string{dbPath + ".journal.0", dbPath + ".journal.1"}
}

// legacyJournalBeside reports whether journal files lie beside the file at path.
func legacyJournalBeside(path string) bool {
	for _, p := range legacyJournalPaths(path) {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
}

// applyLegacyJournal applies the records beyond the file's last checkpoint in one
// transaction, which also deletes the journal key, then deletes the journal files (a crash in
// between leaves records of an id the file no longer names: they are only deleted). A journal
// damaged before its last intact record is refused with conversation.ErrDamaged, and nothing
// is applied.
func applyLegacyJournal(db *bolt.DB, log *slog.Logger) error {
	paths := legacyJournalPaths(db.Path())
	var files [2][]byte
	present := 0
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		files[i] = b
		if err == nil {
			present++
		}
	}
	records := 0
	err := db.Update(func(tx *bolt.Tx) error {
		state := tx.Bucket(metaBucket).Get(legacyJournalKey)
		if state == nil && present == 0 {
			return errNothingToApply
		}
		if len(state) == 16 {
			id, first := binary.BigEndian.Uint64(state), binary.BigEndian.Uint64(state[8:])
			if files[first%2] == nil {
				// Opening without it would lose, silently, what it held beyond the last
				// checkpoint, and apply the next generation over the gap.
				return fmt.Errorf("%w: the journal file %s the database names is missing: put the journal files back beside it, or restore the database from a backup", conversation.ErrDamaged, paths[first%2])
			}
			torn := false
			for gen := first; ; gen++ {
				path := paths[gen%2]
				n, tornHere, err := applyLegacyGeneration(tx, files[gen%2], id, gen)
				if err == nil && n > 0 && torn {
					path, err = paths[(gen-1)%2], errors.New("its last record is damaged, and the next generation's records follow")
				}
				if err != nil {
					return fmt.Errorf("%w: journal %s: %v; restore the database from a backup, or move the journal files away to open it without what they hold", conversation.ErrDamaged, path, err)
				}
				records += n
				if n == 0 && gen > first {
					break
				}
				torn = tornHere
			}
		}
		return tx.Bucket(metaBucket).Delete(legacyJournalKey)
	})
	if errors.Is(err, errNothingToApply) {
		return nil
	} else if err != nil {
		return err
	}
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if dir, err := os.Open(filepath.Dir(db.Path())); err == nil {
		err = dir.Sync()
		dir.Close()
		if err != nil {
			return err
		}
	}
	log.Info("applied and removed the journal of an earlier version", "file", db.Path(), "records", records)
	return nil
}

var errNothingToApply = errors.New("no journal")

// applyLegacyGeneration applies the records of generation gen in data and returns how many
// there were, and whether they end at a record of the generation that is not intact (torn).
// Only what a crash leaves may follow the last: an intact record of the generation there
// means that one before it is damaged.
func applyLegacyGeneration(tx *bolt.Tx, data []byte, id, gen uint64) (n int, torn bool, err error) {
	off := 0
	for ; ; n++ {
		body, ok := legacyRecordAt(data, off, id, gen)
		if !ok {
			break
		}
		if err := applyLegacyRecord(tx, body); err != nil {
			return n, false, fmt.Errorf("record at %d: %w", off, err)
		}
		off += legacyHeader + len(body)
	}
	prefix := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, id), gen)
	torn = bytes.HasPrefix(data[off:], prefix)
	for i := off + 1; i < len(data); i++ {
		j := bytes.Index(data[i:], prefix)
		if j < 0 {
			break
		}
		i += j
		if _, ok := legacyRecordAt(data, i, id, gen); ok {
			return n, torn, fmt.Errorf("the record at %d is damaged, and an intact one follows it at %d", off, i)
		}
	}
	return n, torn, nil
}

// legacyRecordAt returns the body of the record at off if it is an intact record of
// generation gen of journal id.
func legacyRecordAt(data []byte, off int, id, gen uint64) ([]byte, bool) {
	if off+legacyHeader > len(data) {
		return nil, false
	}
	h := data[off : off+legacyHeader]
	n := binary.BigEndian.Uint32(h[16:])
	if binary.BigEndian.Uint64(h) != id || binary.BigEndian.Uint64(h[8:]) != gen || int64(n) > int64(len(data)-off-legacyHeader) {
		return nil, false
	}
	body := data[off+legacyHeader : off+legacyHeader+int(n)]
	crc := crc32.Update(crc32.Checksum(h[:20], legacyCRCTable), legacyCRCTable, body)
	return body, crc == binary.BigEndian.Uint32(h[20:])
}

// applyLegacyRecord writes a record's changes into the file in their order, which leaves it as
// the journal version's checkpoint did, and moves the sequences past the ids given out.
func applyLegacyRecord(tx *bolt.Tx, body []byte) error {
	d := decoder{b: body}
	for len(d.b) > 0 {
		var b *bolt.Bucket
		var key, value []byte // a nil value deletes
		switch kind := d.byte(); kind {
		case 1: // a dialog: key, record
			b, key, value = tx.Bucket(dialogsBucket), []byte(d.string()), []byte(d.string())
		case 2: // an inbound id: key, Unix nanoseconds
			b, key, value = tx.Bucket(inboundBucket), []byte(d.string()), encodeTime(time.Unix(0, d.varint()))
		case 3, 5: // an outbox entry or an event: id, value
			b = tx.Bucket(outboxBucket)
			if kind == 5 {
				b = tx.Bucket(eventsBucket)
			}
			id := d.uvarint()
			key, value = encodeID(id), []byte(d.string())
			if err := b.SetSequence(max(b.Sequence(), id)); err != nil {
				return err
			}
		case 4: // a delivered outbox entry: id
			b, key = tx.Bucket(outboxBucket), encodeID(d.uvarint())
		default:
			d.failed = true
		}
		var err error
		switch {
		case d.failed:
			err = errors.New("unreadable changes")
		case value == nil:
			err = b.Delete(key)
		default:
			err = b.Put(key, value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
