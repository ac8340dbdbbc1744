package storemove_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/store/boltstore"
	"github.com/paydoctor/bot/internal/store/pgstore"
	"github.com/paydoctor/bot/internal/store/pgtest"
	"github.com/paydoctor/bot/internal/storemove"
)

var at = time.Date(2026, 11, 20, 9, 30, 0, 123456000, time.UTC)

// fill commits turns of every kind into s: dialogs on two platforms (one chat id with a
// colon, as Slack's enterprise ids have), replies with routes, a handoff notice to another
// platform, events; then delivers one reply, so the outbox has a gap.
func fill(t *testing.T, s conversation.Store) {
	t.Helper()
	ctx := context.Background()
	turns := []conversation.Turn{
		{Key: conversation.Key{Platform: "telegram", Chat: "-1001", User: "42"}, InboundID: "1001", Route: []byte{0, 1, 2, 0xff}},
		{Key: conversation.Key{Platform: "telegram", Chat: "42", User: "42"}, InboundID: "1002", Route: []byte(`{"chat":42}`)},
		{Key: conversation.Key{Platform: "slack", Chat: "E1:C1", User: "U1"}, InboundID: "EvA"},
		{Key: conversation.Key{Platform: "console", Chat: "local", User: "ann"}},
		{Key: conversation.Key{Platform: "slack", Chat: "E1:C1", User: "U1"}, InboundID: "EvB", Route: []byte("thread")},
	}
	var ids []uint64
	for i, turn := range turns {
		d, err := s.Commit(ctx, turn, func(d *conversation.Dialog) (conversation.Result, error) {
			d.Lang = "en"
			d.Stage = conversation.StageSolving
			d.Plan = []string{"paypal", "virtual-card"}
			d.Current = i % 2
			d.Started, d.LastActive = at, at.Add(time.Duration(i)*time.Minute)
			res := conversation.Result{
				Reply: conversation.Reply{Text: fmt.Sprintf("reply %d 你好", i), Buttons: []conversation.Button{{ID: "ok:paypal", Label: "It worked"}},
					Cause: "bank-verification", Solutions: []string{"paypal"}, Lang: "en"},
				Events: []conversation.Event{{Kind: conversation.EventShown, Platform: turn.Key.Platform, Lang: "en", Solution: "paypal", At: at.Add(time.Duration(i) * time.Second)}},
			}
			if i == 1 {
				res.Events = append(res.Events, conversation.Event{Kind: conversation.EventHandoff, Platform: "telegram", Lang: "en", At: at})
				res.Notices = []conversation.Notice{{Key: conversation.Key{Platform: "slack", Chat: "C0HUMANS"}, Route: []byte("C0HUMANS"), Reply: conversation.Reply{Text: "summary"}}}
			}
			return res, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	if err := s.MarkDelivered(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
}

// v1Dialog is a record of the first version, which a move must carry as it is.
func v1Dialog(t *testing.T) storemove.Record {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "store", "dialog-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	return storemove.Record{Kind: storemove.KindDialog, Platform: "telegram", Chat: "7", User: "7", Body: bytes.TrimSpace(b)}
}

func openBolt(t *testing.T) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "bot.db"), boltstore.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPG(t *testing.T) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), pgtest.FreshSchema(t), pgstore.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dump(t *testing.T, s storemove.Dumper) []storemove.Record {
	t.Helper()
	var out []storemove.Record
	if err := s.Dump(context.Background(), func(r storemove.Record) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// normalize makes records comparable across stores: JSON bodies compared by value
// (PostgreSQL's jsonb reorders keys and drops spaces), times by instant.
func normalize(t *testing.T, rs []storemove.Record) []storemove.Record {
	t.Helper()
	out := make([]storemove.Record, len(rs))
	for i, r := range rs {
		if len(r.Body) > 0 {
			var v any
			if err := json.Unmarshal(r.Body, &v); err != nil {
				t.Fatalf("%+v: %v", r, err)
			}
			r.Body, _ = json.Marshal(v)
		}
		r.At = r.At.UTC()
		if len(r.Route) == 0 {
			r.Route = nil
		}
		out[i] = r
	}
	return out
}

func seq(rs []storemove.Record) func(func(storemove.Record, error) bool) {
	return func(yield func(storemove.Record, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// TestRoundTrip_BoltPostgresBolt moves a bbolt file holding every kind of record into
// PostgreSQL and back into a new file, and checks that nothing was lost or changed: the same
// dialogs (a version-1 record included, still version 1), inbound ids with their seen times,
// pending replies with their ids, routes and creation times, and events in order. It then
// checks that each store behaves as the source would: a moved inbound id is a duplicate, the
// pending replies are the same, new replies get larger ids, and the statistics match.
func TestRoundTrip_BoltPostgresBolt(t *testing.T) {
	ctx := context.Background()
	src := openBolt(t)
	fill(t, src)
	// The version-1 dialog goes in through Load: Commit would migrate it.
	withV1 := openBolt(t)
	if err := withV1.Load(ctx, seq(append(dump(t, src), v1Dialog(t)))); err != nil {
		t.Fatal(err)
	}
	src = withV1
	want := dump(t, src)
	kinds := map[storemove.Kind]int{}
	for _, r := range want {
		kinds[r.Kind]++
	}
	if kinds[storemove.KindDialog] != 5 || kinds[storemove.KindInbound] != 4 || kinds[storemove.KindOutbox] != 5 || kinds[storemove.KindEvent] != 6 {
		t.Fatalf("source holds %v; the fixture is not what this test means to move", kinds)
	}

	pg := openPG(t)
	n, err := storemove.Copy(ctx, src, pg)
	if err != nil {
		t.Fatal(err)
	}
	if n.String() != "5 dialogs, 4 inbound ids, 5 pending replies, 6 events" {
		t.Errorf("counts %s", n)
	}
	if got := normalize(t, dump(t, pg)); !reflect.DeepEqual(got, normalize(t, want)) {
		t.Fatalf("PostgreSQL holds\n%+v\nwant\n%+v", got, normalize(t, want))
	}

	back := openBolt(t)
	if _, err := storemove.Copy(ctx, pg, back); err != nil {
		t.Fatal(err)
	}
	if got := normalize(t, dump(t, back)); !reflect.DeepEqual(got, normalize(t, want)) {
		t.Fatalf("the bbolt file moved back holds\n%+v\nwant\n%+v", got, normalize(t, want))
	}

	for name, s := range map[string]conversation.Store{"postgres": pg, "bolt": back} {
		t.Run(name, func(t *testing.T) {
			// Pending replies: the same ids, keys, routes, replies and times.
			for _, platform := range []string{"telegram", "slack", "console"} {
				gotP, err := s.Pending(ctx, platform, 100)
				if err != nil {
					t.Fatal(err)
				}
				wantP, err := src.Pending(ctx, platform, 100)
				if err != nil {
					t.Fatal(err)
				}
				for i := range gotP {
					gotP[i].Created = gotP[i].Created.UTC()
					if len(gotP[i].Route) == 0 {
						gotP[i].Route = nil
					}
				}
				for i := range wantP {
					wantP[i].Created = wantP[i].Created.UTC()
				}
				if !reflect.DeepEqual(gotP, wantP) {
					t.Errorf("%s pending:\n%+v\nwant\n%+v", platform, gotP, wantP)
				}
			}
			// A moved inbound id is refused as a duplicate.
			_, err := s.Commit(ctx, conversation.Turn{Key: conversation.Key{Platform: "telegram", Chat: "42", User: "42"}, InboundID: "1002"},
				func(*conversation.Dialog) (conversation.Result, error) {
					t.Error("step called for a moved inbound id")
					return conversation.Result{}, nil
				})
			if !errors.Is(err, conversation.ErrDuplicate) {
				t.Errorf("redelivered update after the move: %v, want ErrDuplicate", err)
			}
			// The version-1 dialog reads as it did, and a new reply's id comes after the moved ones.
			var seen conversation.Dialog
			d, err := s.Commit(ctx, conversation.Turn{Key: conversation.Key{Platform: "telegram", Chat: "7", User: "7"}, InboundID: "new"},
				func(d *conversation.Dialog) (conversation.Result, error) {
					seen = *d
					return conversation.Result{Reply: conversation.Reply{Text: "new"}}, nil
				})
			if err != nil {
				t.Fatal(err)
			}
			if seen.Cause != "bank-verification" || seen.Stage != conversation.StageSolving || seen.Current != 1 {
				t.Errorf("version-1 dialog read as %+v", seen)
			}
			var maxSeq uint64
			for _, r := range want {
				if r.Kind == storemove.KindOutbox {
					maxSeq = max(maxSeq, r.Seq)
				}
			}
			if d.ID <= maxSeq {
				t.Errorf("new reply got id %d, not after the moved ones (up to %d)", d.ID, maxSeq)
			}
			// Statistics: the same events, in order.
			var got, wantE []conversation.Event
			s.Events(ctx, time.Time{}, func(e conversation.Event) error { got = append(got, e); return nil })
			src.Events(ctx, time.Time{}, func(e conversation.Event) error { wantE = append(wantE, e); return nil })
			for i := range got {
				got[i].At = got[i].At.UTC()
			}
			if !reflect.DeepEqual(got, wantE) {
				t.Errorf("events\n%+v\nwant\n%+v", got, wantE)
			}
		})
	}
}

// Load refuses a store that holds anything, and a failed load leaves the target empty.
func TestLoad_RefusesNonEmptyAndIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	src := openBolt(t)
	fill(t, src)
	records := dump(t, src)
	broken := append(append([]storemove.Record{}, records...), storemove.Record{Kind: storemove.KindDialog, Platform: "x", Chat: "1", User: "1", Body: []byte(`{"v":99,"d":{}}`)})
	targets := map[string]func(*testing.T) interface {
		storemove.Loader
		storemove.Dumper
	}{
		"bolt": func(t *testing.T) interface {
			storemove.Loader
			storemove.Dumper
		} {
			return openBolt(t)
		},
		"postgres": func(t *testing.T) interface {
			storemove.Loader
			storemove.Dumper
		} {
			return openPG(t)
		},
	}
	for name, open := range targets {
		t.Run(name, func(t *testing.T) {
			dst := open(t)
			if err := dst.Load(ctx, seq(records)); err != nil {
				t.Fatal(err)
			}
			if err := dst.Load(ctx, seq(records)); !errors.Is(err, storemove.ErrNotEmpty) {
				t.Errorf("second load: %v, want ErrNotEmpty", err)
			}
			empty := open(t)
			err := empty.Load(ctx, func(yield func(storemove.Record, error) bool) {
				for _, r := range records {
					if !yield(r, nil) {
						return
					}
				}
				yield(storemove.Record{}, errors.New("source cut"))
			})
			if err == nil {
				t.Fatal("a load whose source failed succeeded")
			}
			if name == "postgres" {
				if err := empty.Load(ctx, seq(broken)); !errors.Is(err, conversation.ErrUnknownVersion) {
					t.Errorf("record from a newer bot: %v, want ErrUnknownVersion", err)
				}
			}
			if got := dump(t, empty); len(got) != 0 {
				t.Errorf("a failed load left %d records", len(got))
			}
		})
	}
}

// JSON lines carry every record unchanged.
func TestJSONL_RoundTrip(t *testing.T) {
	ctx := context.Background()
	src := openBolt(t)
	fill(t, src)
	var buf bytes.Buffer
	n, err := storemove.WriteJSONL(ctx, src, &buf)
	if err != nil {
		t.Fatal(err)
	}
	dst := openBolt(t)
	if err := dst.Load(ctx, storemove.ReadJSONL(&buf)); err != nil {
		t.Fatal(err)
	}
	if err := storemove.Verify(ctx, dst, n); err != nil {
		t.Fatal(err)
	}
	if got, want := dump(t, dst), dump(t, src); !reflect.DeepEqual(normalize(t, got), normalize(t, want)) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, want)
	}
	if err := dst.Load(ctx, storemove.ReadJSONL(bytes.NewReader([]byte(`{"kind":"nonsense"}`+"\n")))); err == nil {
		t.Error("a record of an unknown kind was accepted")
	}
}
