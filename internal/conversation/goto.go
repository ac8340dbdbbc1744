package conversation

import (
	"cmp"
	"slices"

	"github.com/paydoctor/bot/internal/kb"
)

// goTo answers text that the bot is sure leads to target, where the dialog stands.
func (t turn) goTo(text string, target kb.Target) Reply {
	sol, _ := t.d.CurrentSolution()
	verdict := target.Action == kb.ActionWorked || target.Action == kb.ActionFailed
	// Every clause asks, nothing is told. Only a dialog with a solution shown needs to know
	// (the model's verdicts are ruled out elsewhere), and a first message is spared the
	// reading.
	asksOnly := t.solving() && t.e.kb.Statements(text) == ""
	switch {
	case target.Action == kb.ActionWorked && t.e.kb.Contradicts(text):
		// "not successful", "没有付款成功": success read from words that deny it. Asked.
		t.record(EventClarified, "")
		return t.nudge()
	case t.solving() && t.e.kb.Supposes(text) && !saysSomething(t.e.kb.Statements(text)):
		// "ok. if it fails then I'll try paypal": a plan for a result not known yet, no
		// request for PayPal's steps now. Whether the one shown worked is the question.
		t.record(EventRecognized, "")
		return t.nudge()
	case target.Action == kb.ActionFailed && sol == t.e.kb.LastResort && t.e.kb.Verdict(sol, text) != kb.ActionFailed:
		// "2 x $20 on my CCB card same day" while OpenAI's support is to be contacted: the
		// model reads "same" as "same error", but support takes days to answer, and its
		// failure read from words that say none ended the help at once.
		t.record(EventNotUnderstood, "")
		return t.nudge()
	case verdict && asksOnly:
		// "有没有用啊", "did it work for you?": asked, not told ("still declined, which bank
		// should I call?" tells).
		t.record(EventNotUnderstood, "")
		return t.nudge()
	case target.Action == kb.ActionWorked && t.solving() && len(t.e.kb.OthersNamed(sol, text)) == 1:
		// "刚才点错了，开通跨境其实是有用的" while the card is shown: the success is the
		// solution named, which the model saw but the phrase files' verdicts did not.
		t.record(EventRecognized, "")
		return t.workedBy(t.e.kb.OthersNamed(sol, text)[0])
	case t.solving() && target.Solution == sol:
		// About the solution shown, which is right above: its steps again would answer
		// nothing. A new problem beside its name is that problem ("paypal 扣款了 openai没
		// 到账"); a question no answer of the phrase files lists ("does PayPal work in China?")
		// is told so, and counted as not understood, so that the statistics show what people
		// ask; anything else ("linked my card to paypal") gets the question whether it worked.
		asks := t.e.kb.Asks(text)
		if rest, named := t.e.kb.WithoutTopic(sol, text); named && !asks && saysSomething(rest) {
			if m := t.recognize(rest); len(m) > 0 && m[0].Outcome != "" && m[0].Probability >= t.e.confidence.sure {
				t.record(EventRecognized, "")
				return t.recognized(rest, m[0].Target)
			}
		}
		if asks {
			return t.noReadyAnswer()
		}
		t.record(EventNotUnderstood, "")
		return t.nudge()
	case t.solving() && target.Outcome != "" && target.Outcome == t.d.Outcome:
		// The diagnosis that led to the solution shown, again. Asked about ("is it because my
		// card is UnionPay?"), what the diagnosis says answers; told with a failure ("called
		// ICBC, enabled now, but it still said card declined"), the solution shown failed;
		// told without one ("I changed the address to match"), it is a step done. Diagnosed
		// anew, it would start the same solutions over.
		switch {
		case asksOnly:
			return t.explain(target.Outcome)
		case t.e.kb.Contradicts(text) || t.e.kb.HoldsCode(text) || t.e.kb.Verdict(sol, text) == kb.ActionFailed:
			t.record(EventRecognized, "")
			return t.failed()
		}
		t.record(EventNotUnderstood, "")
		return t.nudge()
	case t.solving() && target.Outcome != "" && t.d.Cause == "" && t.d.Outcome != "" && t.stepOfThePlan(target.Outcome) && !t.e.kb.HoldsCode(text):
		// "账单地址我填的美国的 还是提示不支持" while a refused region is diagnosed: a situation of
		// no cause, whose plan holds the read outcome's first step (the billing settings).
		// What it says covers the text (the checkout judges the card's issuing country too);
		// diagnosed anew as a billing mismatch, it told a mainland card's owner to enter the
		// bank's address, in the refused region.
		return t.explain(t.d.Outcome)
	case t.solving() && asksOnly && target.Outcome != "" && !t.e.kb.SupportFirst(target.Outcome) && !t.e.kb.TellsFailure(text):
		// A question about another cause ("3-D Secure是啥", "does OpenAI take Alipay?", "maybe
		// the amount is too big?"): what that cause is answers it, and the solution shown
		// stays. Diagnosed, a question would start other solutions over. Money taken without
		// credit, which only OpenAI's support can see, is still diagnosed when asked about
		// ("扣费了但是没到账，怎么回事？").
		return t.explain(target.Outcome)
	case t.solving() && asksOnly && target.Solution != "" && !slices.Contains(t.e.kb.OthersNamed(sol, text), target.Solution):
		// A question that does not name the solution the model reads ("is it safe?" read as
		// payment timing): it asks about the solution shown, which has no answer for it.
		return t.noReadyAnswer()
	case t.solving() && target.Solution != "" && target.Solution != sol && t.e.kb.Lacks(text) && !asksOnly:
		// "I don't have PayPal" while the bank is to be called: no request for PayPal's steps.
		t.record(EventNotUnderstood, "")
		return t.nudge()
	case !t.solving() && target.Solution != "" && t.e.kb.NamesPlainly(target.Solution, text) && !t.e.kb.Asks(text) && t.e.kb.TellsFailure(text) &&
		!t.e.kb.HoldsCode(text) && !t.e.kb.Supposes(text):
		// "my virtual card got declined", paypal也失败了: what the person tried failed, and
		// its steps would tell them to try it. Their case, where the flow asks about it (a
		// virtual card: the card question), takes the questions on; otherwise the solution's
		// failure is noted and the text read for the problem without it. Not a code's own
		// solution: "chase sent me a new card, now openai says expired_card" is no failure of
		// a new card, and the code says what to do.
		if q, option := t.e.kb.FlowAnswer(text); q != "" {
			return t.answerAnew(q, option)
		}
		if q, option := t.e.kb.FactAnswer(text); q != "" {
			return t.answerAnew(q, option) // "用的虚拟卡 充值api一直被拒"
		}
		return t.triedAlready(text, target.Solution)
	case !t.solving() && target.Solution != "" && t.e.kb.NamesPlainly(target.Solution, text) && !t.e.kb.Asks(text) && !t.e.kb.Requests(text) && t.answersALaterQuestion(text):
		// "it's a virtual card", "visa" before any solution: the person's card, which the
		// solution named so is no answer to; the questions go on from it.
		q, option := t.e.kb.FlowAnswer(text)
		return t.answerAnew(q, option)
	case t.solving() && target.Solution != "" && t.e.kb.NamesPlainly(target.Solution, text) && !t.e.kb.Asks(text) && !t.e.kb.Requests(text) &&
		!t.planned && t.d.Outcome != "" && t.answersALaterQuestion(text):
		// "it's a virtual card", 我用的是虚拟卡 after a diagnosis: the person tells their case,
		// named like a solution. An answer that differs from the one given, or was never asked,
		// takes the questions on from there; the solution's steps would tell a virtual card's
		// owner to get one.
		q, option := t.e.kb.FlowAnswer(text)
		return t.answerAnew(q, option)
	case t.solving() && target.Solution != "" && len(t.d.Asked) == 0 && !t.e.kb.Asks(text) && !t.e.kb.Requests(text) &&
		!t.e.kb.NamesPlainly(target.Solution, text) && !t.planned && t.answerLeadsOn(text):
		// "visa ccb" after "declined" was diagnosed at once: the questions the diagnosis
		// skipped, answered now, go on from that answer. Read as the card solution and left at
		// "did it work?", the next "yes" (overseas payments enabled) ended the help as the
		// bank's success. Not a plan ("will look for a virtual card myself").
		q, option := t.e.kb.FlowAnswer(text)
		return t.answerAnew(q, option)
	case t.solving() && target.Solution != "" && !t.e.kb.NamesPlainly(target.Solution, text) && !t.e.kb.Asks(text) &&
		!t.e.kb.NamesCode(text) && (t.e.kb.AnswersTheFlow(text) || t.e.kb.Brief(text)):
		// An answer to a question of the flow or a fragment, told without naming the solution
		// read: "it's a CCB Mastercard" or 招行 while the bank is to be called is read as the
		// card solution, whose steps name banks, and asks for none. Opened, it left the bank
		// untried and took the next "still declined" for the card's failure.
		t.record(EventNotUnderstood, "")
		return t.nudge()
	}
	if q, option, ok := t.e.kb.AnsweredOtherwise(target.Outcome, text); ok && !t.solving() {
		// "我已经开通了境外支付，还是被拒绝": the text answered a question on the way to the
		// cause the model read in a way that rules it out. The flow goes on from that answer,
		// and from those it gives to the questions after it ("短信也收到输入了").
		t.record(EventRecognized, "")
		return t.answerOn(text, q, t.answerAt(q, option))
	}
	if q, option, ok := t.e.kb.AnsweredOtherwise(t.d.Outcome, text); ok && t.solving() &&
		(target.Action == kb.ActionFailed || target.Outcome != "" && t.startsWith(target.Outcome, sol)) {
		// "境外支付本来就开着，短信也验证了，还是被拒" at the bank's solution: the decline is the
		// one the diagnosis explained, and the card could pay abroad all along. The
		// diagnosis no longer holds, and the bank's step was never the person's to try;
		// read as its failure, the next solution was another card.
		return t.answerOn(text, q, t.answerAnew(q, option))
	}
	switch {
	case t.solving() && target.Outcome != "" && t.startsWith(target.Outcome, sol) && !t.e.kb.HoldsCode(text) && !t.e.kb.Contradicts(text):
		// "银行说是风控拦截了，已经解除" while the bank was to be called: what the bank found
		// and did, read as a diagnosis whose plan starts with the bank again. Whether paying
		// again worked is the question.
		t.record(EventRecognized, "")
		return t.nudge()
	case t.solving() && target.Outcome != "" && t.startsWith(target.Outcome, sol) && !t.e.kb.HoldsCode(text),
		t.solving() && target.Outcome != "" && t.e.kb.TellsFailure(text) && sol != t.e.kb.LastResort:
		// "the bank told me this card doesn't support overseas payments", "now it says
		// authentication_required" while the bank was to be called: the solution shown
		// failed, and the new diagnosis puts it last rather than first again (it sent people
		// back to the bank they had just called). Not OpenAI's support, which a payment failing
		// again says nothing of.
		t.recordResult(sol, FeedbackFailed)
	}
	t.record(EventRecognized, "")
	return t.recognized(text, target)
}

