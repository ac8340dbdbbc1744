package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/stats"
	"github.com/paydoctor/bot/internal/store/boltstore"
	"github.com/paydoctor/bot/internal/store/pgstore"
)

// The admin listener: a running bot holds bbolt's exclusive lock, so "bot stats" and
// "bot backup" ask it over BOT_ADMIN_ADDR (a Unix socket or loopback, never the public
// BOT_HTTP_ADDR) for the events and a copy of the file:
//
//	GET /events?since=RFC3339   one JSON event per line, oldest first
//	GET /backup                 the database file, as of the moment of the request

type adminServer struct {
	srv *http.Server
	ln  net.Listener
}

// listenAdmin starts listening on Config.Admin; nil when it is off.
func (m *Main) listenAdmin(store *boltstore.Store, log *slog.Logger) (*adminServer, error) {
	a := m.Config.Admin
	if a.Network == "" {
		return nil, nil
	}
	if a.Network == "unix" {
		// This process holds the database, so a socket left there is one a crashed bot left.
		if fi, err := os.Lstat(a.Addr); err == nil && fi.Mode()&fs.ModeSocket != 0 {
			os.Remove(a.Addr)
		}
	}
	ln, err := net.Listen(a.Network, a.Addr)
	if err != nil {
		return nil, fmt.Errorf("BOT_ADMIN_ADDR %s: %w", a, err)
	}
	if a.Network == "unix" {
		// Only the bot's user may read the database through it.
		if err := os.Chmod(a.Addr, 0o600); err != nil {
			ln.Close()
			return nil, fmt.Errorf("BOT_ADMIN_ADDR %s: %w", a, err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		var since time.Time
		if s := r.URL.Query().Get("since"); s != "" {
			if since, err = time.Parse(time.RFC3339Nano, s); err != nil {
				http.Error(w, "since: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		bw := bufio.NewWriter(w)
		enc := json.NewEncoder(bw)
		err := store.Events(r.Context(), since, func(e conversation.Event) error { return enc.Encode(e) })
		if err != nil {
			log.Error("admin: read events", "err", err)
			return // the client sees a cut stream without the trailer
		}
		bw.WriteString(eventsTrailer + "\n")
		bw.Flush()
	})
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		n, err := store.Backup(w)
		if err != nil {
			log.Error("admin: backup", "err", err, "bytes", n)
			return
		}
		log.Info("admin: backup sent", "bytes", n)
	})
	return &adminServer{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln}, nil
}

// eventsTrailer ends a complete /events stream, so that a cut one is not taken for all.
const eventsTrailer = `{"end":true}`

// adminClient returns a client for the admin listener at a.
func adminClient(a AdminAddr) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, a.Network, a.Addr)
		},
	}}
}

// errNoBot: nothing listens on the admin address.
var errNoBot = errors.New("no bot is running")

// askBot makes a GET request to the running bot's admin listener. It returns errNoBot when
// nothing listens there.
func askBot(ctx context.Context, a AdminAddr, path string) (*http.Response, error) {
	if a.Network == "" {
		return nil, errNoBot
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://admin"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := adminClient(a).Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOENT) {
			return nil, errNoBot
		}
		return nil, fmt.Errorf("BOT_ADMIN_ADDR %s: %w", a, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		return nil, fmt.Errorf("BOT_ADMIN_ADDR %s: %s: %s", a, resp.Status, b)
	}
	return resp, nil
}

// openStopped opens the database of a bot that is not running, read-only.
func (m *Main) openStopped() (*boltstore.Store, error) {
	s, err := boltstore.Open(m.Config.DB, boltstore.Options{ReadOnly: true})
	if errors.Is(err, conversation.ErrLocked) {
		return nil, fmt.Errorf("%w; and no bot answers on BOT_ADMIN_ADDR %s (is it the same BOT_ADMIN_ADDR and --db the bot runs with?)", err, m.Config.Admin)
	}
	return s, err
}

// runStats prints the statistics of the events of the last Config.Since.
func (m *Main) runStats(ctx context.Context) error {
	var since time.Time
	if m.Config.Since > 0 {
		since = time.Now().Add(-m.Config.Since)
	}
	source := func(since time.Time, fn func(conversation.Event) error) error {
		return m.events(ctx, since, fn)
	}
	r, err := stats.Compute(source, since)
	if err != nil {
		return err
	}
	if m.Config.JSON {
		return r.WriteJSON(m.stdout)
	}
	return r.WriteText(m.stdout)
}

// events reads the events from the running bot, or from the file when none runs.
func (m *Main) events(ctx context.Context, since time.Time, fn func(conversation.Event) error) error {
	path := "/events"
	if !since.IsZero() {
		path += "?since=" + since.UTC().Format(time.RFC3339Nano)
	}
	if m.Config.PostgresURL != "" {
		// Every replica writes to PostgreSQL, and it allows readers alongside: read it.
		s, err := pgstore.Open(ctx, m.Config.PostgresURL, pgstore.Options{})
		if err != nil {
			return err
		}
		defer s.Close()
		return s.Events(ctx, since, fn)
	}
	resp, err := askBot(ctx, m.Config.Admin, path)
	if errors.Is(err, errNoBot) {
		s, err := m.openStopped()
		if err != nil {
			return err
		}
		defer s.Close()
		return s.Events(ctx, since, fn)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == eventsTrailer {
			return nil
		}
		var e conversation.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("events from the running bot: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("events from the running bot: %w", err)
	}
	return errors.New("events from the running bot: the stream was cut short (see the bot's log)")
}

// runBackup writes a consistent copy of the database to Config.Out: through the running bot,
// or from the file when none runs. The copy is written next to Out and renamed into place
// once complete and checked, so Out is never a partial file.
func (m *Main) runBackup(ctx context.Context) error {
	out := m.Config.Out
	if abs, err := filepath.Abs(out); err == nil {
		if db, err := filepath.Abs(m.Config.DB); err == nil && abs == db {
			return errors.New("backup: OUT is the database itself; name another file")
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".*.tmp")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing is there to remove
	from := "the running bot"
	n, err := m.copyDB(ctx, tmp)
	if errors.Is(err, errNoBot) {
		from = m.Config.DB
		var s *boltstore.Store
		if s, err = m.openStopped(); err == nil {
			n, err = s.Backup(tmp)
			s.Close()
		}
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// The copy must open as a database before it replaces anything.
	check, err := boltstore.Open(tmp.Name(), boltstore.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("backup: the copy does not open: %w", err)
	}
	check.Close()
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(m.stdout, "backup: wrote %d bytes from %s to %s\n", n, from, out)
	return nil
}

// copyDB copies the database from the running bot to w; errNoBot if none runs.
func (m *Main) copyDB(ctx context.Context, w io.Writer) (int64, error) {
	resp, err := askBot(ctx, m.Config.Admin, "/backup")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return io.Copy(w, resp.Body)
}
