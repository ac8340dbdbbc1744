package conversation

import (
	"slices"

	"github.com/paydoctor/bot/internal/kb"
)

// understand answers text by what it is recognised as: a diagnosis, a solution, feedback on
// the solution shown, a question of which of two or three it is, for text about something
// else what the bot is for, and for text about a payment too vague to tell, the question of
// what happened. lead goes first in the reply. It reports false when nothing of the text was
// recognised.
func (t turn) understand(text, lead string) (Reply, bool) {
	matches, ruledOut := t.e.kb.RecognizeRulingOut(text, t.ruledOut(text)...)
	if r, ok := t.lateFeedback(text, ruledOut); ok {
		r.Text = join(lead, r.Text)
		return r, true
	}
	if (t.d.Stage == StageNew || t.d.Stage == StageAsking && t.d.Question == t.e.kb.Start) && t.e.kb.SaysNothingYet(text) {
		// "what?", 怎么办, 支付失败了: what the model makes of them is chance, and a question
		// about its weak guesses asks about things the person never said.
		r := t.whatHappened()
		r.Text = join(lead, r.Text)
		return r, true
	}
	if len(matches) == 0 {
		return Reply{}, false
	}
	if t.tellsCase(text, matches[0]) {
		// "i only have a unionpay card" before any diagnosis: the questions go on from it. A
		// clarifying question offered "only UnionPay" as a wallet problem, or as a problem
		// whose first step the card rules out.
		q, option := t.e.kb.FlowAnswer(text)
		r := t.answerAnew(q, option)
		r.Text = join(lead, r.Text)
		return r, true
	}
	var offTopic float64
	if matches[0].Action == kb.ActionOffTopic && !t.surelyFeedback(ruledOut) {
		// "still not working" with no solution shown is about a payment, if not yet which:
		// with its feedback ruled out, what is left of it is no reading of chatter.
		offTopic = matches[0].Probability
	}
	if t.ownCardFailing(text, matches[0]) {
		// "招行信用卡 付openai api一直失败": the card solution read from the person's own
		// card, whose bank its steps name. Gone to, it told them to get the card they have, or
		// (as the first step of wallets not accepted) diagnosed a wallet nobody mentioned.
		r := t.whatHappened()
		r.Text = join(lead, r.Text)
		return r, true
	}
	// An outcome with words of its own that the text does not hold is no reading of it: the
	// 支付 of "支付不成功" made wallets not accepted sure (支付宝). Left out, not shared out.
	matches = slices.DeleteFunc(matches, func(m kb.Match) bool { return m.Outcome != "" && t.e.kb.Unnamed(m.Outcome, text) })
	if len(matches) == 0 {
		return Reply{}, false
	}
	options := t.destinations(matches)
	c := t.e.confidence
	// While a question is asked, a cause the answers before it ruled out (kb.AnsweredAway) is
	// no destination: "declined 3 times" after "overseas payment is enabled" is no card that
	// blocks payments abroad. Read as the text's most likely meaning, it contradicts an
	// answer, which the person hears; less likely, it is left out of what is offered. Left
	// out of the model's reading instead, the next cause would take its probability: "没收
	// 到验证码" after "I completed the check" became money taken.
	if away := t.e.kb.AnsweredAway(t.d.Question); t.d.Stage == StageAsking && len(away) > 0 {
		isAway := func(o kb.Match) bool { return o.Outcome != "" && slices.Contains(away, kb.Target{Outcome: o.Outcome}) }
		if len(options) > 0 && isAway(options[0]) && options[0].Probability >= c.ask {
			t.record(EventNotUnderstood, "")
			r := t.withView(t.text(kb.MsgContradicts, nil))
			r.Text = join(lead, r.Text)
			return r, true
		}
		options = slices.DeleteFunc(options, isAway)
	}
	if t.solving() && t.e.kb.SupportFirst(t.d.Outcome) && len(options) > 0 && (options[0].Outcome == "" || options[0].Probability < c.sure) &&
		offTopic < c.offTopic {
		// "I used a CCB card" while money taken is with OpenAI's support: a fact of the case.
		// Another card or a virtual card, offered as what it might mean, invites a second
		// payment; only a new problem the bot is sure of is diagnosed.
		t.record(EventNotUnderstood, "")
		r := t.nudge()
		r.Text = join(lead, r.Text)
		return r, true
	}
	var best, second float64
	if len(options) > 0 {
		best = options[0].Probability
	}
	if len(options) > 1 {
		second = options[1].Probability
	}
	n, together := 0, 0.0 // the options a clarifying question would offer, and their probability
	for n < min(len(options), 3) && options[n].Probability >= c.plausible {
		together += options[n].Probability
		n++
	}
	// While a question of the flow is asked, what people type answers it: a solution read
	// from words that do not name it ("工商银行的" or "不知道是什么卡" at the card question,
	// read as the card solution's banks) is no request for it.
	unasked := t.answering() && len(options) > 0 && (options[0].Solution != "" && !t.e.kb.NamesPlainly(options[0].Solution, text) ||
		options[0].Action == kb.ActionListSolutions) // "有" at the verification question: no request for the list
	var r Reply
	switch {
	case offTopic == 0 && best >= c.sure && best-second >= c.apart && !unasked:
		r = t.goTo(text, options[0].Target)
	case offTopic == 0 && t.restatesDiagnosis(text, options):
		r = t.goTo(text, options[0].Target)
	case t.solving() && !saysSomething(t.e.kb.Statements(text)) && (t.e.kb.Supposes(text) || t.e.kb.Asks(text) && !saysSomething(kb.Normalize(text))) &&
		offTopic < c.offTopic:
		// "如果不行怎么办？", "what if it fails?", "so?": a question about what comes next,
		// which the buttons under the question whether the solution shown worked answer.
		// Offered other solutions or causes, the person left the one they had not tried yet;
		// told there is no ready answer, they heard that the bot knows nothing of what comes
		// next.
		t.record(EventNotUnderstood, "")
		r = t.nudge()
	case t.solving() && n >= 2 && together >= c.ask && offTopic < together && t.e.kb.Statements(text) == "":
		// A question while a solution is shown ("is there a fee?" where none is listed): a
		// clarifying question about what happened would leave the solution for nothing.
		r = t.noReadyAnswer()
	case t.answering() && offTopic < c.offTopic && offTopic < 2*best:
		// An answer to the question asked that no typed phrase reads ("ICBC" for the card,
		// "收到了" for the verification): the question's own buttons are the clarifying
		// question, and other causes offered instead would leave it for a guess.
		t.record(EventNotUnderstood, "")
		r = t.withView(t.text(kb.MsgPickAnAnswer, nil))
	case t.solving() && t.e.kb.Lacks(text) && !t.e.kb.Asks(text):
		// "我没有visa卡" while the bank is to be called: what the person lacks, which no
		// solution's steps ask for yet. A clarifying question offering the card they just said
		// they lack left the solution shown for nothing.
		t.record(EventNotUnderstood, "")
		r = t.nudge()
	case n >= 2 && together >= c.ask && offTopic < together && !t.redacted:
		t.record(EventClarified, "")
		worked := slices.IndexFunc(options[:n], func(o kb.Match) bool { return o.Action == kb.ActionWorked })
		failed := slices.ContainsFunc(options[:n], func(o kb.Match) bool { return o.Action == kb.ActionFailed })
		switch {
		case (worked >= 0 || failed) && t.solving():
			// A verdict among the likely few while a solution is shown: whether it worked is
			// the question, with both buttons. "✅ This worked" beside diagnoses for "中文" or
			// "太难了" ended the help as a success at a tap.
			r = t.nudge()
		case worked >= 0 && t.e.kb.Contradicts(text):
			// "没有付款成功" is never offered "this worked": what it may be is a failure.
			options[worked].Target = kb.Target{Action: kb.ActionFailed}
			r = t.clarify(options[:n])
		default:
			r = t.clarify(options[:n])
		}
	case t.redacted:
		// The warning says all there is to say about a message that was mostly card data.
		return Reply{}, false
	case offTopic >= c.offTopic || offTopic >= 2*best:
		t.record(EventOffTopic, "")
		r = t.offTopic()
	default:
		// About a payment, but nothing in particular: ask what happened, unless a solution
		// is shown, whose result is what matters now, or which the text only asks about.
		switch {
		case t.solving() && t.e.kb.Asks(text) && t.e.kb.Statements(text) == "" && saysSomething(kb.Normalize(text)) && !t.e.kb.Supposes(text):
			// "is there a fee?" where no answer is listed and the model places nothing. Not
			// "what?", which asks nothing in particular, nor "what if it fails?", which the
			// buttons under the question whether it worked answer.
			r = t.noReadyAnswer()
		case t.solving():
			t.record(EventNotUnderstood, "")
			r = t.nudge()
		default:
			r = t.whatHappened()
		}
	}
	r.Text = join(lead, r.Text)
	return r, true
}

