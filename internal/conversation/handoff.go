package conversation

import (
	"strings"
	"time"

	"github.com/paydoctor/bot/internal/kb"
)

// The two-way handoff. /human opens one (human); while it is open the person's free text
// goes to the helpers' chat instead of the flow, and a helper's reply there (an
// InputHelperReply on the person's dialog) comes back to the person, until a helper's /done,
// the person's /start or "back to the bot", or the handoff's time to live ends it. Commands
// and buttons keep working meanwhile.

// AnonymousSignature as EngineOptions.HandoffSignature signs every helper's answer as the
// support team, in the person's language.
const AnonymousSignature = "anonymous"

// defaultHandoffTTL is how long a handoff stays open without being closed.
const defaultHandoffTTL = 72 * time.Hour

// handoff handles in when it concerns a handoff: a helper's input, or the person's while one
// is open. It reports false for everything the flow handles as usual.
func (t turn) handoff(in Input) (Reply, bool) {
	h := t.d.Handoff
	helper := in.Kind == InputHelperReply || in.Kind == InputHelperDone
	if h != nil && t.now.Sub(h.Opened) > t.e.handoffTTL {
		t.closeHandoff()
		t.toHelpers(kb.MsgHandoffExpiredHelpers, map[string]any{"Who": t.who(in)}, in.Ref)
		switch {
		case helper:
			return Reply{Text: t.helperText(kb.MsgHandoffNotOpen, nil)}, true
		case in.Kind == InputSweep:
			t.toPerson(h, Reply{Text: t.text(kb.MsgHandoffExpired, nil)})
			return Reply{}, true
		}
		// The person goes on with the flow, told first.
		return Reply{Text: t.text(kb.MsgHandoffExpired, nil)}, false
	}
	switch {
	case in.Kind == InputSweep:
		return Reply{}, true
	case helper && h == nil:
		return Reply{Text: t.helperText(kb.MsgHandoffNotOpen, nil)}, true
	case in.Kind == InputHelperReply:
		if h.Answered.IsZero() {
			h.Answered = t.now
			t.record(EventHandoffAnswered, "")
			(*t.events)[len(*t.events)-1].Wait = t.now.Sub(h.Opened)
		}
		signature := t.e.handoffSignature
		if signature == "" {
			signature, _, _ = strings.Cut(strings.TrimSpace(in.From.Name), " ")
		}
		if signature == "" || signature == AnonymousSignature {
			signature = t.text(kb.MsgHandoffSupportTeam, nil)
		}
		t.toPerson(h, Reply{
			Text:    t.text(kb.MsgHandoffFromHelper, map[string]any{"Who": signature, "Text": in.Text}),
			Buttons: []Button{t.backToBot()},
		})
		return Reply{}, true
	case in.Kind == InputHelperDone:
		t.closeHandoff()
		t.toPerson(h, Reply{Text: t.text(kb.MsgHandoffClosed, nil), Buttons: []Button{
			{ID: ButtonHelpedYes, Label: t.text(kb.MsgButtonHelpedYes, nil)},
			{ID: ButtonHelpedNo, Label: t.text(kb.MsgButtonHelpedNo, nil)},
		}})
		return Reply{}, true
	case h == nil:
		return Reply{}, false
	case t.startsOver(in), in.Kind == InputButton && in.Text == ButtonBackToBot:
		// Starting over drops the dialog's handoff: closed and said to the helpers, or it
		// vanished with no word to them (/restart, the restart button).
		t.closeHandoff()
		t.toHelpers(kb.MsgHandoffPersonLeft, map[string]any{"Who": t.who(in)}, in.Ref)
		return Reply{}, false
	case in.Kind == InputText && (in.Text != "" || in.Quoted != "") && !strings.HasPrefix(in.Text, "/"):
		t.toHelpers(kb.MsgHandoffFromPerson, map[string]any{"Who": t.who(in), "Text": withQuote(in.Text, in.Quoted)}, in.Ref)
		return Reply{}, true
	case in.Kind == InputImage:
		t.toHelpers(kb.MsgHandoffPicture, map[string]any{"Who": t.who(in), "Text": joinLines(in.Text, in.Seen)}, in.Ref)
		return Reply{}, true
	}
	return Reply{}, false
}

// openHandoff records that the person asked for a human: the Service posts the summary and
// fills in where to answer them (Handoff.Route).
func (t turn) openHandoff() Reply {
	t.d.Handoff = &Handoff{Opened: t.now}
	t.record(EventHandoff, "")
	r := t.withView(t.text(kb.MsgHandoffSent, nil), t.text(kb.MsgHandoffOpenNote, nil))
	r.Buttons = append([]Button{t.backToBot()}, r.Buttons...)
	return r
}

