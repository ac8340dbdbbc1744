package conversation

import (
	"cmp"
	"slices"
	"strings"

	"github.com/paydoctor/bot/internal/kb"
)

// picture answers a screenshot: one line quoting what it read that mattered, then what that
// leads to; or, when nothing in it is about a payment, a request for the text. Only the lines
// of the screen that are clearly about a payment count: the rest of a screen (the clock, the
// merchant's name, the buttons) is noise that would make the bot ask about nothing.
func (t turn) picture(in Input) Reply {
	if t.e.kb.AsksForHuman(in.Text) {
		return t.human()
	}
	var lead string
	evidence := t.evidence(in.Seen)
	if len(evidence) > 0 {
		lead = t.text(kb.MsgImageSeen, map[string]any{"Quote": truncateRunes(evidence[0], maxQuote)})
	}
	if text := strings.Join(append([]string{in.Text}, evidence...), "\n"); strings.TrimSpace(text) != "" {
		if r, ok := t.understand(text, lead); ok {
			return r
		}
	}
	t.record(EventNotUnderstood, "")
	if t.d.Stage == StageNew {
		r := t.start()
		r.Text = join(t.text(kb.MsgImageNoText, nil), r.Text)
		return r
	}
	return t.withView(t.text(kb.MsgImageNoText, nil))
}

// minEvidence is the least probability of the destination a line of a screenshot leads to for
// the line to count.
const minEvidence = 0.5

// maxQuote bounds the line of a screenshot the reply quotes.
const maxQuote = 80

// evidence returns the lines of what OCR read that are clearly about a payment problem, the
// clearest first.
func (t turn) evidence(seen string) []string {
	type line struct {
		text        string
		probability float64
	}
	var found []line
	for text := range strings.Lines(seen) {
		text = strings.TrimSpace(text)
		// A screen's clock, battery and one-word labels say nothing, however the model
		// scores them, and nor do the form's labels ("Card number": the payment settings).
		if hanCount(text) < 2 && latinWords(text) < 2 || t.e.kb.OnlyFormLabels(text) {
			continue
		}
		options := t.destinations(t.recognize(text))
		if len(options) > 0 && options[0].Probability >= minEvidence {
			found = append(found, line{text, options[0].Probability})
		}
	}
	slices.SortStableFunc(found, func(a, b line) int { return cmp.Compare(b.probability, a.probability) })
	lines := make([]string, len(found))
	for i, l := range found {
		lines[i] = l.text
	}
	return lines
}
