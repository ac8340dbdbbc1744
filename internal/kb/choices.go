package kb

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// addOrdinals takes in a phrase file's ordinals: the words of each position, the first
// position's first.
func (k *KB) addOrdinals(positions [][]string) error {
	for i, words := range positions {
		folded, err := folded(words)
		if err != nil {
			return fmt.Errorf("ordinal %d: %v", i+1, err)
		}
		if k.ordinals == nil {
			k.ordinals = map[string]int{}
		}
		for _, w := range folded {
			if at, ok := k.ordinals[w]; ok && at != i+1 {
				return fmt.Errorf("ordinal %q is position %d and %d", w, at, i+1)
			}
			k.ordinals[w] = i + 1
			k.places = append(k.places, w)
		}
	}
	return nil
}

// Corrects reports whether text says an earlier answer was wrong: a phrase of the phrase
// files' corrections ("I meant", "actually", 说错了, 其实是).
func (k *KB) Corrects(text string) bool { return containsAny(Normalize(text), k.corrections) }

// WithoutCorrection is text folded without the phrases that say it corrects and its thanks:
// the answer it gives instead ("no" of "sorry, I meant no").
func (k *KB) WithoutCorrection(text string) string {
	return strings.Join(strings.Fields(withoutPhrases(withoutPhrases(Normalize(text), k.corrections), k.courtesyWords)), " ")
}

// TellsNewProblem reports whether text says it is about another problem than the one helped
// with: a phrase of the phrase files' new_problem lists ("new problem", "my other card",
// 新问题).
func (k *KB) TellsNewProblem(text string) bool { return containsAny(Normalize(text), k.newProblem) }

// WithoutNewProblem is text folded without the phrases that say it is about another problem:
// the problem ("no sms code" of "another problem: no sms code").
func (k *KB) WithoutNewProblem(text string) string {
	return withoutPhrases(Normalize(text), k.newProblem)
}

// WrongPress reports whether text says a button was pressed by mistake ("wrong button", 按错了):
// a phrase of the phrase files' wrong_press lists.
func (k *KB) WrongPress(text string) bool { return containsAny(Normalize(text), k.wrongPress) }

// Requests reports whether text asks for something rather than tells the person's case: a word
// of the phrase files' requests ("I want to try a virtual card", 我想试试虚拟卡), where "it's a
// virtual card" tells.
func (k *KB) Requests(text string) bool { return containsAny(Normalize(text), k.requests) }

// Elsewhere reports whether text tells of payments elsewhere or before, not of the one the
// help is for: "it works fine on steam", "it worked last month", 其他网站都能付. A success
// there is no verdict on the solution shown.
func (k *KB) Elsewhere(text string) bool { return containsAny(Normalize(text), k.elsewhere) }

// Refunded reports whether text says the money taken came back ("钱退回来了", "got
// refunded"), and does not ask whether it will ("will I get refunded?").
func (k *KB) Refunded(text string) bool {
	return containsAny(Normalize(text), k.refunded) && k.refundedIn(text) // most texts hold none: spared the clauses
}

// refundOnItsWay reports whether text, after a word that turns it, says the money is not back on
// the card yet (the phrase files' not_received): "已退款，但银行卡还没收到" is a refund on its way.
func (k *KB) refundOnItsWay(text string) bool {
	after := AfterContrast(text)
	return after != "" && containsAny(Normalize(after), k.notReceived)
}

// refundedIn is Refunded, clause by clause: "钱退回来了，我能再付一次吗" tells the refund and
// asks about paying again.
func (k *KB) refundedIn(text string) bool {
	if k.refundOnItsWay(text) {
		return false
	}
	// Not 还没退回来, "will I get refunded?", 如果钱退回来了, 退回来了一半 or "it will be
	// refunded": only money back, all of it.
	return k.toldIn(text, k.refunded, k.partial, k.refundDue)
}

// toldIn reports whether a clause of text tells one of phrases as a fact: it denies, asks,
// supposes and guesses nothing, and holds none of the phrases of unless.
func (k *KB) toldIn(text string, phrases []string, unless ...[]string) bool {
	return slices.ContainsFunc(Clauses(text), func(c string) bool {
		norm := Normalize(c)
		return containsAny(norm, phrases) && !containsAny(norm, k.negations) && !containsAny(norm, k.guesses) && !k.Asks(c) && !k.Supposes(c) &&
			!slices.ContainsFunc(unless, func(ps []string) bool { return containsAny(norm, ps) })
	})
}

