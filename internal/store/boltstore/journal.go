package boltstore

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The journal is the store's group commit. One goroutine takes every write that is waiting,
// runs them on a groupTx, appends their changes to the journal file as one record with one
// write and one fdatasync, and only then answers them. The changes are kept in memory (the
// memtable) and written into the bbolt file by a checkpoint: one bbolt commit, with its
// fsyncs, for thousands of messages.
//
// Why: a bbolt commit writes every B+tree page it changed, each with a write of its own,
// and fsyncs twice. A group of 85 messages changed 35 pages of 16 KiB: 18 of them the
// dialogs bucket, of which every leaf holds an active dialog, and the rest the tails of the
// append-only buckets. On the disk measured that took 3.5 ms, most of a 4.8 ms cycle, for
// 7 KB of changes a message. The same group is one 55 KB record in the journal.
//
// Crash safety: a write is answered only after its record is on disk. A checkpoint writes
// the memtable and a new generation number into the bbolt file in one bbolt transaction;
// records carry the generation (and the file's journal id), so Open replays exactly the
// records written since the last checkpoint that reached the disk and ignores older ones,
// and a torn record fails its checksum and ends the replay.
type journal struct {
	db   *bolt.DB
	file *os.File
	id   uint64 // random, per bbolt file: a journal left beside another file is not replayed
	gen  uint64 // records of this generation are the changes since the last checkpoint
	size int64  // of the file, all of it written (zeros beyond the records)
	end  int64  // where the next record goes
	buf  []byte

	memMu sync.RWMutex // guards mem against Store.pendingDialog; the writer alone changes it
	mem   *memtable

	// onCheckpoint is told which delivered replies a checkpoint deleted from the file, and
	// the checkpoint's bbolt transaction id.
	onCheckpoint func(txid uint64, delivered []uint64)

	wake chan struct{} // a write was queued; holds at most one signal
	done chan struct{} // closed when run has returned

	mu       sync.Mutex
	queue    []pendingWrite
	spare    []pendingWrite // the previous round's slice, reused for the next queue
	closed   bool
	closeErr error // of the last checkpoint, at close
}

// pendingWrite is a commit's write (change), or a write straight to the bbolt file (direct,
// after a checkpoint; a flush when fn is nil).
type pendingWrite struct {
	change func(writeTx) error
	direct func(*bolt.Tx) error
	flush  bool
	done   func(error)
}

const (
	// maxGroup bounds how many writes share one record, and so how long the first write of
	// a group waits for the last.
	maxGroup = 1024
	// checkpointBytes is how much journal is written before a checkpoint: at 20,000
	// messages a second about one checkpoint every quarter of a second, whose bbolt commit
	// takes a few percent of the writer's time, with a few MB in the memtable.
	checkpointBytes = 4 << 20
	// growBytes is how much the file grows at a time. It is grown by writing zeros and
	// fsynced, so that a record's fdatasync never has to write the file's size.
	growBytes = 1 << 20

	recordHeader = 24 // id, generation, length, checksum
)

var (
	journalKey = []byte("journal") // in the meta bucket: id and generation
	crcTable   = crc32.MakeTable(crc32.Castagnoli)
)

func journalPath(dbPath string) string { return dbPath + ".journal" }

// openJournal applies the journal beside the bbolt file to it. The caller starts run.
func openJournal(db *bolt.DB) (*journal, error) {
	j := &journal{db: db, mem: newMemtable(), wake: make(chan struct{}, 1), done: make(chan struct{})}
	var err error
	if j.id, j.gen, err = journalState(db); err != nil {
		return nil, err
	}
	if j.file, err = openJournalFile(journalPath(db.Path())); err != nil {
		return nil, err
	}
	if j.size, err = j.file.Seek(0, io.SeekEnd); err != nil {
		j.file.Close()
		return nil, err
	}
	if err := j.replay(); err != nil {
		j.file.Close()
		return nil, err
	}
	// Always a new generation, so that no record written before this start can be read as
	// one written after it.
	if err := j.checkpoint(nil, true); err != nil {
		j.file.Close()
		return nil, fmt.Errorf("apply the journal %s: %w", j.file.Name(), err)
	}
	return j, nil
}