// startsWith reports whether outcome's plan, with what the answers so far rule out, starts
// with sol.
func (t turn) startsWith(outcome, sol string) bool {
	o, ok := t.e.kb.Outcome(outcome)
	if !ok {
		return false
	}
	plan := slices.DeleteFunc(slices.Clone(o.Solutions), t.ruledOutByAnswers)
	return len(plan) > 0 && plan[0] == sol
}

// stepOfThePlan reports whether outcome's first solution is one of the dialog's plan.
func (t turn) stepOfThePlan(outcome string) bool {
	first, ok := t.e.kb.FirstSolution(outcome)
	return ok && slices.Contains(t.d.Plan, first)
}

// explain answers, while a solution is shown, why the payment fails with what the diagnosis
// outcome says, and asks again whether the solution worked. A solution opened before any
// diagnosis has no such answer.
func (t turn) explain(outcome string) Reply {
	if outcome == "" {
		return t.noReadyAnswer()
	}
	t.record(EventRecognized, "")
	r := t.nudge()
	r.Text = join(t.text(kb.OutcomeText(outcome), nil), r.Text)
	return r
}

// noReadyAnswer answers a question about the solution shown that no answer of the phrase files
// lists ("does PayPal work in China?"): its steps again would answer nothing, and neither would
// a clarifying question about what happened. Counted as not understood, so that the
// statistics show what people ask.
func (t turn) noReadyAnswer() Reply {
	t.record(EventNotUnderstood, "")
	r := t.nudge()
	r.Text = join(t.text(kb.MsgNoReadyAnswer, nil), r.Text)
	return r
}

