package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/storemove"
)

// The fixtures under testdata/store/journal-v1 were written by the journal version (see its
// README): a bbolt file and the journal files beside it, as a kill -9 left them.

type journalManifest struct {
	Inbound   []string          `json:"inbound"`
	Dialogs   map[string]string `json:"dialogs"`
	Messages  map[string]int    `json:"messages"`
	Pending   map[string]string `json:"pending"`
	Delivered []uint64          `json:"delivered"`
	Events    int               `json:"events"`
	Tail      struct {
		File      string `json:"file"`
		End       int64  `json:"end"`
		User      string `json:"user"`
		InboundID string `json:"inbound_id"`
		Before    string `json:"before"`
	} `json:"tail"`
}

var journalFixtures = []string{"killed", "killed-in-checkpoint"}

// copyFixture copies fixture name into a new directory and returns the bbolt file's path
// there and the fixture's manifest.
func copyFixture(t *testing.T, name string) (string, journalManifest) {
	t.Helper()
	src := filepath.Join("..", "..", "..", "testdata", "store", "journal-v1", name)
	var m journalManifest
	b, err := os.ReadFile(filepath.Join(src, "manifest.json"))
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bot.db")
	for _, suffix := range []string{"", ".journal.0", ".journal.1"} {
		if err := copyFile(filepath.Join(src, "bot.db"+suffix), path+suffix); err != nil {
			t.Fatal(err)
		}
	}
	return path, m
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

func mustOpen(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func noJournalLeft(t *testing.T, path string) {
	t.Helper()
	left, _ := filepath.Glob(path + ".journal*")
	if len(left) > 0 {
		t.Errorf("journal files left: %v", left)
	}
}

// checkManifest checks that s holds what m says: each dialog at its last state, every
// inbound id refused as a duplicate, the undelivered replies pending and no delivered one,
// every event.
func checkManifest(t *testing.T, s *Store, m journalManifest) {
	t.Helper()
	ctx := context.Background()
	for user, text := range m.Dialogs {
		if d := storedDialog(t, s, user); d.LastText != text || d.Current != m.Messages[user] {
			t.Errorf("dialog of %s: %q after %d messages, want %q after %d", user, d.LastText, d.Current, text, m.Messages[user])
		}
	}
	for _, in := range m.Inbound {
		k := conversation.Key{Platform: "t", Chat: "x", User: "x"} // not cached: refused before the step
		notAgain := func(*conversation.Dialog) (conversation.Result, error) {
			return conversation.Result{}, errors.New("handled again")
		}
		if _, err := s.Commit(ctx, conversation.Turn{Key: k, InboundID: in}, notAgain); !errors.Is(err, conversation.ErrDuplicate) {
			t.Errorf("inbound %s, committed before the kill, again: %v, want ErrDuplicate", in, err)
		}
	}
	got := map[string]string{}
	for _, platform := range []string{"t", "slack"} {
		ds, err := s.Pending(ctx, platform, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			got[strconv.FormatUint(d.ID, 10)] = d.Reply.Text
		}
	}
	if !maps.Equal(got, m.Pending) {
		t.Errorf("pending replies\n%v\nwant\n%v", got, m.Pending)
	}
	for _, id := range m.Delivered {
		if _, ok := got[strconv.FormatUint(id, 10)]; ok {
			t.Errorf("reply %d, delivered before the kill, is pending", id)
		}
	}
	n := 0
	if err := s.Events(ctx, time.Time{}, func(conversation.Event) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != m.Events {
		t.Errorf("%d events, want %d", n, m.Events)
	}
}

// checkDump compares what s holds with what the journal version held after its own replay
// of the fixture (file, under the fixture's directory).
func checkDump(t *testing.T, s *Store, fixture, file string) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "store", "journal-v1", fixture, file))
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	err = s.Dump(context.Background(), func(r storemove.Record) error {
		b, err := json.Marshal(r)
		got = append(append(got, b...), '\n')
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("the store holds\n%s\nthe journal version held\n%s", got, want)
	}
}

func say(text string) func(*conversation.Dialog) (conversation.Result, error) {
	return func(d *conversation.Dialog) (conversation.Result, error) {
		d.LastText = text
		return conversation.Result{Reply: conversation.Reply{Text: text}}, nil
	}
}

func TestOpen_AppliesTheJournalOfTheEarlierVersion(t *testing.T) {
	for _, name := range journalFixtures {
		t.Run(name, func(t *testing.T) {
			path, m := copyFixture(t, name)
			journal0, _ := os.ReadFile(path + ".journal.0")
			journal1, _ := os.ReadFile(path + ".journal.1")
			s := mustOpen(t, path, Options{})
			noJournalLeft(t, path)
			checkDump(t, s, name, "dump.jsonl")
			checkManifest(t, s, m)
			// A reply delivered now stays delivered, even if the journal files come back
			// (a crash between the migration's commit and their delete): their records are
			// applied once.
			var some uint64
			for id := range m.Pending {
				some, _ = strconv.ParseUint(id, 10, 64)
				break
			}
			if err := s.MarkDelivered(context.Background(), some); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			checkFile(t, path)
			os.WriteFile(path+".journal.0", journal0, 0o600)
			os.WriteFile(path+".journal.1", journal1, 0o600)
			s = mustOpen(t, path, Options{})
			noJournalLeft(t, path)
			delete(m.Pending, strconv.FormatUint(some, 10))
			m.Delivered = append(m.Delivered, some)
			checkManifest(t, s, m)
		})
	}
}

// A read-only open (statistics, a backup of the stopped bot) applies the journal first.
func TestOpen_ReadOnlyAppliesTheJournal(t *testing.T) {
	path, m := copyFixture(t, "killed")
	s := mustOpen(t, path, Options{ReadOnly: true})
	noJournalLeft(t, path)
	n := 0
	if err := s.Events(context.Background(), time.Time{}, func(conversation.Event) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != m.Events {
		t.Errorf("%d events, want %d", n, m.Events)
	}
}

// The last record, torn by the kill during its write, is left out: nobody was answered for
// it. Everything before it is applied.
func TestOpen_TornLastRecordIsLeftOut(t *testing.T) {
	for _, name := range journalFixtures {
		t.Run(name, func(t *testing.T) {
			path, m := copyFixture(t, name)
			flipByte(t, filepath.Join(filepath.Dir(path), m.Tail.File), m.Tail.End-1)
			s := mustOpen(t, path, Options{})
			noJournalLeft(t, path)
			checkDump(t, s, name, "dump-torn.jsonl")
			k := conversation.Key{Platform: "t", Chat: "c" + m.Tail.User, User: m.Tail.User}
			if _, err := s.Commit(context.Background(), conversation.Turn{Key: k, InboundID: m.Tail.InboundID}, say("again")); err != nil {
				t.Errorf("the update of the torn record, sent again: %v", err)
			}
		})
	}
}

// A damaged record followed by intact ones is no crash's doing: Open refuses the file rather
// than apply part of the journal, and changes nothing.
func TestOpen_DamagedJournalIsRefused(t *testing.T) {
	cases := map[string]struct {
		fixture, file string
		offset        func(records []int) int // of the byte to flip, given the records' offsets
	}{
		"first record of the last generation": {"killed", "bot.db.journal.1", func(r []int) int { return r[0] + 30 }},
		"a header":                            {"killed", "bot.db.journal.1", func(r []int) int { return r[3] + 2 }},
		"last record of a generation before another": {"killed-in-checkpoint", "bot.db.journal.0",
			func(r []int) int { return r[len(r)-1] + legacyHeader + 1 }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path, _ := copyFixture(t, tc.fixture)
			journal := filepath.Join(filepath.Dir(path), tc.file)
			off := int64(tc.offset(recordOffsets(t, path, journal)))
			flipByte(t, journal, off)
			_, err := Open(path, Options{})
			if !errors.Is(err, conversation.ErrDamaged) || !strings.Contains(err.Error(), journal) {
				t.Fatalf("err = %v, want ErrDamaged naming %s", err, journal)
			}
			// Nothing was applied: with the damage undone, everything is.
			flipByte(t, journal, off)
			s := mustOpen(t, path, Options{})
			checkDump(t, s, tc.fixture, "dump.jsonl")
		})
	}
}

// Journal files beside a file that does not name them (another database's, or a restored
// backup's neighbours) are not applied, only removed. A file that names journal files that
// are missing is refused as damaged: opening it would lose what they held, silently.
func TestOpen_JournalOfAnotherFileIsNotApplied(t *testing.T) {
	path, _ := copyFixture(t, "killed")
	other := filepath.Join(t.TempDir(), "other.db")
	s := mustOpen(t, other, Options{})
	s.Close()
	for _, suffix := range []string{".journal.0", ".journal.1"} {
		if err := copyFile(path+suffix, other+suffix); err != nil {
			t.Fatal(err)
		}
	}
	s = mustOpen(t, other, Options{})
	noJournalLeft(t, other)
	if ds, _ := s.Pending(context.Background(), "t", 100); len(ds) != 0 {
		t.Errorf("%d replies from another database's journal", len(ds))
	}
	for _, suffix := range []string{".journal.0", ".journal.1"} {
		os.Remove(path + suffix)
	}
	if _, err := Open(path, Options{}); !errors.Is(err, conversation.ErrDamaged) || !strings.Contains(err.Error(), ".journal.") {
		t.Errorf("open with its journal deleted: %v, want ErrDamaged naming the journal file", err)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// recordOffsets returns where the records of journal, for the generation of the bbolt file
// at path or the next, begin.
func recordOffsets(t *testing.T, path, journal string) []int {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var state []byte
	db.View(func(tx *bolt.Tx) error { state = slices.Clone(tx.Bucket(metaBucket).Get(legacyJournalKey)); return nil })
	db.Close()
	data, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	id, gen := binary.BigEndian.Uint64(state), binary.BigEndian.Uint64(state[8:])
	var offs []int
	for g := gen; g <= gen+1 && len(offs) == 0; g++ {
		for off := 0; ; {
			body, ok := legacyRecordAt(data, off, id, g)
			if !ok {
				break
			}
			offs = append(offs, off)
			off += legacyHeader + len(body)
		}
	}
	if len(offs) < 4 {
		t.Fatalf("%d records in %s", len(offs), journal)
	}
	return offs
}

// storedDialog returns the dialog of user as the file holds it.
func storedDialog(t *testing.T, s *Store, user string) conversation.Dialog {
	t.Helper()
	var d conversation.Dialog
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(dialogsBucket).Get([]byte(conversation.Key{Platform: "t", Chat: "c" + user, User: user}.String()))
		var err error
		d, err = decodeDialogRecord(v)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkFile runs bbolt's consistency check on the closed file at path.
func checkFile(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Errorf("bbolt consistency check: %v", err)
	}
}
