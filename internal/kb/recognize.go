package kb

import (
	"cmp"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

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
	text   string  // normalized
	words  []int32 // for phrases without Han characters: the text's words, by vocabulary index
	han    hanSet  // of its Han characters: empty when it has none and is matched word by word
	weight int
	target Target
}

type recognizer struct {
	phrases []phrase
	vocab   vocabulary
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
			Intents []intent     `toml:"intent"`
			Codes   []stripeCode `toml:"code"`
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
				k.addPhrase(n, in.Weight, in.Target, false)
			}
		}
		for _, c := range doc.Codes {
			if err := k.addCode(f, c); err != nil {
				return fmt.Errorf("%w: %s: %v", ErrInvalid, f, err)
			}
		}
	}
	return k.checkCodes()
}

// addPhrase adds a normalized phrase of t, its weight scaled by by. The same phrase in two
// files (say "paypal" in en and zh-Hans) is one cue: the first one's weight stands, unless
// raise is set (a code of the exact table), when the greater one does.
func (k *KB) addPhrase(n string, by float64, t Target, raise bool) {
	w := scale(weigh(n), by)
	if i := slices.IndexFunc(k.recognizer.phrases, func(p phrase) bool { return p.text == n && p.target == t }); i >= 0 {
		if raise {
			k.recognizer.phrases[i].weight = max(k.recognizer.phrases[i].weight, w)
		}
		return
	}
	p := phrase{text: n, han: hanSetOf(n), weight: w, target: t}
	if p.han == 0 {
		p.words = k.recognizer.vocab.split(n)
	}
	k.recognizer.phrases = append(k.recognizer.phrases, p)
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
	case t.Action != ActionListSolutions && t.Action != ActionWorked && t.Action != ActionFailed:
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
	r := &k.recognizer
	// A message's words and their hits fit on the stack; a long text spills to the heap.
	var hitBuf [64]wordHit
	var startBuf [33]int32
	var anyBuf [8]uint64
	words := textWords{hits: hitBuf[:0], start: startBuf[:0], any: anyBuf[:]}
	if size := (len(r.vocab.words) + 63) / 64; size > len(anyBuf) {
		words.any = make([]uint64, size)
	}
	words = r.vocab.match(n, words)
	han := hanSetOf(n)
	// Few targets match at once: summing in a small array beats a map.
	var found [16]Match
	sums := found[:0]
	for i := range r.phrases {
		p := &r.phrases[i]
		var score int
		if p.han != 0 {
			if p.han&^han == 0 && strings.Contains(n, p.text) {
				score = p.weight
			}
		} else if edits, ok := words.find(p.words); ok {
			score = p.weight - 2*edits
		}
		if score > 0 {
			sums = addScore(sums, p.target, score)
		}
	}
	// sums may be on the stack.
	matches := make([]Match, len(sums))
	copy(matches, sums)
	slices.SortFunc(matches, func(a, b Match) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(targetKey(a.Target), targetKey(b.Target))
	})
	return matches
}

func addScore(sums []Match, t Target, score int) []Match {
	for i := range sums {
		if sums[i].Target == t {
			sums[i].Score += score
			return sums
		}
	}
	return append(sums, Match{Target: t, Score: score})
}

// maxTypos is the most typos a phrase word tolerates.
const maxTypos = 2

// phraseWord is one distinct word of the phrases with the number of typos it tolerates.
type phraseWord struct {
	text    string
	allowed int
	ascii   bool
	runes   []rune
}

// vocabulary holds every distinct word of the phrases once: a text word is compared with
// each once per Recognize, not once per phrase and place, since many phrases share words.
type vocabulary struct {
	words []phraseWord
	index map[string]int32
	// fuzzy lists the words that tolerate typos by how many and by length in bytes: only
	// those whose length is within their typos of a text word's can match it inexactly.
	fuzzy [maxTypos + 1][][]int32
}

// split returns the words of a normalized phrase, adding new ones to the vocabulary. It
// allows one typo in words of five letters or more and two from nine, but none in codes
// with digits or underscores ("do_not_honor", "3ds"): those are pasted, not typed.
func (v *vocabulary) split(normalized string) []int32 {
	var ids []int32
	for _, w := range strings.Fields(normalized) {
		id, ok := v.index[w]
		if !ok {
			id = v.add(w)
		}
		ids = append(ids, id)
	}
	return ids
}

func (v *vocabulary) add(w string) int32 {
	allowed := 0
	switch n := len(w); {
	case strings.ContainsAny(w, "_0123456789"):
	case n >= 9:
		allowed = maxTypos
	case n >= 5:
		allowed = 1
	}
	pw := phraseWord{text: w, allowed: allowed, ascii: isASCII(w), runes: []rune(w)}
	id := int32(len(v.words))
	v.words = append(v.words, pw)
	if v.index == nil {
		v.index = map[string]int32{}
	}
	v.index[w] = id
	if allowed > 0 {
		byLen := &v.fuzzy[allowed]
		if len(w) >= len(*byLen) {
			*byLen = append(*byLen, make([][]int32, len(w)+1-len(*byLen))...)
		}
		(*byLen)[len(w)] = append((*byLen)[len(w)], id)
	}
	return id
}

// wordHit is a vocabulary word that a text word matches, with the typos it took.
type wordHit struct {
	word  int32
	edits int32
}

