package conversation

import (
	"slices"
	"strings"
	"time"
)

// Key names one dialog: one person in one chat on one platform. In a group each person has a
// dialog of their own.
type Key struct {
	Platform string // "telegram", "slack", "console"
	Chat     string // the chat, channel or conversation id
	User     string // the person's id on the platform
}

// String returns the key as "platform:chat:user", the form stores use. Platform ids never
// contain ':' except Slack's enterprise-wide ids, which stay unambiguous because the platform
// and chat come first.
func (k Key) String() string { return k.Platform + ":" + k.Chat + ":" + k.User }

// ParseKey reads what Key.String wrote. Platform names hold no ':' and the user id is the
// last field; a chat id may hold one.
func ParseKey(s string) (Key, bool) {
	platform, rest, ok := strings.Cut(s, ":")
	i := strings.LastIndexByte(rest, ':')
	if !ok || platform == "" || i <= 0 || i == len(rest)-1 {
		return Key{}, false
	}
	return Key{Platform: platform, Chat: rest[:i], User: rest[i+1:]}, true
}

// refPrefix starts the line of a handoff's messages to the helpers that names the person's
// dialog; a helper's reply to such a message is an answer to that person.
const refPrefix = "ref: "

// HandoffRef finds the dialog a message to the helpers names: its last "ref: <key>" line.
func HandoffRef(text string) (Key, bool) {
	i := strings.LastIndex(text, refPrefix)
	if i < 0 {
		return Key{}, false
	}
	ref, _, _ := strings.Cut(text[i+len(refPrefix):], "\n")
	return ParseKey(strings.TrimSpace(ref))
}

// Stage is where a dialog is.
type Stage int

const (
	// StageNew: nothing asked yet.
	StageNew Stage = iota
	// StageAsking: waiting for the answer to question Dialog.Question.
	StageAsking
	// StageSolving: showing Dialog.Plan[Dialog.Current], waiting for "worked" / "didn't work".
	StageSolving
	// StageResolved: a solution worked.
	StageResolved
	// StageExhausted: every solution of the plan failed.
	StageExhausted
)

func (s Stage) String() string {
	switch s {
	case StageNew:
		return "new"
	case StageAsking:
		return "asking"
	case StageSolving:
		return "solving"
	case StageResolved:
		return "resolved"
	case StageExhausted:
		return "exhausted"
	}
	return "unknown"
}

// Feedback is what a person said about a solution they tried.
type Feedback string

const (
	FeedbackWorked Feedback = "worked"
	FeedbackFailed Feedback = "failed"
)

// Attempt records a solution shown and, once the person answers, their latest verdict on it.
type Attempt struct {
	Solution string    `json:"solution"`
	Result   Feedback  `json:"result,omitempty"`
	At       time.Time `json:"at"`
}

// Dialog is the state of one conversation. The engine reads and returns it; stores persist
// it. It holds no text people typed, except, when a human handoff is configured, the last
// free-text message with card data redacted, for the summary the humans get.
type Dialog struct {
	Lang string `json:"lang"`
	// LangPinned is set by /lang: the choice then wins over platform hints and the text.
	LangPinned bool `json:"lang_pinned,omitempty"`
	// LangWritten is set when the language came from what the person wrote: then their app's
	// language no longer changes it when they press a button or send a command.
	LangWritten bool `json:"lang_written,omitempty"`

	Stage    Stage    `json:"stage"`
	Question string   `json:"question,omitempty"` // StageAsking: the question waiting for an answer
	Outcome  string   `json:"outcome,omitempty"`  // the diagnosis reached, if any
	Cause    string   `json:"cause,omitempty"`    // the cause of Outcome, if it names one
	Plan     []string `json:"plan,omitempty"`     // solutions to walk, most likely first
	Current  int      `json:"current,omitempty"`  // index into Plan
	// Resume is the question that was asked when a solution was opened before any diagnosis
	// ("can I just use PayPal?"): once it fails, the questions go on from there.
	Resume string `json:"resume,omitempty"`
	// Offered are the buttons of the bot's last reply when they choose (a question's options, a
	// clarifying question's, the list of solutions), in order: "the second one" typed presses
	// the second (kb.Choice).
	Offered []string `json:"offered,omitempty"`
	// Asked are the answers given on the way to where the dialog stands, in order, each
	// "question:option": a press of an earlier question's button, "go back" or a correction
	// typed ("sorry, it's actually a UnionPay card") answers it again, and a diagnosis leaves
	// out the solutions an answer rules out.
	Asked []string `json:"asked,omitempty"`

	// Attempts holds at most one entry per solution, in the order the solutions were first
	// shown: showing a solution again, or a new verdict on it, updates its entry (the latest
	// verdict wins; At is when it was last shown or answered). One entry per showing grew
	// the record, rewritten on every message, and the handoff summary without bound.
	Attempts []Attempt `json:"attempts,omitempty"`

	Started    time.Time `json:"started"`
	LastActive time.Time `json:"last_active"`

	LastText string `json:"last_text,omitempty"`

	// Handoff is set while the person talks with the human helpers through the bot.
	Handoff *Handoff `json:"handoff,omitempty"`
}

