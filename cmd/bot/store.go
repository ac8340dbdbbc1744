package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/store/boltstore"
	"github.com/paydoctor/bot/internal/store/pgstore"
	"github.com/paydoctor/bot/internal/storemove"
)

// servingStore is the store the bot serves from: bbolt or PostgreSQL.
type servingStore interface {
	conversation.Store
	// Ping reports whether the store can commit (bbolt) or answers (PostgreSQL).
	Ping(ctx context.Context) error
}

// storeName names the store Run uses, for logs and messages.
func (m *Main) storeName() string {
	if m.Config.PostgresURL != "" {
		return "postgres"
	}
	return "bolt:" + m.Config.DB
}

// openRetryEvery is how often a serving bot tries again to reach PostgreSQL at start.
var openRetryEvery = 5 * time.Second

// openStore opens the store Run serves from: PostgreSQL when BOT_POSTGRES_URL is set, else
// the bbolt file. While serving, an unreachable PostgreSQL is tried again until it answers,
// so replicas started before the database come up by themselves.
func (m *Main) openStore(ctx context.Context, log *slog.Logger, serving bool) (servingStore, error) {
	if m.Config.PostgresURL == "" {
		return boltstore.Open(m.Config.DB, boltstore.Options{Log: log})
	}
	for {
		s, err := pgstore.Open(ctx, m.Config.PostgresURL, pgstore.Options{})
		if err == nil || !serving || !errors.Is(err, pgstore.ErrUnavailable) {
			return s, err
		}
		log.Warn("postgres unreachable at start; trying again", "err", err, "every", openRetryEvery)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(openRetryEvery):
		}
	}
}

// storeHealth adapts a store's Ping for /healthz: for PostgreSQL any failure reads
// "postgres unreachable", with the reason (never the DSN: pgstore's errors hold none).
type storeHealth struct {
	s        servingStore
	postgres bool
}

func (h storeHealth) Ping(ctx context.Context) error {
	err := h.s.Ping(ctx)
	if err != nil && h.postgres {
		return fmt.Errorf("postgres unreachable (%v)", err)
	}
	return err
}

// endpoint is one side of "bot migrate-store": a bbolt file, a PostgreSQL database or a
// JSON-lines file.
type endpoint struct {
	kind string // "bolt", "postgres", "jsonl"
	addr string // the file, or the DSN
}

func (e endpoint) String() string {
	if e.kind == "postgres" {
		return "postgres" // the DSN may hold a password
	}
	return e.kind + ":" + e.addr
}

// parseEndpoint reads bolt:FILE, postgres:URL (or a bare postgres:// URL) and jsonl:FILE.
// "bolt" alone is --db, "postgres" alone is BOT_POSTGRES_URL.
func (m *Main) parseEndpoint(s string) (endpoint, error) {
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		return endpoint{"postgres", s}, nil
	}
	kind, addr, _ := strings.Cut(s, ":")
	switch kind {
	case "bolt":
		if addr == "" {
			addr = m.Config.DB
		}
	case "postgres":
		if addr == "" {
			addr = m.Config.PostgresURL
		}
		if addr == "" {
			return endpoint{}, errors.New("postgres: no URL given and BOT_POSTGRES_URL is not set")
		}
	case "jsonl":
		if addr == "" {
			return endpoint{}, errors.New("jsonl: name the file, as in jsonl:paydoctor.jsonl")
		}
	default:
		// Name only the part before ':', as the rest may be a URL with a password.
		return endpoint{}, fmt.Errorf("%q: want bolt:FILE, postgres:URL (or postgres alone for BOT_POSTGRES_URL) or jsonl:FILE", kind+":...")
	}
	return endpoint{kind, addr}, nil
}

// runMigrateStore moves everything from Config.From into Config.To, which must be empty.
func (m *Main) runMigrateStore(ctx context.Context) error {
	from, to := m.Config.From, m.Config.To
	if from == to {
		return errors.New("migrate-store: --from and --to are the same store")
	}
	var src storemove.Dumper
	switch from.kind {
	case "bolt":
		s, err := boltstore.Open(from.addr, boltstore.Options{ReadOnly: true})
		if errors.Is(err, conversation.ErrLocked) {
			return fmt.Errorf("migrate-store: %w: stop the bot first, so that nothing changes while it moves", err)
		}
		if err != nil {
			return fmt.Errorf("migrate-store: %w", err)
		}
		defer s.Close()
		src = s
	case "postgres":
		s, err := pgstore.Open(ctx, from.addr, pgstore.Options{})
		if err != nil {
			return fmt.Errorf("migrate-store: %w", err)
		}
		defer s.Close()
		src = s
	case "jsonl":
		f, err := os.Open(from.addr)
		if err != nil {
			return fmt.Errorf("migrate-store: %w", err)
		}
		defer f.Close()
		src = jsonlSource{f}
	}

	var counts storemove.Counts
	var err error
	switch to.kind {
	case "jsonl":
		counts, err = writeJSONLFile(ctx, src, to.addr)
	case "bolt":
		var s *boltstore.Store
		if s, err = boltstore.Open(to.addr, boltstore.Options{}); errors.Is(err, conversation.ErrLocked) {
			return fmt.Errorf("migrate-store: %w: stop the bot first", err)
		} else if err != nil {
			return fmt.Errorf("migrate-store: %w", err)
		}
		defer s.Close()
		counts, err = storemove.Copy(ctx, src, s)
	case "postgres":
		var s *pgstore.Store
		if s, err = pgstore.Open(ctx, to.addr, pgstore.Options{}); err != nil {
			return fmt.Errorf("migrate-store: %w", err)
		}
		defer s.Close()
		counts, err = storemove.Copy(ctx, src, s)
	}
	if err != nil {
		return fmt.Errorf("migrate-store: %w", err)
	}
	fmt.Fprintf(m.stdout, "migrate-store: moved %s from %s to %s\n", counts, from, to)
	return nil
}

// jsonlSource is a JSON-lines file as a storemove.Dumper.
type jsonlSource struct{ f *os.File }

func (j jsonlSource) Dump(ctx context.Context, fn func(storemove.Record) error) error {
	for r, err := range storemove.ReadJSONL(j.f) {
		if err != nil {
			return fmt.Errorf("%s: %w", j.f.Name(), err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// writeJSONLFile writes src to path, mode 0600 (it holds dialogs and pending replies),
// through a temporary file renamed into place once complete.
func writeJSONLFile(ctx context.Context, src storemove.Dumper, path string) (storemove.Counts, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("%s exists; name a new file", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".migrate-*.jsonl.tmp")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	counts, err := storemove.WriteJSONL(ctx, src, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return counts, err
}
