package kb

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// VerdictNotTried is the verdict of "not yet" to "Did this work?": the solution has not been
// tried.
const VerdictNotTried = "not_tried"

// VerdictSkipped is the verdict of "next" or "I don't have a Visa card": the solution is not
// for the person, who goes on to the next without saying it failed.
const VerdictSkipped = "skipped"

// verdict is a short answer to "Did this work?" while a solution is shown, as a phrase file
// lists it: the phrases that give Action ("yes", "没用", "not yet"), and the verdicts they win
// over when a text holds both ("no, not yet" has not been tried). With Solution, they count
// only while that solution is shown: "I don't have a Visa card" says that using one is not
// for the person, and nothing of a virtual card.
type verdict struct {
	Action   string   `toml:"action"`
	Solution string   `toml:"solution"`
	Says     []string `toml:"says"`
	Over     []string `toml:"over"`
	Alone    bool     `toml:"alone"`
	// Signs are emoji that give the verdict as the whole text ("👍", "❌"), which folding
	// would drop.
	Signs []string `toml:"signs"`
}

// verdictKey holds the verdicts among the typed answers: no question of the flow has an
// empty ID.
const verdictKey = ""

// solutionVerdictKey holds the verdicts while solution is shown, where it has its own: no
// question of the flow has a colon in its ID, which its buttons' IDs are split at.
func solutionVerdictKey(solution string) string { return "verdict:" + solution }

var verdictActions = []string{ActionWorked, ActionFailed, VerdictNotTried, VerdictSkipped}

// addVerdict takes in a phrase file's verdict v.
func (k *KB) addVerdict(v verdict) error {
	for _, a := range append([]string{v.Action}, v.Over...) {
		if !slices.Contains(verdictActions, a) {
			return fmt.Errorf("verdict %q: a verdict is one of %v", a, verdictActions)
		}
	}
	key := verdictKey
	if v.Solution != "" {
		if !slices.Contains(k.Solutions, v.Solution) {
			return fmt.Errorf("verdict %s: unknown solution %q", v.Action, v.Solution)
		}
		if len(v.Signs) > 0 {
			return fmt.Errorf("verdict %s: signs count whatever the solution shown; a verdict of solution %s has none", v.Action, v.Solution)
		}
		key = solutionVerdictKey(v.Solution)
	}
	phrases, err := folded(v.Says)
	if err != nil {
		return fmt.Errorf("verdict %s: %v", v.Action, err)
	}
	if k.says == nil {
		k.says = map[string][]say{}
	}
	for _, p := range phrases {
		k.says[key] = append(k.says[key], say{p, v.Action, v.Over, v.Alone, false})
	}
	for _, sign := range v.Signs {
		if sign = strings.ReplaceAll(strings.TrimSpace(sign), "\uFE0F", ""); sign == "" || Normalize(sign) != "" {
			return fmt.Errorf("verdict %s: sign %q is empty or holds letters", v.Action, sign)
		}
		if k.signs == nil {
			k.signs = map[string]string{}
		}
		k.signs[sign] = v.Action
	}
	return nil
}

// Verdict reads text, sent while solution is shown, as a short answer to whether it
// worked, by the phrases of that solution and everyone's: ActionWorked, ActionFailed, VerdictNotTried, VerdictSkipped or "" for none. It reads as typed
// answers to the flow's questions do (see AtQuestion): every phrase found gives the same
// verdict or gives way to it, little else is said, nothing is asked, and no clause denies its
// phrase ("yes but still declined" is none; the model reads it). People answer the bot's
// "Did this work?" with "no" or 有用 as often as with a sentence, which the model cannot
// read alone.
func (k *KB) Verdict(solution, text string) string {
	norm := Normalize(text)
	if v := k.laterVerdict(solution, text, norm); v != "" {
		return v
	}
	if norm == "" {
		return k.signed(text)
	}
	key := solutionVerdictKey(solution)
	if _, own := k.says[key]; !own {
		key = verdictKey
	}
	if len(norm) <= maxSkipQuestion && strings.ContainsAny(text, "?？") {
		// "what next?", 还有别的办法吗？ ask for the next solution, as "next" does: the
		// question is the answer.
		if v, _ := k.typedOption(key, questionMarks.Replace(text), norm); v == VerdictSkipped {
			return v
		}
	}
	v, found := k.typedOption(key, text, norm)
	// "有没有用啊", "成功了吗" ask, they do not tell; 还没 alone, which ends as 到账了没 asks,
	// tells.
	if v != "" && k.isQuestion(text, norm) && !slices.Equal(found, []string{strings.TrimSpace(withoutPhrases(norm, k.courtesyWords))}) {
		return ""
	}
	return v
}

// laterVerdict is the verdict of the last clause of text that tells of a later try (a word of
// the phrase files' later list) and says how it went, or "": of "didn't work at first, but now
// it works" and 第一次失败了，再试一次就成功了 the later try's verdict stands, where read whole the
// failure denied the success. A clause that asks ("now it works?") or supposes ("if it fails
// then I'll try paypal", "see if it works") says nothing of how the try went.
func (k *KB) laterVerdict(solution, text, norm string) string {
	if !containsAny(norm, k.later) {
		return "" // spared splitting the text, which most texts would be for nothing
	}
	clauses := Clauses(text)
	for i := len(clauses) - 1; i > 0; i-- {
		c := clauses[i]
		cn := Normalize(c)
		if !containsAny(cn, k.later) || k.isQuestion(c, cn) || containsAny(cn, k.conditionals) {
			continue
		}
		// 再试一次 of 再试一次就成功了 is the try, not a plan to try.
		// A failure must be the payment's ("现在又不行了"): "then the credits didn't show up"
		// denies something else.
		v := k.Verdict(solution, k.WithoutPendingPhrases(c))
		if v != ActionWorked && (v != ActionFailed || !k.TellsFailure(c)) {
			continue
		}
		return v
	}
	return ""
}

// maxSkipQuestion is the longest folded text, in bytes, read as a question that asks for the
// next solution ("what else can i try", 还有别的办法吗): longer questions ask something else,
// spared a second reading.
const maxSkipQuestion = 32

var questionMarks = strings.NewReplacer("?", "", "？", "")

// BareVerdict reports whether text, thanks aside, is nothing but one of the verdicts that count
// only as a whole message ("yes", 是, 对): left over beside another solution's name ("是虚拟卡"),
// it says which card, not that the solution worked.
func (k *KB) BareVerdict(text string) bool {
	rest := strings.TrimSpace(withoutPhrases(Normalize(text), k.courtesyWords))
	for _, s := range k.says[verdictKey] {
		if s.alone && s.phrase == rest {
			return true
		}
	}
	return false
}

// signed is the verdict of text made of one sign of the phrase files, repeated or not, in
// any skin tone ("👍", "👍🏽👍"), or "".
func (k *KB) signed(text string) string {
	text = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\uFE0F' || r >= 0x1F3FB && r <= 0x1F3FF {
			return -1 // spaces, the emoji presentation selector and skin tones
		}
		return r
	}, text)
	for sign, action := range k.signs {
		if text != "" && strings.ReplaceAll(text, sign, "") == "" {
			return action
		}
	}
	return ""
}