// answerLeadsOn reports whether text as a whole is a typed answer to a question of the flow
// that leads to another question rather than to an outcome.
func (t turn) answerLeadsOn(text string) bool {
	q, option := t.e.kb.FlowAnswer(text)
	question, ok := t.e.kb.Question(q)
	if !ok {
		return false
	}
	o, _ := question.Option(option)
	return o.Next != ""
}

// answersALaterQuestion reports whether text as a whole is a typed answer to a question of the
// flow other than the first.
func (t turn) answersALaterQuestion(text string) bool {
	q, _ := t.e.kb.FlowAnswer(text)
	return q != "" && q != t.e.kb.Start
}

// triedAlready records that sol, named in text, failed for the person before the bot showed
// it, and answers the problem text tells without it: a diagnosis likely enough to ask about,
// which puts sol last, or the question of what happened.
func (t turn) triedAlready(text, sol string) Reply {
	t.recordResult(sol, FeedbackFailed)
	note := t.text(kb.MsgOtherFailed, map[string]any{"Title": t.texts().solutions[sol].title})
	for _, m := range t.e.kb.Recognize(text, append(t.ruledOut(text), kb.Target{Solution: sol})...) {
		if m.Outcome != "" && m.Probability >= t.e.confidence.ask {
			t.record(EventRecognized, "")
			return t.diagnose(m.Outcome, note)
		}
	}
	t.record(EventNotUnderstood, "")
	if t.d.Stage == StageNew {
		r := t.start()
		r.Text = join(note, r.Text)
		return r
	}
	return t.withView(note)
}

// recognized goes where text was read to lead. A Stripe code or checkout message in it is
// said in plain words first ("That means the card has expired. If your bank sent you a
// new one, ..."): the cause or solution it leads to alone did not say what the code tells,
// and what to do about a wrong CVC or an expired card is in those words.
func (t turn) recognized(text string, target kb.Target) Reply {
	var meaning string
	if means := t.e.kb.Meaning(text); means != "" {
		meaning = t.text(kb.CodeMeaning(means), nil)
	}
	switch {
	case target.Outcome != "":
		return t.diagnose(target.Outcome, cmp.Or(meaning, t.text(kb.MsgRecognized, nil)))
	case target.Solution != "":
		if answer, _, ok := t.e.kb.QuestionAbout(t.d.Lang, target.Solution, text); ok && t.e.kb.Asks(text) {
			// "a friend told me to use a virtual card. Which provider, and what are the
			// fees?": the answers, then the steps, which answered neither.
			meaning = join(meaning, answer)
		}
		return t.open(target.Solution, meaning)
	case target.Action == kb.ActionWorked:
		return t.worked()
	case target.Action == kb.ActionFailed:
		return t.failed()
	default:
		return t.listSolutions()
	}
}
