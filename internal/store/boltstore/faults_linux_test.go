package boltstore

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/paydoctor/bot/internal/conversation"
)

// While the disk refuses writes, Commit, MarkDelivered and Ping fail and change nothing; once
// it takes them again, the next ones succeed, with nothing retried in between.
func TestWrites_FailWithTheDiskAndRecover(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	s := mustOpen(t, path, Options{})
	ctx := context.Background()
	k := conversation.Key{Platform: "t", Chat: "c1", User: "1"}
	first, err := s.Commit(ctx, conversation.Turn{Key: k, InboundID: "1"}, say("one"))
	if err != nil {
		t.Fatal(err)
	}

	// bbolt's descriptor of the file is made a read-only one: its writes fail with EBADF,
	// as they would with an I/O error. A duplicate of the original keeps its lock.
	fd := descriptorOf(t, path)
	saved, err := syscall.Dup(fd)
	if err != nil {
		t.Fatal(err)
	}
	ro, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := syscall.Dup3(int(ro.Fd()), fd, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, conversation.Turn{Key: k, InboundID: "2"}, say("two")); err == nil {
		t.Error("a commit succeeded on a disk that refuses writes")
	}
	if err := s.MarkDelivered(ctx, first.ID); err == nil {
		t.Error("MarkDelivered succeeded on a disk that refuses writes")
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping succeeded on a disk that refuses writes")
	}

	if err := syscall.Dup3(saved, fd, 0); err != nil {
		t.Fatal(err)
	}
	syscall.Close(saved)
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping once the disk takes writes again: %v", err)
	}
	if pending, err := s.Pending(ctx, "t", 10); err != nil || len(pending) != 1 || pending[0].ID != first.ID {
		t.Errorf("pending %+v, %v: want the reply whose delivery failed to be marked, alone", pending, err)
	}
	second, err := s.Commit(ctx, conversation.Turn{Key: k, InboundID: "2"}, say("two"))
	if err != nil {
		t.Fatalf("the failed update, sent again: %v", err)
	}
	if err := s.MarkDelivered(ctx, first.ID, second.ID); err != nil {
		t.Fatal(err)
	}
	if d := storedDialog(t, s, "1"); d.LastText != "two" {
		t.Errorf("dialog: %q, want %q", d.LastText, "two")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path)
}

// descriptorOf returns the descriptor of this process open on path.
func descriptorOf(t *testing.T, path string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	found := -1
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && target == path {
			if found >= 0 {
				t.Fatalf("%s is open twice", path)
			}
			if found, err = strconv.Atoi(e.Name()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if found < 0 {
		t.Fatalf("%s is not open", path)
	}
	return found
}