// WithoutComplaint is text without the words that say the bot did not answer ("you didnt
// answer", 答非所问), and whether it held any: they are about the bot, not the solution
// shown, whose failure they were read as. The clauses that hold none are kept as written, so
// that "you didnt answer. which provider?" still asks; a text with none such is folded.
func (k *KB) WithoutComplaint(text string) (rest string, complained bool) {
	norm := Normalize(text)
	if !containsAny(norm, k.complaints) {
		return "", false
	}
	var kept []string
	for _, c := range Clauses(text) {
		if !containsAny(Normalize(c), k.complaints) {
			kept = append(kept, strings.TrimSpace(c))
		}
	}
	if len(kept) == 0 {
		return strings.TrimSpace(withoutPhrases(norm, k.complaints)), true
	}
	return strings.Join(kept, " "), true
}

// Arrived reports whether text says that what was paid for showed up after all (到账了, "the
// credits just showed up", "it was just delayed"), in a clause that denies, asks, supposes and
// guesses nothing ("maybe it's just delayed"), with nothing after a word that turns it ("the
// credits showed up, but I was charged twice"): money taken without credit that resolved itself.
func (k *KB) Arrived(text string) bool {
	// Most texts hold none of the phrases: spared the clauses.
	return containsAny(Normalize(text), k.arrived) && Normalize(AfterContrast(text)) == "" && k.toldIn(text, k.arrived)
}

// GivesUp reports whether text says the person stops trying ("算了 不搞了", "forget it").
func (k *KB) GivesUp(text string) bool { return containsAny(Normalize(text), k.givesUp) }

// NotCharged reports whether text says that no money was taken ("没扣钱", "no money taken"):
// a payment that failed, not money taken without credit. Not when it says besides that money
// was ("a statement that my card is not charged when it's actually charged").
func (k *KB) NotCharged(text string) bool { return k.notChargedIn(Normalize(text)) }

func (k *KB) notChargedIn(norm string) bool {
	return containsAny(norm, k.notCharged) && !containsAny(withoutPhrases(norm, k.notCharged), k.charged)
}

// NoMoneyHeld reports whether text says no money was taken (NotCharged) or that it came
// back (Refunded), folding the text once: what rules money taken without credit out, asked
// of every text read.
func (k *KB) NoMoneyHeld(text string) bool {
	norm := Normalize(text)
	return k.notChargedIn(norm) || containsAny(norm, k.refunded) && k.refundedIn(text)
}

// OwnVoice reports whether text says something of its writer (the phrase files' own_voice:
// "I", "my", 我).
func (k *KB) OwnVoice(text string) bool { return containsAny(Normalize(text), k.ownVoice) }

// Pasted reports whether text reads as a checkout's or a bank's words rather than the
// person's own: it addresses its reader as a checkout does (the phrase files' checkout_voice:
// "your", 您) and says nothing of the writer (own_voice: "I", "my", 我).
func (k *KB) Pasted(text string) bool {
	norm := Normalize(text)
	return containsAny(norm, k.checkoutVoice) && !containsAny(norm, k.ownVoice)
}

// Choice is the position, from 1, of the one of count buttons that text, folded by Normalize,
// picks by its place ("the second one", "option 2", 选第二个, "2", "the last one"), or 0: text
// that is nothing but an ordinal or a number, the phrase files' choosing words and thanks.
// People refer to the buttons they see by their order as often as they type a label; read by
// the model, "第二个" was a payment too vague to place. The sign of "+1", which agrees with
// someone, is gone from folded text: the caller rules it out.
func (k *KB) Choice(norm string, count int) int {
	// Most texts name no place: spared taking the phrases out.
	if !strings.ContainsAny(norm, "0123456789") && !containsAny(norm, k.places) {
		return 0
	}
	rest := strings.TrimSpace(withoutPhrases(withoutPhrases(norm, k.choosing), k.courtesyWords))
	if strings.Contains(rest, "  ") {
		rest = strings.Join(strings.Fields(rest), " ") // where a phrase was taken out
	}
	var n int
	switch {
	case rest != "" && strings.Trim(rest, "0123456789") == "":
		n, _ = strconv.Atoi(rest)
	case slices.Contains(k.last, rest):
		n = count
	default:
		n = k.ordinals[rest]
	}
	if n < 1 || n > count {
		return 0
	}
	return n
}
