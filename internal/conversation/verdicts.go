package conversation

import (
	"slices"
	"strings"

	"github.com/paydoctor/bot/internal/kb"
)

// answerVerdict takes a short answer to "Did this work?" while a solution is shown ("no",
// 有用, "paypal worked!") as its button, or for "not yet", as no verdict. A verdict on another
// solution named goes to that one.
func (t turn) answerVerdict(text string) (Reply, bool) {
	if !t.solving() {
		return Reply{}, false
	}
	sol, _ := t.d.CurrentSolution()
	if t.e.kb.SupportFirst(t.d.Outcome) && t.e.kb.NotCharged(text) {
		// "没扣钱", "no money taken" where money taken without credit was diagnosed: a
		// payment that failed, whose cause is still to find; told to wait for OpenAI's
		// support and not to pay again, the person stayed without what they paid for.
		t.record(EventRecognized, "")
		t.clearDiagnosis()
		t.d.Stage, t.d.Question = StageAsking, t.e.kb.Start
		return t.withView(t.text(kb.MsgFindTheCause, nil)), true
	}
	if t.e.kb.SupportFirst(t.d.Outcome) && t.e.kb.Refunded(text) && !t.toldWorked(text) {
		// "钱退回来了，但是额度还是没有", "钱退回来了，我能再付一次吗": the payment did not go
		// through, and its cause is what is left to find before paying again. Read as support failing, it ended the help with "we've
		// tried everything" and counted a failure for support, which had not answered.
		t.record(EventRecognized, "")
		t.clearDiagnosis()
		t.d.Stage, t.d.Question = StageAsking, t.e.kb.Start
		return t.withView(t.text(kb.MsgRefunded, nil)), true
	}
	if t.moneyWithSupport(sol) && t.e.kb.Arrived(text) {
		// "等等 刷新了一下 到账了 原来是延迟": the money taken was credited after all. Not
		// support's success, which it was counted as when told in words the verdicts know, and
		// got "did support work?" otherwise.
		t.record(EventRecognized, "")
		t.d.Stage = StageResolved
		return t.withView(t.text(kb.MsgArrived, nil)), true
	}
	if t.moneyWithSupport(sol) && t.e.kb.GivesUp(text) && !t.e.kb.Asks(text) && !t.tellsAnotherProblem(text) {
		// "算了 不搞了 太麻烦了" while money is stuck with OpenAI's support: what matters if
		// they write later, not "did it work?" again.
		t.record(EventRecognized, "")
		r := t.nudge()
		r.Text = t.text(kb.MsgSupportLater, nil)
		return r, true
	}
	if _, besides, ok := t.questionAbout(sol, text); ok && (!saysSomething(besides) || sol == t.e.kb.LastResort && t.e.kb.Brief(besides) ||
		t.moneyWithSupport(sol) || endsInEmptyContrast(besides)) {
		// Nothing but what calls for an answer about the solution shown: 没有账单地址 at the
		// billing settings, read without the solution's name (账单地址), was a bare "no". At
		// OpenAI's support, a word more ("no, it wasn't refunded", 没有退款也没有到账) is no
		// failure either, and while money is stuck there, no more words are ("they said theyll
		// refund but its not in my account yet"): read as one, it ended the help. Nor is what
		// the answer's words are turned to ("I paid but it [still says insufficient_quota]"),
		// whose "paid" ended the help as a success.
		return Reply{}, false
	}
	if sol == t.e.kb.LastResort && t.e.kb.TellsFailure(text) && !t.e.kb.NamesPlainly(sol, text) && !t.e.kb.HoldsCode(text) {
		// "卡被拒了" while OpenAI's support is to be contacted tells of the payment, not of
		// support, which takes days to answer: read as its failure, it ended the help with
		// "we've tried everything" one message after support was suggested.
		return Reply{}, false
	}
	// "it works fine on steam", 上个月还能用: payments elsewhere or before, no verdict on this
	// one. Read as one, they ended the help as a success.
	if t.e.kb.Elsewhere(text) && !t.e.kb.TellsFailure(text) {
		if _, _, answered := t.questionAbout(sol, text); answered {
			return Reply{}, false // "I changed my number last year": answered below
		}
		if t.tellsAnotherProblem(text) {
			// "昨天扣了20刀 但是plus没开通": money taken yesterday is a new problem, told with
			// when; left at "did the bank's solution work?", the person was on the way to
			// paying again. Not when it came back ("it charged me yesterday and then
			// refunded": a hold released, the payment failed), which ruledOut leaves out.
			return Reply{}, false
		}
		if v, _ := t.clausesVerdict(text); v == "" {
			t.record(EventNotUnderstood, "")
			return t.nudge(), true
		}
		return t.verdictInClauses(text) // "it worked yesterday but not today"
	}
	// A problem told after "but" is what matters now: "付款成功了，但是余额没到账" is money
	// taken without credit, not a success to end the help with.
	if after := kb.AfterContrast(text); saysSomething(after) {
		if m, ok := t.anotherProblem(after); ok {
			return t.goTo(after, m.Target), true
		}
	}
	// "sorry, I meant yes" right after "didn't work": the success is the solution the press
	// moved past, not the one it showed.
	if t.corrects {
		prev, justFailed := t.justFailed()
		switch v := t.e.kb.Verdict(sol, t.e.kb.WithoutCorrection(text)); {
		case justFailed && v == kb.ActionWorked:
			t.record(EventRecognized, "")
			return t.workedBy(prev), true
		case !justFailed && v == kb.ActionWorked:
			t.record(EventRecognized, "")
			return t.worked(), true
		case !justFailed && v == kb.ActionFailed:
			t.record(EventRecognized, "") // "actually no": the correction word says nothing more
			return t.failed(), true
		}
	}
	v, about := t.verdict(text)
	switch {
	case v == "" && t.e.kb.Asks(text):
		// What a question tells besides ("It didn't work, what should I try next?",
		// 没用，下一步怎么做？), whole or clause by clause.
		told := t.e.kb.Statements(text)
		if !saysSomething(told) || t.e.kb.OnlyCourtesy(told) {
			return Reply{}, false // "太好了，谢谢。打哪个电话？" thanks for the steps
		}
		if v, about = t.verdict(told); v == "" {
			return t.verdictInClauses(told)
		}
	case v == "":
		return t.verdictInClauses(text)
	}
	switch v {
	case kb.ActionWorked:
		t.record(EventRecognized, "")
		return t.workedBy(about[0]), true
	case kb.ActionFailed:
		t.record(EventRecognized, "")
		var noted []string
		others := slices.DeleteFunc(slices.Clone(about), func(s string) bool { return s == sol })
		for _, other := range others {
			t.recordResult(other, FeedbackFailed)
			noted = append(noted, t.text(kb.MsgOtherFailed, map[string]any{"Title": t.texts().solutions[other].title}))
		}
		// The others, tried already, are no longer to come. Those a new diagnosis put last
		// for having failed before stay, as after a button's "didn't work".
		ahead := slices.DeleteFunc(t.d.Plan[t.d.Current+1:], func(s string) bool { return slices.Contains(others, s) })
		t.d.Plan = t.d.Plan[:t.d.Current+1+len(ahead)]
		if slices.Contains(about, sol) {
			return t.failed(), true
		}
		r := t.nudge()
		r.Text = join(strings.Join(noted, "\n"), r.Text)
		return r, true
	case kb.VerdictSkipped:
		return t.skipped(text), true
	case kb.VerdictNotTried:
		if _, _, answered := t.questionAbout(sol, text); answered {
			return Reply{}, false // "不知道银行登记的地址" is no "not tried": it calls for an answer
		}
		t.record(EventNotUnderstood, "") // nothing to act on, as noResult
		return t.nudge(), true
	}
	return Reply{}, false
}

