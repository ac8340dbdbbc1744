// Package boltstore is the embedded conversation.Store: one bbolt file, nothing to install.
//
// The file holds these buckets: dialogs (key "platform:chat:user" to a dialog record, see
// dialogrecord.go), inbound (the platform update ids already handled, with when they were
// seen), outbox (replies committed but not yet delivered, keyed by a big-endian sequence
// number so that iteration is commit order; see outbox.go) and events (what statistics are
// made of, in commit order).
//
// Caveats: bbolt takes an exclusive lock on the file, so only one process can open it; a
// second one gets conversation.ErrLocked after Options.LockTimeout. Expire scans every dialog;
// it runs in the background, not on the path of a message.
package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/storemove"
)

var (
	dialogsBucket = []byte("dialogs")
	inboundBucket = []byte("inbound")
	outboxBucket  = []byte("outbox")
	eventsBucket  = []byte("events")
	metaBucket    = []byte("meta")
)

// Options configures Open. The zero value works.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the file before it
	// gives up with conversation.ErrLocked. Zero means 2 seconds.
	LockTimeout time.Duration
	// Now is the clock used to stamp inbound ids and outbox entries; nil means time.Now.
	// A seam for hermetic tests.
	Now func() time.Time
	// Unbatched commits every message in a transaction (and fsync) of its own instead of
	// grouping concurrent ones; for comparison in benchmarks.
	Unbatched bool
	// Lease is how long Claim, and Commit for its own reply, hold a reply for one sender
	// before another may take it; zero means 30 s. Holds live in memory: a restarted
	// process, the only one that can open the file, may send everything at once.
	Lease time.Duration
	// ReadOnly opens the file for reading only, with a shared lock, as statistics and
	// backups of a stopped bot do; the file must exist. Every method that writes fails.
	ReadOnly bool
	// Log receives what fails in the background (a delivered reply's delete); nil discards.
	Log *slog.Logger
}

// Store is a conversation.Store on a bbolt file.
type Store struct {
	db      *bolt.DB
	now     func() time.Time
	lease   time.Duration
	writes  *journal // nil when unbatched or read-only: each write is a transaction of its own
	dialogs *dialogCache

	log *slog.Logger

	mu   sync.Mutex
	held map[uint64]time.Time // outbox id -> held until
	// delivered marks outbox entries sent and being deleted, so that Pending and Dump leave
	// them out while their read transaction may still see them. The value is the id of the
	// write transaction that deleted the entry, 0 until it committed; a read transaction
	// whose id is that or later no longer sees the entry, so a mark goes once no reader
	// older than its delete is left.
	delivered map[uint64]uint64
	// readers holds the transaction id of each Pending and Dump in progress, 0 while it is
	// not known yet (the transaction is being begun): such a reader keeps every mark.
	readers map[*uint64]struct{}
}

var _ conversation.Store = (*Store)(nil)

