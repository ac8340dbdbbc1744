package kb

import (
	"fmt"
	"slices"
)

// VerdictNotTried is the verdict of "not yet" to "Did this work?": the solution has not been
// tried.
const VerdictNotTried = "not_tried"

// verdict is a short answer to "Did this work?" while a solution is shown, as a phrase file
// lists it: the phrases that give Action ("yes", "没用", "not yet"), and the verdicts they win
// over when a text holds both ("no, not yet" has not been tried).
type verdict struct {
	Action string   `toml:"action"`
	Says   []string `toml:"says"`
	Over   []string `toml:"over"`
}

// verdictKey holds the verdicts among the typed answers: no question of the flow has an
// empty ID.
const verdictKey = ""

var verdictActions = []string{ActionWorked, ActionFailed, VerdictNotTried}

// addVerdict takes in a phrase file's verdict v.
func (k *KB) addVerdict(v verdict) error {
	for _, a := range append([]string{v.Action}, v.Over...) {
		if !slices.Contains(verdictActions, a) {
			return fmt.Errorf("verdict %q: a verdict is one of %v", a, verdictActions)
		}
	}
	phrases, err := folded(v.Says)
	if err != nil {
		return fmt.Errorf("verdict %s: %v", v.Action, err)
	}
	if k.says == nil {
		k.says = map[string][]say{}
	}
	for _, p := range phrases {
		k.says[verdictKey] = append(k.says[verdictKey], say{p, v.Action, v.Over})
	}
	return nil
}

// Verdict reads text, sent while a solution is shown, as a short answer to whether it
// worked: ActionWorked, ActionFailed, VerdictNotTried or "" for none. It reads as typed
// answers to the flow's questions do (see AtQuestion): every phrase found gives the same
// verdict or gives way to it, little else is said, nothing is asked, and no clause denies its
// phrase ("yes but still declined" is none; the model reads it). People answer the bot's
// "Did this work?" with "no" or 有用 as often as with a sentence, which the model cannot
// read alone.
func (k *KB) Verdict(text string) string {
	v, _ := k.typedOption(verdictKey, text, Normalize(text))
	return v
}
