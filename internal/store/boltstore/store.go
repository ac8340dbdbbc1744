package boltstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/paydoctor/bot/internal/conversation"
)

var (
	dialogsBucket = []byte("dialogs")
	inboundBucket = []byte("inbound")
	outboxBucket  = []byte("outbox")
	eventsBucket  = []byte("events")
	metaBucket    = []byte("meta")

	pingKey = []byte("ping") // in the meta bucket: when Ping last committed
)

// Options configures Open. The zero value works.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the file before it
	// gives up with conversation.ErrLocked. Zero means 2 seconds.
	LockTimeout time.Duration
	// Now is the clock of inbound ids, outbox entries and holds; nil means time.Now.
	Now func() time.Time
	// Lease is how long Claim holds a reply for one sender before another may take it; zero
	// means 30 s.
	Lease time.Duration
	// ReadOnly opens the file for reading only, with a shared lock, as statistics and
	// backups of a stopped bot do; the file must exist. Every method that writes fails.
	ReadOnly bool
	// Log is told what Open did to a file of the journal version; nil discards.
	Log *slog.Logger
}

// Store is a conversation.Store on a bbolt file.
type Store struct {
	db     *bolt.DB
	now    func() time.Time
	lease  time.Duration
	writer *writer // nil when read-only

	// mu guards held; Claim holds it for the whole of its read (see Claim).
	mu   sync.Mutex
	held map[uint64]time.Time // outbox id -> held until
}

var _ conversation.Store = (*Store)(nil)

// ErrEmpty is the error of a read-only Open of an empty file: no bot has written it yet.
var ErrEmpty = errors.New("the file is empty: no bot has written to it yet")

// Open opens or creates the bbolt file at path. A damaged file is refused with
// conversation.ErrDamaged, a file another process holds with conversation.ErrLocked.
func Open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	// bbolt opens a directory for reading and then finds no database in it: a read-only
	// Open would call it damaged, and tell the operator to restore it from a backup.
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EISDIR}
	}
	if opts.ReadOnly {
		// bbolt would create a missing file even in read-only mode, and fails on an empty
		// one with "bad file descriptor" (it tries to write the first pages).
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		if fi.Size() == 0 {
			return nil, fmt.Errorf("open %s: %w", path, ErrEmpty)
		}
		// A journal is applied first, as the next start of its bot would, so that what is
		// read is everything that bot answered.
		if legacyJournalBeside(path) {
			rw, err := Open(path, Options{LockTimeout: opts.LockTimeout, Log: opts.Log})
			if err != nil {
				return nil, err
			}
			if err := rw.Close(); err != nil {
				return nil, err
			}
		}
	}
	db, err := openChecked(path, opts.LockTimeout, opts.ReadOnly)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, now: opts.Now, lease: opts.Lease, held: map[uint64]time.Time{}}
	if opts.ReadOnly {
		return s, nil
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{dialogsBucket, inboundBucket, outboxBucket, eventsBucket, metaBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = applyLegacyJournal(db, opts.Log)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s.writer = newWriter(db)
	return s, nil
}

// pageSize is the page size of a new file (an existing one keeps its own): larger pages make
// fewer, larger writes per commit, which sync faster than scattered small ones.
const pageSize = 16 << 10

// openChecked opens the file and runs bbolt's consistency check, so that a damaged file is
// refused at start with a clear error (bbolt's panics included) rather than in the middle of a
// conversation.
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
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open %s: %w", path, conversation.ErrLocked)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch),
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

// Close commits the writes already asked for, then closes the file, releasing its lock.
func (s *Store) Close() error {
	if s.writer != nil {
		s.writer.close()
	}
	return s.db.Close()
}

// update runs fn through the writer; fn may run more than once, so it sets its results
// afresh.
func (s *Store) update(ctx context.Context, fn func(*bolt.Tx) error) error {
	if s.writer == nil {
		return berrors.ErrDatabaseReadOnly
	}
	return s.writer.do(ctx, fn)
}

// Ping implements conversation.Store: it commits the time into the meta bucket through the
// writer, as every commit goes.
func (s *Store) Ping(ctx context.Context) error {
	return s.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(metaBucket).Put(pingKey, encodeTime(s.now()))
	})
}

// Backup writes a consistent copy of the file, as of the moment it began, to w while commits
// go on. Restoring is putting the copy in place of the file while the bot is stopped.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
