// Package storemove moves everything a store holds from one store to another: dialogs (their
// raw versioned records), the ids of inbound updates already handled (with when they were
// seen), replies still waiting in the outbox, and the events statistics are computed from.
// "bot migrate-store" uses it to move a bbolt file into PostgreSQL and back.
//
// Both stores implement Dumper and Loader as concrete methods; the conversation.Store
// interface does not carry them, as the bot never needs them while serving.
package storemove

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"
)

// Kind names what a Record holds.
type Kind string

const (
	KindDialog  Kind = "dialog"
	KindInbound Kind = "inbound"
	KindOutbox  Kind = "outbox"
	KindEvent   Kind = "event"
)

// Record is one thing a store holds, in a form every store reads and writes, and that
// encodes as one JSON line.
type Record struct {
	Kind Kind `json:"kind"`

	// Platform is set for every kind but events (which carry their platform in Body).
	Platform string `json:"platform,omitempty"`
	// Chat and User: dialog and outbox.
	Chat string `json:"chat,omitempty"`
	User string `json:"user,omitempty"`

	// ID: inbound, the platform's update id.
	ID string `json:"id,omitempty"`
	// Seq: outbox and event, the entry's number in its store, kept so that order (and, for
	// the outbox, the ids senders mark delivered) survive the move.
	Seq uint64 `json:"seq,omitempty"`

	// Body: dialog, the versioned record conversation.MarshalDialog wrote (as stored, not
	// decoded, so a move neither migrates nor drops anything); outbox, the reply;
	// event, the conversation.Event.
	Body json.RawMessage `json:"body,omitempty"`
	// Route: outbox, the adapter's opaque route.
	Route []byte `json:"route,omitempty"`
	// At: inbound, when it was seen; outbox, when it was created.
	At time.Time `json:"at,omitzero"`
}

// Dumper reads everything a store holds, as of one moment (one read transaction).
type Dumper interface {
	Dump(ctx context.Context, fn func(Record) error) error
}

// Loader writes records into an empty store, all or nothing (one write transaction). It
// refuses, with ErrNotEmpty, a store that holds anything already.
type Loader interface {
	Load(ctx context.Context, records iter.Seq2[Record, error]) error
}

// ErrNotEmpty: Load was asked to write into a store that already holds records.
var ErrNotEmpty = errors.New("the target store is not empty")

// Counts says how many records of each kind were moved.
type Counts map[Kind]int

func (c Counts) String() string {
	return fmt.Sprintf("%d dialogs, %d inbound ids, %d pending replies, %d events",
		c[KindDialog], c[KindInbound], c[KindOutbox], c[KindEvent])
}

// Copy loads into to everything from holds, streaming (the source's read transaction stays
// open while the target's write transaction runs), then reads to back and checks that it
// holds as many records of each kind. It returns the counts.
func Copy(ctx context.Context, from Dumper, to interface {
	Loader
	Dumper
}) (Counts, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	got := Counts{}
	records := make(chan Record, 256)
	dumped := make(chan error, 1)
	go func() {
		defer close(records)
		dumped <- from.Dump(ctx, func(r Record) error {
			select {
			case records <- r:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	err := to.Load(ctx, func(yield func(Record, error) bool) {
		for r := range records {
			got[r.Kind]++
			if !yield(r, nil) {
				return
			}
		}
		// The source is read to its end; a failed read must fail the load.
		if err := <-dumped; err != nil {
			dumped <- err
			yield(Record{}, fmt.Errorf("read the source: %w", err))
		} else {
			dumped <- nil
		}
	})
	cancel()
	for range records { // let the reader finish
	}
	if derr := <-dumped; err == nil && derr != nil {
		err = fmt.Errorf("read the source: %w", derr)
	}
	if err != nil {
		return nil, fmt.Errorf("write the target: %w", err)
	}
	if err := Verify(context.WithoutCancel(ctx), to, got); err != nil {
		return nil, err
	}
	return got, nil
}

// Verify reads s and checks that it holds the counts given.
func Verify(ctx context.Context, s Dumper, want Counts) error {
	have := Counts{}
	if err := s.Dump(ctx, func(r Record) error { have[r.Kind]++; return nil }); err != nil {
		return fmt.Errorf("read the target back: %w", err)
	}
	for _, k := range []Kind{KindDialog, KindInbound, KindOutbox, KindEvent} {
		if have[k] != want[k] {
			return fmt.Errorf("the target holds %s, the source %s", have, want)
		}
	}
	return nil
}

// WriteJSONL writes every record of s to w, one JSON object per line.
func WriteJSONL(ctx context.Context, s Dumper, w io.Writer) (Counts, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	got := Counts{}
	err := s.Dump(ctx, func(r Record) error {
		got[r.Kind]++
		return enc.Encode(r)
	})
	if err != nil {
		return nil, err
	}
	return got, bw.Flush()
}

// ReadJSONL returns the records of r, one JSON object per line, as WriteJSONL wrote them.
func ReadJSONL(r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 64<<20)
		line := 0
		for sc.Scan() {
			line++
			if len(sc.Bytes()) == 0 {
				continue
			}
			var rec Record
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				yield(Record{}, fmt.Errorf("line %d: %w", line, err))
				return
			}
			if err := rec.Check(); err != nil {
				yield(Record{}, fmt.Errorf("line %d: %w", line, err))
				return
			}
			if !yield(rec, nil) {
				return
			}
		}
		if err := sc.Err(); err != nil {
			yield(Record{}, err)
		}
	}
}

// Check reports a record that lacks what its kind needs.
func (r Record) Check() error {
	switch r.Kind {
	case KindDialog:
		if r.Platform == "" || len(r.Body) == 0 {
			return fmt.Errorf("dialog record without platform or body")
		}
	case KindInbound:
		if r.Platform == "" || r.ID == "" {
			return fmt.Errorf("inbound record without platform or id")
		}
	case KindOutbox:
		if r.Platform == "" || r.Seq == 0 || len(r.Body) == 0 {
			return fmt.Errorf("outbox record without platform, seq or body")
		}
	case KindEvent:
		if r.Seq == 0 || len(r.Body) == 0 {
			return fmt.Errorf("event record without seq or body")
		}
	default:
		return fmt.Errorf("unknown record kind %q", r.Kind)
	}
	return nil
}
