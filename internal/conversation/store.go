package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Errors a Store returns, checked with errors.Is.
var (
	// ErrDuplicate: the inbound update was handled before; nothing was changed.
	ErrDuplicate = errors.New("update already handled")
	// ErrLocked: another process holds the database.
	ErrLocked = errors.New("database is in use by another process")
	// ErrDamaged: the database file is corrupt; it must be restored from a backup.
	ErrDamaged = errors.New("database is damaged")
	// ErrUnknownVersion: a stored record was written by a newer version of the bot.
	ErrUnknownVersion = errors.New("record written by a newer version of the bot")
)

// Cutoffs tell Store.Expire what has been kept long enough.
type Cutoffs struct {
	IdleDialogs time.Time // dialogs last active before this go
	Inbound     time.Time // inbound ids recorded before this are forgotten
	Events      time.Time // events before this go; zero keeps them all
}

// Turn names what a Store commits for one inbound message.
type Turn struct {
	Key Key
	// InboundID is the platform's id of the update (Telegram update_id, Slack event_id), unique
	// per platform. A Store remembers it with the dialog change, so a redelivered update is
	// refused with ErrDuplicate. Empty: not deduplicated (the terminal chat).
	InboundID string
	// Route tells the adapter where the reply goes (chat, thread, message to quote). It is
	// opaque to the core and stored with the reply in the outbox.
	Route []byte
	// ReplyKey, when set, is the chat the reply goes to instead of Key's: a helper's answer
	// changes the person's dialog (Key) and is acknowledged in the helpers' chat, maybe on
	// another platform.
	ReplyKey Key
}

// Replier is the key of the chat t's reply goes to.
func (t Turn) Replier() Key {
	if t.ReplyKey != (Key{}) {
		return t.ReplyKey
	}
	return t.Key
}

// Empty reports whether r says nothing: a step that only passes a message on (a handoff).
func (r Reply) Empty() bool { return r.Text == "" && len(r.Buttons) == 0 }

// Delivery is a reply waiting in the outbox, or delivered from it.
type Delivery struct {
	ID      uint64 // increasing in commit order, unique within a store
	Key     Key
	Route   []byte
	Reply   Reply
	Created time.Time
}

// Store keeps dialogs, the ids of inbound updates already handled, and the outbox of replies
// not yet delivered. Every method is safe for concurrent use.
//
// Commit is the one atomic step of the bot: the inbound id, the dialog change and the reply
// it produces are committed together or not at all, so a crash never leaves a dialog moved on
// without its reply queued, or a reply queued for an update that will be handled again.
//
// What may happen twice: a reply sent but not yet marked delivered when the process dies is
// claimed and sent again after the restart (at-least-once delivery, never lost). Nothing else.
type Store interface {
	// Commit loads the dialog of t.Key (the zero Dialog if there is none), calls step with it,
	// and saves in one transaction the changed dialog, t.InboundID, the result's reply as an
	// outbox entry for t.Replier(), each of its notices as an outbox entry of its own, and
	// its events. It returns the reply's delivery, which waits in the outbox, held by nobody,
	// for the platform's Outbox to Claim it; a reply with no text and no buttons is not
	// queued (the zero Delivery is returned). If t.InboundID was handled before it returns ErrDuplicate
	// and saves nothing (step may have run: a store may find the duplicate only when it
	// writes). If step returns an error nothing is saved. step may be called more than once if
	// the store retries the transaction, so it must not have side effects.
	Commit(ctx context.Context, t Turn, step func(*Dialog) (Result, error)) (Delivery, error)
	// Ping commits a write through the same path Commit takes (the same writer, the same
	// sync), so that it fails exactly when commits fail. Health checks call it.
	Ping(ctx context.Context) error
	// Events calls fn for each event recorded at or after since, oldest first.
	Events(ctx context.Context, since time.Time, fn func(Event) error) error
	// Pending returns up to limit undelivered replies of platform, oldest first, held or not.
	Pending(ctx context.Context, platform string, limit int) ([]Delivery, error)
	// Claim returns up to limit undelivered replies of platform with an ID greater than after,
	// oldest first, that nobody holds (or whose hold ran out), and holds them for the caller
	// for a store-defined lease, so that two senders, in one process or in several replicas,
	// never send the same reply at once. A store whose IDs may commit out of order holds back
	// a reply while an older one of its chat, at or below after, is held by nobody: a claim
	// from 0 takes them in order.
	Claim(ctx context.Context, platform string, after uint64, limit int) ([]Delivery, error)
	// Unclaim gives up the holds on ids, so that any sender may Claim them at once. Ids not
	// held, or no longer in the outbox, are ignored.
	Unclaim(ctx context.Context, ids ...uint64) error
	// MarkDelivered removes the replies ids from the outbox, in one commit. Ids no longer in
	// the outbox are ignored.
	MarkDelivered(ctx context.Context, ids ...uint64) error
	// MoveChat re-keys every dialog of chat from on platform to chat to, as when a Telegram
	// group becomes a supergroup with a new id. It returns how many dialogs moved; a dialog
	// already present under the new key is kept and the old one dropped.
	MoveChat(ctx context.Context, platform, from, to string) (int, error)
	// StaleHandoffs returns the dialogs whose handoff is open and was opened before
	// openedBefore, for the sweep that closes them.
	StaleHandoffs(ctx context.Context, openedBefore time.Time) ([]Key, error)
	// Expire deletes what is older than its cut-off in c: dialogs last active before
	// c.IdleDialogs, inbound ids recorded before c.Inbound, and events before c.Events (all
	// kept when c.Events is zero). It returns how many dialogs it deleted.
	Expire(ctx context.Context, c Cutoffs) (int, error)
	Close() error
}