// Open opens or creates the bbolt file at path.
func Open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ReadOnly {
		// bbolt would create a missing file even in read-only mode.
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	db, err := openChecked(path, opts.LockTimeout, opts.ReadOnly)
	if err != nil {
		return nil, err
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Store{db: db, now: opts.Now, log: opts.Log, lease: opts.Lease, dialogs: newDialogCache(),
		held: map[uint64]time.Time{}, delivered: map[uint64]uint64{}, readers: map[*uint64]struct{}{}}
	if opts.ReadOnly {
		pending, err := journalPending(db)
		if err != nil || !pending {
			return s, err
		}
		// A bot killed with changes in its journal: apply them, as its next start would, so
		// that what is read is everything it answered.
		db.Close()
		rw, err := Open(path, Options{LockTimeout: opts.LockTimeout})
		if err != nil {
			return nil, err
		}
		if err := rw.Close(); err != nil {
			return nil, err
		}
		return Open(path, opts)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{dialogsBucket, inboundBucket, outboxBucket, eventsBucket, metaBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: create buckets: %w", path, err)
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	s.lease = opts.Lease
	// Unbatched too: the journal a batched run left is applied before anything else.
	j, err := openJournal(db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if opts.Unbatched {
		if err := j.closeFiles(); err != nil {
			db.Close()
			return nil, err
		}
	} else {
		s.writes = j
		s.writes.onCheckpoint = func(txid uint64, delivered []uint64) {
			for _, id := range delivered {
				s.deleted(id, txid, nil)
			}
		}
		go j.run()
	}
	return s, nil
}

// pageSize is the page size of a new file (an existing one keeps the size it was made
// with). bbolt writes every page changed by a commit with a write of its own, and scattered
// writes are slow to sync: on the disk measured, 156 scattered 4 KiB pages took 4 ms to
// write and fsync, 156 contiguous ones 1.9 ms. With 16 KiB pages, four times the operating
// system's, a commit writes fewer, larger pages: when every group of messages was a bbolt
// commit, BenchmarkThroughput gave about a tenth more messages a second (docs/performance.md).
// Now the journal's checkpoints are the commits.
const pageSize = 16 << 10

// openChecked opens the file and reads every page once (bbolt's consistency check), so that a
// damaged file is refused at start with a clear error instead of panicking in the middle of
// a conversation. bbolt panics on some kinds of damage; those are errors here too.
func openChecked(path string, lockTimeout time.Duration, readOnly bool) (db *bolt.DB, err error) {
	damaged := func(cause any) error {
		return fmt.Errorf("%w: %s (%v): restore it from a backup (bot backup, see the README) or move it away to start with an empty database", conversation.ErrDamaged, path, cause)
	}
	defer func() {
		if p := recover(); p != nil {
			if db != nil {
				db.Close()
			}
			db, err = nil, damaged(p)
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, ReadOnly: readOnly, FreelistType: bolt.FreelistMapType, PageSize: pageSize})
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		return nil, fmt.Errorf("open %s: %w", path, conversation.ErrLocked)
	case errors.Is(err, bolt.ErrInvalid), errors.Is(err, bolt.ErrChecksum), errors.Is(err, bolt.ErrVersionMismatch),
		err != nil && strings.Contains(err.Error(), "file size too small"):
		return nil, damaged(err)
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, damaged(err)
	}
	return db, nil
}

// Close commits the writes already asked for, writes the journal into the file, then closes
// the file, releasing its lock.
func (s *Store) Close() error {
	var err error
	if s.writes != nil {
		err = s.writes.close()
	}
	return errors.Join(err, s.db.Close())
}

// Ping reports whether the store can commit: it writes the time into a bucket of its own in a
// write transaction of its own (with an fsync). Health checks call it.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		return b.Put([]byte("ping"), encodeTime(s.now()))
	})
}

