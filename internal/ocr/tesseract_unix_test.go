//go:build unix

package ocr

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRead_Environment: tesseract gets PATH, TESSDATA_PREFIX and OMP_THREAD_LIMIT, not the
// bot's environment with its tokens.
func TestRead_Environment(t *testing.T) {
	t.Setenv("TELEGRAM_TOKEN", "123:SECRET")
	t.Setenv("TESSDATA_PREFIX", "/usr/share/tessdata-test")
	fake := filepath.Join(t.TempDir(), "tesseract")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\ncat >/dev/null\nexec env\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ts := &Tesseract{path: fake, timeout: time.Minute, limits: DefaultLimits}
	env, err := ts.Read(context.Background(), stripePNG(t, 500, 1000))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(env, "SECRET") {
		t.Errorf("tesseract was given the bot's environment:\n%s", env)
	}
	for _, want := range []string{"OMP_THREAD_LIMIT=1", "TESSDATA_PREFIX=/usr/share/tessdata-test", "PATH=" + os.Getenv("PATH")} {
		if !strings.Contains(env, want) {
			t.Errorf("tesseract's environment has no %s:\n%s", want, env)
		}
	}
}

// TestRead_TimeoutKillsGroup: on the timeout, what a wrapper script started is killed with
// it, not left running.
func TestRead_TimeoutKillsGroup(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc to tell a running process from a zombie")
	}
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	fake := filepath.Join(dir, "tesseract")
	script := "#!/bin/sh\nsleep 60 &\necho $! >" + pidFile + "\nwait\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	// The timeout covers preparing the image too, which the race detector on a busy machine
	// slows down: long enough for the script to start, which the test needs to see.
	ts := &Tesseract{path: fake, timeout: 5 * time.Second, limits: DefaultLimits}
	_, err := ts.Read(context.Background(), stripePNG(t, 500, 1000))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	b, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("the script did not start within the timeout: nothing to see killed")
	}
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// Killed is enough: it may stay a zombie until whoever inherited it reaps it.
	deadline := time.Now().Add(30 * time.Second)
	for running(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the wrapper's child %d still runs", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// running reports whether process pid exists and is not a zombie.
func running(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
