package conversation

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/redact"
)

// MaxInputBytes is how much of a message the engine reads. Real questions and pasted errors
// are far shorter; the cut keeps a 360 KB paste from costing more than a normal message.
const MaxInputBytes = 4096

// Engine computes the next dialog and the reply for one input. It holds only read-only data,
// so one Engine serves every conversation concurrently.
type Engine struct {
	kb          *kb.KB
	defaultLang string
	handoff     bool
	// handoffTTL and handoffSignature: see EngineOptions.
	handoffTTL       time.Duration
	handoffSignature string
	texts            map[string]*texts // per language the kb speaks
	// han is the language text in Chinese characters is answered in, and latin the one a
	// sentence in Latin letters is, matched once here rather than per message; empty if the
	// kb speaks no Chinese (no English).
	han, latin string
	// languages lists every language the kb speaks with the /lang command that picks it,
	// the same in every reply: each language is named in itself.
	languages  string
	confidence confidence
	// labels are the labels of the buttons that choose, folded as kb.Normalize folds (the
	// emoji gone), in every language, and the buttons each is on ("Not sure" is on several
	// questions'): see pressedByLabel.
	labels map[string][]string
}

// EngineOptions configures NewEngine. The zero value works.
type EngineOptions struct {
	// HandoffTTL is how long a handoff stays open without being closed; zero means 72 hours.
	HandoffTTL time.Duration
	// HandoffSignature is how a helper's answer is signed to the person: empty means the
	// helper's first name (a helper without one signs as the support team), and
	// AnonymousSignature the support team always.
	HandoffSignature string
	// Lang is the language (a BCP 47 tag such as "zh-Hans" or "en") spoken when neither the
	// platform nor the text tells the person's; empty means the kb's default.
	Lang string
	// Handoff tells the engine that a human helper can be reached: /human and the "talk to a
	// person" button then record a handoff (EventHandoff) and promise a human follow-up, and
	// the dialog keeps its last free-text message, redacted, for the summary the humans get.
	Handoff bool
}

// NewEngine returns an engine answering from k.
func NewEngine(k *kb.KB, opts EngineOptions) (*Engine, error) {
	lang := k.Languages()[0]
	if opts.Lang != "" {
		var ok bool
		if lang, ok = k.MatchLanguage(opts.Lang); !ok {
			return nil, fmt.Errorf("default language %q: the knowledge base speaks only %s", opts.Lang, strings.Join(k.Languages(), ", "))
		}
	}
	if opts.HandoffTTL <= 0 {
		opts.HandoffTTL = defaultHandoffTTL
	}
	e := &Engine{kb: k, defaultLang: lang, handoff: opts.Handoff, handoffTTL: opts.HandoffTTL, handoffSignature: opts.HandoffSignature, texts: map[string]*texts{}, confidence: defaultConfidence}
	e.han, _ = k.MatchLanguage("zh-Hans")
	e.latin, _ = k.MatchLanguage("en")
	var langLines []string
	for _, l := range k.Languages() {
		e.texts[l] = newTexts(k, l)
		langLines = append(langLines, "/lang "+shortTag(k, l)+" - "+k.LanguageName(l))
	}
	e.languages = strings.Join(langLines, "\n")
	e.labels = map[string][]string{}
	label := func(text, id string) { e.labels[kb.Normalize(text)] = append(e.labels[kb.Normalize(text)], id) }
	for _, l := range k.Languages() {
		for _, q := range e.texts[l].questions {
			for _, b := range q.Buttons {
				label(b.Label, b.ID)
			}
		}
		for _, sol := range k.Solutions {
			label(e.texts[l].solutions[sol].title, buttonOpenPrefix+sol)
		}
		for _, o := range k.OutcomeIDs() {
			label(k.Text(l, kb.OutcomeChoice(o), nil), buttonOutcomePrefix+o)
		}
	}
	return e, nil
}

// HandoffTTL is how long a handoff stays open: EngineOptions.HandoffTTL.
func (e *Engine) HandoffTTL() time.Duration { return e.handoffTTL }