// Backup writes a consistent copy of the whole file to w, in a read transaction: commits go
// on meanwhile, and the copy is the database as of the moment Backup began. The copy is a
// bbolt file that Open reads; restoring is putting it in place of the file while the bot is
// stopped, once Detach made it forget the journal it shares with the file it was copied from.
func (s *Store) Backup(w io.Writer) (int64, error) {
	if err := s.flush(); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// Commit implements conversation.Store.
//
// The step runs outside the write transaction, on the dialog read in a read transaction, or
// kept from its last commit (dialogCache); the write transaction checks that the stored
// record is still that one and otherwise starts over from the file. A duplicate inbound id
// is found in the read transaction before the step, or, for a dialog kept from its last
// commit, in the write after it. The writes of concurrent commits are grouped into one
// journal record (one fdatasync, see journal), so the engine's work never holds up the
// writer.
func (s *Store) Commit(ctx context.Context, t conversation.Turn, step func(*conversation.Dialog) (conversation.Result, error)) (conversation.Delivery, error) {
	skey := t.Key.String()
	var inboundKey string
	if t.InboundID != "" {
		inboundKey = t.Key.Platform + ":" + t.InboundID
	}
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return conversation.Delivery{}, err
		}
		// An active dialog comes from the cache, or else from the journal's memtable, or
		// else from the file; the write below checks that it is still the latest, and a
		// retry does not use the cache.
		var stored []byte
		var d conversation.Dialog
		var cached, duplicate bool
		if attempt == 0 {
			stored, d, cached = s.dialogs.get(skey)
		}
		if !cached {
			var pending bool
			if s.writes != nil {
				stored, pending = s.writes.pendingDialog(skey)
			}
			if !pending {
				err := s.db.View(func(tx *bolt.Tx) error {
					duplicate = inboundKey != "" && tx.Bucket(inboundBucket).Get([]byte(inboundKey)) != nil
					stored = bytes.Clone(tx.Bucket(dialogsBucket).Get([]byte(skey)))
					return nil
				})
				if err != nil {
					return conversation.Delivery{}, err
				}
				if duplicate {
					return conversation.Delivery{}, conversation.ErrDuplicate
				}
			}
			if stored != nil {
				var err error
				if d, err = decodeDialogRecord(stored); err != nil {
					return conversation.Delivery{}, fmt.Errorf("dialog %s: %w", t.Key, err)
				}
			}
		}
		res, err := step(&d)
		if err != nil {
			return conversation.Delivery{}, err
		}
		enc := appendDialogRecord(nil, d)
		events := make([][]byte, len(res.Events))
		for i, e := range res.Events {
			events[i] = appendEvent(nil, e)
		}
		// Everything is encoded here, in the caller's goroutine, so that the one writer
		// goroutine only puts bytes.
		now := s.now()
		outgoing := make([][]byte, 1+len(res.Notices))
		outgoing[0] = appendOutboxEntry(nil, outboxEntry{Key: t.Key, Route: t.Route, Reply: res.Reply, Created: now})
		for i, n := range res.Notices {
			outgoing[1+i] = appendOutboxEntry(nil, outboxEntry{Key: n.Key, Route: n.Route, Reply: n.Reply, Created: now})
		}

		// Set by the write, which runs once per attempt.
		var out conversation.Delivery
		var conflict bool
		var held uint64
		err = s.update(func(w writeTx) error {
			if inboundKey != "" && w.seen(inboundKey) {
				duplicate = true
				return nil
			}
			if !bytes.Equal(w.dialog(skey), stored) {
				conflict = true
				return nil
			}
			if err := w.putDialog(skey, enc); err != nil {
				return err
			}
			// Here, where the writes are ordered: two commits of a dialog are answered
			// together, and their callers may wake in either order. Should this write fail
			// after all, the entry is ahead of the file, which costs the next commit a retry.
			s.dialogs.put(skey, enc, d)
			if inboundKey != "" {
				if err := w.putInbound(inboundKey, now); err != nil {
					return err
				}
			}
			var id uint64
			for i, entry := range outgoing {
				seq, err := w.addOutbox(entry)
				if err != nil {
					return err
				}
				if i == 0 {
					id = seq
					// Held before the commit, so that no Claim finds it unheld in between.
					s.hold(id, now)
					held = id
				}
			}
			for _, e := range events {
				if err := w.addEvent(e); err != nil {
					return err
				}
			}
			out = conversation.Delivery{ID: id, Key: t.Key, Route: t.Route, Reply: res.Reply, Created: now}
			return nil
		})
		// A write that failed after its hold leaves no reply to hold.
		if held != 0 && err != nil {
			s.unhold(held)
		}
		switch {
		case err != nil:
			return conversation.Delivery{}, err
		case duplicate:
			return conversation.Delivery{}, conversation.ErrDuplicate
		case !conflict:
			return out, nil
		}
		s.dialogs.forget(skey)
	}
}

