package conversation

import (
	"slices"
	"strings"
	"unicode"

	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/redact"
)

func (t turn) freeText(text, quoted string) Reply {
	if strings.HasPrefix(text, "/") {
		return t.command(text)
	}
	if name := t.e.kb.Command(text); name != "" {
		return t.command("/" + name) // "start over", the label of a button, typed
	}
	if t.redacted {
		// What was removed is no word of the person's: read as one, "[removed]" was a
		// billing-settings problem.
		text = strings.TrimSpace(strings.ReplaceAll(text, redact.Placeholder, ""))
		quoted = strings.TrimSpace(strings.ReplaceAll(quoted, redact.Placeholder, ""))
		if !saysSomething(t.e.kb.WithoutFormLabels(text)) && !saysSomething(quoted) {
			// "安全码是123": what is left names the data removed and says nothing of the
			// payment; read by the model, 安全码是 was a billing address refused, diagnosed
			// beside the warning.
			if t.solving() {
				return t.nudge()
			}
			return t.withView()
		}
	}
	if t.e.kb.AsksForHuman(text) {
		return t.human()
	}
	t.corrects = t.e.kb.Corrects(text)
	// Before the verdicts: 不对，境外支付已经开通了 after a diagnosis changes an answer; its
	// 已经开通了 would read as a step done.
	if r, ok := t.correction(text); ok {
		return r
	}
	// "you didnt answer. which provider?" complains of the bot, not of the solution shown,
	// whose failure it was read as: what it asks besides is answered, and a complaint alone
	// gets that the bot has no ready answer.
	if rest, complained := t.e.kb.WithoutComplaint(text); complained && t.solving() {
		if !saysSomething(rest) || t.e.kb.OnlyCourtesy(rest) {
			return t.noReadyAnswer()
		}
		text = rest
	}
	// A short answer to "Did this work?" first: "no, not yet" and "是的我试试" are no
	// failure or success, and "👍" has no letter for the rest to read.
	if r, ok := t.answerVerdict(text); ok {
		return r
	}
	// Thanks or a plan for later under someone's "it worked" is about the person's own
	// attempt, not theirs: read before the message replied to.
	rest, r, ok := t.noResult(text)
	if ok {
		return r
	}
	t.planned, text = rest != text, rest
	if r, ok := t.answerQuestion(text); ok {
		return r
	}
	if t.solving() && t.e.kb.AsksWhy(text) && len(t.e.kb.OthersNamed("", text)) == 0 {
		return t.explain(t.d.Outcome) // "why does this happen?"; why PayPal fails is another question
	}
	if r, ok := t.answerTyped(text); ok {
		return r
	}
	// After the typed answers, which read a number alone at the amount question as a sum.
	if id, ok := t.picked(text); ok {
		return t.press(id, "")
	}
	if r, ok := t.answerVerdict(text); ok {
		return r // what noResult left of a text: "tried it, still declined, will try tomorrow"
	}
	// The person's own words first: "@bot it worked" under the error it was about is
	// feedback, and the error read again would start the diagnosis over.
	if quoted != "" && !t.decisive(text) {
		text = joinLines(text, quoted)
	}
	// Text without a letter ("+1", "2", "???") says nothing the model could read; what it
	// makes of digits is what amounts meant in its corpus.
	if strings.ContainsFunc(text, unicode.IsLetter) {
		if r, ok := t.understand(text, ""); ok {
			return r
		}
	}
	t.record(EventNotUnderstood, "")
	if t.d.Stage == StageNew {
		return t.start()
	}
	if t.solving() {
		return t.nudge()
	}
	if t.redacted {
		return t.withView()
	}
	return t.withView(t.text(kb.MsgNotUnderstood, nil))
}

