package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/paydoctor/bot/internal/store/boltstore"
)

// newDB makes a database file with nothing in it, in a directory of its own.
func newDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "bot.db")
	s, err := boltstore.Open(db, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return db
}

// "bot backup OUT" replaces only a file: anything else at OUT is refused, named, and left as
// it was. The errors name OUT, never the temporary file beside it.
func TestBackup_Out(t *testing.T) {
	for _, tc := range []struct {
		name string
		// make puts something at out, or not, and returns a check that it is still there.
		make    func(t *testing.T, out string) (unchanged func() bool)
		out     string // relative to the database's directory; empty: "copy.db"
		wantErr string // empty: the backup is written
		wantOut string // in the success line
	}{
		{name: "new file", wantOut: "wrote"},
		{name: "earlier backup", make: func(t *testing.T, out string) func() bool {
			writeFile(t, out, "an old backup")
			return nil
		}, wantOut: "(replaced the file that was there)"},
		{name: "directory", make: func(t *testing.T, out string) func() bool {
			if err := os.Mkdir(out, 0o700); err != nil {
				t.Fatal(err)
			}
			return func() bool { fi, err := os.Lstat(out); return err == nil && fi.IsDir() }
		}, wantErr: "is a directory, not a file"},
		{name: "symbolic link", make: func(t *testing.T, out string) func() bool {
			target := out + ".target"
			writeFile(t, target, "someone's file")
			if err := os.Symlink(target, out); err != nil {
				t.Fatal(err)
			}
			return func() bool {
				b, _ := os.ReadFile(target)
				fi, err := os.Lstat(out)
				return err == nil && fi.Mode()&os.ModeSymlink != 0 && string(b) == "someone's file"
			}
		}, wantErr: "is a symbolic link, not a file"},
		{name: "a listening socket, as a running bot's admin socket", make: func(t *testing.T, out string) func() bool {
			ln, err := net.Listen("unix", out)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			return func() bool {
				fi, err := os.Lstat(out)
				return err == nil && fi.Mode()&os.ModeSocket != 0
			}
		}, out: "bot.db.admin.sock", wantErr: "is a socket"},
		{name: "named pipe", make: func(t *testing.T, out string) func() bool {
			if err := syscall.Mkfifo(out, 0o600); err != nil {
				t.Fatal(err)
			}
			return func() bool { fi, err := os.Lstat(out); return err == nil && fi.Mode()&os.ModeNamedPipe != 0 }
		}, wantErr: "is a named pipe, not a file"},
		{name: "the database itself", out: "bot.db", make: func(t *testing.T, out string) func() bool {
			return func() bool { _, err := boltstore.Open(out, boltstore.Options{ReadOnly: true}); return err == nil }
		}, wantErr: "is the database itself"},
		{name: "in a directory that does not exist", out: "nowhere/copy.db", wantErr: "cannot create a file beside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newDB(t)
			dir := filepath.Dir(db)
			rel := tc.out
			if rel == "" {
				rel = "copy.db"
			}
			out := filepath.Join(dir, rel)
			var unchanged func() bool
			if tc.make != nil {
				unchanged = tc.make(t, out)
			}
			stdout, _, err := runMain(t, nil, "", "backup", "--db", db, out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), out+" "+tc.wantErr) && !strings.Contains(err.Error(), tc.wantErr+" "+out) {
					t.Fatalf("backup = %v, %q; want an error saying %s %s", err, stdout, out, tc.wantErr)
				}
				if unchanged != nil && !unchanged() {
					t.Errorf("what was at %s changed", out)
				}
			} else {
				if err != nil || !strings.Contains(stdout, "to "+out) || !strings.Contains(stdout, tc.wantOut) {
					t.Fatalf("backup = %v, %q; want it written to %s, saying %q", err, stdout, out, tc.wantOut)
				}
				if tc.make == nil && strings.Contains(stdout, "replaced") {
					t.Errorf("%q: nothing was there to replace", stdout)
				}
				s, err := boltstore.Open(out, boltstore.Options{ReadOnly: true})
				if err != nil {
					t.Fatalf("the backup does not open: %v", err)
				}
				s.Close()
			}
			if err != nil && strings.Contains(err.Error(), ".tmp") {
				t.Errorf("the error names the temporary file: %v", err)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// "bot backup -" writes the database to standard output, for a pipe, and reports on
// standard error.
func TestBackup_StandardOutput(t *testing.T) {
	db := newDB(t)
	t.Chdir(filepath.Dir(db)) // where a file named - would be made
	var stdout, stderr bytes.Buffer
	m := NewMain(strings.NewReader(""), &stdout, &stderr, env(nil))
	if err := m.ParseFlags([]string{"backup", "--db", db, "-"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "to standard output") {
		t.Errorf("stderr %q, want the report", stderr.String())
	}
	copied := filepath.Join(t.TempDir(), "piped.db")
	writeFile(t, copied, stdout.String())
	s, err := boltstore.Open(copied, boltstore.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("what was written to standard output does not open as a database: %v", err)
	}
	s.Close()
	if _, err := os.Stat("-"); !os.IsNotExist(err) {
		t.Errorf("a file named - was made: %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// --db naming a directory is called one by every command that reads the file, not a damaged
// database to restore from a backup.
func TestDBIsADirectory(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(t.TempDir(), "copy.db")
	for _, args := range [][]string{
		{"stats", "--db", dir},
		{"backup", "--db", dir, out},
		{"chat", "--db", dir},
	} {
		_, _, err := runMain(t, nil, "", args...)
		if err == nil || !strings.Contains(err.Error(), dir+": is a directory") || strings.Contains(err.Error(), "damaged") {
			t.Errorf("bot %s = %v, want it to say %s is a directory", strings.Join(args, " "), err, dir)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("backup of a directory left %s: %v", out, err)
	}
}