// journalState reads the file's journal id and generation, giving a new file its id.
func journalState(db *bolt.DB) (id, gen uint64, err error) {
	err = db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		if v := meta.Get(journalKey); len(v) == 16 {
			id, gen = binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
			return nil
		}
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		id, gen = binary.BigEndian.Uint64(b[:]), 1
		return meta.Put(journalKey, binary.BigEndian.AppendUint64(b[:], gen))
	})
	return id, gen, err
}

// journalPending reports whether the journal beside a file opened read-only holds changes
// that the file does not: the bot that wrote them was stopped without closing the store.
func journalPending(db *bolt.DB) (bool, error) {
	var id, gen uint64
	err := db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(metaBucket); meta != nil {
			if v := meta.Get(journalKey); len(v) == 16 {
				id, gen = binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
			}
		}
		return nil
	})
	if err != nil || id == 0 {
		return false, err
	}
	f, err := os.Open(journalPath(db.Path()))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	defer f.Close()
	_, ok, err := readRecord(f, 0, id, gen)
	return ok, err
}

func openJournalFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	// The file's name must outlast a power cut as well as its records.
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		err = dir.Sync()
		dir.Close()
		if err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// readRecord reads the record at off if it is one of this file's generation gen, intact.
func readRecord(f *os.File, off int64, id, gen uint64) ([]byte, bool, error) {
	var h [recordHeader]byte
	if _, err := f.ReadAt(h[:], off); errors.Is(err, io.EOF) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	n := binary.BigEndian.Uint32(h[16:])
	if binary.BigEndian.Uint64(h[:]) != id || binary.BigEndian.Uint64(h[8:]) != gen || n > 1<<30 {
		return nil, false, nil
	}
	body := make([]byte, n)
	if _, err := f.ReadAt(body, off+recordHeader); errors.Is(err, io.EOF) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	crc := crc32.Update(crc32.Checksum(h[:20], crcTable), crcTable, body)
	if crc != binary.BigEndian.Uint32(h[20:]) {
		return nil, false, nil // torn by a crash in its write
	}
	return body, true, nil
}

// replay reads the records of the current generation into the memtable.
func (j *journal) replay() error {
	for off := int64(0); ; {
		body, ok, err := readRecord(j.file, off, j.id, j.gen)
		if err != nil || !ok {
			return err
		}
		changes, err := decodeChanges(body)
		if err != nil {
			return fmt.Errorf("journal %s at %d: %w", j.file.Name(), off, err)
		}
		j.mem.apply(changes)
		off += recordHeader + int64(len(body))
	}
}

// do runs fn on a groupTx shared with the writes queued at the same time and returns fn's
// error, or the journal's. fn runs once; if it fails, its changes are left out of the record.
func (j *journal) do(fn func(writeTx) error) error {
	result := make(chan error, 1)
	if err := j.queueWrite(pendingWrite{change: fn, done: func(err error) { result <- err }}); err != nil {
		return err
	}
	return <-result
}

// direct runs fn in a bbolt write transaction of its own, after the writes queued before
// it, in the checkpoint that writes the memtable. A nil fn only checkpoints: reads of the
// bbolt file then see every write answered before.
func (j *journal) direct(fn func(*bolt.Tx) error) error {
	result := make(chan error, 1)
	if err := j.queueWrite(pendingWrite{direct: fn, flush: fn == nil, done: func(err error) { result <- err }}); err != nil {
		return err
	}
	return <-result
}

// queueWrite queues w; w.done is called on the writer's goroutine. Once close was called it
// returns bolt.ErrDatabaseNotOpen and w.done is never called.
func (j *journal) queueWrite(w pendingWrite) error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return bolt.ErrDatabaseNotOpen
	}
	j.queue = append(j.queue, w)
	j.mu.Unlock()
	select {
	case j.wake <- struct{}{}:
	default: // a signal is pending already; run will see this write with it
	}
	return nil
}

// pendingDialog returns the record of dialog key committed to the journal and not yet
// checkpointed, if there is one.
func (j *journal) pendingDialog(key string) ([]byte, bool) {
	j.memMu.RLock()
	defer j.memMu.RUnlock()
	v, ok := j.mem.dialogs[key]
	return v, ok
}

// close answers the writes queued so far, checkpoints, and stops; later writes fail.
func (j *journal) close() error {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	select {
	case j.wake <- struct{}{}:
	default:
	}
	<-j.done
	return errors.Join(j.closeErr, j.file.Close())
}