// noResult answers text that says nothing about the payment: thanks, "ok" and, while a
// solution is shown, "not tried yet". It records no verdict and leaves the dialog where it is.
// A text that says more than it has not been tried ("tried it, still declined, will try
// another card tomorrow") says what is left without those words and the thanks, if that
// alone leads somewhere: noResult returns it to be read on.
func (t turn) noResult(text string) (string, Reply, bool) {
	solving := t.solving()
	if !t.e.kb.OnlyCourtesy(text) {
		if !solving || !t.e.kb.NotTriedYet(text) {
			return text, Reply{}, false
		}
		// "it" of "I'll try it tomorrow" is too little to read, and so is the name of the
		// solution shown: "改了账单地址" did its step, it is no new description.
		if told := t.e.kb.WithoutPendingPhrases(text); t.hasVerdict(told) {
			return told, Reply{}, false
		}
		if rest := t.e.kb.WithoutPending(text); saysSomething(rest) && t.decisive(rest) && !t.onlyNamesShown(rest) {
			return rest, Reply{}, false
		}
	}
	// Understood as thanks or a plan for later: nothing to act on, and nothing for the
	// statistics' "not understood", which shows operators what people ask.
	t.record(EventRecognized, "")
	switch {
	case solving:
		return text, t.nudge(), true
	case t.d.Stage == StageNew:
		return text, t.start(), true
	case t.d.ended():
		// Thanks or a greeting after the help ended: the closing message again, which can be
		// long, would answer nothing. Its buttons stay.
		r := t.withView()
		r.Text = t.text(kb.MsgWelcome, nil)
		return text, r, true
	default:
		return text, t.withView(), true
	}
}

// onlyNamesShown reports whether text names the solution shown and says nothing decisive
// besides.
func (t turn) onlyNamesShown(text string) bool {
	sol, _ := t.d.CurrentSolution()
	rest, named := t.e.kb.WithoutTopic(sol, text)
	return named && !(saysSomething(rest) && t.decisive(rest))
}

// answerQuestion answers a question about the solution shown ("which bank should I call?",
// "要手续费吗？") from the knowledge base, and asks again whether it worked. Read as a new
// description instead, such a question would move the person to another solution ("which
// bank" is also what people ask about cards that work). What the text says besides its
// questions goes first: a verdict ("also declined. which card now?") or a new problem
// ("扣费了但是没到账，怎么回事？"); and so does a question that describes one besides what it
// asks ("I was charged a fee but the payment failed?").
func (t turn) answerQuestion(text string) (Reply, bool) {
	if !t.solving() {
		return Reply{}, false
	}
	sol, _ := t.d.CurrentSolution()
	answer, besides, ok := t.questionAbout(sol, text)
	if !ok {
		return Reply{}, false
	}
	// Its clauses that do not ask, then all it says besides the words it asks with, which
	// is the whole of a one-clause text ("did it in the app but it still gets declined").
	// Without those words, "can I top it up with alipay?" is about the card shown, not about
	// paying with a wallet. A text that does not ask ("三天了还没回复", "phone number") is
	// one statement of what calls for the answer: only what it says besides is read.
	statements := ""
	if t.e.kb.Asks(text) {
		statements = t.e.kb.Statements(text)
	}
	for _, said := range []string{statements, besides} {
		if t.nothingToActOn(sol, said) {
			continue
		}
		if t.moneyWithSupport(sol) {
			// "no, it wasn't refunded", "the refund hasn't come back yet, can I pay again?":
			// support, which takes days, did not fail; only another problem counts.
			if _, ok := t.anotherProblem(said); ok {
				return t.understand(said, "")
			}
			continue
		}
		if r, ok := t.statement(said); ok {
			return r, true
		}
	}
	t.record(EventRecognized, "")
	r := t.nudge()
	r.Text = join(answer, r.Text)
	return r, true
}

// questionAbout is kb.QuestionAbout about sol, the solution shown; while money taken is with
// OpenAI's support, what people tell of it calls for its answer however much they say
// around it (kb.ToldOrAskedAbout).
func (t turn) questionAbout(sol, text string) (answer, besides string, ok bool) {
	if t.moneyWithSupport(sol) {
		return t.e.kb.ToldOrAskedAbout(t.d.Lang, sol, text)
	}
	return t.e.kb.QuestionAbout(t.d.Lang, sol, text)
}