// Events implements conversation.Store. It reads every event recorded, in commit order:
// statistics are read rarely, by an operator, and never on the path of a message.
func (s *Store) Events(ctx context.Context, since time.Time, fn func(conversation.Event) error) error {
	if err := s.flush(); err != nil {
		return err
	}
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

// update runs fn on a write: in the journal, grouped with concurrent ones, or unless
// Options.Unbatched in a bbolt transaction of its own.
func (s *Store) update(fn func(writeTx) error) error {
	if s.writes == nil {
		return s.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
	}
	return s.writes.do(fn)
}

// updateFile runs fn in a bbolt write transaction, after the journal's changes are in the
// file: for the writes that are not a message's (MoveChat, Expire, Load).
func (s *Store) updateFile(fn func(*bolt.Tx) error) error {
	if s.writes == nil {
		return s.db.Update(fn)
	}
	return s.writes.direct(fn)
}

// flush brings the bbolt file up to date with every write answered so far, for the reads
// that are not a message's (the outbox sweep, statistics, Dump, Backup).
func (s *Store) flush() error {
	if s.writes == nil {
		return nil
	}
	return s.writes.direct(nil)
}

// Pending implements conversation.Store.
func (s *Store) Pending(ctx context.Context, platform string, limit int) ([]conversation.Delivery, error) {
	var out []conversation.Delivery
	if limit <= 0 {
		return nil, nil
	}
	err := s.scanOutbox(ctx, platform, func(d conversation.Delivery, _ int) bool {
		out = append(out, d)
		return len(out) < limit
	})
	return out, err
}

// Claim implements conversation.Store.
func (s *Store) Claim(ctx context.Context, platform string, limit int) ([]conversation.Delivery, error) {
	now := s.now()
	var out []conversation.Delivery
	if limit <= 0 {
		return nil, nil
	}
	err := s.scanOutbox(ctx, platform, func(d conversation.Delivery, readTx int) bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		// Checked again under the lock that MarkDelivered and the commits' holds take: the
		// reply may have been delivered, or held, since the scan read it.
		if until, ok := s.held[d.ID]; (ok && now.Before(until)) || s.isDeliveredLocked(d.ID, readTx) {
			return true
		}
		s.held[d.ID] = now.Add(s.lease)
		out = append(out, d)
		return len(out) < limit
	})
	return out, err
}

// scanOutbox calls visit with the undelivered replies of platform, oldest first, and the id
// of the read transaction they were read in, until visit returns false.
func (s *Store) scanOutbox(ctx context.Context, platform string, visit func(d conversation.Delivery, readTx int) bool) error {
	if err := s.flush(); err != nil {
		return err
	}
	return s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(outboxBucket).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			id := binary.BigEndian.Uint64(k)
			if s.isDelivered(id, tx.ID()) {
				continue
			}
			e, err := decodeOutboxEntry(v)
			if err != nil {
				return fmt.Errorf("outbox entry %d: %w", id, err)
			}
			if e.Key.Platform != platform {
				continue
			}
			if !visit(conversation.Delivery{ID: id, Key: e.Key, Route: e.Route, Reply: e.Reply, Created: e.Created}, tx.ID()) {
				return nil
			}
		}
		return nil
	})
}

// view runs fn in a read transaction registered in s.readers, for the delivered marks.
func (s *Store) view(fn func(*bolt.Tx) error) error {
	reader := new(uint64)
	s.mu.Lock()
	s.readers[reader] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.readers, reader)
		for id, deletedIn := range s.delivered {
			if deletedIn != 0 && !s.readerOlderThan(deletedIn) {
				delete(s.delivered, id)
			}
		}
	}()
	return s.db.View(func(tx *bolt.Tx) error {
		s.mu.Lock()
		*reader = uint64(tx.ID())
		s.mu.Unlock()
		return fn(tx)
	})
}