// DialogVersion is the version of the encoding MarshalDialog writes.
//
// Version 1 stored the walk as {"lang", "node", "cause", "solutions", "index"}, with the stage
// implied by which fields were set and no record of attempts. Version 2 adds the explicit
// stage, the outcome, the pinned language, the attempts and the activity times.
const DialogVersion = 2

// dialogRecord is a record as MarshalDialog writes it: the version, then the dialog.
type dialogRecord struct {
	Version int    `json:"v"`
	Dialog  Dialog `json:"d"`
}

// oldRecord reads a record of any version, keeping the dialog undecoded.
type oldRecord struct {
	Version int             `json:"v"`
	Dialog  json.RawMessage `json:"d"`
}

type dialogV1 struct {
	Lang      string   `json:"lang"`
	Node      string   `json:"node"`
	Cause     string   `json:"cause"`
	Solutions []string `json:"solutions"`
	Index     int      `json:"index"`
	Updated   int64    `json:"updated"` // Unix seconds
}

// MarshalDialog encodes d in the current version; stores use it so that every store reads
// every other's records and old ones are migrated in one place.
func MarshalDialog(d Dialog) ([]byte, error) {
	return json.Marshal(dialogRecord{Version: DialogVersion, Dialog: d})
}

// UnmarshalDialog decodes a record of any version up to DialogVersion. A current record, the
// usual case, is decoded in one pass.
func UnmarshalDialog(b []byte) (Dialog, error) {
	var rec dialogRecord
	if err := json.Unmarshal(b, &rec); err == nil && rec.Version == DialogVersion {
		return rec.Dialog, nil
	}
	var old oldRecord
	if err := json.Unmarshal(b, &old); err != nil {
		return Dialog{}, fmt.Errorf("decode dialog: %w", err)
	}
	switch old.Version {
	case 1:
		var v1 dialogV1
		if err := json.Unmarshal(old.Dialog, &v1); err != nil {
			return Dialog{}, fmt.Errorf("decode dialog v1: %w", err)
		}
		return migrateV1(v1), nil
	case DialogVersion:
		var d Dialog
		if err := json.Unmarshal(old.Dialog, &d); err != nil {
			return Dialog{}, fmt.Errorf("decode dialog v%d: %w", old.Version, err)
		}
		return d, nil
	}
	return Dialog{}, fmt.Errorf("%w: dialog version %d, this bot reads up to %d", ErrUnknownVersion, old.Version, DialogVersion)
}

func migrateV1(old dialogV1) Dialog {
	updated := time.Unix(old.Updated, 0).UTC()
	d := Dialog{Lang: old.Lang, Cause: old.Cause, Started: updated, LastActive: updated}
	switch {
	case len(old.Solutions) > 0 && old.Index < len(old.Solutions):
		d.Stage, d.Plan, d.Current = StageSolving, old.Solutions, old.Index
	case len(old.Solutions) > 0:
		d.Stage, d.Plan, d.Current = StageExhausted, old.Solutions, len(old.Solutions)-1
	case old.Node != "":
		d.Stage, d.Question = StageAsking, old.Node
	}
	return d
}