// tellsCase reports whether text, before any diagnosis, tells the person's case as the answer
// to a question the flow asks on the way, and best, the model's likeliest reading of it, is
// not sure. Not a failure told ("刷卡失败", "payment failed"), whose words answer the
// verification question too while the problem is still to find; nor a bare "no" (不是), which
// answers every question; nor a question, a request or a code.
func (t turn) tellsCase(text string, best kb.Match) bool {
	return !t.solving() && !t.answering() && best.Probability < t.e.confidence.sure && t.answersALaterQuestion(text) &&
		!t.e.kb.Asks(text) && !t.e.kb.Requests(text) && !t.e.kb.NamesCode(text) && !t.e.kb.TellsFailure(text) && !t.e.kb.BareVerdict(text)
}

// restatesDiagnosis reports whether options, the likely destinations of text while a
// solution is shown, lead first to the diagnosis already made, and the others either say as
// much (the solution failed) or lag far behind: the person telling or asking about their
// problem again ("is it because my card blocks payments abroad?", "they enabled it but it
// still said card declined"), which goTo answers as such. Asked about as one of a few, it got
// a clarifying question offering the diagnosis they are in. A text that only asks needs no
// lead over the others: what the diagnosis they are in says is an answer at worst beside
// the point, and the solution shown stays.
func (t turn) restatesDiagnosis(text string, options []kb.Match) bool {
	c := t.e.confidence
	if !t.solving() || t.d.Outcome == "" || len(options) == 0 || options[0].Outcome != t.d.Outcome || options[0].Probability < c.ask {
		return false
	}
	if t.e.kb.Asks(text) && t.e.kb.Statements(text) == "" {
		return true
	}
	for _, o := range options[1:] {
		if o.Action != kb.ActionFailed && options[0].Probability-o.Probability < c.apart {
			return false
		}
	}
	return true
}

