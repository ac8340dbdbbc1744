package boltstore

import (
	"encoding/json"
	"errors"

	"github.com/paydoctor/bot/internal/conversation"
)

// Events are stored in a binary form (eventFormatBinary, then each field), as dialogs and
// outbox entries are: events are kept for months (BOT_EVENTS_TTL), and an event takes 56-91
// bytes where its JSON took 127-186. Values that start with '{' are JSON, as earlier
// versions and Load write them; both are read, and Dump hands every event on as JSON.
const eventFormatBinary = 1

var errEvent = errors.New("unreadable event")

func appendEvent(b []byte, e conversation.Event) []byte {
	b = append(b, eventFormatBinary)
	b = appendString(b, string(e.Kind))
	b = appendString(b, e.Platform)
	b = appendString(b, e.Lang)
	b = appendString(b, e.Outcome)
	b = appendString(b, e.Cause)
	b = appendString(b, e.Solution)
	return appendTime(b, e.At)
}

// decodeEvent reads an event of either form.
func decodeEvent(v []byte) (conversation.Event, error) {
	var e conversation.Event
	if len(v) > 0 && v[0] == '{' {
		err := json.Unmarshal(v, &e)
		return e, err
	}
	if len(v) == 0 || v[0] != eventFormatBinary {
		return e, errEvent
	}
	d := decoder{b: v[1:]}
	e.Kind = conversation.EventKind(d.string())
	e.Platform = d.string()
	e.Lang = d.string()
	e.Outcome = d.string()
	e.Cause = d.string()
	e.Solution = d.string()
	e.At = d.time()
	if d.failed || len(d.b) != 0 {
		return conversation.Event{}, errEvent
	}
	return e, nil
}

// eventJSON is a stored event as JSON, as Dump hands it on.
func eventJSON(v []byte) ([]byte, error) {
	if len(v) > 0 && v[0] == '{' {
		return v, nil
	}
	e, err := decodeEvent(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(e)
}
