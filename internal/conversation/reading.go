package conversation

import (
	"cmp"
	"slices"

	"github.com/paydoctor/bot/internal/kb"
)

// confidence is how sure the bot must be of what free text means. The recognizer's
// probabilities are calibrated (docs/understanding.md), so these read as they say.
type confidence struct {
	// sure is the probability of a destination the bot goes to without asking, and that a
	// person's own words must reach to be read without the message they replied to...
	sure float64
	// ...when the next likely one is apart behind.
	apart float64
	// ask is the probability two or three destinations of at least plausible each must reach
	// together to be offered in a clarifying question; below it, text that is not about
	// something else gets the question of what happened.
	ask, plausible float64
	// offTopic is the probability of "about something else" at which the bot says what it is
	// for, whatever the payment readings.
	offTopic float64
}

// defaultConfidence: sure, apart, ask and plausible were chosen by cross-validation on the
// training corpus's real lines (TestCrossValidated_FirstAnswer; docs/understanding.md has the
// grid). A wrong first answer sends someone down the wrong path and a question costs a tap, so
// going only at 0.6 is worth the right answers it turns into questions; asking at 0.4 rather
// than lower keeps messages that say nothing yet ("what?", 求助) on the what-happened menu
// instead of a question about arbitrary options. offTopic was not part of the grid, whose
// lines are nearly all about payments; it stays where it was.
var defaultConfidence = confidence{sure: 0.6, apart: 0.25, ask: 0.4, plausible: 0.1, offTopic: 0.5}

// decisive reports whether text alone leads somewhere the bot would go without asking.
func (t turn) decisive(text string) bool {
	if text == "" {
		return false
	}
	matches := t.recognize(text)
	if len(matches) == 0 || matches[0].Action == kb.ActionOffTopic || matches[0].Probability < t.e.confidence.sure {
		return false
	}
	// A cause the answers so far ruled out leads nowhere: "20刀，被拒" at the amount question
	// answers it, and its 被拒 is what brought the person there.
	return t.d.Stage != StageAsking || !slices.Contains(t.e.kb.AnsweredAway(t.d.Question), kb.Target{Outcome: matches[0].Outcome})
}

// recognize is what text means where the dialog stands.
func (t turn) recognize(text string) []kb.Match { return t.e.kb.Recognize(text, t.ruledOut(text)...) }

// anotherProblem returns the outcome text tells of surely, when it is other than the
// diagnosis: a new problem.
func (t turn) anotherProblem(text string) (kb.Match, bool) {
	m := t.recognize(text)
	if len(m) > 0 && m[0].Outcome != "" && m[0].Outcome != t.d.Outcome && m[0].Probability >= t.e.confidence.sure {
		return m[0], true
	}
	return kb.Match{}, false
}

func (t turn) tellsAnotherProblem(text string) bool {
	_, ok := t.anotherProblem(text)
	return ok
}

// ruledOut is what text cannot mean where the dialog stands: what a person writes about a
// solution ("that worked", "still declined") means something else when none is in front of
// them, and a text that says no money was taken ("payment failed, no money taken") or that
// it came back ("got refunded but my card still gets declined") is no money taken without
// credit, whatever else it shares with those.
func (t turn) ruledOut(text string) []kb.Target {
	var out []kb.Target
	if !t.solving() {
		out = append(out, feedback...)
	}
	if t.e.kb.NoMoneyHeld(text) {
		out = append(out, t.e.kb.SupportFirstOutcomes()...)
	}
	return out
}

var feedback = []kb.Target{{Action: kb.ActionWorked}, {Action: kb.ActionFailed}}

// destinations returns the matches that lead somewhere, best first, one per place they lead
// to (kb.Lead), with the probabilities of those leading to one place added up. A
// solution that is the first step of a likely outcome adds to it too: asking "your card
// blocks payments abroad, or: ask your bank to allow them?" would be no question at all.
func (t turn) destinations(matches []kb.Match) []kb.Match {
	var options []kb.Match
	var dests []string
	for _, m := range matches {
		if m.Action == kb.ActionOffTopic {
			continue
		}
		dest := t.e.kb.Lead(m.Target)
		if i := slices.Index(dests, dest); i >= 0 {
			options[i].Probability += m.Probability
			continue
		}
		dests = append(dests, dest)
		options = append(options, m)
	}
	slices.SortStableFunc(options, func(a, b kb.Match) int { return cmp.Compare(b.Probability, a.Probability) })
	for i := 0; i < len(options); i++ {
		if options[i].Solution == "" {
			continue
		}
		first := slices.IndexFunc(options, func(o kb.Match) bool {
			sol, ok := t.e.kb.FirstSolution(o.Outcome)
			return ok && sol == options[i].Solution
		})
		if first >= 0 {
			options[first].Probability += options[i].Probability
			options = slices.Delete(options, i, i+1)
			i--
		}
	}
	slices.SortStableFunc(options, func(a, b kb.Match) int { return cmp.Compare(b.Probability, a.Probability) })
	return options
}