// Handoff is a person's open conversation with the human helpers: their messages go to the
// helpers' chat, and the helpers' replies come back to where they asked from.
type Handoff struct {
	Opened   time.Time `json:"opened"`
	Answered time.Time `json:"answered,omitzero"` // a helper's first reply; zero: none yet
	// Route is where the person asked from, as their platform's adapter reads routes: the
	// helpers' replies are sent there.
	Route []byte `json:"route,omitempty"`
	// HelpersKey and HelpersRoute are where the last helper answered (their chat, and the
	// message or thread they answered in): the person's messages go there, so that the
	// conversation stays in one thread. Unset until a helper answers: the helpers' chat.
	HelpersKey   Key    `json:"helpers_key,omitzero"`
	HelpersRoute []byte `json:"helpers_route,omitempty"`
}

// CurrentSolution returns the solution being shown, if the dialog is walking a plan.
func (d *Dialog) CurrentSolution() (string, bool) {
	if d.Stage != StageSolving || d.Current < 0 || d.Current >= len(d.Plan) {
		return "", false
	}
	return d.Plan[d.Current], true
}

// lastShown returns the solution the plan was at when the help ended, if any.
func (d *Dialog) lastShown() (string, bool) {
	if d.Current < 0 || d.Current >= len(d.Plan) {
		return "", false
	}
	return d.Plan[d.Current], true
}

// ended reports whether the help ended: a solution worked, or none was left.
func (d *Dialog) ended() bool { return d.Stage == StageResolved || d.Stage == StageExhausted }

func (d *Dialog) attempt(sol string) *Attempt {
	for i := range d.Attempts {
		if d.Attempts[i].Solution == sol {
			return &d.Attempts[i]
		}
	}
	return nil
}

// failedBefore reports whether the person's latest verdict on sol was that it did not work.
func (d *Dialog) failedBefore(sol string) bool {
	a := d.attempt(sol)
	return a != nil && a.Result == FeedbackFailed
}

// noteShown records a showing of sol; a verdict given earlier stands until the next one.
func (d *Dialog) noteShown(sol string, at time.Time) {
	if a := d.attempt(sol); a != nil {
		a.At = at
		return
	}
	d.Attempts = append(d.Attempts, Attempt{Solution: sol, At: at})
}

// noteVerdict records what the person said about sol.
func (d *Dialog) noteVerdict(sol string, r Feedback, at time.Time) {
	if a := d.attempt(sol); a != nil {
		a.Result, a.At = r, at
		return
	}
	d.Attempts = append(d.Attempts, Attempt{Solution: sol, Result: r, At: at})
}

// compactAttempts returns a copy of as with one entry per solution. Dialogs stored by
// earlier versions hold one entry per showing, possibly thousands: each solution keeps the
// place of its first entry, its latest verdict and latest time.
func compactAttempts(as []Attempt) []Attempt {
	if len(as) == 0 {
		return slices.Clone(as)
	}
	out := make([]Attempt, 0, len(as))
	for _, a := range as {
		i := slices.IndexFunc(out, func(o Attempt) bool { return o.Solution == a.Solution })
		if i < 0 {
			out = append(out, a)
			continue
		}
		if a.Result != "" {
			out[i].Result = a.Result
		}
		if a.At.After(out[i].At) {
			out[i].At = a.At
		}
	}
	return out
}

// InputKind tells what an inbound message is.
type InputKind int

const (
	// InputText is text a person wrote; commands start with "/".
	InputText InputKind = iota + 1
	// InputButton is a press on a button of an earlier reply; Input.Text is the button's ID.
	InputButton
	// InputUnsupported is a sticker, photo, voice message or anything else without text.
	InputUnsupported
	// InputResume asks for the dialog where it stands, as when a terminal chat is reopened.
	InputResume
	// InputFlooded stands for a message that came too soon after many others: the answer asks
	// the person to slow down and leaves the dialog where it is.
	InputFlooded
	// InputHelperReply is a helper's answer, written in the helpers' chat in reply to the
	// person's handoff; Input.Text is what they wrote, Input.From the helper. The turn's Key
	// is the person's dialog, its ReplyKey the helpers' chat.
	InputHelperReply
	// InputHelperDone is a helper closing the person's handoff (/done).
	InputHelperDone
	// InputSweep is the bot's own look at a dialog, nobody having written: a handoff past its
	// time to live is closed, with a note to both sides; nothing else changes.
	InputSweep
	// InputImage is a picture the person sent, read by OCR: Input.Seen is the text read from
	// it and Input.Text the caption or message that came with it; either may be empty. The
	// picture itself never reaches the core.
	InputImage
)

