package conversation

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// EventKind names something that happened in a dialog, for statistics and metrics.
type EventKind string

const (
	EventStarted   EventKind = "started"   // a dialog started, or started over
	EventDiagnosed EventKind = "diagnosed" // an outcome was reached (Outcome, Cause)
	EventShown     EventKind = "shown"     // a solution was shown (Solution)
	EventWorked    EventKind = "worked"    // the person said a solution worked
	EventFailed    EventKind = "failed"    // the person said a solution did not work
	EventHandoff   EventKind = "handoff"   // the person asked for a human
	// EventNoHelper: the person asked for a human where no helper is connected, and was
	// pointed to OpenAI's support. Operators see how many would have talked to one.
	EventNoHelper EventKind = "no_helper"

	// The handoff's course: a helper's first answer, its end (a helper's /done, the person
	// back to the bot, or BOT_HANDOFF_TTL), and the person's verdict afterwards.
	EventHandoffAnswered EventKind = "handoff_answered"
	EventHandoffClosed   EventKind = "handoff_closed"
	EventHandoffSolved   EventKind = "handoff_solved"
	EventHandoffUnsolved EventKind = "handoff_unsolved"

	// What became of free text (not commands, not numbers picking a choice).
	EventRecognized    EventKind = "recognized"     // it led to one target
	EventClarified     EventKind = "clarified"      // it matched several closely: the bot asked which
	EventNotUnderstood EventKind = "not_understood" // it matched nothing the bot could act on
	EventOffTopic      EventKind = "off_topic"      // it was about something else: the bot said what it is for
)

// Event is one thing that happened in a dialog. It holds IDs only, never what people typed.
type Event struct {
	Kind     EventKind `json:"kind"`
	Platform string    `json:"platform"`
	Lang     string    `json:"lang"`
	Outcome  string    `json:"outcome,omitempty"`
	Cause    string    `json:"cause,omitempty"`
	Solution string    `json:"solution,omitempty"`
	At       time.Time `json:"at"`
	// Wait, on handoff_answered, is how long the person waited for a helper's first answer.
	Wait time.Duration `json:"wait,omitempty"`
	// Dialog is a pseudonym of the dialog (DialogPseudonym of its Key), so that its events
	// can be paired, a handoff with its end, without naming the person.
	Dialog string `json:"dialog,omitempty"`
}

// DialogPseudonym names k in events: the first 12 hex digits of the SHA-256 of k's string.
func DialogPseudonym(k Key) string {
	sum := sha256.Sum256([]byte(k.String()))
	return hex.EncodeToString(sum[:6])
}

// Notice is a message to a chat other than the dialog's own, committed with the dialog
// change: the summary a handoff posts to the humans' chat.
type Notice struct {
	Key   Key
	Route []byte
	Reply Reply
	// To, when Key is zero, says who it is for; the Service addresses it: the helpers' chat
	// (its HandoffTarget), or the person whose dialog it is (Key from the turn, Route given).
	To Audience
}

// Audience is who a Notice the engine makes is for.
type Audience int

const (
	ToHelpers Audience = iota + 1
	ToPerson
)

// Result is what handling one input produced, committed in one transaction: the reply, the
// events to record and the notices to send elsewhere.
type Result struct {
	Reply   Reply
	Events  []Event
	Notices []Notice
}