// moneyWithSupport reports whether sol, the solution shown, is OpenAI's support for money
// taken without credit: only support can see the money, and it takes days to answer.
func (t turn) moneyWithSupport(sol string) bool {
	return sol == t.e.kb.LastResort && t.e.kb.SupportFirst(t.d.Outcome)
}

// nothingToActOn reports whether said, what a question about sol says besides it, says
// nothing that moves the dialog.
func (t turn) nothingToActOn(sol, said string) bool {
	switch {
	case !saysSomething(said), t.e.kb.OnlyCourtesy(said), t.e.kb.OnlyFraming(said):
		return true
	case t.e.kb.AsksAsAChoice(said):
		// What asks as Chinese does with 不 is the question's own ("招行的行不行": 的行不行
		// asks whether it works, and its 不 denies nothing).
		return true
	case t.e.kb.Verdict(sol, said) == kb.VerdictNotTried:
		return true // "no idea what address the bank has": no result told
	}
	return endsInEmptyContrast(said) // "i paid but it [still says ...]": what it turned to was the answer's words
}

// endsInEmptyContrast reports whether text turns against what came before ("but", 但是)
// and says nothing after: the rest was words taken out of it.
func endsInEmptyContrast(text string) bool {
	return kb.TurnsAgainst(text) && !saysSomething(kb.AfterContrast(text))
}

// statement acts on what a question's text says besides it: a failure told in words that
// deny ("the virtual card got declined too", which the model reads as naming the card), likely
// enough to ask about or read as the solution shown; a success not denied; or a problem the
// bot is sure of. The model reads "issue" of "which banks issue these?" as a problem: a
// failure without such a word is none.
func (t turn) statement(said string) (Reply, bool) {
	m := t.recognize(said)
	if len(m) == 0 {
		return Reply{}, false
	}
	c := t.e.confidence
	sol, _ := t.d.CurrentSolution()
	denies := t.e.kb.Contradicts(said)
	var failed float64
	if i := slices.IndexFunc(m, func(m kb.Match) bool { return m.Action == kb.ActionFailed }); i >= 0 {
		failed = m[i].Probability
	}
	switch top := m[0]; {
	case denies && (top.Action == kb.ActionFailed && top.Probability >= c.ask || top.Solution == sol):
		t.record(EventRecognized, "")
		return t.failed(), true
	case top.Action == kb.ActionWorked && !denies && (top.Probability >= c.sure || top.Probability >= c.ask && t.e.kb.Verdict(sol, said) == kb.ActionWorked):
		// Only sure, or in the words of a verdict: "is it problem with my browser?" without
		// its question word left "is it problem with my", which the model half read as thanks
		// for a success, and the help ended.
		t.record(EventRecognized, "")
		return t.worked(), true
	case top.Outcome != "" && top.Probability >= c.sure:
		return t.understand(said, "")
	case denies && failed >= c.plausible:
		t.record(EventRecognized, "")
		return t.failed(), true
	}
	return Reply{}, false
}

// answerTyped takes a short typed answer to the question asked ("no", "不知道", "it's a Visa
// from ICBC") as the press of its option, and answers what people ask about the question
// itself ("how do I tell which card it is?") with the question again. In groups people
// answer in words as often as they press, replying to the bot's question. Read by the model,
// "no" says nothing, and "it's a Visa from ICBC" reads as asking which cards work.
func (t turn) answerTyped(text string) (Reply, bool) {
	if t.d.Stage != StageAsking || t.d.Question == "" {
		return Reply{}, false
	}
	option, help, besides := t.e.kb.AtQuestion(t.d.Lang, t.d.Question, text)
	switch {
	case option != "" && saysSomething(besides) && t.decisive(besides):
		// "是的，但是扣了钱没到账": what else it says is a problem of its own.
		return t.understand(besides, "")
	case option != "":
		t.record(EventRecognized, "")
		return t.answer(t.d.Question, option), true
	case help != "":
		t.record(EventRecognized, "")
		return t.withView(help), true
	}
	return Reply{}, false
}