// Input is one platform-neutral inbound message.
type Input struct {
	Kind InputKind
	Text string
	// Seen is the text OCR read from the picture of an InputImage. Like Text it may hold card
	// numbers until the engine redacts it: adapters must not log it.
	Seen string
	// Quoted is the text of someone's message that an InputText replies to, when the person
	// asked the bot about it ("@bot what does this mean?" under a pasted error): read with
	// their words, redacted like them. Adapters must not log it either.
	Quoted string
	// QuotedOwn says the message Quoted is the person's own, which they can delete.
	QuotedOwn bool
	// LangHint is the language the platform reports for the person (a BCP 47 tag such as
	// Telegram's language_code or Slack's locale), or empty.
	LangHint string
	// FlowVersion is the flow version a pressed button was rendered with, when the platform
	// carries it back; empty when unknown.
	FlowVersion string
	// From is who sent it, as far as the platform tells; used only in a handoff summary.
	From Person
	// Ref names the dialog to the helpers of a handoff (its Key); the Service sets it.
	Ref string
}

// Person is how the humans taking over a handoff can recognise and reach someone.
type Person struct {
	Name     string // display name
	Username string // @username on Telegram, empty on Slack
	// Reach is a link or mention that opens a chat with the person: tg://user?id=..., or a
	// Slack mention <@U...>.
	Reach string
}

// Button is a choice offered with a reply. ID is stable across languages and restarts; it
// comes back as Input.Text of an InputButton.
type Button struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// Reply is what the bot answers to one input.
type Reply struct {
	Text    string   `json:"text"`
	Buttons []Button `json:"buttons"`
	// Cause is the diagnosed cause ID, or empty.
	Cause string `json:"cause"`
	// Solutions are the IDs of the solutions this reply presents, most likely first.
	Solutions []string `json:"solutions"`
	Lang      string   `json:"lang"`
}

// Button IDs. Those naming a question or a solution are only valid while the dialog is
// there; the others are valid at any time.
const (
	buttonAnswerPrefix  = "a:"    // a:<question>:<option>
	buttonWorkedPrefix  = "ok:"   // ok:<solution>
	buttonFailedPrefix  = "no:"   // no:<solution>
	buttonOpenPrefix    = "open:" // open:<solution>
	buttonOutcomePrefix = "go:"   // go:<outcome>
	ButtonAll           = "all"
	ButtonRestart       = "restart"
	ButtonHuman         = "human"
	ButtonBackToBot     = "bot"        // ends a handoff
	ButtonHelpedYes     = "helped:yes" // after a handoff: the helpers solved it
	ButtonHelpedNo      = "helped:no"  // after a handoff: they did not
)

// OpenButton is the ID of the button opening solution directly, valid at any time.
func OpenButton(solution string) string { return buttonOpenPrefix + solution }

// AnswerButton is the ID of option of question.
func AnswerButton(question, option string) string {
	return buttonAnswerPrefix + question + ":" + option
}

// choices are the ids of the buttons that choose where the dialog goes (a question's options,
// a clarifying question's, the list of solutions), in order, for Dialog.Offered. Start over,
// Show all and a solution's worked or not are left out: "the last one" picking "Start over"
// wiped the dialog. They come after the choices, whose places stay as the person sees them.
func choices(buttons []Button) []string {
	var ids []string
	for _, b := range buttons {
		if strings.HasPrefix(b.ID, buttonAnswerPrefix) || strings.HasPrefix(b.ID, buttonOpenPrefix) || strings.HasPrefix(b.ID, buttonOutcomePrefix) {
			ids = append(ids, b.ID)
		}
	}
	return ids
}

// answered returns where in Asked question was answered, or -1.
func (d *Dialog) answered(question string) int {
	return slices.IndexFunc(d.Asked, func(a string) bool { q, _, _ := strings.Cut(a, ":"); return q == question })
}

func parseAnswer(id string) (question, option string, ok bool) {
	rest, ok := strings.CutPrefix(id, buttonAnswerPrefix)
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, ":")
}