// toldWorked reports whether a clause of text tells that it worked (客服给我退款了，plus也开通了:
// solved, not a refund to start over from).
func (t turn) toldWorked(text string) bool {
	v, _ := t.clausesVerdict(text)
	return v == kb.ActionWorked
}

// justFailed returns the solution before the one shown when it is the one that just failed:
// the one shown has no verdict yet.
func (t turn) justFailed() (string, bool) {
	if t.d.Current < 1 || t.d.Current >= len(t.d.Plan) {
		return "", false
	}
	prev, shown := t.d.Plan[t.d.Current-1], t.d.attempt(t.d.Plan[t.d.Current])
	return prev, t.d.failedBefore(prev) && (shown == nil || shown.Result == "")
}

// verdictInClauses reads a text that holds no short verdict as a whole clause by clause: "It
// didn't work, the bank says overseas payments are already on" is a failure, and "no. now it
// says authentication_required" a failure of the solution shown and a new problem, which is
// diagnosed. The clauses that give a verdict must agree.
func (t turn) verdictInClauses(text string) (Reply, bool) {
	verdict, rest := t.clausesVerdict(text)
	if verdict == "" {
		return Reply{}, false
	}
	if q, option, ok := t.e.kb.AnsweredOtherwise(t.d.Outcome, text); ok && verdict == kb.ActionFailed {
		// "境外支付本来就开着，短信也验证了，还是被拒" at the bank's solution: the decline is the one
		// the bank was to lift, and the card was able to pay abroad all along. The diagnosis
		// no longer holds; read as the solution's failure, the next solution was another
		// card. The questions go on from what the text answers.
		return t.answerOn(text, q, t.answerAnew(q, option)), true
	}
	clauses := kb.Clauses(text)
	sol, _ := t.d.CurrentSolution()
	for _, c := range rest {
		if verdict == kb.ActionWorked && c != clauses[len(clauses)-1] {
			// "the bank said risk control flagged it and unblocked it, works now!": a problem
			// told before the success is what was solved, not a new one ("it worked, but now
			// the renewal failed").
			continue
		}
		// "i called the bank, they said nothing is blocked. still no sms code": a clause
		// whose problem starts with the solution that failed tells how it failed, unless it
		// holds a code ("no. now it says authentication_required": a new diagnosis). Read as
		// a new problem, it asked whether the bank's solution worked after recording that it
		// did not.
		if m, ok := t.anotherProblem(c); ok && !(verdict == kb.ActionFailed && t.startsWith(m.Outcome, sol) && !t.e.kb.HoldsCode(c)) {
			if verdict == kb.ActionFailed {
				t.recordResult(sol, FeedbackFailed)
			}
			return t.goTo(c, m.Target), true
		}
	}
	if verdict == kb.VerdictSkipped {
		return t.skipped(text), true
	}
	t.record(EventRecognized, "")
	switch verdict {
	case kb.ActionWorked:
		return t.worked(), true
	case kb.ActionFailed:
		return t.failed(), true
	}
	return t.nudge(), true // not tried yet
}

