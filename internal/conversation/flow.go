package conversation

import (
	"cmp"
	"slices"
	"strings"

	"github.com/paydoctor/bot/internal/kb"
)

func (t turn) start() Reply {
	// A dialog still at StageNew (a clarifying question answered with thanks) is the same
	// dialog, shown the menu: counted again, one conversation made two in the statistics.
	// /start after that is a start over, counted.
	startedOver := t.d.Stage != StageNew
	*t.d = Dialog{
		Lang:        t.d.Lang,
		LangPinned:  t.d.LangPinned,
		LangWritten: t.d.LangWritten,
		Stage:       StageAsking,
		Question:    t.e.kb.Start,
		Started:     t.now,
		LastActive:  t.now,
		LastText:    t.d.LastText,
	}
	if startedOver {
		t.record(EventStarted, "")
	}
	return t.withView(t.text(kb.MsgGreeting, nil))
}

// answerAt moves the dialog as option of question would, wherever the dialog stands: what a
// text answered of a later question.
func (t turn) answerAt(question, option string) Reply {
	q, _ := t.e.kb.Question(question)
	o, _ := q.Option(option)
	return t.follow(o, question)
}

// follow moves the dialog where option o of question leads.
func (t turn) follow(o kb.Option, question string) Reply {
	switch {
	case o.Next != "":
		t.d.Asked = append(t.d.Asked, question+":"+o.ID)
		t.d.Stage, t.d.Question = StageAsking, o.Next
		return t.withView()
	case o.Outcome != "":
		t.d.Asked = append(t.d.Asked, question+":"+o.ID)
		return t.diagnose(o.Outcome, "")
	default: // kb validated that the only other target is ActionListSolutions
		t.d.Stage, t.d.Question = StageAsking, question
		return t.listSolutions()
	}
}

func (t turn) answer(questionID, optionID string) Reply {
	current := t.d.Question
	switch t.d.Stage {
	case StageNew:
		current = t.e.kb.Start
	case StageAsking:
	default:
		current = "" // no question waits: only one answered before can be answered again
	}
	q, ok := t.e.kb.Question(questionID)
	if !ok {
		return t.stale()
	}
	o, ok := q.Option(optionID)
	if !ok {
		return t.stale()
	}
	if questionID != current {
		// The button of a question answered before: the person changed their mind. The same
		// answer again (a double tap) changes nothing.
		switch {
		case t.d.answered(questionID) < 0:
			return t.stale()
		case slices.Contains(t.d.Asked, questionID+":"+optionID):
			return t.withView()
		}
		t.backTo(questionID)
	}
	return t.follow(o, questionID)
}

// backTo returns the dialog to question, answered before: the answers after it, and the
// diagnosis they led to, no longer hold. The verdicts on solutions tried stand.
func (t turn) backTo(question string) {
	t.d.Asked = t.d.Asked[:t.d.answered(question)]
	t.d.Stage, t.d.Question = StageAsking, question
	t.clearDiagnosis()
}

// answerAnew takes the dialog to question answered with option, the diagnosis and what came
// after that question dropped, unless the dialog's answers hold that answer already.
func (t turn) answerAnew(question, option string) Reply {
	if slices.Contains(t.d.Asked, question+":"+option) {
		t.record(EventNotUnderstood, "")
		return t.nudge()
	}
	t.record(EventRecognized, "")
	if t.d.answered(question) >= 0 {
		t.backTo(question)
	} else {
		t.d.Stage, t.d.Question = StageAsking, question
		t.clearDiagnosis()
	}
	return t.answer(question, option)
}

// answerOn goes on from r, the reply to question answered from text, with the answers text
// gives to the questions after it ("短信也收到输入了" after 境外支付已开通), each once: a flow
// may loop back to a question.
func (t turn) answerOn(text, question string, r Reply) Reply {
	answered := []string{question}
	for t.d.Stage == StageAsking && !slices.Contains(answered, t.d.Question) {
		next, ok := t.e.kb.AnsweredInSentences(t.d.Question, text)
		if !ok {
			break
		}
		answered = append(answered, t.d.Question)
		r = t.answerAt(t.d.Question, next)
	}
	return r
}

// clearDiagnosis forgets the diagnosis and its plan, as an answer changed or given anew
// makes them no longer hold. The verdicts on solutions tried stand.
func (t turn) clearDiagnosis() {
	t.d.Outcome, t.d.Cause, t.d.Plan, t.d.Current, t.d.Resume = "", "", nil, 0, ""
}

// back goes back to the question answered last, as "go back" or /back asks.
func (t turn) back() Reply {
	if len(t.d.Asked) == 0 {
		return t.withView(t.text(kb.MsgNoWayBack, nil))
	}
	last, _, _ := strings.Cut(t.d.Asked[len(t.d.Asked)-1], ":")
	t.backTo(last)
	return t.withView(t.text(kb.MsgBack, nil))
}

