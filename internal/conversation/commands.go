package conversation

import (
	"slices"
	"strings"

	"github.com/paydoctor/bot/internal/kb"
)

// commandName is the command of text, a "/" and a name, lower-cased and without Telegram's
// @botname (/start@paydoctor_bot), and its argument.
func commandName(text string) (name, arg string) {
	name, arg, _ = strings.Cut(strings.TrimPrefix(text, "/"), " ")
	name, _, _ = strings.Cut(name, "@")
	return strings.ToLower(name), strings.TrimSpace(arg)
}

// startsOver reports whether in begins the dialog anew: a command that does (/start,
// /restart, /reset), its words typed ("start over", 重新开始) or the restart button.
func (t turn) startsOver(in Input) bool {
	switch {
	case in.Kind == InputButton:
		return in.Text == ButtonRestart
	case in.Kind != InputText:
		return false
	case strings.HasPrefix(in.Text, "/"):
		name, _ := commandName(in.Text)
		return slices.Contains(restartCommands, name)
	}
	return slices.Contains(restartCommands, t.e.kb.Command(in.Text))
}

// The commands command answers: those that start over, and the others.
var (
	restartCommands = []string{"start", "restart", "reset"}
	otherCommands   = []string{"help", "lang", "language", "solutions", "solution", "human", "back", "repeat"}
)

// isCommand reports whether name is one command answers.
func isCommand(name string) bool {
	return slices.Contains(restartCommands, name) || slices.Contains(otherCommands, name)
}

func (t turn) command(text string) Reply {
	name, arg := commandName(text)
	if slices.Contains(restartCommands, name) {
		return t.deepLink(arg)
	}
	switch name {
	case "help":
		return t.withView(t.text(kb.MsgHelp, nil))
	case "lang", "language":
		lang, ok := t.e.kb.LanguageByName(arg)
		if !ok {
			return t.withView(t.text(kb.MsgLangUsage, map[string]any{"Languages": t.e.languages}))
		}
		t.d.Lang, t.d.LangPinned = lang, true
		return t.withView(t.text(kb.MsgLangSwitched, nil))
	case "solutions":
		return t.listSolutions()
	case "solution":
		id := strings.ToLower(arg)
		if !t.e.kb.IsSolution(id) {
			return t.withView(t.text(kb.MsgSolutionUsage, map[string]any{"IDs": strings.Join(t.e.kb.Solutions, ", ")}))
		}
		return t.open(id, "")
	case "human":
		return t.human()
	case "back":
		return t.back()
	case "repeat":
		return t.view() // "where was I?", "what should I do?": where the dialog stands, whole
	}
	return t.withView(t.text(kb.MsgUnknownCommand, map[string]any{"Command": "/" + truncateRunes(name, 32)}))
}

// deepLink starts over at the place a /start payload names, as Telegram's
// t.me/<bot>?start=<payload> links send it: solution-<id> opens that solution, cause-<id>
// that cause's diagnosis, lang-<tag> starts in that language. Anything else, a payload the
// bot does not know included, is a plain /start.
func (t turn) deepLink(payload string) Reply {
	kind, id, _ := strings.Cut(strings.ToLower(payload), "-")
	switch kind {
	case "solution":
		if t.e.kb.IsSolution(id) {
			t.start()
			return t.open(id, "")
		}
	case "cause":
		if outcome, ok := t.e.kb.CauseOutcome(id); ok {
			t.start()
			return t.diagnose(outcome, "")
		}
	case "lang":
		if lang, ok := t.e.kb.LanguageByName(id); ok {
			t.d.Lang, t.d.LangPinned = lang, true
		}
	}
	return t.start()
}

func (t turn) press(id, flowVersion string) Reply {
	if flowVersion != "" && flowVersion != t.e.kb.Version {
		return t.stale()
	}
	switch {
	case id == ButtonAll:
		return t.listSolutions()
	case id == ButtonRestart:
		return t.start()
	case id == ButtonHuman:
		return t.human()
	case id == ButtonBackToBot:
		return t.withView()
	case id == ButtonHelpedYes, id == ButtonHelpedNo:
		return t.helped(id == ButtonHelpedYes)
	case strings.HasPrefix(id, buttonOpenPrefix):
		sol := strings.TrimPrefix(id, buttonOpenPrefix)
		if !t.e.kb.IsSolution(sol) {
			return t.stale()
		}
		return t.open(sol, "")
	case strings.HasPrefix(id, buttonOutcomePrefix):
		if _, ok := t.e.kb.Outcome(strings.TrimPrefix(id, buttonOutcomePrefix)); !ok {
			return t.stale()
		}
		return t.diagnose(strings.TrimPrefix(id, buttonOutcomePrefix), "")
	case strings.HasPrefix(id, buttonWorkedPrefix), strings.HasPrefix(id, buttonFailedPrefix):
		worked := strings.HasPrefix(id, buttonWorkedPrefix)
		sol := id[strings.Index(id, ":")+1:]
		if cur, ok := t.d.CurrentSolution(); !ok || cur != sol {
			if worked && t.d.attempt(sol) != nil {
				// "✅ This worked" under a solution shown before: it worked after all, as
				// "actually the bank one did work" says.
				return t.workedBy(sol)
			}
			return t.stale()
		}
		if worked {
			return t.worked()
		}
		return t.failed()
	}
	if q, o, ok := parseAnswer(id); ok {
		return t.answer(q, o)
	}
	return t.stale()
}

// human hands the person to a human helper when one is configured; otherwise it points to
// OpenAI's support, the last resort.
func (t turn) human() Reply {
	if !t.e.handoff {
		t.record(EventNoHelper, "")
	}
	switch {
	case !t.e.handoff && t.d.failedBefore(t.e.kb.LastResort):
		// OpenAI's support, the person to ask without helpers, is what failed already.
		return t.withView(t.text(kb.MsgNoHelper, nil))
	case !t.e.handoff && t.showing(t.e.kb.LastResort):
		// OpenAI's support is shown already: shown again, it counted as shown once per request,
		// and its steps came a second and a third time.
		r := t.nudge()
		r.Text = join(t.text(kb.MsgHumanIsSupport, nil), r.Text)
		return r
	case !t.e.handoff:
		return t.open(t.e.kb.LastResort, t.text(kb.MsgHumanUnavailable, nil))
	}
	return t.openHandoff()
}