// readerOlderThan reports whether a registered reader may see the file as it was before
// write transaction txid committed. s.mu is held.
func (s *Store) readerOlderThan(txid uint64) bool {
	for r := range s.readers {
		if *r < txid {
			return true
		}
	}
	return false
}

// isDelivered reports whether outbox entry id, seen by read transaction readTx, was delivered.
func (s *Store) isDelivered(id uint64, readTx int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isDeliveredLocked(id, readTx)
}

func (s *Store) isDeliveredLocked(id uint64, readTx int) bool {
	deletedIn, ok := s.delivered[id]
	return ok && (deletedIn == 0 || deletedIn > uint64(readTx))
}

func (s *Store) hold(id uint64, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held[id] = now.Add(s.lease)
}

func (s *Store) unhold(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.held, id)
}

// MarkDelivered implements conversation.Store.
//
// With the journal it does not wait for the delete to be recorded: the delete joins the next
// record and the sender goes on to its next reply. From the moment it returns the reply is
// gone from Pending and Claim. What a crash can do is the same as when it waited: a reply
// sent but whose delete was not yet on disk is sent once more after a restart. If the record
// fails, the failure is logged and the reply becomes pending again, to be sent again. The
// delete reaches the bbolt file with the next checkpoint, which ends the mark (journal's
// onCheckpoint).
func (s *Store) MarkDelivered(ctx context.Context, id uint64) error {
	s.mu.Lock()
	s.delivered[id] = 0
	s.mu.Unlock()
	if s.writes == nil {
		var deletedIn uint64
		err := s.db.Update(func(tx *bolt.Tx) error {
			deletedIn = uint64(tx.ID())
			return boltTx{tx}.deleteOutbox(id)
		})
		s.deleted(id, deletedIn, err)
		return err
	}
	done := func(err error) {
		if err != nil {
			s.log.Error("delete a delivered reply from the outbox; it will be sent again", "delivery", id, "err", err)
			s.deleted(id, 0, err)
		}
	}
	err := s.writes.queueWrite(pendingWrite{change: func(w writeTx) error { return w.deleteOutbox(id) }, done: done})
	if err != nil {
		s.deleted(id, 0, err)
	}
	return err
}

// deleted records how the delete of delivered outbox entry id ended: committed in write
// transaction txid, or failed (err), which leaves the entry pending. Either way this process
// holds it no longer.
func (s *Store) deleted(id, txid uint64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.held, id)
	if err != nil || !s.readerOlderThan(txid) {
		delete(s.delivered, id)
		return
	}
	s.delivered[id] = txid
}