// diagnose moves the dialog to an outcome and shows its first solution.
func (t turn) diagnose(outcomeID, prefix string) Reply {
	if t.d.ended() {
		// Another problem after the help ended: the answers were about the one before.
		t.d.Asked = nil
	}
	o, _ := t.e.kb.Outcome(outcomeID)
	t.d.Stage, t.d.Question = StageSolving, ""
	t.d.Outcome, t.d.Cause = o.ID, o.Cause
	t.d.Plan, t.d.Current = slices.DeleteFunc(slices.Clone(o.Solutions), t.ruledOutByAnswers), 0
	// A new diagnosis changes why the payment fails, not what the person found not to work:
	// that is left out, unless nothing else is left. Put last, PayPal came round again as
	// "Solution 3 of 3" to someone who had said it did not work.
	if untried := slices.DeleteFunc(slices.Clone(t.d.Plan), t.d.failedBefore); len(untried) > 0 {
		t.d.Plan = untried
	}
	if len(t.d.Plan) == 0 { // every solution ruled out: OpenAI's support is left
		t.d.Plan = []string{t.e.kb.LastResort}
	}
	t.record(EventDiagnosed, "")
	t.recordShown()

	r := t.view()
	r.Text = join(prefix, t.texts().diagnoses[o.ID], t.texts().plans[len(t.d.Plan)], r.Text)
	r.Solutions = slices.Clone(t.d.Plan)
	return r
}

// ruledOutByAnswers reports whether an answer given on the way makes sol no way for the
// person (flow/flow.toml's rules_out): "a virtual card" at the card question rules out getting
// one.
func (t turn) ruledOutByAnswers(sol string) bool {
	for _, a := range t.d.Asked {
		question, option, _ := strings.Cut(a, ":")
		q, ok := t.e.kb.Question(question) // a dialog from before a change of the flow may hold others
		if !ok {
			continue
		}
		if o, ok := q.Option(option); ok && slices.Contains(o.RulesOut, sol) {
			return true
		}
	}
	return false
}

// open shows one solution. While a plan is walked it puts the solution where the person is,
// so "didn't work" carries on with the one they were at and those after it: jumping to its
// place in the plan skipped those between. Before any plan, the question asked, if any, is
// kept to go back to.
func (t turn) open(sol, prefix string) Reply {
	if t.d.Stage == StageSolving {
		if i := slices.Index(t.d.Plan, sol); i >= 0 {
			t.d.Plan = slices.Delete(t.d.Plan, i, i+1)
			if i < t.d.Current {
				t.d.Current--
			}
		}
		t.d.Plan = slices.Insert(t.d.Plan, t.d.Current, sol)
	} else {
		t.d.Resume = ""
		if t.d.Stage == StageAsking {
			t.d.Resume = t.d.Question
		}
		t.d.Stage, t.d.Question = StageSolving, ""
		t.d.Plan, t.d.Current = []string{sol}, 0
	}
	t.recordShown()
	return t.withView(prefix)
}

func (t turn) worked() Reply {
	sol, _ := t.d.CurrentSolution()
	return t.workedBy(sol)
}

// workedBy ends the help in success by sol, the solution shown or another the person tried.
func (t turn) workedBy(sol string) Reply {
	t.recordResult(sol, FeedbackWorked)
	// The plan stands at what worked: "it stopped working again" is about that one.
	if i := slices.Index(t.d.Plan, sol); i >= 0 {
		t.d.Current = i
	}
	t.d.Stage = StageResolved
	return t.withView()
}

func (t turn) failed() Reply {
	sol, _ := t.d.CurrentSolution()
	t.recordResult(sol, FeedbackFailed)
	return t.next()
}

// next goes on from the solution shown, which failed or which the person skipped, to the next
// of the plan, the last resort after the plan, or the end.
func (t turn) next() Reply {
	if t.d.Current+1 >= len(t.d.Plan) && t.d.Outcome == "" {
		// Opened before any diagnosis, and done with: why the payment fails is still to find
		// out, which "we've tried everything" would never do.
		t.d.Stage, t.d.Question = StageAsking, cmp.Or(t.d.Resume, t.e.kb.Start)
		t.d.Plan, t.d.Current, t.d.Resume = nil, 0, ""
		return t.withView(t.text(kb.MsgFindTheCause, nil))
	}
	if t.d.Current+1 >= len(t.d.Plan) && !slices.Contains(t.d.Plan, t.e.kb.LastResort) {
		t.d.Plan = append(t.d.Plan, t.e.kb.LastResort)
	}
	if t.d.Current+1 < len(t.d.Plan) {
		t.d.Current++
		t.recordShown()
		return t.withView(t.text(kb.MsgNextAfterFailure, nil))
	}
	t.d.Stage = StageExhausted
	return t.withView()
}

func (t turn) recordShown() {
	sol, _ := t.d.CurrentSolution()
	t.d.noteShown(sol, t.now)
	t.record(EventShown, sol)
}

func (t turn) recordResult(sol string, r Feedback) {
	if r == FeedbackWorked {
		t.record(EventWorked, sol)
	} else {
		t.record(EventFailed, sol)
	}
	t.d.noteVerdict(sol, r, t.now)
}
