package boltstore

import (
	"cmp"
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

// The journal is the store's group commit. One goroutine, the writer, takes every write that
// is waiting, runs them on a groupTx and appends their changes to a journal file as one
// record, with one write. Another, the syncer, fdatasyncs the file, once for every record
// written meanwhile, and only then are the writes answered: the writer runs the next group
// while the disk syncs the last (without a sync at all the benchmark ran 40% faster, so the
// sync's latency, not the CPU, had been the limit). The changes are kept in memory (the
// memtable) and written into the bbolt file by a checkpoint: one bbolt commit, with its
// fsyncs, for thousands of messages, run beside the writer.
//
// Why: a bbolt commit writes every B+tree page it changed, each with a write of its own,
// and fsyncs twice. A group of 85 messages changed 35 pages of 16 KiB: 18 of them the
// dialogs bucket, of which every leaf holds an active dialog, and the rest the tails of the
// append-only buckets. On the disk measured that took 3.5 ms, most of a 4.8 ms cycle. In the
// journal a group is one record as long as its changes.
//
// Generations: the records written between two checkpoints are a generation, and go to one
// of two files, alternately, so that the writer goes on in the other file while the
// checkpoint of the last generation runs. A generation starts once every record of the last
// is on disk, so a replay never finds a later generation's records after a gap. The bbolt
// file holds the number of the first generation it does not contain, written by the
// checkpoint in the same transaction as the changes. Every record carries its generation and the bbolt file's journal id, under a
// CRC-32C, so Open replays exactly the records not yet in the file, in order, and stops at a
// torn one, at the end of what was written, or at a record of an older generation that
// nothing overwrote.
type journal struct {
	db    *bolt.DB
	files [2]*os.File
	sizes [2]int64 // all of it written (zeros beyond the records)
	id    uint64   // random, per bbolt file: a journal left beside another file is not replayed
	gen   uint64   // the generation being written, to files[gen%2]
	end   int64    // where its next record goes
	buf   []byte

	// memMu guards mem and flushing against Store.pendingDialog and the checkpoint; only
	// the writer changes them.
	memMu    sync.RWMutex
	mem      *memtable // the changes of generation gen
	flushing *memtable // those of generation gen-1 while its checkpoint has not succeeded

	inFlight   bool              // a checkpoint of flushing runs
	checkpoint chan checkpointed // its result
	flushes    []func(error)     // flushes answered when the checkpoint in flight ends
	waiting    []func(error)     // flushes that need a checkpoint started after them
	failed     error             // of the last checkpoint, while flushing waits for another
	failedAt   time.Time

	// onCheckpoint is told, on the writer's goroutine, which delivered replies a checkpoint
	// deleted from the file, and the checkpoint's bbolt transaction id.
	onCheckpoint func(txid uint64, delivered []uint64)

	datasync func(*os.File) error // seams for tests of a failing disk
	update   func(*bolt.DB, func(*bolt.Tx) error) error
	toSync   chan syncBatch // the groups written, in order, for the syncer
	unsynced sync.WaitGroup // groups sent to the syncer and not yet answered
	brokenMu sync.Mutex
	// broken is the error of a failed fdatasync: what the file holds is no longer known, so
	// every later write fails, until a restart replays what reached the disk intact.
	broken error

	wake chan struct{} // a write was queued; holds at most one signal
	done chan struct{} // closed when run has returned

	mu       sync.Mutex
	queue    []pendingWrite
	spare    []pendingWrite // the previous round's slice, reused for the next queue
	closed   bool
	closeErr error // of the last checkpoint, at close
}

// syncBatch is a group's answers, given once its record (in file, nil when it wrote none)
// and every record before it are on disk.
type syncBatch struct {
	file  *os.File
	dones []func(error)
	errs  []error
}

type checkpointed struct {
	txid uint64
	err  error
}

// pendingWrite is a commit's write (change), or else a write straight to the bbolt file
// (direct, after a checkpoint), or else, with neither, a flush.
type pendingWrite struct {
	change func(writeTx) error
	direct func(*bolt.Tx) error
	done   func(error)
}

const (
	// maxGroup bounds how many writes share one record, and so how long the first write of
	// a group waits for the last.
	maxGroup = 1024
	// checkpointBytes is how much journal a generation gets before its checkpoint starts:
	// at 20,000 messages a second about four checkpoints a second, each a bbolt commit of
	// 10-25 ms beside the writer, with a few MB in each memtable.
	checkpointBytes = 4 << 20
	// maxJournalBytes is how far a generation may grow while the last one's checkpoint is
	// slow; beyond it the writer waits for the checkpoint, and if that failed, writes fail.
	maxJournalBytes = 64 << 20
	// growBytes is how much a file grows at a time. It is grown by writing zeros and
	// fsynced, so that a record's fdatasync never has to write the file's size.
	growBytes = 1 << 20

	recordHeader = 24 // id, generation, length, checksum
)

var (
	journalKey = []byte("journal") // in the meta bucket: id and the first generation to replay
	crcTable   = crc32.MakeTable(crc32.Castagnoli)
)

// journalPaths are the journal's two files, beside the bbolt file.
func journalPaths(dbPath string) [2]string {
	return [2]string{dbPath + ".journal.0", dbPath + ".journal.1"}
}

// openJournal applies the journal beside the bbolt file to it. The caller starts run.
func openJournal(db *bolt.DB) (*journal, error) {
	j := &journal{db: db, mem: newMemtable(), checkpoint: make(chan checkpointed, 1),
		datasync: datasync, update: update, toSync: make(chan syncBatch, maxGroup),
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	var err error
	if j.id, j.gen, err = journalState(db); err != nil {
		return nil, err
	}
	for i, path := range journalPaths(db.Path()) {
		if j.files[i], err = openJournalFile(path); err == nil {
			j.sizes[i], err = j.files[i].Seek(0, io.SeekEnd)
		}
		if err != nil {
			j.closeFiles()
			return nil, err
		}
	}
	// The generation the file names may have no records (its checkpoint began, then failed,
	// while the writer went on in the next), so the next one is read all the same.
	for first := j.gen; j.id != 0; j.gen++ {
		n, err := j.replay(j.gen)
		if err != nil {
			j.closeFiles()
			return nil, err
		}
		if n == 0 && j.gen > first {
			break
		}
	}
	// A new id for every start: no record written before it can be read as one written
	// after it, and a copy of the file made now (Backup, before Detach) matches no record
	// of later starts.
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		j.closeFiles()
		return nil, err
	}
	j.id, j.gen = binary.BigEndian.Uint64(b[:]), 0
	if err := j.checkpointNow(nil); err != nil {
		j.closeFiles()
		return nil, fmt.Errorf("apply the journal: %w", err)
	}
	return j, nil
}

// journalState reads the file's journal id and the first generation to replay; zero when
// the file has none (new, or detached).
func journalState(db *bolt.DB) (id, gen uint64, err error) {
	err = db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(metaBucket); meta != nil {
			if v := meta.Get(journalKey); len(v) == 16 {
				id, gen = binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
			}
		}
		return nil
	})
	return id, gen, err
}