// KB returns the knowledge base the engine answers from.
func (e *Engine) KB() *kb.KB { return e.kb }

// DefaultLang returns the language the engine speaks when nothing tells the person's: one
// of KB().Languages().
func (e *Engine) DefaultLang() string { return e.defaultLang }

// shortTag is the shortest tag /lang takes for lang: its primary subtag ("zh" for zh-Hans)
// unless that would pick another language the kb speaks.
func shortTag(k *kb.KB, lang string) string {
	base, _, _ := strings.Cut(lang, "-")
	if l, ok := k.MatchLanguage(base); ok && l == lang {
		return base
	}
	return lang
}

// Step is the conversation: given the stored dialog and one input at time now, it returns the
// new dialog and the result: the reply and the events that happened. It has no side effects.
func (e *Engine) Step(d Dialog, in Input, now time.Time) (Dialog, Result) {
	d.Plan, d.Asked = slices.Clone(d.Plan), slices.Clone(d.Asked) // backTo cuts Asked, and follow appends to it
	d.Attempts = compactAttempts(d.Attempts)
	isNew := d.Started.IsZero()
	if isNew {
		d.Started = now
	}
	d.LastActive = now

	var events []Event
	var notices []Notice
	if in.Kind == InputHelperReply || in.Kind == InputHelperDone || in.Kind == InputSweep {
		// A helper's message, or the sweep: the person's dialog changes only in its handoff,
		// and the reply, if any, is for the helpers' chat.
		in.Text, _ = cleanText(in.Text)
		t := turn{e: e, d: &d, now: now, events: &events, notices: &notices}
		r, _ := t.handoff(in)
		r.Lang = e.defaultLang
		r.Buttons, r.Solutions = []Button{}, []string{}
		return d, Result{Reply: r, Events: events, Notices: notices}
	}

	var secrets removed
	if in.Kind == InputText || in.Kind == InputButton || in.Kind == InputImage {
		in.Text, secrets = cleanText(in.Text)
	}
	if in.Kind == InputText {
		// Before anything asks whether it is a command: the language it is answered in, the
		// text kept for the helpers, a handoff closed by /start.
		in.Text = withCommandSlash(in.Text)
	}
	if in.Kind == InputImage {
		var seen removed
		in.Seen, seen = cleanText(in.Seen)
		secrets = secrets.and(seen)
	}
	// Card data in the message replied to is redacted, and warned about only when the message
	// is the person's own: the warning asks them to delete it. A command replied to was for a
	// bot, not a description of a payment.
	var quoted removed
	if in.Quoted, quoted = cleanText(in.Quoted); in.Kind != InputText || strings.HasPrefix(in.Text, "/") || strings.HasPrefix(in.Quoted, "/") {
		in.Quoted, quoted = "", removed{}
	}
	if in.QuotedOwn {
		secrets = secrets.and(quoted)
	}
	e.chooseLanguage(&d, in)

	t := turn{e: e, d: &d, now: now, redacted: secrets.any(), events: &events, notices: &notices}
	if e.handoff {
		switch {
		case in.Kind == InputText && (in.Text != "" || in.Quoted != "") && !strings.HasPrefix(in.Text, "/"):
			d.LastText = truncateRunes(withQuote(in.Text, in.Quoted), maxLastText)
		case in.Kind == InputImage && (in.Text != "" || in.Seen != ""):
			d.LastText = truncateRunes(joinLines(in.Text, in.Seen), maxLastText)
		}
	}
	r, handled := t.handoff(in)
	if !handled {
		note := r.Text
		r = t.dispatch(in)
		r.Text = join(note, r.Text)
	}
	// A dialog that begins with free text (a pasted error) or a button goes straight on
	// without start(): it is a dialog started all the same.
	if isNew && !slices.ContainsFunc(events, func(e Event) bool { return e.Kind == EventStarted }) {
		events = slices.Insert(events, 0, Event{Kind: EventStarted, Lang: d.Lang, At: now})
	}
	if secrets.apiKey {
		r.Text = join(e.kb.Text(d.Lang, kb.MsgAPIKeyWarning, nil), r.Text)
	}
	if secrets.cardData {
		r.Text = join(e.kb.Text(d.Lang, kb.MsgCardDataWarning, nil), r.Text)
	}
	r.Lang = d.Lang
	d.Offered = choices(r.Buttons)
	if r.Buttons == nil {
		r.Buttons = []Button{}
	}
	if r.Solutions == nil {
		r.Solutions = []string{}
	}
	return d, Result{Reply: r, Events: events, Notices: notices}
}