// picked returns the button offered last that text picks: by its label typed whole ("银行卡被
// 拒绝" at the first question: read by the model, it skipped the questions the button asks),
// or by its place (kb.Choice: "the second one", 第二个, "2"; not "+1", which agrees).
func (t turn) picked(text string) (string, bool) {
	if len(t.d.Offered) == 0 || len(text) > maxPickText {
		return "", false
	}
	norm := kb.Normalize(text)
	for _, id := range t.e.labels[norm] {
		if slices.Contains(t.d.Offered, id) {
			return id, true
		}
	}
	if n := t.e.kb.Choice(norm, len(t.d.Offered)); n > 0 && !strings.ContainsAny(text, "+-") {
		return t.d.Offered[n-1], true
	}
	return "", false
}

// maxPickText is the longest text, in bytes, that picked reads: longer than any label, which
// spares most messages the folding.
const maxPickText = 160

// takeBack undoes the verdict just given on sol, a press by mistake, and asks about sol again.
// The statistics keep the verdict until the next one on sol replaces it: events are not
// rewritten.
func (t turn) takeBack(sol string) Reply {
	t.record(EventRecognized, "")
	if i := slices.Index(t.d.Plan, sol); i >= 0 {
		t.d.Current = i
	}
	t.d.Stage = StageSolving
	if a := t.d.attempt(sol); a != nil {
		a.Result = ""
	}
	return t.withView(t.text(kb.MsgAnswerChanged, nil))
}

// correction answers again the question answered last that a correction typed answers
// ("sorry, I meant no", 不对，是visa双币卡): a text with a word of the phrase files'
// corrections whose rest a typed answer of that question reads.
func (t turn) correction(text string) (Reply, bool) {
	if last, ok := t.d.lastShown(); ok && t.d.Stage == StageResolved && t.e.kb.WrongPress(text) && t.e.kb.Verdict(last, t.e.kb.WithoutCorrection(text)) == "" {
		return t.takeBack(last), true // "wrong button", 按错了 after "This worked"
	}
	if !t.corrects || t.e.kb.OnlyCourtesy(text) { // "sorry" alone
		return Reply{}, false
	}
	rest := t.e.kb.WithoutCorrection(text)
	_, justFailed := t.justFailed()
	if last, ok := t.d.lastShown(); ok && (t.d.ended() || justFailed) {
		if v := t.e.kb.Verdict(last, rest); v == kb.ActionWorked || v == kb.ActionFailed {
			return Reply{}, false // "sorry, I meant no" right after a verdict corrects the verdict
		}
	}
	if rest == "" {
		// 说错了, "I pressed the wrong one": right after "didn't work", that press is taken back
		// and its solution shown again; otherwise the question answered last is asked again,
		// at a solution only while no verdict was given on it.
		if prev, justFailed := t.justFailed(); justFailed {
			return t.takeBack(prev), true
		}
		if shown, ok := t.d.CurrentSolution(); t.d.Stage != StageAsking && (!ok || t.d.attempt(shown) != nil && t.d.attempt(shown).Result != "") {
			return Reply{}, false
		}
		return t.back(), true
	}
	for _, a := range slices.Backward(t.d.Asked) {
		q, _, _ := strings.Cut(a, ":")
		option, _, _ := t.e.kb.AtQuestion(t.d.Lang, q, rest)
		if option == "" || slices.Contains(t.d.Asked, q+":"+option) {
			continue // "actually no" where "no" was the answer: no change of it
		}
		t.record(EventRecognized, "")
		t.backTo(q)
		r := t.answer(q, option)
		r.Text = join(t.text(kb.MsgAnswerChanged, nil), r.Text)
		return r, true
	}
	return Reply{}, false
}