// Detach makes the bbolt file at path, a copy made by Backup, forget its journal id, so that
// no journal is ever replayed into it: the journal beside the file it replaces holds changes
// made after the copy, of the same id. It needs the file for itself, as Open does.
func Detach(path string) error {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("detach %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(metaBucket); meta != nil {
			return meta.Delete(journalKey)
		}
		return nil
	})
	return errors.Join(err, db.Close())
}

// journalPending reports whether the journal beside a file opened read-only holds changes
// that the file does not: the bot that wrote them was stopped without closing the store.
func journalPending(db *bolt.DB) (bool, error) {
	id, gen, err := journalState(db)
	if err != nil || id == 0 {
		return false, err
	}
	// Records of gen, or, if the bot was killed during a checkpoint, of the one after it.
	for g := gen; g <= gen+1; g++ {
		f, err := os.Open(journalPaths(db.Path())[g%2])
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return false, err
		}
		_, ok, err := readRecord(f, 0, id, g)
		f.Close()
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
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

func (j *journal) closeFiles() error {
	var errs []error
	for _, f := range j.files {
		if f != nil {
			errs = append(errs, f.Close())
		}
	}
	return errors.Join(errs...)
}

// readRecord reads the record at off if it is one of generation gen of file id, intact.
func readRecord(f *os.File, off int64, id, gen uint64) ([]byte, bool, error) {
	var h [recordHeader]byte
	if _, err := f.ReadAt(h[:], off); errors.Is(err, io.EOF) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	n := binary.BigEndian.Uint32(h[16:])
	if binary.BigEndian.Uint64(h[:]) != id || binary.BigEndian.Uint64(h[8:]) != gen || n > maxJournalBytes {
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

// replay reads the records of generation gen into the memtable and returns how many there
// were.
func (j *journal) replay(gen uint64) (int, error) {
	f := j.files[gen%2]
	n := 0
	for off := int64(0); ; n++ {
		body, ok, err := readRecord(f, off, j.id, gen)
		if err != nil || !ok {
			return n, err
		}
		changes, err := decodeChanges(body)
		if err != nil {
			return n, fmt.Errorf("journal %s at %d: %w", f.Name(), off, err)
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

// direct runs fn in a bbolt write transaction, after the writes queued before it, in a
// checkpoint that writes every memtable; the writer waits for it. A nil fn only flushes:
// reads of the bbolt file then see every write answered before, and the writer goes on
// meanwhile.
func (j *journal) direct(fn func(*bolt.Tx) error) error {
	result := make(chan error, 1)
	if err := j.queueWrite(pendingWrite{direct: fn, done: func(err error) { result <- err }}); err != nil {
		return err
	}
	return <-result
}

// queueWrite queues w; w.done is called on the writer's goroutine, or for a journal write on
// the syncer's, once its record is on disk. Once close was called it returns
// bolt.ErrDatabaseNotOpen and w.done is never called.
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
	if v, ok := j.mem.dialogs[key]; ok {
		return v, true
	}
	if j.flushing != nil {
		v, ok := j.flushing.dialogs[key]
		return v, ok
	}
	return nil, false
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
	return errors.Join(j.closeErr, j.closeFiles())
}

func (j *journal) run() {
	defer close(j.done)
	go j.syncRecords()
	defer close(j.toSync)
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
				j.unsynced.Wait() // answered before the files close, whatever the checkpoint does
				j.closeErr = j.checkpointNow(nil)
				return
			}
			select {
			case <-j.wake:
			case c := <-j.checkpoint:
				j.checkpointEnded(c)
				j.startCheckpoint()
			}
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
				if w := round[i]; w.direct == nil {
					j.waiting = append(j.waiting, w.done) // a flush
				} else {
					w.done(j.checkpointNow(w.direct))
				}
				i++
			}
			clear(round[:i]) // let the closures go
			round = round[i:]
		}
		select {
		case c := <-j.checkpoint:
			j.checkpointEnded(c)
		default:
		}
		j.startCheckpoint()
	}
}

// retryAfter is how long a failed checkpoint waits before it is tried again, so that a full
// disk does not keep a core busy.
const retryAfter = time.Second

// startCheckpoint starts the checkpoint of the current generation if it is due (or a flush
// waits for it) and none runs; one that failed is tried again first.
func (j *journal) startCheckpoint() {
	if j.inFlight {
		return
	}
	if j.failed != nil && time.Since(j.failedAt) < retryAfter {
		for _, done := range j.waiting {
			done(j.failed)
		}
		j.waiting = nil
		return
	}
	if j.flushing == nil {
		if len(j.waiting) > 0 && j.mem.empty() && j.end == 0 {
			for _, done := range j.waiting {
				done(nil) // the file holds every write answered
			}
			j.waiting = nil
			return
		}
		if len(j.waiting) == 0 && j.end < checkpointBytes {
			return
		}
		if err := j.nextGeneration(); err != nil {
			for _, done := range j.waiting {
				done(err)
			}
			j.waiting = nil
			return
		}
		j.flushes, j.waiting = j.waiting, nil
	}
	j.inFlight = true
	m, gen := j.flushing, j.gen
	go func() {
		txid, err := j.write(m, gen, nil)
		j.checkpoint <- checkpointed{txid, err}
	}()
}

// nextGeneration waits until every record written is on disk, then moves the memtable to
// flushing and the writer to the other file.
func (j *journal) nextGeneration() error {
	j.unsynced.Wait()
	if err := j.brokenErr(); err != nil {
		return err
	}
	j.memMu.Lock()
	j.flushing, j.mem = j.mem, newMemtable()
	j.mem.outboxID, j.mem.eventID = j.flushing.outboxID, j.flushing.eventID
	j.memMu.Unlock()
	j.gen++
	j.end = 0
	return nil
}

// checkpointEnded takes the result of the checkpoint that ran beside the writer.
func (j *journal) checkpointEnded(c checkpointed) {
	j.inFlight = false
	for _, done := range j.flushes {
		done(c.err)
	}
	j.flushes = nil
	if c.err != nil {
		// Tried again later (startCheckpoint); the memtables and their records stay
		// meanwhile. A flush cannot succeed before that.
		for _, done := range j.waiting {
			done(c.err)
		}
		j.waiting = nil
		j.failed, j.failedAt = c.err, time.Now()
		return
	}
	j.failed = nil
	delivered := j.flushing.delivered
	j.memMu.Lock()
	j.flushing = nil
	j.memMu.Unlock()
	if j.onCheckpoint != nil {
		j.onCheckpoint(c.txid, delivered)
	}
}

// checkpointNow writes every memtable into the bbolt file, and fn after them, on the
// writer's goroutine, and starts a new generation. If it fails, the flushes waiting for a
// checkpoint get its error.
func (j *journal) checkpointNow(fn func(*bolt.Tx) error) error {
	err := j.checkpointAll(fn)
	if err != nil {
		for _, done := range j.waiting {
			done(err)
		}
		j.waiting = nil
	}
	return err
}

func (j *journal) checkpointAll(fn func(*bolt.Tx) error) error {
	if j.inFlight {
		j.checkpointEnded(<-j.checkpoint)
	}
	if j.flushing != nil {
		txid, err := j.write(j.flushing, j.gen, nil)
		j.checkpointEnded(checkpointed{txid, err})
		if err != nil {
			return err
		}
	}
	if err := j.nextGeneration(); err != nil {
		return err
	}
	j.flushes, j.waiting = append(j.flushes, j.waiting...), nil
	txid, err := j.write(j.flushing, j.gen, fn)
	if err != nil && fn != nil {
		// fn's own error, most likely (Load refuses a store that is not empty): the
		// checkpoint goes on without it.
		txid, cerr := j.write(j.flushing, j.gen, nil)
		j.checkpointEnded(checkpointed{txid, cerr})
		return err
	}
	if err == nil {
		// The ids go on from the file's: at Open the memtable starts from nothing, and Load
		// sets the sequences.
		err = j.db.View(func(tx *bolt.Tx) error {
			j.mem.outboxID = max(j.mem.outboxID, tx.Bucket(outboxBucket).Sequence())
			j.mem.eventID = max(j.mem.eventID, tx.Bucket(eventsBucket).Sequence())
			return nil
		})
	}
	j.checkpointEnded(checkpointed{txid, err})
	return err
}

// write writes m into the bbolt file, with fn after it, in one transaction that records gen
// as the first generation the file does not contain.
func (j *journal) write(m *memtable, gen uint64, fn func(*bolt.Tx) error) (txid uint64, err error) {
	err = j.update(j.db, func(tx *bolt.Tx) error {
		if err := m.writeTo(tx); err != nil {
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
		txid = uint64(tx.ID())
		return nil
	})
	return txid, err
}

// record runs a group of writes and appends their changes to the journal as one record.
func (j *journal) record(group []pendingWrite) {
	view, err := j.db.Begin(false)
	if err == nil {
		err = j.brokenErr()
		if err != nil {
			_ = view.Rollback()
		}
	}
	if err != nil {
		for _, w := range group {
			w.done(err)
		}
		return
	}
	g := &groupTx{mem: j.mem, flushing: j.flushing, view: view, dialogs: map[string][]byte{}, inbound: map[string]bool{}}
	errs := make([]error, len(group))
	for i, w := range group {
		errs[i] = g.run(w.change)
	}
	// Closed before anything writes: a bbolt commit that grows the file waits for every
	// read transaction.
	_ = view.Rollback() // a read transaction: nothing to undo
	// Every answer waits for the records before it, even a write that changed nothing: a
	// duplicate found in a record not yet on disk is no duplicate if that record fails.
	batch := syncBatch{dones: make([]func(error), len(group)), errs: errs}
	for i, w := range group {
		batch.dones[i] = w.done
	}
	if len(g.changes) > 0 {
		if err := j.append(g.changes); err != nil {
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		} else {
			batch.file = j.files[j.gen%2]
			// Later groups see these changes before they are on disk; if the sync fails,
			// they fail with them (syncRecords).
			j.memMu.Lock()
			j.mem.apply(g.changes)
			j.memMu.Unlock()
		}
	}
	j.unsynced.Add(1)
	j.toSync <- batch
}

// syncRecords answers the groups sent to it, in order, each once the file its record went to
// was fdatasynced after the record: one fdatasync for all the groups that arrived while the
// last one ran.
func (j *journal) syncRecords() {
	for b := range j.toSync {
		batch := []syncBatch{b}
	more:
		for {
			select {
			case b, ok := <-j.toSync:
				if !ok {
					break more
				}
				batch = append(batch, b)
			default:
				break more
			}
		}
		err := j.brokenErr()
		var synced *os.File
		for _, b := range batch {
			if err != nil || b.file == nil || b.file == synced {
				continue
			}
			// A new generation starts only when every record is synced: one file a round.
			if err = j.datasync(b.file); err != nil {
				err = fmt.Errorf("journal: %w", err)
				j.brokenMu.Lock()
				j.broken = err
				j.brokenMu.Unlock()
			}
			synced = b.file
		}
		for _, b := range batch {
			for i, done := range b.dones {
				done(cmp.Or(b.errs[i], err))
			}
			j.unsynced.Done()
		}
	}
}

func (j *journal) brokenErr() error {
	j.brokenMu.Lock()
	defer j.brokenMu.Unlock()
	return j.broken
}

// append writes changes as one record of the current generation; syncRecords puts it on
// disk.
func (j *journal) append(changes []change) error {
	b := append(j.buf[:0], make([]byte, recordHeader)...)
	b = appendChanges(b, changes)
	j.buf = b
	if len(b)-recordHeader > maxJournalBytes {
		return fmt.Errorf("journal: a record of %d bytes is more than a replay reads", len(b))
	}
	if j.end > 0 && j.end+int64(len(b)) > maxJournalBytes {
		// The last checkpoint is slow, or failed: wait for it, and start this generation's.
		if j.inFlight {
			j.checkpointEnded(<-j.checkpoint)
		}
		j.startCheckpoint()
		if j.end > 0 {
			return fmt.Errorf("journal full, and its checkpoint failed: %w", cmp.Or(j.failed, j.brokenErr()))
		}
	}
	binary.BigEndian.PutUint64(b, j.id)
	binary.BigEndian.PutUint64(b[8:], j.gen)
	binary.BigEndian.PutUint32(b[16:], uint32(len(b)-recordHeader))
	binary.BigEndian.PutUint32(b[20:], crc32.Update(crc32.Checksum(b[:20], crcTable), crcTable, b[recordHeader:]))
	f := j.files[j.gen%2]
	if err := j.grow(j.end + int64(len(b))); err != nil {
		return err
	}
	if _, err := f.WriteAt(b, j.end); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	j.end += int64(len(b))
	return nil
}

// grow makes the current file at least size bytes long, with zeros, on disk.
func (j *journal) grow(size int64) error {
	i := j.gen % 2
	if size <= j.sizes[i] {
		return nil
	}
	newSize := (size + growBytes - 1) / growBytes * growBytes
	zeros := make([]byte, growBytes)
	for off := j.sizes[i]; off < newSize; off += growBytes {
		if _, err := j.files[i].WriteAt(zeros[:min(growBytes, newSize-off)], off); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	if err := j.files[i].Sync(); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	j.sizes[i] = newSize
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
	mem      *memtable
	flushing *memtable // nil when no checkpoint is due
	view     *bolt.Tx
	changes  []change
	written  int // changes[:written] are those of writes that succeeded
	dialogs  map[string][]byte
	inbound  map[string]bool
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
	if g.flushing != nil {
		if v, ok := g.flushing.dialogs[key]; ok {
			return v
		}
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
	if g.flushing != nil {
		if _, ok := g.flushing.inbound[key]; ok {
			return true
		}
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
