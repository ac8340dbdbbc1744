package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Another service at BOT_ADMIN_ADDR is called that by stats and backup, whatever it answers,
// not taken for a bot whose database is damaged; and nothing is written.
func TestAdmin_NotTheBot(t *testing.T) {
	page := func(status int, contentType, body string, header ...string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", contentType)
			for i := 0; i+1 < len(header); i += 2 {
				w.Header().Set(header[i], header[i+1])
			}
			w.WriteHeader(status)
			io.WriteString(w, body)
		})
	}
	for _, tc := range []struct {
		name    string
		service http.Handler
		want    string // what the error says came instead
	}{
		{"a web server's welcome page", page(http.StatusOK, "text/html", "<html>Welcome to nginx!</html>"), "(200 OK, text/html)"},
		{"a file server without the path", page(http.StatusNotFound, "text/html", "<html><h1>Error response</h1></html>"), "(404 Not Found, text/html)"},
		{"a JSON API", page(http.StatusOK, "application/json", `{"status":"ok"}`), "(200 OK, application/json)"},
		{"another service's plain error", page(http.StatusForbidden, "text/plain; charset=utf-8", "forbidden by policy\nmore"), "(403 Forbidden, text/plain: forbidden by policy)"},
		{"another service asking for its own token", page(http.StatusUnauthorized, "text/plain", "login", "WWW-Authenticate", `Basic realm="grafana"`), "(401 Unauthorized, text/plain: login)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.service)
			defer srv.Close()
			checkNotTheBot(t, srv.Listener.Addr().String(), tc.want)
		})
	}
	t.Run("a service of another protocol", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Read(make([]byte, 512))
				io.WriteString(c, "-ERR unknown command\r\n") // as Redis answers
				c.Close()
			}
		}()
		checkNotTheBot(t, ln.Addr().String(), "malformed HTTP")
	})
	t.Run("a service that never answers", func(t *testing.T) {
		defer func(d time.Duration) { adminAnswerWait = d }(adminAnswerWait)
		adminAnswerWait = 100 * time.Millisecond
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var conns []net.Conn
		var mu sync.Mutex
		defer func() {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				c.Close()
			}
		}()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				conns = append(conns, c) // held open, never answered
				mu.Unlock()
			}
		}()
		checkNotTheBot(t, ln.Addr().String(), "timeout awaiting response headers")
	})
}

// checkNotTheBot runs stats and backup with BOT_ADMIN_ADDR addr, and checks both say the
// service there is not the bot, and what came instead.
func checkNotTheBot(t *testing.T, addr, want string) {
	t.Helper()
	db := newDB(t)
	out := filepath.Join(filepath.Dir(db), "copy.db")
	vars := map[string]string{"BOT_DB": db, "BOT_ADMIN_ADDR": addr}
	for _, args := range [][]string{{"stats"}, {"backup", out}} {
		_, _, err := runMain(t, vars, "", args...)
		if err == nil || !strings.Contains(err.Error(), "BOT_ADMIN_ADDR tcp:"+addr+": the service there did not answer as the bot does") ||
			!strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "damaged") {
			t.Errorf("bot %s = %v\nwant: the service at BOT_ADMIN_ADDR did not answer as the bot does, %s", args[0], err, want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("backup wrote %s: %v", out, err)
	}
}

// A Unix socket path of 108 bytes or more cannot be listened on: the bot says so and what to
// do, instead of "bind: invalid argument"; stats and backup, which no bot can answer there,
// read the file.
func TestAdmin_SocketPathTooLong(t *testing.T) {
	dir := t.TempDir()
	// dbFor returns a database path whose default socket path is n bytes long.
	dbFor := func(n int) string {
		name := strings.Repeat("d", n-len(dir)-len("/.admin.sock"))
		return filepath.Join(dir, name)
	}
	for _, tc := range []struct {
		name      string
		db        string
		adminAddr string
		want      string // "": it starts
		notWant   string
	}{
		{name: "107 bytes, the most there is room for", db: dbFor(maxUnixPath - 1)},
		{name: "108 bytes", db: dbFor(maxUnixPath), want: "the socket path (the database's with .admin.sock added) is 108 bytes long, and the system takes at most 107: use a shorter --db path, or set BOT_ADMIN_ADDR"},
		{name: "BOT_ADMIN_ADDR too long", db: filepath.Join(dir, "bot.db"), adminAddr: "unix:" + dbFor(maxUnixPath+20) + ".admin.sock",
			want: "the socket path is 128 bytes long, and the system takes at most 107: set BOT_ADMIN_ADDR to a shorter socket path", notWant: "--db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"BOT_ADMIN_ADDR": tc.adminAddr}
			_, _, err := runMain(t, vars, "", "chat", "--db", tc.db)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("chat: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || tc.notWant != "" && strings.Contains(err.Error(), tc.notWant)):
				t.Fatalf("chat = %v\nwant it to say: %s", err, tc.want)
			}
			if tc.want == "" {
				return
			}
			// The file exists (chat made it before the listener failed): stats reads it.
			if _, _, err := runMain(t, vars, "", "stats", "--db", tc.db); err != nil {
				t.Errorf("stats: %v, want it to read the file", err)
			}
		})
	}
}