func (t turn) closeHandoff() {
	t.d.Handoff = nil
	t.record(EventHandoffClosed, "")
}

// helped records the person's verdict on a handoff that ended.
func (t turn) helped(solved bool) Reply {
	if solved {
		t.record(EventHandoffSolved, "")
	} else {
		t.record(EventHandoffUnsolved, "")
	}
	return t.withView(t.text(kb.MsgHandoffThanks, nil))
}

func (t turn) backToBot() Button {
	return Button{ID: ButtonBackToBot, Label: t.text(kb.MsgButtonBackToBot, nil)}
}

// toPerson adds a notice to the person, where they asked from, in their language.
func (t turn) toPerson(h *Handoff, r Reply) {
	r.Lang = t.d.Lang
	if r.Buttons == nil {
		r.Buttons = []Button{}
	}
	r.Solutions = []string{}
	*t.notices = append(*t.notices, Notice{To: ToPerson, Route: h.Route, Reply: r})
}

// toHelpers adds a notice to the helpers' chat, in the bot's default language, ending with
// the line naming the person's dialog (ref), which a helper's reply to it answers.
func (t turn) toHelpers(id string, data map[string]any, ref string) {
	*t.notices = append(*t.notices, Notice{To: ToHelpers, Reply: Reply{
		Text: t.helperText(id, data) + "\n" + refPrefix + ref, Buttons: []Button{}, Solutions: []string{}, Lang: t.e.defaultLang,
	}})
}

// helperText is a text for the helpers, in the bot's default language.
func (t turn) helperText(id string, data map[string]any) string {
	return t.e.kb.Text(t.e.defaultLang, id, data)
}

// who names the person to the helpers.
func (t turn) who(in Input) string {
	if in.Kind != InputText && in.Kind != InputButton && in.Kind != InputImage {
		return in.Ref
	}
	if name := strings.TrimSpace(in.From.Name); name != "" {
		return name
	}
	return in.Ref
}

// withQuote is what a person wrote with the message they replied to under it, marked as a
// quote, so that the helpers of a handoff can tell whose words are whose.
func withQuote(text, quoted string) string {
	if quoted == "" {
		return text
	}
	return joinLines(text, "> "+strings.ReplaceAll(quoted, "\n", "\n> "))
}

// HandoffSummary is what the humans' chat gets when someone asks for a human: who, where,
// in which language, the cause diagnosed, the solutions tried with their outcomes, and their
// last message (redacted when it was stored), in the bot's default language.
func (e *Engine) HandoffSummary(d Dialog, from Person, platform, ref string) Reply {
	lang := e.defaultLang
	text := func(id string) string { return e.kb.Text(lang, id, nil) }

	who := from.Name
	if from.Username != "" {
		who = strings.TrimSpace(who + " @" + from.Username)
	}
	if who == "" {
		who = "?"
	}
	if from.Reach != "" {
		who += " (" + from.Reach + ")"
	}
	cause := text(kb.MsgHandoffNoCause)
	if d.Cause != "" {
		cause = e.kb.Text(lang, kb.CauseTitle(d.Cause), nil) + " [" + d.Cause + "]"
	}
	var tried []string
	for _, a := range compactAttempts(d.Attempts) {
		verdict := text(kb.MsgHandoffUnanswered)
		switch a.Result {
		case FeedbackWorked:
			verdict = text(kb.MsgHandoffWorked)
		case FeedbackFailed:
			verdict = text(kb.MsgHandoffFailed)
		}
		tried = append(tried, a.Solution+": "+verdict)
	}
	triedText := text(kb.MsgHandoffNothingTried)
	if len(tried) > 0 {
		triedText = strings.Join(tried, "; ")
	}
	last := d.LastText
	if last == "" {
		last = text(kb.MsgHandoffNoMessage)
	}
	summary := e.kb.Text(lang, kb.MsgHandoffSummary, map[string]any{
		"Who": who, "Platform": platform, "Lang": d.Lang, "Cause": cause, "Tried": triedText, "Last": last,
	})
	summary = join(summary, e.kb.Text(lang, kb.MsgHandoffHow, nil)+"\n"+refPrefix+ref)
	return Reply{Text: summary, Buttons: []Button{}, Cause: d.Cause, Solutions: []string{}, Lang: lang}
}