// clausesDisagree reports whether the clauses of text give both "worked" and "didn't work",
// or name different solutions: one verdict for all of them would be wrong for some.
func (t turn) clausesDisagree(text string) bool {
	var worked, failed bool
	var first []string
	for _, c := range kb.Clauses(text) {
		switch t.e.kb.Verdict("", c) {
		case kb.ActionWorked:
			worked = true
		case kb.ActionFailed:
			failed = true
		}
		switch named := t.e.kb.OthersNamed("", c); {
		case len(named) == 0:
		case first == nil:
			first = named
		case !slices.Equal(first, named):
			return true
		}
	}
	return worked && failed
}

// clausesVerdict is the verdict on the solution shown that the clauses of text agree on, and
// the clauses that give none, or "" when fewer than two clauses, none or two verdicts.
func (t turn) clausesVerdict(text string) (string, []string) {
	clauses := kb.Clauses(text)
	if len(clauses) < 2 {
		return "", nil
	}
	sol, _ := t.d.CurrentSolution()
	var verdict string
	var rest []string
	for _, c := range clauses {
		v, about := t.verdict(c)
		switch {
		case t.e.kb.OnlyCourtesy(c), t.e.kb.Supposes(c), t.e.kb.Elsewhere(c):
			// "sorry, I clicked the wrong button": says nothing, which the model would read;
			// "我以为好了": a success only supposed; "it worked yesterday": another payment
		case v == "" || v == kb.VerdictNotTried:
			// "试了，付款还是没能成功": 试了 alone is not yet; beside a result it is the try
			rest = append(rest, c)
		case !slices.Equal(about, []string{sol}):
			return "", nil // another solution's: the model reads it
		case verdict == "" || v == verdict:
			verdict = v
		case slices.Contains([]string{verdict, v}, kb.ActionFailed) && slices.Contains([]string{verdict, v}, kb.VerdictSkipped):
			// "It didn't work, the bank says overseas payments are already on": a failure and
			// why the solution was no way, which AnsweredOtherwise reads.
			verdict = kb.ActionFailed
		default:
			return "", nil // two verdicts: the model reads it
		}
	}
	return verdict, rest
}

