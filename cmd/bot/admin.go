package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/dashboard"
	"github.com/paydoctor/bot/internal/stats"
	"github.com/paydoctor/bot/internal/store/boltstore"
	"github.com/paydoctor/bot/internal/store/pgstore"
)

// The admin listener: a running bot holds bbolt's exclusive lock, so "bot stats" and
// "bot backup" ask it over BOT_ADMIN_ADDR (a Unix socket or loopback, never the public
// BOT_HTTP_ADDR) for the events and a copy of the file, and operators open its dashboard:
//
//	GET /events?since=RFC3339   one JSON event per line, oldest first
//	GET /backup                 the database file, as of the moment of the request
//	GET /dashboard?since=7d     the figures of bot stats as a page with charts (&lang=en)
//
// With BOT_ADMIN_TOKEN set, every request must carry it (Authorization: Bearer TOKEN), and
// BOT_ADMIN_ADDR may then be a TCP address that is not loopback.

// minAdminToken is the shortest BOT_ADMIN_TOKEN accepted, in bytes.
const minAdminToken = 16

// adminAddrFromEnv reads BOT_ADMIN_ADDR as parseAdminAddr does, and BOT_ADMIN_TOKEN: an
// address that is not loopback is accepted only with a token.
func adminAddrFromEnv(getenv func(string) string, db string) (AdminAddr, error) {
	s := strings.TrimSpace(getenv("BOT_ADMIN_ADDR"))
	token := adminToken(getenv)
	if token != "" && len(token) < minAdminToken {
		return AdminAddr{}, fmt.Errorf("BOT_ADMIN_TOKEN is %d characters long; use at least %d, such as the output of: openssl rand -hex 32", len(token), minAdminToken)
	}
	a, err := parseAdminAddr(s, db)
	if err == nil {
		return a, nil
	}
	host, port, serr := net.SplitHostPort(s)
	if serr != nil || strings.HasPrefix(s, "unix:") {
		return AdminAddr{}, err
	}
	if _, perr := strconv.ParseUint(port, 10, 16); perr != nil {
		return AdminAddr{}, fmt.Errorf("%q: bad port", s)
	}
	if token == "" {
		if host == "" {
			host = "every interface"
		}
		return AdminAddr{}, fmt.Errorf("%q is not a loopback address (it listens on %s): the admin listener hands out the whole database, so it listens there only with BOT_ADMIN_TOKEN set, required on every request as Authorization: Bearer TOKEN; or use a Unix socket or 127.0.0.1", s, host)
	}
	return AdminAddr{Network: "tcp", Addr: s}, nil
}

// adminToken is BOT_ADMIN_TOKEN: when set, the admin listener requires it and "bot stats" and
// "bot backup" send it.
func adminToken(getenv func(string) string) string {
	return strings.TrimSpace(getenv("BOT_ADMIN_TOKEN"))
}