func (j *journal) run() {
	defer close(j.done)
	for {
		j.mu.Lock()
		n := min(len(j.queue), maxGroup)
		round := j.queue[:n:n]
		if n == len(j.queue) {
			j.queue, j.spare = j.spare[:0], j.queue
		} else {
			j.queue = j.queue[n:]
		}
		closed := j.closed
		j.mu.Unlock()
		if n == 0 {
			if closed {
				j.closeErr = j.checkpoint(nil, false)
				return
			}
			<-j.wake
			continue
		}
		// Writes to the bbolt file go in their turn: the journal writes queued before one
		// are recorded first.
		for len(round) > 0 {
			i := 0
			for i < len(round) && round[i].change != nil {
				i++
			}
			if i > 0 {
				j.record(round[:i])
			}
			if i < len(round) {
				w := round[i]
				w.done(j.checkpoint(w.direct, !w.flush))
				i++
			}
			clear(round[:i]) // let the closures go
			round = round[i:]
		}
		if j.end >= checkpointBytes {
			// A failure is no write's: the memtable stays, and the next checkpoint, or the
			// record that finds no room, tries again.
			_ = j.checkpoint(nil, false)
		}
	}
}

// record runs a group of writes and appends their changes to the journal as one record.
func (j *journal) record(group []pendingWrite) {
	view, err := j.db.Begin(false)
	if err != nil {
		for _, w := range group {
			w.done(err)
		}
		return
	}
	g := &groupTx{mem: j.mem, view: view, dialogs: map[string][]byte{}, inbound: map[string]bool{}}
	errs := make([]error, len(group))
	for i, w := range group {
		errs[i] = g.run(w.change)
	}
	// Closed before anything writes: a bbolt commit that grows the file waits for every
	// read transaction.
	_ = view.Rollback() // a read transaction: nothing to undo
	if len(g.changes) > 0 {
		if err := j.append(g.changes); err != nil {
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		} else {
			j.memMu.Lock()
			j.mem.apply(g.changes)
			j.memMu.Unlock()
		}
	}
	for i, w := range group {
		w.done(errs[i])
	}
}

// append writes changes as one record and waits for it to be on disk.
func (j *journal) append(changes []change) error {
	b := append(j.buf[:0], make([]byte, recordHeader)...)
	b = appendChanges(b, changes)
	j.buf = b
	if j.end > 0 && j.end+int64(len(b)) > max(j.size, checkpointBytes+growBytes) {
		if err := j.checkpoint(nil, false); err != nil {
			return fmt.Errorf("journal full, and its checkpoint failed: %w", err)
		}
	}
	binary.BigEndian.PutUint64(b, j.id)
	binary.BigEndian.PutUint64(b[8:], j.gen)
	binary.BigEndian.PutUint32(b[16:], uint32(len(b)-recordHeader))
	binary.BigEndian.PutUint32(b[20:], crc32.Update(crc32.Checksum(b[:20], crcTable), crcTable, b[recordHeader:]))
	if err := j.grow(j.end + int64(len(b))); err != nil {
		return err
	}
	if _, err := j.file.WriteAt(b, j.end); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if err := datasync(j.file); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	j.end += int64(len(b))
	return nil
}

// grow makes the file at least size bytes long, with zeros, on disk.
func (j *journal) grow(size int64) error {
	if size <= j.size {
		return nil
	}
	newSize := (size + growBytes - 1) / growBytes * growBytes
	zeros := make([]byte, growBytes)
	for off := j.size; off < newSize; off += growBytes {
		if _, err := j.file.WriteAt(zeros[:min(growBytes, newSize-off)], off); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	if err := j.file.Sync(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	j.size = newSize
	return nil
}

// checkpoint writes the memtable into the bbolt file, with fn after it, in one transaction
// that also starts a new journal generation. Without a memtable to write or fn it does
// nothing unless always is set.
func (j *journal) checkpoint(fn func(*bolt.Tx) error, always bool) error {
	if j.mem.empty() && fn == nil && !always && j.end == 0 {
		return nil
	}
	var txid, outboxID, eventID uint64
	gen := j.gen + 1
	err := update(j.db, func(tx *bolt.Tx) error {
		if err := j.mem.writeTo(tx); err != nil {
			return err
		}
		v := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, j.id), gen)
		if err := tx.Bucket(metaBucket).Put(journalKey, v); err != nil {
			return err
		}
		if fn != nil {
			if err := fn(tx); err != nil {
				return err
			}
		}
		// Load sets the sequences of the buckets.
		outboxID, eventID = tx.Bucket(outboxBucket).Sequence(), tx.Bucket(eventsBucket).Sequence()
		txid = uint64(tx.ID())
		return nil
	})
	if err != nil {
		return err
	}
	j.memMu.Lock()
	done := j.mem
	j.mem = newMemtable()
	j.mem.outboxID, j.mem.eventID = max(done.outboxID, outboxID), max(done.eventID, eventID)
	j.memMu.Unlock()
	j.gen, j.end = gen, 0
	if j.onCheckpoint != nil {
		j.onCheckpoint(txid, done.delivered)
	}
	return nil
}