// verdict is what text, sent while a solution is shown, says as a short answer to whether
// it worked (kb.Verdict), and which solutions it is about: the one shown, others it names, or
// both. Beside the name of the one shown ("paypal worked!", 虚拟卡也被拒了 while the virtual
// card is shown) a verdict counts: read whole, the name is what the model sees, and it would
// show the same steps again or diagnose "declined" anew. So does a cause the bot is sure of
// ("虚拟卡付款还是提示 Your card was declined"): the solution named failed the way that cause
// does. "申请了虚拟卡" tells of a step done, not of the payment, and money taken is a problem
// of its own (its outcome names no cause).
func (t turn) verdict(text string) (string, []string) {
	sol, _ := t.d.CurrentSolution()
	if t.e.kb.Supposes(text) {
		// "ok. if it fails then I'll try paypal": what only supposes tells no verdict, on the
		// solution shown or on the one it names; what the other clauses tell may.
		told := t.e.kb.Statements(text)
		if !saysSomething(told) || t.e.kb.OnlyCourtesy(told) {
			return "", nil
		}
		text = told
	}
	others := slices.DeleteFunc(t.e.kb.OthersNamed(sol, text), func(other string) bool { return t.tellsProblemOf(other, text) })
	if len(others) > 0 {
		// What it tells besides what it asks: "I already tried virtual card and paypal, both
		// failed. what else?"
		rest := text
		if t.e.kb.Asks(text) {
			rest = t.e.kb.Statements(text)
		}
		if t.clausesDisagree(rest) {
			// "虚拟卡可以，银行开通没用": a verdict for each, which one reading would give both
			return "", nil
		}
		for _, other := range others {
			rest, _ = t.e.kb.WithoutTopic(other, rest)
		}
		if t.e.kb.BareVerdict(rest) {
			return "", nil // "是虚拟卡": which card it is, not that the virtual card worked
		}
		switch t.e.kb.Verdict("", rest) { // what is said of another is not in the shown one's own phrases
		case kb.ActionWorked:
			// "虚拟卡成功了" while PayPal is shown: the payment went through, which is what
			// the help is for, by the virtual card.
			if len(others) == 1 {
				return kb.ActionWorked, others
			}
		case kb.ActionFailed:
			// "the virtual card failed" while a card is shown: the virtual card did, and the
			// card too when the text names it or says so ("虚拟卡也被拒了").
			if _, named := t.e.kb.WithoutTopic(sol, text); named || t.e.kb.Likewise(text) {
				return kb.ActionFailed, append(others, sol)
			}
			return kb.ActionFailed, others
		}
		if after := kb.AfterContrast(text); len(others) == 1 && after != text && saysSomething(after) {
			// "银行没开通,不过用虚拟卡付成功了": what is told after "but" is where it stands now.
			return t.verdict(after)
		}
		return "", nil
	}
	shown := []string{sol}
	if v := t.e.kb.Verdict(sol, text); v != "" || t.e.kb.Asks(text) {
		return v, shown
	}
	rest, named := t.e.kb.WithoutTopic(sol, text)
	if !named || !saysSomething(rest) {
		return "", nil
	}
	if v := t.e.kb.Verdict(sol, rest); v != "" {
		return v, shown
	}
	if m := t.recognize(rest); len(m) > 0 && m[0].Probability >= t.e.confidence.sure {
		if out, ok := t.e.kb.Outcome(m[0].Outcome); ok && out.Cause != "" {
			return kb.ActionFailed, shown
		}
	}
	return "", nil
}

// tellsProblemOf reports whether text names solution, never tried in this dialog, only in
// telling the problem solution is for: "账单地址报错" names the billing settings in telling
// of an address refused, which is a problem to diagnose, not a verdict on them.
func (t turn) tellsProblemOf(solution, text string) bool {
	if t.d.attempt(solution) != nil {
		return false
	}
	for _, c := range kb.Clauses(text) {
		if !slices.Contains(t.e.kb.OthersNamed("", c), solution) {
			continue
		}
		m := t.recognize(c)
		if len(m) == 0 || m[0].Outcome == "" || m[0].Probability < t.e.confidence.sure {
			continue
		}
		if first, ok := t.e.kb.FirstSolution(m[0].Outcome); ok && first == solution {
			return true
		}
	}
	return false
}

// hasVerdict reports whether text says whether a solution worked (see verdict).
func (t turn) hasVerdict(text string) bool {
	v, _ := t.verdict(text)
	return v != ""
}

// skipped goes on without a verdict on the solution shown: to the next one, or, when text
// answers a question of the flow so that the diagnosis no longer holds ("本来就开着", "it's a
// BOC visa, overseas payments are already on" at the bank's solution), to the questions
// from that answer.
func (t turn) skipped(text string) Reply {
	if q, option, ok := t.e.kb.AnsweredOtherwise(t.d.Outcome, text); ok {
		return t.answerOn(text, q, t.answerAnew(q, option))
	}
	if sol, _ := t.d.CurrentSolution(); t.moneyWithSupport(sol) {
		// "next" while money taken is with OpenAI's support, the only way to it: what the
		// diagnosis says (and not to pay again) rather than "we've tried everything".
		return t.explain(t.d.Outcome)
	}
	t.record(EventRecognized, "")
	return t.next()
}
