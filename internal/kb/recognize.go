package kb

import (
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/BurntSushi/toml"
	"golang.org/x/text/width"
)

// Target is what a recognised text leads to: an outcome of the flow, one solution, or an
// action. Exactly one field is set.
type Target struct {
	Outcome  string `toml:"outcome"`
	Solution string `toml:"solution"`
	Action   string `toml:"action"`
}

// Match is a target recognised in a text, with a score: the weight of the most specific
// phrase that matched (longer phrases, and Han characters, weigh more).
type Match struct {
	Target
	Score int
}

type intent struct {
	Target
	Phrases []string `toml:"phrases"`
}

type phrase struct {
	text   string // normalized
	han    bool
	weight int
	target Target
}

type recognizer struct {
	phrases []phrase
}

func (k *KB) loadPhrases(base, overlay fs.FS) error {
	files, err := tomlFiles(base, overlay, phrasesDir)
	if err != nil {
		return err
	}
	for _, f := range files {
		b, err := fs.ReadFile(f.fsys, f.name)
		if err != nil {
			return fmt.Errorf("read %s: %w", f, err)
		}
		var doc struct {
			Intents []intent `toml:"intent"`
		}
		if _, err := toml.Decode(string(b), &doc); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInvalid, f, err)
		}
		for i, in := range doc.Intents {
			if err := k.checkTarget(in.Target); err != nil {
				return fmt.Errorf("%w: %s: intent %d: %v", ErrInvalid, f, i+1, err)
			}
			for _, p := range in.Phrases {
				n := Normalize(p)
				if n == "" {
					return fmt.Errorf("%w: %s: intent %d: phrase %q is empty once normalized", ErrInvalid, f, i+1, p)
				}
				k.recognizer.phrases = append(k.recognizer.phrases, phrase{text: n, han: hasHan(n), weight: weigh(n), target: in.Target})
			}
		}
	}
	return nil
}

func (k *KB) checkTarget(t Target) error {
	set := 0
	for _, s := range []string{t.Outcome, t.Solution, t.Action} {
		if s != "" {
			set++
		}
	}
	switch {
	case set != 1:
		return fmt.Errorf("needs exactly one of outcome, solution or action")
	case t.Outcome != "":
		if _, ok := k.outcomes[t.Outcome]; !ok {
			return fmt.Errorf("outcome %q does not exist", t.Outcome)
		}
	case t.Solution != "":
		if !slices.Contains(k.Solutions, t.Solution) {
			return fmt.Errorf("solution %q does not exist", t.Solution)
		}
	case t.Action != ActionListSolutions:
		return fmt.Errorf("unknown action %q", t.Action)
	}
	return nil
}

// Recognize returns the targets whose phrases occur in text, best first. It is empty when
// nothing matched.
func (k *KB) Recognize(text string) []Match {
	n := Normalize(text)
	if n == "" {
		return nil
	}
	padded := " " + n + " "
	best := map[Target]int{}
	for _, p := range k.recognizer.phrases {
		var found bool
		if p.han {
			found = strings.Contains(n, p.text)
		} else {
			found = strings.Contains(padded, " "+p.text+" ")
		}
		if found && p.weight > best[p.target] {
			best[p.target] = p.weight
		}
	}
	matches := make([]Match, 0, len(best))
	for t, s := range best {
		matches = append(matches, Match{Target: t, Score: s})
	}
	sort.Slice(matches, func(i, j int) bool {
		if matches[i].Score != matches[j].Score {
			return matches[i].Score > matches[j].Score
		}
		return targetKey(matches[i].Target) < targetKey(matches[j].Target)
	})
	return matches
}

func targetKey(t Target) string { return t.Outcome + "|" + t.Solution + "|" + t.Action }

// Normalize folds text for matching: full-width forms to ASCII, lower case, punctuation and
// runs of spaces to one space, and a space between Han and other letters, so that
// "“Your card was declined！”" and "your card was declined" compare equal.
func Normalize(text string) string {
	text = strings.ToLower(width.Fold.String(text))
	var b strings.Builder
	b.Grow(len(text))
	pendingSpace := false
	prevHan := false
	for _, r := range text {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') {
			pendingSpace = b.Len() > 0
			continue
		}
		isHan := unicode.Is(unicode.Han, r)
		// Chinese is written without spaces, so one between two Han characters is noise.
		if b.Len() > 0 && ((pendingSpace && !(isHan && prevHan)) || isHan != prevHan) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		pendingSpace, prevHan = false, isHan
	}
	return b.String()
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// weigh counts a Han character as three letters: it carries about as much meaning as a
// short English word.
func weigh(s string) int {
	w := 0
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			w += 3
		} else if r != ' ' {
			w++
		}
	}
	return w
}
