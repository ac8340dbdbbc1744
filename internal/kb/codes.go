package kb

import (
	"fmt"
	"slices"
	"strings"
)

// stripeCode is one row of the exact table of Stripe's decline and error codes
// (phrases/stripe.toml): the code, the messages a checkout shows for it, and where it leads.
// The code, its spelling with spaces and the messages all become phrases of its target.
type stripeCode struct {
	Code string `toml:"code"`
	Target
	En     []string `toml:"en"`
	Zh     []string `toml:"zh"`
	Source string   `toml:"source"`
}

// codeWeight scales a code's own phrase: a pasted code is exact, and wins over the other
// words of the message it came in ("Your card was declined. decline_code: insufficient_funds").
const codeWeight = 5

// codePhrase is a phrase the table added, kept to check it against every other phrase once
// all files are read.
type codePhrase struct {
	text   string // normalized
	code   string
	where  string // the file
	target Target
}

func (k *KB) addCode(f fileRef, c stripeCode) error {
	if !isCode(c.Code) {
		return fmt.Errorf("code %q: want lower-case letters, digits and underscores", c.Code)
	}
	for _, seen := range k.codes {
		if seen.Code == c.Code {
			return fmt.Errorf("code %q: listed twice", c.Code)
		}
	}
	if err := k.checkTarget(c.Target); err != nil {
		return fmt.Errorf("code %q: %v", c.Code, err)
	}
	if !strings.HasPrefix(c.Source, "https://") {
		return fmt.Errorf("code %q: source %q is not a https:// address", c.Code, c.Source)
	}
	add := func(text string, by float64) error {
		n := Normalize(text)
		if n == "" {
			return fmt.Errorf("code %q: message %q is empty once normalized", c.Code, text)
		}
		k.addPhrase(n, by, c.Target, true)
		k.codePhrases = append(k.codePhrases, codePhrase{text: n, code: c.Code, where: f.String(), target: c.Target})
		return nil
	}
	if err := add(c.Code, codeWeight); err != nil {
		return err
	}
	if spaced := strings.ReplaceAll(c.Code, "_", " "); spaced != c.Code {
		if err := add(spaced, 1); err != nil {
			return err
		}
	}
	for _, m := range append(append([]string(nil), c.En...), c.Zh...) {
		if err := add(m, 1); err != nil {
			return err
		}
	}
	k.codes = append(k.codes, c)
	return nil
}

// checkCodes verifies, once every phrase file is read, that no code or message of the table
// is also a phrase of another target: the table is exact, and a message shared by two codes
// must lead to one place.
func (k *KB) checkCodes() error {
	// The last first: an overlay's entry is the one to blame for a clash with the shipped table.
	for _, cp := range slices.Backward(k.codePhrases) {
		for _, p := range k.recognizer.phrases {
			if p.text == cp.text && p.target != cp.target {
				return fmt.Errorf("%w: %s: code %q: %q leads to %s, but a phrase or another code leads it to %s",
					ErrInvalid, cp.where, cp.code, cp.text, targetName(cp.target), targetName(p.target))
			}
		}
	}
	return nil
}

func targetName(t Target) string {
	switch {
	case t.Outcome != "":
		return "outcome " + t.Outcome
	case t.Solution != "":
		return "solution " + t.Solution
	default:
		return "action " + t.Action
	}
}

func isCode(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
