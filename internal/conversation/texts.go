package conversation

import (
	"github.com/paydoctor/bot/internal/kb"
)

// texts holds, for one language, the parts of replies that read the same on every message:
// the questions with their buttons, the introduction of each diagnosis and each solution's
// text. They are rendered once in NewEngine; rendering them per message was most of the
// engine's allocations.
type texts struct {
	questions map[string]Reply // question ID: its text and option buttons
	// diagnoses holds per outcome the cause and the outcome's own text, as diagnose shows them
	// before the plan's size and the first solution; plans the line with the plan's size, by
	// size from two (answers may rule solutions out of an outcome's plan).
	diagnoses map[string]string
	plans     map[int]string
	solutions map[string]solutionTexts
}

type solutionTexts struct {
	title string
	// single is the heading of the solution alone in its plan; a longer plan numbers it.
	single string
	tail   string // what follows the heading: the steps and the "did it work?" question
	// nudge asks, without the steps again, whether it worked once tried.
	nudge   string
	buttons []Button
}

func newTexts(k *kb.KB, lang string) *texts {
	text := func(id string, data map[string]any) string { return k.Text(lang, id, data) }
	ts := &texts{
		questions: map[string]Reply{},
		diagnoses: map[string]string{},
		plans:     map[int]string{},
		solutions: make(map[string]solutionTexts, len(k.Solutions)),
	}
	for _, id := range k.QuestionIDs() {
		q, _ := k.Question(id)
		buttons := make([]Button, 0, len(q.Options))
		for _, o := range q.Options {
			buttons = append(buttons, Button{ID: AnswerButton(q.ID, o.ID), Label: text(kb.OptionLabel(q.ID, o.ID), nil)})
		}
		ts.questions[id] = Reply{Text: text(kb.QuestionText(q.ID), nil), Buttons: buttons}
	}
	for _, id := range k.OutcomeIDs() {
		o, _ := k.Outcome(id)
		// An outcome of no cause (a limit, a timeout, money taken) is told by its own text:
		// "this is not a problem with your card" before a card's limit contradicted it.
		var diagnosis string
		if o.Cause != "" {
			diagnosis = text(kb.MsgDiagnosis, map[string]any{"Cause": text(kb.CauseTitle(o.Cause), nil)})
		}
		ts.diagnoses[id] = join(diagnosis, text(kb.OutcomeText(o.ID), nil))
	}
	// A plan of one needs no count: its solution is headed as the only one.
	for n := 2; n <= len(k.Solutions); n++ {
		ts.plans[n] = text(kb.MsgPlan, map[string]any{"Count": n})
	}
	for _, sol := range k.Solutions {
		title := text(kb.SolutionTitle(sol), nil)
		ts.solutions[sol] = solutionTexts{
			title:  title,
			single: text(kb.MsgSolutionSingle, map[string]any{"Title": title}),
			tail:   join("\n"+text(kb.SolutionSteps(sol), nil), text(kb.MsgAskWorked, nil)),
			nudge:  text(kb.MsgNudge, map[string]any{"Title": title}),
			buttons: []Button{
				{ID: buttonWorkedPrefix + sol, Label: text(kb.MsgButtonWorked, nil)},
				{ID: buttonFailedPrefix + sol, Label: text(kb.MsgButtonFailed, nil)},
				{ID: ButtonAll, Label: text(kb.MsgButtonAll, nil)},
			},
		}
	}
	return ts
}
