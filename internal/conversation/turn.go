package conversation

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paydoctor/bot/internal/kb"
)

// turn is one step in progress: the dialog being changed and the helpers that render texts in
// its language.
type turn struct {
	e   *Engine
	d   *Dialog
	now time.Time
	// redacted: the input held card data or a key, which Step removed and warns about; then
	// text that says nothing else needs no "I don't understand" on top of the warning.
	redacted bool
	// corrects: the free text holds a correction's words ("I meant", 说错了), read once for
	// the two readings that need it (kb.Corrects).
	corrects bool
	// planned: the free text is what a plan for later left to read ("will look for [a virtual
	// card myself]"): no fact of the person's case.
	planned bool
	events  *[]Event
	notices *[]Notice // to other chats: the helpers', or the person's from a helper's turn
}

// solving reports whether a solution is shown, whose result is what the person's words are
// about.
func (t turn) solving() bool {
	_, ok := t.d.CurrentSolution()
	return ok
}

func (t turn) record(kind EventKind, solution string) {
	*t.events = append(*t.events, Event{Kind: kind, Lang: t.d.Lang, Outcome: t.d.Outcome, Cause: t.d.Cause, Solution: solution, At: t.now})
}

func (t turn) text(id string, data map[string]any) string { return t.e.kb.Text(t.d.Lang, id, data) }

// texts returns the fixed texts of the dialog's language. A dialog stored in a language the
// kb no longer speaks gets those of the kb's default language, as kb.Text renders it.
func (t turn) texts() *texts {
	if ts, ok := t.e.texts[t.d.Lang]; ok {
		return ts
	}
	return t.e.texts[t.e.kb.Languages()[0]]
}

// answering reports whether a question of the flow past the first is asked: what people
// type then answers it.
func (t turn) answering() bool { return t.d.Stage == StageAsking && t.d.Question != t.e.kb.Start }

// nudge answers, while a solution is shown, what says nothing about it yet: it asks for the
// result once the person has tried it, with the solution's buttons, and no verdict.
func (t turn) nudge() Reply {
	sol, _ := t.d.CurrentSolution()
	st, ok := t.texts().solutions[sol]
	if !ok {
		return t.view()
	}
	return Reply{Text: st.nudge, Buttons: slices.Clone(st.buttons), Cause: t.d.Cause, Solutions: []string{sol}}
}

// showing reports whether sol is the solution shown.
func (t turn) showing(sol string) bool {
	shown, ok := t.d.CurrentSolution()
	return ok && shown == sol
}

func (t turn) stale() Reply { return t.withView(t.text(kb.MsgStaleMenu, nil)) }

// outsideThePlan reports whether the solution shown is none of the diagnosis's: the last
// resort added after every planned solution failed ("Solution 5 of 5" after "Solution 4 of 4"
// would recount the plan), or one the person opened (/solution again and again counted "1 of
// 2", "1 of 3"...).
func (t turn) outsideThePlan() bool {
	sol, _ := t.d.CurrentSolution()
	out, diagnosed := t.e.kb.Outcome(t.d.Outcome)
	return !(diagnosed && slices.Contains(out.Solutions, sol))
}

func (t turn) listSolutions() Reply {
	lines := []string{t.text(kb.MsgAllSolutions, nil)}
	buttons := make([]Button, 0, len(t.e.kb.Solutions))
	for _, sol := range t.e.kb.Solutions {
		title := t.text(kb.SolutionTitle(sol), nil)
		lines = append(lines, "• "+title+"  /solution "+sol)
		buttons = append(buttons, Button{ID: buttonOpenPrefix + sol, Label: title})
	}
	return Reply{
		Text:      strings.Join(lines, "\n"),
		Buttons:   buttons,
		Cause:     t.d.Cause,
		Solutions: slices.Clone(t.e.kb.Solutions),
	}
}

// withView answers with the given paragraphs followed by the dialog where it stands.
func (t turn) withView(paragraphs ...string) Reply {
	r := t.view()
	r.Text = join(join(paragraphs...), r.Text)
	return r
}

// view renders where the dialog stands: the open question, the solution being tried, or the
// end of the walk, with the buttons that move it on.
func (t turn) view() Reply {
	d := t.d
	switch d.Stage {
	case StageNew, StageAsking:
		qid := d.Question
		if d.Stage == StageNew || qid == "" {
			qid = t.e.kb.Start
		}
		ts := t.texts()
		q, ok := ts.questions[qid]
		if !ok { // the flow changed under a stored dialog: start over rather than strand it
			d.Stage, d.Question = StageAsking, t.e.kb.Start
			q = ts.questions[t.e.kb.Start]
		}
		// Replies are the caller's to change: each gets its own buttons.
		return Reply{Text: q.Text, Buttons: slices.Clone(q.Buttons)}
	case StageSolving:
		sol, ok := d.CurrentSolution()
		st, known := t.texts().solutions[sol]
		if !ok || !known {
			d.Stage = StageExhausted
			return t.view()
		}
		heading := st.single
		if len(d.Plan) > 1 && !t.outsideThePlan() {
			heading = t.text(kb.MsgSolutionHeading, map[string]any{"N": d.Current + 1, "Total": len(d.Plan), "Title": st.title})
		}
		return Reply{
			Text:      heading + st.tail,
			Buttons:   slices.Clone(st.buttons),
			Cause:     d.Cause,
			Solutions: []string{sol},
		}
	case StageResolved:
		return Reply{
			Text:    t.text(kb.MsgWorked, nil),
			Buttons: []Button{{ID: ButtonRestart, Label: t.text(kb.MsgButtonRestart, nil)}},
			Cause:   d.Cause,
		}
	default: // StageExhausted
		buttons := []Button{{ID: ButtonRestart, Label: t.text(kb.MsgButtonRestart, nil)}}
		if t.e.handoff {
			// Without helpers, "a human" is OpenAI's support, which has just failed.
			buttons = append(buttons, Button{ID: ButtonHuman, Label: t.text(kb.MsgButtonHuman, nil)})
		}
		return Reply{
			Text:    t.text(kb.MsgExhausted, nil),
			Buttons: append(buttons, Button{ID: ButtonAll, Label: t.text(kb.MsgButtonAll, nil)}),
			Cause:   d.Cause,
		}
	}
}

// join puts the non-empty paragraphs together, a blank line between them. One paragraph
// comes back as it is, without a copy.
func join(paragraphs ...string) string {
	const sep = "\n\n"
	count, size, last := 0, 0, ""
	for _, p := range paragraphs {
		if p != "" {
			count, size, last = count+1, size+len(p), p
		}
	}
	if count <= 1 {
		return last
	}
	var b strings.Builder
	b.Grow(size + (count-1)*len(sep))
	for _, p := range paragraphs {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return b.String()
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// joinLines puts two texts one under the other, either of them possibly empty: a picture's
// caption and what it shows, or someone's words and the message they reply to.
func joinLines(first, second string) string {
	if first == "" || second == "" {
		return first + second
	}
	return first + "\n" + second
}