// whatHappened answers text about a payment that says too little to place: the question of
// what happened (with the greeting, in a new dialog), and the dialog stays where it is.
func (t turn) whatHappened() Reply {
	t.record(EventNotUnderstood, "")
	if t.d.Stage == StageNew {
		return t.start()
	}
	return t.withView(t.text(kb.MsgVague, nil))
}

// ownCardFailing reports whether best, the model's likeliest reading of text, is a solution
// read from words that do not name it, before any solution is shown, in a text that tells of
// a payment failing and asks for nothing: the person's own card or bank, not a request. A
// code of the table leads to its solution as it is (incorrect_cvc: re-enter the details).
func (t turn) ownCardFailing(text string, best kb.Match) bool {
	return !t.solving() && best.Solution != "" && !t.e.kb.NamesPlainly(best.Solution, text) &&
		t.e.kb.TellsFailure(text) && !t.e.kb.NamesCode(text) && !t.e.kb.Asks(text) && !t.e.kb.Requests(text) &&
		!t.e.kb.AnswersTheFlow(text) && !t.tellsFacts(text) // "BOC visa, overseas payments enabled, 3DS done": the questions go on
}

// tellsFacts reports whether a clause of text answers a question of the flow (kb.FactAnswer).
func (t turn) tellsFacts(text string) bool {
	q, _ := t.e.kb.FactAnswer(text)
	return q != ""
}

// surelyFeedback reports whether the model read text as "worked" or "didn't work" surely
// before those were ruled out.
func (t turn) surelyFeedback(ruledOut []kb.Match) bool {
	return slices.ContainsFunc(ruledOut, func(m kb.Match) bool {
		return (m.Action == kb.ActionWorked || m.Action == kb.ActionFailed) && m.Probability >= t.e.confidence.sure
	})
}

// offTopic says what the bot is for, with the menu, or while a solution is shown, with the
// question of its result rather than its steps again.
func (t turn) offTopic() Reply {
	if t.solving() {
		r := t.nudge()
		r.Text = join(t.text(kb.MsgOffTopic, nil), r.Text)
		return r
	}
	if t.d.Stage == StageNew {
		r := t.start()
		r.Text = join(t.text(kb.MsgOffTopic, nil), r.Text)
		return r
	}
	return t.withView(t.text(kb.MsgOffTopic, nil))
}

// clarify asks which of a few recognised targets fits, without moving the dialog.
func (t turn) clarify(options []kb.Match) Reply {
	buttons := make([]Button, 0, len(options))
	for _, option := range options {
		target := option.Target
		switch {
		case target.Outcome != "":
			buttons = append(buttons, Button{ID: buttonOutcomePrefix + target.Outcome, Label: t.text(kb.OutcomeChoice(target.Outcome), nil)})
		case target.Solution != "":
			buttons = append(buttons, Button{ID: buttonOpenPrefix + target.Solution, Label: t.text(kb.SolutionTitle(target.Solution), nil)})
		case target.Action == kb.ActionWorked, target.Action == kb.ActionFailed:
			// recognize offers these only while a solution is shown.
			sol, _ := t.d.CurrentSolution()
			if target.Action == kb.ActionWorked {
				buttons = append(buttons, Button{ID: buttonWorkedPrefix + sol, Label: t.text(kb.MsgButtonWorked, nil)})
			} else {
				buttons = append(buttons, Button{ID: buttonFailedPrefix + sol, Label: t.text(kb.MsgButtonFailed, nil)})
			}
		default:
			buttons = append(buttons, Button{ID: ButtonAll, Label: t.text(kb.MsgButtonAll, nil)})
		}
	}
	// The bot asks because it is unsure, so none of the likely few may fit: starting over asks
	// what happened, a step at a time. Not while a solution is shown: starting over would
	// drop the diagnosis and the solutions already tried.
	if t.d.Stage != StageSolving {
		buttons = append(buttons, Button{ID: ButtonRestart, Label: t.text(kb.MsgButtonRestart, nil)})
	}
	return Reply{Text: t.text(kb.MsgClarify, nil), Buttons: buttons, Cause: t.d.Cause}
}