// adminHandler serves the admin endpoints of store, behind the token when there is one.
func (m *Main) adminHandler(store *boltstore.Store, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		var since time.Time
		if s := r.URL.Query().Get("since"); s != "" {
			var err error
			if since, err = time.Parse(time.RFC3339Nano, s); err != nil {
				http.Error(w, "since: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		w.Header().Set("Content-Type", eventsType)
		// The answer starts now, not once the scan finds an event since: the client waits
		// adminAnswerWait at most for it to start.
		http.NewResponseController(w).Flush()
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
		w.Header().Set("Content-Type", backupType)
		n, err := store.Backup(w)
		if err != nil {
			log.Error("admin: backup", "err", err, "bytes", n)
			return
		}
		log.Info("admin: backup sent", "bytes", n)
	})
	// The same events and the same computation as "bot stats": stats.Compute over Events.
	mux.Handle("GET /dashboard", &dashboard.Handler{Events: store.Events, Lang: m.Config.Lang, Period: parsePeriod})
	if token := adminToken(m.getenv); token != "" {
		return requireToken(token, mux)
	}
	return mux
}

// adminRealm names the admin listener in its 401 answers, by which "bot stats" and
// "bot backup" know a refusal from the bot from one of another service.
const adminRealm = "paydoctor admin"

// requireToken lets through only requests with "Authorization: Bearer token".
func requireToken(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		// Hashes of equal length: the comparison takes the same time whatever was sent.
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+adminRealm+`"`)
			http.Error(w, "this admin listener needs BOT_ADMIN_TOKEN, as Authorization: Bearer TOKEN", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// maxUnixPath is the size of a Unix socket address's path, its terminating NUL included
// (108 on Linux): a longer path can neither be listened on nor dialled.
const maxUnixPath = len(syscall.RawSockaddrUnix{}.Path)

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
	if a.Network == "unix" && len(a.Addr) >= maxUnixPath {
		what, fix := "the socket path", "set BOT_ADMIN_ADDR"
		if strings.TrimSpace(m.getenv("BOT_ADMIN_ADDR")) == "" {
			what, fix = "the socket path (the database's with .admin.sock added)", "use a shorter --db path, or set BOT_ADMIN_ADDR"
		}
		return nil, fmt.Errorf("BOT_ADMIN_ADDR %s: %s is %d bytes long, and the system takes at most %d: %s to a shorter socket path or to a loopback address such as 127.0.0.1:9091, the same for the bot and for stats and backup", a, what, len(a.Addr), maxUnixPath-1, fix)
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
	return &adminServer{srv: &http.Server{Handler: m.adminHandler(store, log), ReadHeaderTimeout: 10 * time.Second}, ln: ln}, nil
}

// eventsTrailer ends a complete /events stream, so that a cut one is not taken for all.
const eventsTrailer = `{"end":true}`

// adminAnswerWait bounds the wait for the headers of the admin listener's answer: the bot
// sends them at once, before the data; something else listening there may never answer.
var adminAnswerWait = 30 * time.Second

// adminClient returns a client for the admin listener at a.
func adminClient(a AdminAddr) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, a.Network, a.Addr)
		},
		ResponseHeaderTimeout: adminAnswerWait,
	}}
}

// errNoBot: nothing listens on the admin address.
var errNoBot = errors.New("no bot is running")

// Content types of the admin listener's answers: askBot takes an answer of another type for
// one of another service.
const (
	eventsType = "application/x-ndjson"
	backupType = "application/octet-stream"
)

// askBot makes a GET request to the running bot's admin listener, with token, if set, as the
// bearer token, and returns the answer if it is the bot's: 200 with contentType. It returns
// errNoBot when nothing listens there.
func askBot(ctx context.Context, a AdminAddr, token, path, contentType string) (*http.Response, error) {
	if a.Network == "" || a.Network == "unix" && len(a.Addr) >= maxUnixPath {
		// No bot can listen at a path too long to bind (it refuses to start).
		return nil, errNoBot
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://admin"+path, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := adminClient(a).Do(req)
	if err != nil {
		var op *net.OpError
		switch {
		case errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOENT):
			return nil, errNoBot
		case errors.As(err, &op) && op.Op == "dial":
			return nil, fmt.Errorf("BOT_ADMIN_ADDR %s: %w", a, err)
		}
		// Connected, but no HTTP answer came: a service of another protocol, or none.
		return nil, notTheBot(a, err.Error())
	}
	got, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode == http.StatusOK && got == contentType {
		return resp, nil
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized && strings.Contains(resp.Header.Get("WWW-Authenticate"), adminRealm) {
		return nil, fmt.Errorf("BOT_ADMIN_ADDR %s: the bot refused the request (%s): run this with the BOT_ADMIN_TOKEN the bot has", a, resp.Status)
	}
	what := resp.Status
	if got != "" {
		what += ", " + got
	}
	if got == "text/plain" {
		// Short enough to show, and the bot's own errors are such.
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		if line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n"); line != "" {
			what += ": " + line
		}
	}
	return nil, notTheBot(a, what)
}