// textWords holds what each word of a text matches: hits[start[i]:start[i+1]] for word i.
type textWords struct {
	hits  []wordHit
	start []int32
	// any has bit i set when some word of the text matches vocabulary word i: most phrases
	// have a word that none does, and are ruled out without looking at each place.
	any []uint64
}

// match records in into the vocabulary words that each word of the normalized text matches.
func (v *vocabulary) match(normalized string, into textWords) textWords {
	for w := range strings.FieldsSeq(normalized) {
		into.start = append(into.start, int32(len(into.hits)))
		from := len(into.hits)
		into.hits = v.appendHits(into.hits, w)
		for _, h := range into.hits[from:] {
			into.any[h.word/64] |= 1 << (h.word % 64)
		}
	}
	into.start = append(into.start, int32(len(into.hits)))
	return into
}

// appendHits appends the vocabulary words that got matches: equal, equal but for a plural
// "s" (free), or within the word's allowed edit distance.
func (v *vocabulary) appendHits(hits []wordHit, got string) []wordHit {
	first := len(hits)
	if id, ok := v.index[got]; ok {
		hits = append(hits, wordHit{word: id})
	}
	if stem, ok := strings.CutSuffix(got, "s"); ok {
		if id, ok := v.index[stem]; ok {
			hits = append(hits, wordHit{word: id})
		}
	}
	exact := len(hits)
	ascii := isASCII(got)
	var runes []rune
	if !ascii {
		runes = []rune(got)
	}
	for allowed, byLen := range v.fuzzy {
		for l := max(len(got)-allowed, 0); l <= len(got)+allowed && l < len(byLen); l++ {
			for _, id := range byLen[l] {
				if slices.ContainsFunc(hits[first:exact], func(h wordHit) bool { return h.word == id }) {
					continue
				}
				want := &v.words[id]
				var d int
				switch {
				case ascii && want.ascii:
					d = editDistance([]byte(got), []byte(want.text), allowed)
				case ascii:
					d = editDistance([]rune(got), want.runes, allowed)
				default:
					d = editDistance(runes, want.runes, allowed)
				}
				if d <= allowed {
					hits = append(hits, wordHit{word: id, edits: int32(d)})
				}
			}
		}
	}
	return hits
}

// find looks for a phrase as consecutive words of the text and returns the fewest edits
// over all places it occurs.
func (t textWords) find(phrase []int32) (edits int, found bool) {
	for _, id := range phrase {
		if t.any[id/64]&(1<<(id%64)) == 0 {
			return 0, false
		}
	}
	best := -1
	for i := 0; i+len(phrase) < len(t.start); i++ {
		total := 0
		for j, id := range phrase {
			e, ok := t.edits(i+j, id)
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

func (t textWords) edits(i int, word int32) (int, bool) {
	for _, h := range t.hits[t.start[i]:t.start[i+1]] {
		if h.word == word {
			return int(h.edits), true
		}
	}
	return 0, false
}

// editDistance is the optimal string alignment distance (Levenshtein plus transpositions of
// adjacent letters, the commonest typo) between two words, as bytes when both are ASCII and
// as runes otherwise, if it is at most limit (a few typos); otherwise it is limit+1. That
// bound lets it fill only the cells within limit of the diagonal, in small integers, and
// stop at the first row beyond it: most words compared are far apart. Words longer than the
// rows never match.
func editDistance[T byte | rune](a, b []T, limit int) int {
	// Words are short: three rows on the stack avoid an allocation per comparison.
	var rows [3][24]int8
	if len(b)+1 > len(rows[0]) || abs(len(a)-len(b)) > limit {
		return limit + 1
	}
	over := int8(limit + 1)
	prev2, prev, cur := rows[0][:len(b)+1], rows[1][:len(b)+1], rows[2][:len(b)+1]
	// Later rows read the first only within the band.
	for j := range min(len(b), limit+1) + 1 {
		prev[j] = int8(j)
	}
	for i := 1; i <= len(a); i++ {
		lo, hi := max(1, i-limit), min(len(b), i+limit)
		// The rows are reused: the cells just outside the band are read, so they are reset.
		cur[lo-1] = over
		if lo == 1 {
			cur[0] = int8(min(i, limit+1))
		}
		if hi < len(b) {
			cur[hi+1] = over
		}
		rowMin := cur[lo-1]
		for j := lo; j <= hi; j++ {
			var cost int8 = 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost, over)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
			rowMin = min(rowMin, d)
		}
		// No cell of a later row is below this row's least.
		if rowMin >= over {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return int(prev[len(b)])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
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
	var b strings.Builder
	b.Grow(len(text))
	pendingSpace := false
	prevHan := false
	for _, r := range text {
		// Both fold rune by rune: doing it here spares two copies of the text.
		if r >= utf8.RuneSelf {
			if f := width.LookupRune(r).Folded(); f != 0 {
				r = f
			}
		}
		r = unicode.ToLower(r)
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

// hanSet has a bit for each Han character of a text, a few characters sharing each: a
// phrase can only occur in a text whose set has all of its bits, which rules out most Han
// phrases without searching the text for them.
type hanSet uint64

func hanSetOf(s string) hanSet {
	var set hanSet
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			set |= 1 << (r % 64)
		}
	}
	return set
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
