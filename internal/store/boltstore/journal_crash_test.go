package boltstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/store/boltstore"
	"github.com/paydoctor/bot/internal/storemove"
)

// The tests here make what a crash (or a power cut after the last fdatasync) leaves: a copy
// of the bbolt file and of the journal files, taken while the store is open and idle, with
// no Close. What a write was answered for must be in the copy, once opened.

func openStore(t *testing.T, path string, opts boltstore.Options) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// say commits one message of person user: the dialog remembers text, and the reply says it.
func say(t *testing.T, s *boltstore.Store, user, inboundID, text string) conversation.Delivery {
	t.Helper()
	k := conversation.Key{Platform: "t", Chat: user, User: user}
	d, err := s.Commit(context.Background(), conversation.Turn{Key: k, InboundID: inboundID}, func(d *conversation.Dialog) (conversation.Result, error) {
		d.Lang, d.LastText = "en", text
		return conversation.Result{
			Reply:  conversation.Reply{Text: "you said " + text},
			Events: []conversation.Event{{Kind: conversation.EventStarted, Platform: "t", Lang: "en"}},
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// copyFiles copies the bbolt file at path and the journal files beside journalOf (path, if
// not given) into a new directory, and returns the copy's path.
func copyFiles(t *testing.T, path string, journalOf ...string) string {
	t.Helper()
	from := path
	if len(journalOf) > 0 {
		from = journalOf[0]
	}
	dst := filepath.Join(t.TempDir(), "bot.db")
	if err := copyFile(path, dst); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{".journal.0", ".journal.1"} {
		if err := copyFile(from+suffix, dst+suffix); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// lastText returns what the stored dialog of user remembers.
func lastText(t *testing.T, s *boltstore.Store, user string) string {
	t.Helper()
	text := "(no dialog)"
	err := s.Dump(context.Background(), func(r storemove.Record) error {
		if r.Kind == storemove.KindDialog && r.User == user {
			d, err := conversation.UnmarshalDialog(r.Body)
			if err != nil {
				return err
			}
			text = d.LastText
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func dumpAll(t *testing.T, s *boltstore.Store) []string {
	t.Helper()
	var out []string
	err := s.Dump(context.Background(), func(r storemove.Record) error {
		b, err := json.Marshal(r)
		out = append(out, string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// After a crash, everything answered is there: dialogs, inbound ids, replies still to
// deliver (and not those delivered), events.
func TestJournal_CrashKeepsEveryAnsweredWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	s := openStore(t, path, boltstore.Options{})
	var deliveries []conversation.Delivery
	for i := range 30 {
		deliveries = append(deliveries, say(t, s, fmt.Sprint(i%7), fmt.Sprint(i), fmt.Sprint("message ", i)))
	}
	for _, d := range deliveries[:10] {
		if err := s.MarkDelivered(context.Background(), d.ID); err != nil {
			t.Fatal(err)
		}
	}
	say(t, s, "0", "last", "the last one") // after the deletes, so they were recorded
	crashed := copyFiles(t, path)
	want := dumpAll(t, s)

	c := openStore(t, crashed, boltstore.Options{})
	if got := dumpAll(t, c); !slices.Equal(got, want) {
		t.Errorf("after the crash the store holds\n%v\nwant\n%v", got, want)
	}
	pending, err := c.Pending(context.Background(), "t", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 21 || pending[0].ID != deliveries[10].ID {
		t.Errorf("pending after the crash: %d replies from id %d, want 21 from %d", len(pending), pending[0].ID, deliveries[10].ID)
	}
	_, err = c.Commit(context.Background(), conversation.Turn{Key: conversation.Key{Platform: "t", Chat: "3", User: "3"}, InboundID: "3"},
		func(*conversation.Dialog) (conversation.Result, error) { return conversation.Result{}, nil })
	if !errors.Is(err, conversation.ErrDuplicate) {
		t.Errorf("an update handled before the crash, again: %v, want ErrDuplicate", err)
	}
}

// A record torn by the crash (its write was under way, so nobody was answered for it) is
// left out; the ones before it are replayed.
func TestJournal_TornRecordIsLeftOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	s := openStore(t, path, boltstore.Options{})
	say(t, s, "a", "1", "kept")
	say(t, s, "b", "2", "kept too")
	say(t, s, "a", "3", "torn")
	crashed := copyFiles(t, path)
	journal, end := boltstore.JournalTail(s)
	f, err := os.OpenFile(filepath.Join(filepath.Dir(crashed), filepath.Base(journal)), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff}, end-1); err != nil { // the last byte of the last record
		t.Fatal(err)
	}
	f.Close()

	c := openStore(t, crashed, boltstore.Options{})
	if got := lastText(t, c, "a"); got != "kept" {
		t.Errorf("dialog a after a torn record: %q, want the one before it, %q", got, "kept")
	}
	if got := lastText(t, c, "b"); got != "kept too" {
		t.Errorf("dialog b: %q, want %q", got, "kept too")
	}
}

// Killed while a checkpoint ran: the bbolt file does not hold that generation, and the
// writer had gone on in the other journal file. Both are replayed, in order.
func TestJournal_CrashDuringACheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	s := openStore(t, path, boltstore.Options{})
	say(t, s, "a", "1", "first")
	say(t, s, "b", "2", "first")
	before := copyFiles(t, path)                                       // the bbolt file as it was before the checkpoint
	if _, err := s.Pending(context.Background(), "t", 1); err != nil { // a flush: a checkpoint
		t.Fatal(err)
	}
	say(t, s, "a", "3", "second")
	after := copyFiles(t, path)
	// The journal files after, the bbolt file from before the checkpoint.
	if err := copyFile(before, after); err != nil {
		t.Fatal(err)
	}

	c := openStore(t, after, boltstore.Options{})
	if got := lastText(t, c, "a"); got != "second" {
		t.Errorf("dialog a: %q, want %q", got, "second")
	}
	if got := lastText(t, c, "b"); got != "first" {
		t.Errorf("dialog b: %q, want %q", got, "first")
	}
}

// A journal file is reused from its start after its generation is in the bbolt file. What is
// left of an older generation beyond the new records is never replayed over newer changes.
func TestJournal_OlderGenerationIsNotReplayed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	s := openStore(t, path, boltstore.Options{})
	flush := func() {
		if _, err := s.Pending(context.Background(), "t", 1); err != nil {
			t.Fatal(err)
		}
	}
	say(t, s, "a", "1", "one")   // generation g, file g%2, at 0
	say(t, s, "a", "2", "two")   // after it: a stale record once the file is reused
	flush()                      // g is in the bbolt file
	say(t, s, "b", "3", "other") // generation g+1, the other file
	flush()
	say(t, s, "a", "4", "six") // generation g+2, back in the first file, at 0: as long as "one"'s
	crashed := copyFiles(t, path)

	c := openStore(t, crashed, boltstore.Options{})
	if got := lastText(t, c, "a"); got != "six" {
		t.Errorf("dialog a: %q, want %q (a stale record was replayed over it)", got, "six")
	}
}

// The journal of another database, put beside a file, is not replayed into it.
func TestJournal_AnotherDatabasesJournalIsIgnored(t *testing.T) {
	dir := t.TempDir()
	one := openStore(t, filepath.Join(dir, "one.db"), boltstore.Options{})
	say(t, one, "a", "1", "in one")
	two := openStore(t, filepath.Join(dir, "two.db"), boltstore.Options{})
	say(t, two, "b", "1", "in two")
	crashed := copyFiles(t, filepath.Join(dir, "two.db"), filepath.Join(dir, "one.db"))

	c := openStore(t, crashed, boltstore.Options{})
	if got := lastText(t, c, "a"); got != "(no dialog)" {
		t.Errorf("the other database's dialog was replayed: %q", got)
	}
}

// A read-only open (statistics, a backup of a stopped bot) of a file whose bot was killed
// sees what the journal holds.
func TestJournal_ReadOnlyOpenAppliesTheJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	s := openStore(t, path, boltstore.Options{})
	say(t, s, "a", "1", "answered")
	crashed := copyFiles(t, path)

	c := openStore(t, crashed, boltstore.Options{ReadOnly: true})
	if got := lastText(t, c, "a"); got != "answered" {
		t.Errorf("read-only after a crash: dialog a %q, want %q", got, "answered")
	}
}

// A copy made by Backup and detached (as bot backup does) is restored as it was: the journal
// beside the file it replaces holds later changes and is not replayed into it.
func TestJournal_RestoredBackupIsNotReplayedOnto(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bot.db")
	s := openStore(t, path, boltstore.Options{})
	say(t, s, "a", "1", "before the backup")
	backup := filepath.Join(dir, "backup.db")
	f, err := os.Create(backup)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := boltstore.Detach(backup); err != nil {
		t.Fatal(err)
	}
	say(t, s, "a", "2", "after the backup")
	restored := copyFiles(t, backup, path) // the bot killed, the backup put in its place

	c := openStore(t, restored, boltstore.Options{})
	if got := lastText(t, c, "a"); got != "before the backup" {
		t.Errorf("restored backup: dialog a %q, want %q", got, "before the backup")
	}
}

// Reply and event ids go on from the file's after a restart, clean or not: a new one must
// never take the id, and the place, of one stored.
func TestJournal_IDsGoOnAfterARestart(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run(fmt.Sprint("crash=", crash), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bot.db")
			s, err := boltstore.Open(path, boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			last := say(t, s, "a", "1", "one")
			last = say(t, s, "b", "2", "two")
			if _, err := s.Pending(context.Background(), "t", 1); err != nil { // all in the file
				t.Fatal(err)
			}
			reopen := path
			if crash {
				reopen = copyFiles(t, path)
				defer s.Close()
			} else if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			c := openStore(t, reopen, boltstore.Options{})
			if d := say(t, c, "c", "3", "three"); d.ID <= last.ID {
				t.Errorf("after a restart a reply got id %d, not after the last one, %d", d.ID, last.ID)
			}
			pending, err := c.Pending(context.Background(), "t", 10)
			if err != nil {
				t.Fatal(err)
			}
			var events int
			if err := c.Events(context.Background(), time.Time{}, func(conversation.Event) error { events++; return nil }); err != nil {
				t.Fatal(err)
			}
			if len(pending) != 3 || events != 3 {
				t.Errorf("after a restart: %d replies and %d events stored, want 3 and 3", len(pending), events)
			}
		})
	}
}
