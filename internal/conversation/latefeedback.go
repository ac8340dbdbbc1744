package conversation

import (
	"slices"

	"github.com/paydoctor/bot/internal/kb"
)

// newProblem reports whether text, after a success, tells of another problem rather than
// of the solution that worked failing: in the phrase files' words ("new problem", "my other
// card", 新问题), or a problem the bot is sure of, other than the dialog's diagnosis, told
// without a clause that is a verdict alone ("sorry, wrong button, it didn't work" is one,
// whatever the model makes of the rest).
func (t turn) newProblem(text string) bool {
	if t.e.kb.TellsNewProblem(text) {
		return true
	}
	matches := t.recognize(text)
	if len(matches) == 0 || matches[0].Outcome == "" || matches[0].Outcome == t.d.Outcome || matches[0].Probability < t.e.confidence.sure {
		return false
	}
	last, _ := t.d.lastShown()
	return !slices.ContainsFunc(kb.Clauses(text), func(c string) bool { return t.e.kb.Verdict(last, c) != "" })
}

// lateFeedback answers "it worked" or "still not working" when no solution is shown. After
// the help ended in success, a failure reopens it at the next solution; after it ran out, a
// success is the last solution's, and a failure gets the way on again (a human, all
// solutions); success after a success moves nothing. Before any solution a failure is no
// feedback but a description ("still declined"), which recognize reads as one: it reports
// false.
func (t turn) lateFeedback(text string, ruledOut []kb.Match) (Reply, bool) {
	if t.d.Stage == StageExhausted || t.d.Stage == StageResolved {
		// "it worked but now the renewal failed", "different problem now: the page times out":
		// after the help ended, another problem, told after "but" or after words that say so.
		for _, part := range []string{kb.AfterContrast(text), t.e.kb.WithoutNewProblem(text)} {
			if part == kb.Normalize(text) || !saysSomething(part) {
				continue // the whole text: read as feedback below
			}
			if m := t.recognize(part); len(m) > 0 && m[0].Outcome != "" && m[0].Probability >= t.e.confidence.sure {
				t.record(EventRecognized, "")
				return t.recognized(part, m[0].Target), true
			}
		}
	}
	if t.d.ended() || t.d.Stage == StageAsking && len(t.d.Attempts) > 0 {
		// "我刚才又试了一次虚拟卡，成功了" after the help ended: the success is the virtual
		// card's, not the last solution's, and read whole the text would open the virtual
		// card again. So is "sorry, PayPal did work" at the questions that PayPal's failure,
		// before any diagnosis, went back to; a solution never shown is no success of the
		// help's.
		if named := t.e.kb.OthersNamed("", text); len(named) == 1 && (t.d.Stage != StageAsking || t.d.attempt(named[0]) != nil) {
			if rest, _ := t.e.kb.WithoutTopic(named[0], text); t.e.kb.Verdict("", rest) == kb.ActionWorked {
				t.record(EventRecognized, "")
				return t.workedBy(named[0]), true
			}
		}
		// "今天又不行了" after a success, in the phrase files' words, which the model reads as
		// chatter, or "sorry, wrong button, it didn't work": the solution that worked no longer
		// does.
		if last, ok := t.d.lastShown(); ok && t.d.Stage == StageResolved && !t.newProblem(text) {
			v := t.e.kb.Verdict(last, text)
			if v == "" && t.e.kb.Corrects(text) {
				v = t.e.kb.Verdict(last, t.e.kb.WithoutCorrection(text)) // "sorry, I meant no"
			}
			if v == "" {
				v, _ = t.clausesVerdict(text)
			}
			if v == kb.ActionFailed {
				t.d.Stage = StageSolving
				t.record(EventRecognized, "")
				return t.failed(), true
			}
		}
	}
	var worked, failed float64
	for _, m := range ruledOut {
		switch m.Action {
		case kb.ActionWorked:
			worked = m.Probability
		case kb.ActionFailed:
			failed = m.Probability
		}
	}
	sure := t.e.confidence.sure
	success := worked >= sure && worked > failed
	failure := failed >= sure && failed > worked
	if success && t.d.Stage == StageExhausted {
		// After every solution failed, only words that say so make a success: the model reads
		// "thanks anyway" or 那好吧，谢谢 as one, having learnt thanks from successes.
		last, _ := t.d.lastShown()
		v := t.e.kb.Verdict(last, text)
		if v == "" {
			v, _ = t.clausesVerdict(text)
		}
		success, failure = v == kb.ActionWorked, v != kb.ActionWorked
	}
	_, hasLast := t.d.lastShown()
	if t.d.Stage == StageResolved && !hasLast && t.e.kb.Verdict("", text) == kb.ActionFailed {
		failure = true // the phrase files' words, as after a solution's success
	}
	// "solved it already", 现在可以了 while a question is asked: the words say so. Not "yes",
	// 是的 or 好了, which answer or acknowledge the question as often, nor a payment before
	// or elsewhere ("yes, it worked before": the card paid abroad once, and ended the help).
	// The model's reading gates the phrase lookup, which every answer typed at a question
	// would otherwise pay for.
	toldSuccess := t.d.Stage == StageAsking && !hasLast && worked >= t.e.confidence.plausible &&
		(latinWords(text) >= 3 || hanCount(text) >= 3) &&
		t.e.kb.Verdict("", text) == kb.ActionWorked && !t.e.kb.Contradicts(text) && !t.e.kb.Elsewhere(text)
	if toldSuccess {
		success, failure = true, false
	}
	switch {
	case !success && !failure:
		return Reply{}, false
	case success && t.e.kb.Contradicts(text), success && t.d.Stage == StageNew:
		// "成功了，没问题了" after a success is praise, not a failure; before any solution,
		// success has nothing to confirm.
		t.record(EventNotUnderstood, "")
		if t.d.Stage == StageNew {
			return t.start(), true
		}
		return t.withView(), true
	case hasLast && (success && t.d.Stage == StageExhausted || failure && t.d.Stage == StageResolved):
		// The last solution shown worked after all, or the one that worked no longer does:
		// the verdict goes to it.
		t.d.Stage = StageSolving
		t.record(EventRecognized, "")
		if success {
			return t.worked(), true
		}
		return t.failed(), true
	case toldSuccess:
		// "it works now, payment succeeded" while a question is asked: the person found the
		// way before any solution was shown, and the same question again ignored them. No
		// solution is credited: none was tried.
		t.record(EventRecognized, "")
		t.clearDiagnosis()
		t.d.Stage, t.d.Question = StageResolved, ""
		return t.withView(), true
	case success, t.d.Stage == StageExhausted:
		t.record(EventRecognized, "")
		return t.withView(), true
	case failure && t.d.Stage == StageResolved && !hasLast:
		// "it stopped working again" after a success found before any solution: why the
		// payment fails is still to find out.
		t.record(EventRecognized, "")
		t.d.Stage, t.d.Question = StageAsking, t.e.kb.Start
		return t.withView(t.text(kb.MsgFindTheCause, nil)), true
	}
	return Reply{}, false
}