// maxLastText bounds the message a handoff summary quotes.
const maxLastText = 500

// Apology is the reply to a message whose handling failed unexpectedly: it leaves the dialog
// as it was and says so in the dialog's language.
func (e *Engine) Apology(d Dialog) Reply {
	lang := d.Lang
	if lang == "" {
		lang = e.defaultLang
	}
	return Reply{Text: e.kb.Text(lang, kb.MsgSorry, nil), Buttons: []Button{}, Cause: d.Cause, Solutions: []string{}, Lang: lang}
}

// withCommandSlash is text with the "/" a Chinese keyboard types before a command ("／", or
// in Chinese mode "、") made the ASCII one: "／help" answered in English, being no command to
// the language chosen before it. Only before a command: 、 also begins a list's item
// ("、visa 也不行"), which is words for the dialog or the helpers.
func withCommandSlash(text string) string {
	r, size := utf8.DecodeRuneInString(text)
	if r != '／' && r != '、' || len(text) == size || !isASCIILetter(text[size]) {
		return text
	}
	if name, _ := commandName(text[size:]); !isCommand(name) {
		return text
	}
	return "/" + text[size:]
}

// removed is what cleanText took out of a text: card data, an API key.
type removed struct{ cardData, apiKey bool }

func (r removed) and(other removed) removed {
	return removed{r.cardData || other.cardData, r.apiKey || other.apiKey}
}

func (r removed) any() bool { return r.cardData || r.apiKey }

// cleanText cuts text to MaxInputBytes, drops invalid UTF-8 and control characters, and
// redacts card data and API keys. It reports what it removed.
func cleanText(s string) (string, removed) {
	// Redacted before the cut, and with room past it: cut first, a card number across the
	// cut kept the digits before it, too few to be found, and they were stored and forwarded.
	if len(s) > MaxInputBytes+redactMargin {
		s = s[:MaxInputBytes+redactMargin]
	}
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, s)
	// Keys first: a key holds runs of digits and words ("otp", "code") that card data's
	// rules would take apart, leaving pieces no longer found as a key.
	var found removed
	s, found.apiKey = redact.RedactKeys(s)
	s, found.cardData = redact.Redact(s)
	if len(s) > MaxInputBytes {
		s = strings.ToValidUTF8(s[:MaxInputBytes], "")
		// Nor a placeholder cut in two, whose stub ("[remov") is no word of the person's.
		for n := len(redact.Placeholder) - 1; n > 0; n-- {
			if before, cut := strings.CutSuffix(s, redact.Placeholder[:n]); cut {
				s = before
				break
			}
		}
	}
	return strings.TrimSpace(s), found
}

// redactMargin is how far past MaxInputBytes cleanText reads for card data: more than the
// longest card number written in full-width digits with a separator between each.
const redactMargin = 256

func (t turn) dispatch(in Input) Reply {
	switch in.Kind {
	case InputButton:
		return t.press(in.Text, in.FlowVersion)
	case InputUnsupported:
		return t.withView(t.text(kb.MsgUnsupportedMedia, nil))
	case InputFlooded:
		return Reply{Text: t.text(kb.MsgSlowDown, nil), Cause: t.d.Cause}
	case InputResume:
		if t.d.Stage == StageNew {
			return t.start()
		}
		return t.withView(t.text(kb.MsgResume, nil))
	case InputText:
		return t.freeText(in.Text, in.Quoted)
	case InputImage:
		return t.picture(in)
	}
	return t.withView(t.text(kb.MsgNotUnderstood, nil))
}
