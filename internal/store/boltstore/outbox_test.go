package boltstore

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/paydoctor/bot/internal/conversation"
)

func sampleOutboxEntry() outboxEntry {
	return outboxEntry{
		Key:   conversation.Key{Platform: "slack", Chat: "E1:C1", User: "U1"},
		Route: []byte(`{"channel":"C1","thread":"1.2"}`),
		Reply: conversation.Reply{
			Text:      "你的卡被拒绝了 <b>&</b>\n第二行",
			Buttons:   []conversation.Button{{ID: "ok:paypal", Label: "有用"}, {ID: "no:paypal", Label: "没用"}},
			Cause:     "cross-border-restricted",
			Solutions: []string{"paypal", "virtual-card"},
			Lang:      "zh-Hans",
		},
		Created: time.Unix(1764150000, 123456789).UTC(),
	}
}

// Every field survives the binary form; a field added to the entry or the reply without
// the codec fails here, because the sample must set every field.
func TestOutboxEntry_RoundTrip(t *testing.T) {
	e := sampleOutboxEntry()
	for _, v := range []reflect.Value{reflect.ValueOf(e), reflect.ValueOf(e.Key), reflect.ValueOf(e.Reply), reflect.ValueOf(e.Reply.Buttons[0])} {
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Fatalf("the sample leaves %s.%s empty: set it, and encode it", v.Type(), v.Type().Field(i).Name)
			}
		}
	}
	got, err := decodeOutboxEntry(appendOutboxEntry(nil, e))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, e)
	}

	empty := outboxEntry{Key: conversation.Key{Platform: "telegram", Chat: "1", User: "2"}}
	if got, err := decodeOutboxEntry(appendOutboxEntry(nil, empty)); err != nil || !reflect.DeepEqual(got, empty) {
		t.Errorf("an empty entry came back as %+v, %v", got, err)
	}
}

// A damaged value is an error, never a panic or a huge allocation.
func TestOutboxEntry_DamagedIsAnError(t *testing.T) {
	good := appendOutboxEntry(nil, sampleOutboxEntry())
	for _, v := range [][]byte{nil, {0}, {2, 0}, good[:len(good)-1], append(good[:len(good):len(good)], 0), {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}} {
		if _, err := decodeOutboxEntry(v); err == nil {
			t.Errorf("decodeOutboxEntry(%x) = nil error", v)
		}
	}
}

func FuzzDecodeOutboxEntry(f *testing.F) {
	f.Add(appendOutboxEntry(nil, sampleOutboxEntry()))
	f.Add([]byte(`{"key":{"Platform":"telegram"},"reply":{"text":"x"}}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		e, err := decodeOutboxEntry(v)
		if err != nil || (len(v) > 0 && v[0] == '{') {
			return
		}
		again, err := decodeOutboxEntry(appendOutboxEntry(nil, e))
		if err != nil || !reflect.DeepEqual(again.Reply, e.Reply) || again.Key != e.Key || !again.Created.Equal(e.Created) {
			t.Errorf("%+v decoded, re-encoded and decoded again as %+v, %v", e, again, err)
		}
	})
}

// Entries earlier versions wrote as JSON are still delivered, and dumped with their reply as
// stored.
func TestOutbox_ReadsJSONEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bot.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	old := sampleOutboxEntry()
	old.Key.Platform = "telegram"
	v, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(outboxBucket)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		return b.Put(encodeID(seq), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := s.Pending(context.Background(), "telegram", 10)
	if err != nil || len(pending) != 1 {
		t.Fatalf("Pending: %+v, %v", pending, err)
	}
	if !reflect.DeepEqual(pending[0].Reply, old.Reply) || pending[0].Key != old.Key || string(pending[0].Route) != string(old.Route) {
		t.Errorf("a JSON entry was read as %+v", pending[0])
	}
	s.Close()
}