// update is DB.Update with a panic, in a write or in bbolt itself (which panics on some kinds
// of damage), turned into an error: the writer goroutine serves every conversation, and one
// bad write must not take it, or the process, down. DB.Update rolls the transaction back
// before the panic reaches here.
func update(db *bolt.DB, fn func(*bolt.Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in a write transaction: %v", p)
		}
	}()
	return db.Update(fn)
}

// groupTx is the writeTx of the writes in one journal record. Reads see, newest first: the
// changes of the write running, those of the group's writes that succeeded, the memtable,
// and the bbolt file, read in one read transaction per group.
type groupTx struct {
	mem     *memtable
	view    *bolt.Tx
	changes []change
	written int // changes[:written] are those of writes that succeeded
	dialogs map[string][]byte
	inbound map[string]bool
}

// run runs a write. If it fails or panics its changes are dropped; the other writes of the
// group go on.
func (g *groupTx) run(fn func(writeTx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in a write: %v", p)
		}
		if err != nil {
			g.changes = g.changes[:g.written]
			return
		}
		for _, c := range g.changes[g.written:] {
			switch c.kind {
			case changeDialog:
				g.dialogs[c.key] = c.value
			case changeInbound:
				g.inbound[c.key] = true
			}
		}
		g.written = len(g.changes)
	}()
	return fn(g)
}

func (g *groupTx) dialog(key string) []byte {
	for i := len(g.changes) - 1; i >= g.written; i-- {
		if c := g.changes[i]; c.kind == changeDialog && c.key == key {
			return c.value
		}
	}
	if v, ok := g.dialogs[key]; ok {
		return v
	}
	if v, ok := g.mem.dialogs[key]; ok {
		return v
	}
	return g.view.Bucket(dialogsBucket).Get([]byte(key))
}

func (g *groupTx) seen(key string) bool {
	for i := len(g.changes) - 1; i >= g.written; i-- {
		if c := g.changes[i]; c.kind == changeInbound && c.key == key {
			return true
		}
	}
	if g.inbound[key] {
		return true
	}
	if _, ok := g.mem.inbound[key]; ok {
		return true
	}
	return g.view.Bucket(inboundBucket).Get([]byte(key)) != nil
}

func (g *groupTx) putDialog(key string, record []byte) error {
	g.changes = append(g.changes, change{kind: changeDialog, key: key, value: record})
	return nil
}

func (g *groupTx) putInbound(key string, at time.Time) error {
	g.changes = append(g.changes, change{kind: changeInbound, key: key, at: at.UnixNano()})
	return nil
}

// addOutbox gives out the next outbox id. The writer's goroutine alone changes the memtable's
// counters; an id given to a write that then fails is not used again.
func (g *groupTx) addOutbox(entry []byte) (uint64, error) {
	g.mem.outboxID++
	g.changes = append(g.changes, change{kind: changeOutbox, id: g.mem.outboxID, value: entry})
	return g.mem.outboxID, nil
}

func (g *groupTx) addEvent(body []byte) error {
	g.mem.eventID++
	g.changes = append(g.changes, change{kind: changeEvent, id: g.mem.eventID, value: body})
	return nil
}

func (g *groupTx) deleteOutbox(id uint64) error {
	g.changes = append(g.changes, change{kind: changeDelivered, id: id})
	return nil
}
