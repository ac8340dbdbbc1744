package boltstore

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
)

func sampleDialog() conversation.Dialog {
	at := time.Date(2026, 11, 26, 9, 30, 0, 123456789, time.UTC)
	return conversation.Dialog{
		Lang:        "zh-Hans",
		LangPinned:  true,
		LangWritten: true,
		Stage:       conversation.StageSolving,
		Question:    "card_type",
		Outcome:     "cross-border",
		Cause:       "cross-border-restricted",
		Plan:        []string{"enable-cross-border", "international-card", "paypal"},
		Current:     1,
		Resume:      "overseas_enabled",
		Offered:     []string{"go:cross-border", "open:paypal", "restart"},
		Asked:       []string{"what_happened:declined", "card_type:domestic_visa"},
		Attempts: []conversation.Attempt{
			{Solution: "enable-cross-border", Result: conversation.FeedbackFailed, At: at},
			{Solution: "international-card", At: at.Add(time.Minute)},
		},
		Started:    at.Add(-time.Hour),
		LastActive: at.Add(time.Minute),
		LastText:   "银行卡 **** 说不支持",
		Handoff: &conversation.Handoff{Opened: at.Add(2 * time.Minute), Answered: at.Add(3 * time.Minute), Route: []byte(`{"c":111}`),
			HelpersKey: conversation.Key{Platform: "slack", Chat: "T1/C9", User: "U5"}, HelpersRoute: []byte(`{"m":"post","c":"C9","t":"1.2"}`)},
	}
}

// Every field survives the binary form, and the form says the same as the versioned JSON;
// a field added to Dialog or Attempt without the codec fails here, because the sample must
// set every field.
func TestDialogRecord_RoundTrip(t *testing.T) {
	d := sampleDialog()
	for _, v := range []reflect.Value{reflect.ValueOf(d), reflect.ValueOf(d.Attempts[0])} {
		for i := range v.NumField() {
			if v.Field(i).IsZero() {
				t.Fatalf("the sample leaves %s.%s empty: set it, and encode it", v.Type(), v.Type().Field(i).Name)
			}
		}
	}
	record := appendDialogRecord(nil, d)
	got, err := decodeDialogRecord(record)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, d)
	}
	viaJSON, err := dialogJSON(record)
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := conversation.UnmarshalDialog(viaJSON)
	if err != nil || !reflect.DeepEqual(fromJSON, d) {
		t.Errorf("the record as JSON reads back as %+v, %v", fromJSON, err)
	}
	if json, _ := conversation.MarshalDialog(d); len(record) >= len(json)*2/3 {
		t.Errorf("the binary record is %d bytes, the JSON one %d: the point of it is being much smaller", len(record), len(json))
	}

	var zero conversation.Dialog
	if got, err := decodeDialogRecord(appendDialogRecord(nil, zero)); err != nil || !reflect.DeepEqual(got, zero) {
		t.Errorf("the zero dialog came back as %+v, %v", got, err)
	}
}

func TestDialogRecord_DamagedOrFromTheFuture(t *testing.T) {
	good := appendDialogRecord(nil, sampleDialog())
	unknownFlag := appendDialogRecord(nil, conversation.Dialog{Lang: "en", LangPinned: true})
	unknownFlag[4] = 4 // format, length 2, "en", then the language flags
	// Format 3 had a pinned byte of 0 or 1 where format 4 has flags.
	writtenInFormat3 := recordInFormat(3, conversation.Dialog{Lang: "en", LangWritten: true})
	for _, v := range [][]byte{nil, {0}, {1, 0}, good[:len(good)-1], append(good[:len(good):len(good)], 0), unknownFlag, writtenInFormat3} {
		if _, err := decodeDialogRecord(v); !errors.Is(err, errDialogRecord) {
			t.Errorf("decodeDialogRecord(%x) = %v, want %v", v, err, errDialogRecord)
		}
	}
	format3 := recordInFormat(3, conversation.Dialog{Lang: "en", LangPinned: true})
	if d, err := decodeDialogRecord(format3); err != nil || !d.LangPinned || d.LangWritten {
		t.Errorf("a format 3 record with the language pinned reads as %+v, %v", d, err)
	}
	format4 := recordInFormat(4, conversation.Dialog{Lang: "en", Stage: conversation.StageSolving, Plan: []string{"paypal"}})
	if d, err := decodeDialogRecord(format4); err != nil || d.Lang != "en" || len(d.Plan) != 1 || d.Resume != "" {
		t.Errorf("a format 4 record reads as %+v, %v", d, err)
	}
	format5 := appendDialogRecord(nil, conversation.Dialog{Lang: "en", Resume: "card_type"})
	format5 = format5[:len(format5)-2] // the counts of no buttons offered and no questions answered
	format5[0] = 5
	if d, err := decodeDialogRecord(format5); err != nil || d.Resume != "card_type" || d.Offered != nil {
		t.Errorf("a format 5 record reads as %+v, %v", d, err)
	}
	future := append([]byte{dialogFormatBinary + 1}, good[1:]...)
	if _, err := decodeDialogRecord(future); !errors.Is(err, conversation.ErrUnknownVersion) {
		t.Errorf("a record of a later format: %v, want ErrUnknownVersion", err)
	}
}

// recordInFormat is d, which has nothing to resume and no buttons offered, in format 3 or 4:
// those ended with the handoff, before the question to resume and the buttons.
func recordInFormat(format byte, d conversation.Dialog) []byte {
	b := appendDialogRecord(nil, d)
	b = b[:len(b)-3] // the empty Resume's length and the counts of no buttons and no questions
	b[0] = format
	return b
}

func FuzzDecodeDialogRecord(f *testing.F) {
	f.Add(appendDialogRecord(nil, sampleDialog()))
	f.Add(appendDialogRecord(nil, conversation.Dialog{}))
	f.Fuzz(func(t *testing.T, v []byte) {
		d, err := decodeDialogRecord(v)
		if err != nil || (len(v) > 0 && v[0] == '{') {
			return
		}
		again, err := decodeDialogRecord(appendDialogRecord(nil, d))
		if err != nil || !reflect.DeepEqual(again, d) {
			t.Errorf("%+v decoded, re-encoded and decoded again as %+v, %v", d, again, err)
		}
	})
}