// notTheBot is the error of an answer at the admin address that is not the bot's; why says
// what came instead.
func notTheBot(a AdminAddr, why string) error {
	return fmt.Errorf("BOT_ADMIN_ADDR %s: the service there did not answer as the bot does (%s): set BOT_ADMIN_ADDR as the bot has it", a, why)
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
	resp, err := askBot(ctx, m.Config.Admin, adminToken(m.getenv), path, eventsType)
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

// runBackup writes a consistent copy of the database to Config.Out, or to standard output
// when it is "-": through the running bot, or from the file when none runs. A file is
// written next to Out and renamed into place once complete and checked, so Out is never a
// partial file.
func (m *Main) runBackup(ctx context.Context) error {
	out := m.Config.Out
	if out == "-" {
		n, from, err := m.backupTo(ctx, m.stdout)
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		// Standard output holds the copy: the report goes to standard error.
		fmt.Fprintf(m.stderr, "backup: wrote %d bytes from %s to standard output\n", n, from)
		return nil
	}
	// Checked before the copy, which may take a while, and again before the rename.
	if _, err := m.checkOut(out); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".*.tmp")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // its path is a pattern for the temporary file's name
		}
		return fmt.Errorf("backup: cannot create a file beside %s: %w", out, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing is there to remove
	n, from, err := m.backupTo(ctx, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: %w", outError(err, tmp.Name(), out))
	}
	// The copy must open as a database before it replaces anything.
	check, err := boltstore.Open(tmp.Name(), boltstore.Options{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("backup: the copy does not open, so %s is left as it was: %w", out, err)
	}
	check.Close()
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("backup: %w", outError(err, tmp.Name(), out))
	}
	replacing, err := m.checkOut(out)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("backup: %w", outError(err, tmp.Name(), out))
	}
	replaced := ""
	if replacing {
		replaced = " (replaced the file that was there)"
	}
	fmt.Fprintf(m.stdout, "backup: wrote %d bytes from %s to %s%s\n", n, from, out, replaced)
	return nil
}

// checkOut refuses a backup's Out that exists and is not a regular file: renaming over it
// would replace a directory entry that is no backup (a device such as /dev/stdout, the
// admin socket of a running bot, a symbolic link whose target would be left as it was) with
// a file. It reports whether Out is a file the backup replaces.
func (m *Main) checkOut(out string) (replacing bool, err error) {
	fi, err := os.Lstat(out)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("backup: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Errorf("backup: %s is %s, not a file: name a file that does not exist, or an earlier backup to replace (- writes to standard output)", out, fileKind(fi.Mode()))
	}
	if db, err := os.Stat(m.Config.DB); err == nil && os.SameFile(fi, db) {
		return false, fmt.Errorf("backup: %s is the database itself; name another file", out)
	}
	return true, nil
}

// fileKind names what a directory entry that is not a regular file is.
func fileKind(mode fs.FileMode) string {
	switch {
	case mode.IsDir():
		return "a directory"
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	case mode&fs.ModeSocket != 0:
		return "a socket (a running bot's admin socket?)"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case mode&fs.ModeDevice != 0:
		return "a device"
	}
	return "of type " + mode.Type().String()
}

// outError names out where err names tmp: the backup's errors are about Out, not the
// temporary file beside it that the operator never named. Errors about the source (the
// database file, the running bot) are left as they are.
func outError(err error, tmp, out string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == tmp {
		return fmt.Errorf("%s %s: %w", pe.Op, out, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) && le.Old == tmp {
		return fmt.Errorf("%s %s: %w", le.Op, out, le.Err)
	}
	return err
}

// backupTo writes the database to w, from the running bot or, when none runs, from the file,
// and says which.
func (m *Main) backupTo(ctx context.Context, w io.Writer) (n int64, from string, err error) {
	n, err = m.copyDB(ctx, w)
	if !errors.Is(err, errNoBot) {
		return n, "the running bot", err
	}
	s, err := m.openStopped()
	if err != nil {
		return 0, m.Config.DB, err
	}
	defer s.Close()
	n, err = s.Backup(w)
	return n, m.Config.DB, err
}

// copyDB copies the database from the running bot to w; errNoBot if none runs.
func (m *Main) copyDB(ctx context.Context, w io.Writer) (int64, error) {
	resp, err := askBot(ctx, m.Config.Admin, adminToken(m.getenv), "/backup", backupType)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return io.Copy(w, resp.Body)
}
