package kb

import (
	"bufio"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"unicode"

	bot "github.com/paydoctor/bot"
	"golang.org/x/text/width"
)

// referenceNormalize is Normalize as three passes: width, case, then letters and spaces.
func referenceNormalize(text string) string {
	text = strings.ToLower(width.Fold.String(text))
	var b strings.Builder
	pendingSpace := false
	prevHan := false
	for _, r := range text {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') {
			pendingSpace = b.Len() > 0
			continue
		}
		isHan := unicode.Is(unicode.Han, r)
		if b.Len() > 0 && ((pendingSpace && !(isHan && prevHan)) || isHan != prevHan) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		pendingSpace, prevHan = false, isHan
	}
	return b.String()
}

// referenceRecognize is Recognize written plainly: every phrase, at every place in the text,
// compared word by word. Recognize must give exactly what it gives.
func referenceRecognize(k *KB, text string) []Match {
	n := referenceNormalize(text)
	if n == "" {
		return nil
	}
	words := strings.Fields(n)
	best := map[Target]int{}
	for _, p := range k.recognizer.phrases {
		var score int
		if p.han != 0 {
			if strings.Contains(n, p.text) {
				score = p.weight
			}
		} else if edits, ok := referenceFindWords(words, strings.Fields(p.text)); ok {
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

func referenceFindWords(text, phrase []string) (edits int, found bool) {
	best := -1
	for i := 0; i+len(phrase) <= len(text); i++ {
		total := 0
		for j, want := range phrase {
			e, ok := referenceWordMatch(text[i+j], want)
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

func referenceWordMatch(got, want string) (edits int, ok bool) {
	if got == want || got == want+"s" {
		return 0, true
	}
	allowed := 0
	switch {
	case strings.ContainsAny(want, "_0123456789"):
	case len(want) >= 9:
		allowed = 2
	case len(want) >= 5:
		allowed = 1
	}
	if allowed == 0 || abs(len(got)-len(want)) > allowed {
		return 0, false
	}
	d := referenceEditDistance([]rune(got), []rune(want))
	return d, d <= allowed
}

// referenceEditDistance is the optimal string alignment distance over a full matrix; like
// editDistance, it gives up on phrase words longer than 23 letters.
func referenceEditDistance(a, b []rune) int {
	if len(b) > 23 {
		return max(len(a), len(b))
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func TestRecognize_SameAsReference(t *testing.T) {
	k, err := Load(bot.Data(), nil)
	if err != nil {
		t.Fatal(err)
	}
	texts := recognizeSamples(t, k)
	for _, text := range texts {
		if got, want := Normalize(text), referenceNormalize(text); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", text, got, want)
		}
		if got, want := k.Recognize(text), referenceRecognize(k, text); !reflect.DeepEqual(got, want) {
			t.Errorf("Recognize(%q)\n = %v\nwant %v", text, got, want)
		}
	}
	t.Logf("%d texts", len(texts))
}

func FuzzRecognize_SameAsReference(f *testing.F) {
	k, err := Load(bot.Data(), nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"Your card was declind.", "ＣＡＲＤ＿ＤＥＣＬＩＮＥＤ", "“交易被拒绝”", "verfication code 没收到", "ｶﾞ İ ǅ \xff\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if got, want := Normalize(text), referenceNormalize(text); got != want {
			t.Fatalf("Normalize(%q) = %q, want %q", text, got, want)
		}
		if got, want := k.Recognize(text), referenceRecognize(k, text); !reflect.DeepEqual(got, want) {
			t.Fatalf("Recognize(%q)\n = %v\nwant %v", text, got, want)
		}
	})
}

// recognizeSamples returns the labelled utterances of testdata/recognize and, for every
// phrase, the phrase itself and variants with typos, plurals, other phrases and Han text
// around it.
func recognizeSamples(t *testing.T, k *KB) []string {
	texts := []string{
		"", " ", "s", "ss", "\xff", "\xed\xa0\x80", "café cafés naïve", "ｶﾞｰﾄﾞ ＡＢＣ１２３ İstanbul ǅ Ⱥ",
		strings.Repeat("declined card ", 400),
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "recognize", "*.tsv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no utterances in testdata/recognize: %v", err)
	}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if _, text, ok := strings.Cut(sc.Text(), "\t"); ok {
				_, text, _ = strings.Cut(text, "\t")
				texts = append(texts, text)
			}
		}
		f.Close()
	}
	rng := rand.New(rand.NewPCG(1, 2))
	phrases := k.recognizer.phrases
	fillers := []string{"my", "the", "was", "我的卡", "显示", "please", "help", "cards", "paypals", "declines"}
	for _, p := range phrases {
		texts = append(texts, p.text, p.text+"s", width.Widen.String(strings.ToUpper(p.text)), "我的卡显示"+p.text+"，怎么办？")
		for range 8 {
			words := strings.Fields(p.text)
			for range 1 + rng.IntN(3) {
				i := rng.IntN(len(words))
				words[i] = typo(rng, words[i])
			}
			var b strings.Builder
			if rng.IntN(2) == 0 {
				b.WriteString(fillers[rng.IntN(len(fillers))] + " ")
			}
			b.WriteString(strings.Join(words, " "))
			if rng.IntN(2) == 0 {
				b.WriteString(" " + phrases[rng.IntN(len(phrases))].text)
			}
			if rng.IntN(3) == 0 {
				b.WriteString(" " + fillers[rng.IntN(len(fillers))])
			}
			texts = append(texts, b.String())
		}
	}
	return texts
}

// typo changes w by one edit: a letter deleted, inserted, replaced, or swapped with the
// next, or a plural "s".
func typo(rng *rand.Rand, w string) string {
	r := []rune(w)
	if len(r) == 0 {
		return "s"
	}
	i := rng.IntN(len(r))
	letter := []rune("aeioustnrlé")[rng.IntN(11)]
	switch rng.IntN(5) {
	case 0:
		r = append(r[:i:i], r[i+1:]...)
	case 1:
		r = append(r[:i:i], append([]rune{letter}, r[i:]...)...)
	case 2:
		r[i] = letter
	case 3:
		if i+1 < len(r) {
			r[i], r[i+1] = r[i+1], r[i]
		}
	default:
		r = append(r, 's')
	}
	return string(r)
}
