package kb

import (
	"fmt"
	"slices"
	"strings"
)

// stripeCode is one row of the exact table of Stripe's decline and error codes
// (phrases/stripe.toml): the code, the messages a checkout shows for it, and where it leads.
// The code is matched exactly; its spelling with spaces and its messages teach the model.
type stripeCode struct {
	Code string `toml:"code"`
	Target
	En []string `toml:"en"`
	Zh []string `toml:"zh"`
	// Said are the few words in which people and banks' text messages give the code's reason
	// ("cvv错误", 卡过期了, "wrong zip code"): written, not Stripe's; found in a text they decide
	// as the code does, but teach the model nothing, which learns from real lines.
	Said   []string `toml:"said"`
	Source string   `toml:"source"`
	// Generic marks a code that only says a decline happened (card_declined, do_not_honor): a
	// more precise code beside it, as Stripe's errors carry one, decides.
	Generic bool `toml:"generic"`
	// ExactMessages marks a generic code whose messages tell as much as the code itself
	// (OpenAI's quota message, shown for every billing error and for nothing else): found in a
	// text, they decide as the code does, where the messages of the other generic codes
	// ("Your card was declined.") only teach the model.
	ExactMessages bool `toml:"exact_messages"`
	// Means names what the code tells in plain words: the message CodeMeaning(Means). An
	// operator's code may leave it out, and the bot says only where the code leads.
	Means string `toml:"means"`
}

// codeTarget is where a code of the table leads, by its target's index in the model, and
// what it means (stripeCode.Means).
type codeTarget struct {
	target  int
	generic bool
	means   string
}

// CodeMeaning is the ID of the message that says what the codes of means tell.
func CodeMeaning(means string) string { return "code." + means }

// codeMessage is a message of a precise code of the table, normalized, and where the code
// leads.
type codeMessage struct {
	text string
	codeTarget
}

// addCode adds a row of the table and returns the texts it teaches: the code, its spelling
// with spaces, and its messages.
func (k *KB) addCode(f fileRef, c stripeCode) ([]string, error) {
	if !isCode(c.Code) {
		return nil, fmt.Errorf("code %q: want lower-case letters, digits and underscores", c.Code)
	}
	for _, seen := range k.codes {
		if seen.Code == c.Code {
			return nil, fmt.Errorf("code %q: listed twice", c.Code)
		}
	}
	if err := k.checkTarget(c.Target); err != nil {
		return nil, fmt.Errorf("code %q: %v", c.Code, err)
	}
	if c.ExactMessages && !c.Generic {
		return nil, fmt.Errorf("code %q: exact_messages is for a generic code: the messages of the others are exact", c.Code)
	}
	if c.Means != "" && !isCode(c.Means) {
		return nil, fmt.Errorf("code %q: means %q: want lower-case letters, digits and underscores", c.Code, c.Means)
	}
	if !strings.HasPrefix(c.Source, "https://") {
		return nil, fmt.Errorf("code %q: source %q is not a https:// address", c.Code, c.Source)
	}
	texts := []string{c.Code}
	if spaced := strings.ReplaceAll(c.Code, "_", " "); spaced != c.Code {
		texts = append(texts, spaced)
	}
	texts = append(append(texts, c.En...), c.Zh...)
	where := fmt.Sprintf("%s: code %q", f, c.Code)
	for _, text := range slices.Concat(texts, c.Said) {
		n := Normalize(text)
		if n == "" {
			return nil, fmt.Errorf("code %q: message %q is empty once normalized", c.Code, text)
		}
		k.phraseTargets.add(n, c.Target, where)
	}
	k.codes = append(k.codes, c)
	return texts, nil
}

// phraseTargets records where each normalized phrase and code message leads, and the first
// place that said two different things about one.
type phraseTargets struct {
	seen  map[string]placedTarget
	clash error
}

type placedTarget struct {
	target Target
	where  string
}

func (p *phraseTargets) add(text string, t Target, where string) {
	if p.seen == nil {
		p.seen = map[string]placedTarget{}
	}
	prev, ok := p.seen[text]
	switch {
	case !ok:
		p.seen[text] = placedTarget{t, where}
	case prev.target != t && p.clash == nil:
		p.clash = fmt.Errorf("%s: %q leads to %s, but %s leads it to %s", where, text, t, prev.where, prev.target)
	}
}

// checkCodes reports, once every phrase file is read, a code or message of the table that
// also leads elsewhere: the table is exact, and a message shared by two codes must lead to
// one place.
func (k *KB) checkCodes() error {
	if k.phraseTargets.clash != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, k.phraseTargets.clash)
	}
	return nil
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
