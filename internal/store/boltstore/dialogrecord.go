package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/paydoctor/bot/internal/conversation"
)

// Commit writes a dialog record in a binary form: dialogFormatBinary, then the fields of the
// current conversation.Dialog (DialogVersion 2; format 3 adds the open handoff at the end,
// format 4 turns the pinned-language byte into flags with LangWritten, format 5 adds the
// question to resume at the end, format 6 the buttons offered and the answers given after
// it; earlier formats are still read), half the size of the versioned JSON of
// conversation.MarshalDialog (every message rewrites the page holding its dialog). A record
// that starts with '{' is that JSON (earlier versions, Load) and is read through
// conversation.UnmarshalDialog, which migrates old versions; Dump hands on every record as
// that JSON, which other stores read.
const dialogFormatBinary = 6

// The bits of a format 4 record's language flags.
const (
	flagLangPinned byte = 1 << iota
	flagLangWritten
)

var errDialogRecord = errors.New("unreadable dialog record")

func appendDialogRecord(b []byte, d conversation.Dialog) []byte {
	b = append(b, dialogFormatBinary)
	b = appendString(b, d.Lang)
	var flags byte
	if d.LangPinned {
		flags |= flagLangPinned
	}
	if d.LangWritten {
		flags |= flagLangWritten
	}
	b = append(b, flags)
	b = binary.AppendVarint(b, int64(d.Stage))
	b = appendString(b, d.Question)
	b = appendString(b, d.Outcome)
	b = appendString(b, d.Cause)
	b = appendStrings(b, d.Plan)
	b = binary.AppendVarint(b, int64(d.Current))
	b = binary.AppendUvarint(b, uint64(len(d.Attempts)))
	for _, a := range d.Attempts {
		b = appendString(b, a.Solution)
		b = appendString(b, string(a.Result))
		b = appendTime(b, a.At)
	}
	b = appendTime(b, d.Started)
	b = appendTime(b, d.LastActive)
	b = appendString(b, d.LastText)
	if h := d.Handoff; h == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = appendTime(b, h.Opened)
		b = appendTime(b, h.Answered)
		b = appendString(b, string(h.Route))
		b = appendString(b, h.HelpersKey.Platform)
		b = appendString(b, h.HelpersKey.Chat)
		b = appendString(b, h.HelpersKey.User)
		b = appendString(b, string(h.HelpersRoute))
	}
	b = appendString(b, d.Resume)
	b = appendStrings(b, d.Offered)
	return appendStrings(b, d.Asked)
}

// decodeDialogRecord reads a record of either form.
func decodeDialogRecord(v []byte) (conversation.Dialog, error) {
	if len(v) > 0 && v[0] == '{' {
		return conversation.UnmarshalDialog(v)
	}
	switch {
	case len(v) == 0 || v[0] < 2:
		return conversation.Dialog{}, errDialogRecord
	case v[0] > dialogFormatBinary:
		return conversation.Dialog{}, fmt.Errorf("%w: dialog record format %d, this bot reads up to %d", conversation.ErrUnknownVersion, v[0], dialogFormatBinary)
	}
	r := decoder{b: v[1:]}
	var d conversation.Dialog
	d.Lang = r.string()
	flags := r.byte()
	if flags&^(flagLangPinned|flagLangWritten) != 0 || v[0] < 4 && flags&flagLangWritten != 0 {
		r.failed = true
	}
	d.LangPinned, d.LangWritten = flags&flagLangPinned != 0, flags&flagLangWritten != 0
	d.Stage = conversation.Stage(r.varint())
	d.Question = r.string()
	d.Outcome = r.string()
	d.Cause = r.string()
	d.Plan = r.strings()
	d.Current = int(r.varint())
	if n := r.count(); n > 0 {
		d.Attempts = make([]conversation.Attempt, n)
		for i := range d.Attempts {
			d.Attempts[i] = conversation.Attempt{Solution: r.string(), Result: conversation.Feedback(r.string()), At: r.time()}
		}
	}
	d.Started = r.time()
	d.LastActive = r.time()
	d.LastText = r.string()
	if v[0] >= 3 {
		switch r.byte() {
		case 0:
		case 1:
			h := &conversation.Handoff{Opened: r.time(), Answered: r.time(), Route: []byte(r.string())}
			h.HelpersKey = conversation.Key{Platform: r.string(), Chat: r.string(), User: r.string()}
			h.HelpersRoute = []byte(r.string())
			d.Handoff = h
		default:
			r.failed = true
		}
	}
	if v[0] >= 5 {
		d.Resume = r.string()
	}
	if v[0] >= 6 {
		d.Offered, d.Asked = r.strings(), r.strings()
	}
	if r.failed || len(r.b) != 0 {
		return conversation.Dialog{}, errDialogRecord
	}
	return d, nil
}

// dialogJSON is record as conversation.MarshalDialog's versioned JSON.
func dialogJSON(record []byte) ([]byte, error) {
	if len(record) > 0 && record[0] == '{' {
		return record, nil
	}
	d, err := decodeDialogRecord(record)
	if err != nil {
		return nil, err
	}
	b, err := conversation.MarshalDialog(d)
	if err != nil {
		return nil, fmt.Errorf("encode dialog: %w", err)
	}
	return b, nil
}
