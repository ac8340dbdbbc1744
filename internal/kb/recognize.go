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

// Match is a target recognised in a text, with a score: the summed weight of its phrases
// that matched (longer phrases, and Han characters, weigh more), so that several cues for
// one target outweigh a single cue for another.
type Match struct {
	Target
	Score int
}

type intent struct {
	Target
	Phrases []string `toml:"phrases"`
	// Weight scales the phrases' weights: below 1 for words that merely hint (a bank's
	// name), above 1 for names that settle it (PayPal). Zero means 1.
	Weight float64 `toml:"weight"`
}

type phrase struct {
	text   string       // normalized
	words  []phraseWord // text split into words, for phrases without Han characters
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
			if in.Weight < 0 || in.Weight > 10 {
				return fmt.Errorf("%w: %s: intent %d: weight %v is outside 0 to 10", ErrInvalid, f, i+1, in.Weight)
			}
			if err := k.checkTarget(in.Target); err != nil {
				return fmt.Errorf("%w: %s: intent %d: %v", ErrInvalid, f, i+1, err)
			}
			for _, p := range in.Phrases {
				n := Normalize(p)
				if n == "" {
					return fmt.Errorf("%w: %s: intent %d: phrase %q is empty once normalized", ErrInvalid, f, i+1, p)
				}
				// The same phrase in two files (say "paypal" in en and zh-Hans) is one cue.
				if slices.ContainsFunc(k.recognizer.phrases, func(p phrase) bool { return p.text == n && p.target == in.Target }) {
					continue
				}
				k.recognizer.phrases = append(k.recognizer.phrases, phrase{text: n, words: splitPhrase(n), han: hasHan(n), weight: scale(weigh(n), in.Weight), target: in.Target})
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
// nothing matched. English phrases also match with a typo or two in their longer words
// ("declind", "verfication"), at a lower score.
func (k *KB) Recognize(text string) []Match {
	n := Normalize(text)
	if n == "" {
		return nil
	}
	words := strings.Fields(n)
	best := map[Target]int{}
	for _, p := range k.recognizer.phrases {
		var score int
		if p.han {
			if strings.Contains(n, p.text) {
				score = p.weight
			}
		} else if edits, ok := findWords(words, p.words); ok {
			score = p.weight - 2*edits
		}
		if score > 0 {
			best[p.target] += score
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

// phraseWord is one word of a phrase with the number of typos it tolerates.
type phraseWord struct {
	text    string
	allowed int
}

// splitPhrase allows one typo in words of five letters or more and two from nine, but none
// in codes with digits or underscores ("do_not_honor", "3ds"): those are pasted, not typed.
func splitPhrase(normalized string) []phraseWord {
	var words []phraseWord
	for _, w := range strings.Fields(normalized) {
		allowed := 0
		switch n := len(w); {
		case strings.ContainsAny(w, "_0123456789"):
		case n >= 9:
			allowed = 2
		case n >= 5:
			allowed = 1
		}
		words = append(words, phraseWord{text: w, allowed: allowed})
	}
	return words
}

// findWords looks for phrase as consecutive words of text, each equal or within its allowed
// edit distance, and returns the fewest edits over all places it occurs.
func findWords(text []string, phrase []phraseWord) (edits int, found bool) {
	best := -1
	for i := 0; i+len(phrase) <= len(text); i++ {
		total := 0
		for j, want := range phrase {
			e, ok := wordMatch(text[i+j], want)
			if !ok {
				total = -1
				break
			}
			total += e
		}
		if total >= 0 && (best < 0 || total < best) {
			best = total
		}
	}
	return best, best >= 0
}

// wordMatch compares a word of the text with a word of a phrase; a plural "s" is free.
func wordMatch(got string, want phraseWord) (edits int, ok bool) {
	if got == want.text || len(got) == len(want.text)+1 && got[len(got)-1] == 's' && got[:len(want.text)] == want.text {
		return 0, true
	}
	if want.allowed == 0 || abs(len(got)-len(want.text)) > want.allowed {
		return 0, false
	}
	d := editDistance(got, want.text)
	return d, d <= want.allowed
}

// editDistance is the optimal string alignment distance (Levenshtein plus transpositions of
// adjacent letters, the commonest typo) between two ASCII-ish words.
func editDistance(a, b string) int {
	// Words are short: three rows on the stack avoid an allocation per comparison.
	var rows [3][24]int
	ra, rb := []rune(a), []rune(b)
	if len(rb)+1 > len(rows[0]) {
		return max(len(ra), len(rb))
	}
	prev2, prev, cur := rows[0][:len(rb)+1], rows[1][:len(rb)+1], rows[2][:len(rb)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
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

func scale(w int, by float64) int {
	if by == 0 {
		return w
	}
	return max(1, int(float64(w)*by+0.5))
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