// MoveChat implements conversation.Store.
func (s *Store) MoveChat(ctx context.Context, platform, from, to string) (int, error) {
	if from == to {
		return 0, nil
	}
	moved := 0
	err := s.updateFile(func(tx *bolt.Tx) error {
		moved = 0
		dialogs := tx.Bucket(dialogsBucket)
		prefix := []byte(conversation.Key{Platform: platform, Chat: from}.String())
		type kv struct{ k, v []byte }
		var found []kv
		c := dialogs.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			found = append(found, kv{bytes.Clone(k), bytes.Clone(v)})
		}
		for _, e := range found {
			user := string(e.k[len(prefix):])
			newKey := []byte(conversation.Key{Platform: platform, Chat: to, User: user}.String())
			if dialogs.Get(newKey) == nil {
				if err := dialogs.Put(newKey, e.v); err != nil {
					return err
				}
				moved++
			}
			if err := dialogs.Delete(e.k); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	s.dialogs.clear()
	return moved, err
}

// Expire implements conversation.Store.
func (s *Store) Expire(ctx context.Context, c conversation.Cutoffs) (int, error) {
	idleBefore, seenBefore := c.IdleDialogs, c.Inbound
	// Find in a read transaction, delete in small write transactions: a sweep of many
	// dialogs must not hold the writer, and with it every conversation, for long.
	type stale struct{ key, value []byte }
	var dialogs, inbound []stale
	if err := s.flush(); err != nil {
		return 0, err
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(dialogsBucket).ForEach(func(k, v []byte) error {
			d, err := decodeDialogRecord(v)
			if err != nil {
				return fmt.Errorf("dialog %s: %w", k, err)
			}
			if d.LastActive.Before(idleBefore) {
				dialogs = append(dialogs, stale{bytes.Clone(k), bytes.Clone(v)})
			}
			return ctx.Err()
		})
		if err != nil {
			return err
		}
		return tx.Bucket(inboundBucket).ForEach(func(k, v []byte) error {
			if decodeTime(v).Before(seenBefore) {
				inbound = append(inbound, stale{key: bytes.Clone(k)})
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	const chunk = 500
	deleted := 0
	defer s.dialogs.clear()
	for start := 0; start < len(dialogs); start += chunk {
		part := dialogs[start:min(start+chunk, len(dialogs))]
		n := 0
		err := s.updateFile(func(tx *bolt.Tx) error {
			n = 0
			b := tx.Bucket(dialogsBucket)
			for _, d := range part {
				// A dialog that moved on since the scan is active again: keep it.
				if !bytes.Equal(b.Get(d.key), d.value) {
					continue
				}
				if err := b.Delete(d.key); err != nil {
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
	for start := 0; start < len(inbound); start += chunk {
		part := inbound[start:min(start+chunk, len(inbound))]
		err := s.updateFile(func(tx *bolt.Tx) error {
			b := tx.Bucket(inboundBucket)
			for _, in := range part {
				if err := b.Delete(in.key); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return deleted, err
		}
	}
	if !c.Events.IsZero() {
		if err := s.expireEvents(ctx, c.Events); err != nil {
			return deleted, err
		}
	}
	return deleted, ctx.Err()
}

// expireEvents deletes events recorded before cutoff. Events are appended in commit order,
// so the old ones are a run at the start of the bucket, deleted a chunk at a time.
func (s *Store) expireEvents(ctx context.Context, cutoff time.Time) error {
	const chunk = 1000
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := 0
		err := s.updateFile(func(tx *bolt.Tx) error {
			n = 0
			b := tx.Bucket(eventsBucket)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			for k, v := c.First(); k != nil && n < chunk; k, v = c.First() {
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
		if err != nil || n < chunk {
			return err
		}
	}
}

func encodeID(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

func encodeTime(t time.Time) []byte { return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())) }

func decodeTime(b []byte) time.Time {
	if len(b) != 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)))
}

// Dump implements storemove.Dumper: it calls fn with every dialog, inbound id, outbox entry
// and event, in one read transaction (so as of one moment), dialogs first, each kind in key
// order, leaving out replies marked delivered whose delete is still on its way to the file.
// Holds of the outbox (Claim's leases) are not records: they live in memory.
func (s *Store) Dump(ctx context.Context, fn func(storemove.Record) error) error {
	if err := s.flush(); err != nil {
		return err
	}
	return s.view(func(tx *bolt.Tx) error {
		each := func(bucket []byte, f func(k, v []byte) error) error {
			b := tx.Bucket(bucket)
			if b == nil {
				return nil // a file from before that bucket, opened read-only
			}
			return b.ForEach(func(k, v []byte) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				return f(k, v)
			})
		}
		err := each(dialogsBucket, func(k, v []byte) error {
			platform, chat, user, ok := splitKey(string(k))
			if !ok {
				return fmt.Errorf("dialog key %q: not platform:chat:user", k)
			}
			body, err := dialogJSON(v)
			if err != nil {
				return fmt.Errorf("dialog %s: %w", k, err)
			}
			return fn(storemove.Record{Kind: storemove.KindDialog, Platform: platform, Chat: chat, User: user, Body: bytes.Clone(body)})
		})
		if err != nil {
			return err
		}
		err = each(inboundBucket, func(k, v []byte) error {
			platform, id, ok := strings.Cut(string(k), ":")
			if !ok {
				return fmt.Errorf("inbound key %q: not platform:id", k)
			}
			return fn(storemove.Record{Kind: storemove.KindInbound, Platform: platform, ID: id, At: decodeTime(v).UTC()})
		})
		if err != nil {
			return err
		}
		err = each(outboxBucket, func(k, v []byte) error {
			id := binary.BigEndian.Uint64(k)
			if s.isDelivered(id, tx.ID()) {
				return nil
			}
			r, err := outboxRecord(id, v)
			if err != nil {
				return fmt.Errorf("outbox entry %d: %w", id, err)
			}
			return fn(r)
		})
		if err != nil {
			return err
		}
		return each(eventsBucket, func(k, v []byte) error {
			body, err := eventJSON(v)
			if err != nil {
				return fmt.Errorf("event %d: %w", binary.BigEndian.Uint64(k), err)
			}
			return fn(storemove.Record{Kind: storemove.KindEvent, Seq: binary.BigEndian.Uint64(k), Body: bytes.Clone(body)})
		})
	})
}

// splitKey splits "platform:chat:user". Platform ids hold no ':', and the user id is the
// last field; a chat id may hold one (Slack's enterprise-wide ids).
func splitKey(k string) (platform, chat, user string, ok bool) {
	platform, rest, ok := strings.Cut(k, ":")
	if !ok {
		return "", "", "", false
	}
	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return "", "", "", false
	}
	return platform, rest[:i], rest[i+1:], true
}

// Load implements storemove.Loader: it writes the records into this store, which must be
// empty, in one write transaction. Outbox entries and events keep their numbers, and the
// buckets' sequences continue after the largest.
func (s *Store) Load(ctx context.Context, records iter.Seq2[storemove.Record, error]) error {
	defer s.dialogs.clear()
	return s.updateFile(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{dialogsBucket, inboundBucket, outboxBucket, eventsBucket} {
			if k, _ := tx.Bucket(name).Cursor().First(); k != nil {
				return fmt.Errorf("%w: %s holds %s", storemove.ErrNotEmpty, s.db.Path(), name)
			}
		}
		var maxOutbox, maxEvent uint64
		for r, err := range records {
			if err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := r.Check(); err != nil {
				return err
			}
			switch r.Kind {
			case storemove.KindDialog:
				key := conversation.Key{Platform: r.Platform, Chat: r.Chat, User: r.User}.String()
				if err := tx.Bucket(dialogsBucket).Put([]byte(key), r.Body); err != nil {
					return err
				}
			case storemove.KindInbound:
				if err := tx.Bucket(inboundBucket).Put([]byte(r.Platform+":"+r.ID), encodeTime(r.At)); err != nil {
					return err
				}
			case storemove.KindOutbox:
				e := struct {
					Key     conversation.Key `json:"key"`
					Route   []byte           `json:"route,omitempty"`
					Reply   json.RawMessage  `json:"reply"`
					Created time.Time        `json:"created"`
				}{conversation.Key{Platform: r.Platform, Chat: r.Chat, User: r.User}, r.Route, r.Body, r.At}
				b, err := json.Marshal(e)
				if err != nil {
					return err
				}
				if err := tx.Bucket(outboxBucket).Put(encodeID(r.Seq), b); err != nil {
					return err
				}
				maxOutbox = max(maxOutbox, r.Seq)
			case storemove.KindEvent:
				if err := tx.Bucket(eventsBucket).Put(encodeID(r.Seq), r.Body); err != nil {
					return err
				}
				maxEvent = max(maxEvent, r.Seq)
			}
		}
		if err := tx.Bucket(outboxBucket).SetSequence(max(maxOutbox, tx.Bucket(outboxBucket).Sequence())); err != nil {
			return err
		}
		return tx.Bucket(eventsBucket).SetSequence(max(maxEvent, tx.Bucket(eventsBucket).Sequence()))
	})
}
