package boltstore

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
)

func sampleEvent() conversation.Event {
	return conversation.Event{Kind: conversation.EventFailed, Platform: "telegram", Lang: "zh-Hans",
		Outcome: "cross-border", Cause: "cross-border-restricted", Solution: "enable-cross-border",
		At: time.Date(2026, 11, 26, 9, 30, 0, 123456789, time.UTC), Wait: 90 * time.Second, Dialog: "0a1b2c3d4e5f"}
}

// Every field survives the binary form, and the form reads as the JSON that earlier versions
// stored; an Event field added without the codec fails here, because the sample must set
// every field.
func TestEvent_RoundTrip(t *testing.T) {
	e := sampleEvent()
	v := reflect.ValueOf(e)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("the sample leaves Event.%s empty: set it, and encode it", v.Type().Field(i).Name)
		}
	}
	got, err := decodeEvent(appendEvent(nil, e))
	if err != nil || !reflect.DeepEqual(got, e) {
		t.Errorf("round trip: %+v, %v; want %+v", got, err, e)
	}
	stored, _ := json.Marshal(e) // as earlier versions and Load store it
	if got, err := decodeEvent(stored); err != nil || !got.At.Equal(e.At) || got.Solution != e.Solution {
		t.Errorf("a JSON event reads as %+v, %v", got, err)
	}
	asJSON, err := eventJSON(appendEvent(nil, e))
	if err != nil || string(asJSON) != string(stored) {
		t.Errorf("the binary event as JSON: %s, %v; want %s", asJSON, err, stored)
	}
}

func TestEvent_DamagedIsRefused(t *testing.T) {
	good := appendEvent(nil, sampleEvent())
	for name, v := range map[string][]byte{
		"empty":          {},
		"unknown format": append([]byte{9}, good[1:]...),
		"cut short":      good[:len(good)-3],
		"trailing bytes": append(append([]byte{}, good...), 1),
	} {
		if _, err := decodeEvent(v); !errors.Is(err, errEvent) {
			t.Errorf("%s: %v, want %v", name, err, errEvent)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add(appendEvent(nil, sampleEvent()))
	f.Add([]byte(`{"kind":"shown","at":"2026-11-26T09:30:00Z"}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		e, err := decodeEvent(v)
		if err != nil || len(v) == 0 || v[0] == '{' {
			return
		}
		// What decodes, encodes to a value that decodes the same (varints need not be
		// minimal, so the bytes may differ).
		again, err := decodeEvent(appendEvent(nil, e))
		if err != nil || !reflect.DeepEqual(again, e) {
			t.Errorf("%x decodes to %+v, which encodes to a value read as %+v, %v", v, e, again, err)
		}
	})
}
