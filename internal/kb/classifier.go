package kb

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"
)

// example is one labelled text the classifier learns from: a line of the corpus, a phrase of
// phrases/, or a message of the Stripe table.
type example struct {
	text   string
	target Target
	source string // where the text came from, which cross-validation groups by
}

// classifier is a multinomial logistic regression over hashed text features: character
// n-grams of Chinese (no segmenter needed), words, word pairs and letter n-grams of English
// (the n-grams absorb typos and inflections). Its outputs are probabilities over the targets,
// which logistic regression fitted by log loss keeps honest: on the held-out corpus, texts
// scored 0.8 are right about four times in five (TestHeldOut reports the calibration error).
type classifier struct {
	targets []Target
	// rows maps a feature's hash to its row of weights; features never seen in training have
	// none and are ignored.
	rows    map[uint64]int32
	weights []float32 // row-major: len(rows) × len(targets)
	bias    []float32
	// sharpen multiplies the scores before the softmax when classifying (one over a
	// temperature): the weight decay that makes the model generalise also makes it timid, and
	// this undoes that for the probabilities without changing their order.
	sharpen float64
}

// trainSettings are the knobs of training.
type trainSettings struct {
	epochs  int
	rate    float32 // AdaGrad's learning rate
	l2      float32 // weight decay
	sharpen float64 // see classifier.sharpen
	// order picks one of the orders of the examples that look random (epochPlace): 0 for the
	// bot's model, others to measure how much the order alone moves the figures.
	order uint32
}

// defaultTraining was chosen by cross-validation on the training corpus, grouped by source
// (TestCrossValidation), and is fixed, so that every start trains the same model.
var defaultTraining = trainSettings{epochs: 4, rate: 0.2, l2: 1e-3, sharpen: 2}

const (
	maxFeatures   = 512 // per text; a longer text is judged by its first features
	letterGramLen = 4
	// maxLetterGramWord is the longest word whose letter n-grams count: the longest codes of
	// the table ("payment_intent_authentication_failure") are 37 letters, and a longer word is
	// an id, a key or a pasted blob, whose pieces are noise and would give a feature per letter.
	maxLetterGramWord = 64
)

// models keeps the classifiers trained in this process by what they were trained on: training
// is deterministic, and a process that loads the same knowledge base again (the tests, most
// of all, and under the race detector) need not pay for it twice. A classifier is read-only
// once trained.
var models struct {
	sync.Mutex
	byInput map[[sha256.Size]byte]*classifier
}

// trainCached returns the classifier train would return, trained at most once per input.
func trainCached(examples []example, targets []Target, set trainSettings) *classifier {
	h := sha256.New()
	fmt.Fprintf(h, "%+v\x00", set)
	for _, t := range targets {
		fmt.Fprintf(h, "%s\x00", t)
	}
	for _, ex := range examples {
		fmt.Fprintf(h, "%s\x00%s\x00", ex.target, ex.text)
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	models.Lock()
	defer models.Unlock()
	if c, ok := models.byInput[key]; ok {
		return c
	}
	c := train(examples, targets, set)
	if models.byInput == nil {
		models.byInput = map[[sha256.Size]byte]*classifier{}
	}
	models.byInput[key] = c
	return c
}

// train fits the classifier to examples by AdaGrad on the log loss, in an order fixed by
// what they say (trainingPlace).
func train(examples []example, targets []Target, set trainSettings) *classifier {
	c := &classifier{targets: targets, rows: map[uint64]int32{}, sharpen: set.sharpen}
	classOf := make(map[Target]int, len(targets))
	for i, t := range targets {
		classOf[t] = i
	}
	type vec struct {
		rows  []int32
		value float32
		class int
		place uint64 // where it comes in an epoch: see trainingPlace
	}
	data := make([]vec, 0, len(examples))
	var hashes []uint64
	for _, ex := range examples {
		hashes = appendFeatures(hashes[:0], Normalize(ex.text))
		if len(hashes) == 0 {
			continue
		}
		v := vec{class: classOf[ex.target], value: float32(1 / math.Sqrt(float64(len(hashes)))), place: trainingPlace(ex)}
		for _, h := range hashes {
			row, ok := c.rows[h]
			if !ok {
				row = int32(len(c.rows))
				c.rows[h] = row
			}
			v.rows = append(v.rows, row)
		}
		data = append(data, v)
	}
	k := len(targets)
	c.weights = make([]float32, len(c.rows)*k)
	c.bias = make([]float32, k)
	gradSq := make([]float32, len(c.weights))
	biasSq := make([]float32, k)
	probs := make([]float64, k)
	grad := make([]float32, k)
	order := make([]int, len(data))
	for i := range order {
		order[i] = i
	}
	// Each class weighs the same in the loss, however many examples it has: the corpus has
	// five to twelve times more declines, charges and chatter than questions about when to
	// retry, and people send those too.
	count := make([]int, k)
	for _, v := range data {
		count[v.class]++
	}
	balance := make([]float32, k)
	for class := range k {
		if count[class] > 0 {
			balance[class] = float32(len(data)) / float32(k*count[class])
		}
	}
	for epoch := range set.epochs {
		slices.SortStableFunc(order, func(a, b int) int {
			return cmp.Compare(epochPlace(data[a].place, set.order, epoch), epochPlace(data[b].place, set.order, epoch))
		})
		for _, i := range order {
			v := &data[i]
			c.score(v.rows, v.value, 1, probs)
			for class := range k {
				g := float32(probs[class])
				if class == v.class {
					g--
				}
				grad[class] = g * balance[v.class]
				biasSq[class] += grad[class] * grad[class]
				c.bias[class] -= set.rate * grad[class] / float32(math.Sqrt(float64(biasSq[class]))+1e-6)
			}
			// A row's weights lie side by side: each is updated once per example, from its
			// class's gradient, so going row by row gives the same model as class by class,
			// without striding across all the rows once per class.
			for _, row := range v.rows {
				w, sq := c.weights[int(row)*k:int(row)*k+k], gradSq[int(row)*k:int(row)*k+k]
				for class, g := range grad {
					gw := g*v.value + set.l2*w[class]
					sq[class] += gw * gw
					w[class] -= set.rate * gw / float32(math.Sqrt(float64(sq[class]))+1e-6)
				}
			}
		}
	}
	return c
}

// trainingPlace is where an example comes in training: a hash of what it says and where it
// leads, so that the order looks random but does not depend on the other examples. A shuffle
// of the whole list reordered every example when one was added, and the model, trained in
// another order, moved as much as a change of its settings does (a few points held out);
// this way new examples take their places among the others, which keep their order.
func trainingPlace(ex example) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s", ex.target, ex.text)
	return h.Sum64()
}

// epochPlace mixes an example's place with the order and the epoch (SplitMix64's
// finalizer), so that each epoch goes through the examples in another order.
func epochPlace(place uint64, order uint32, epoch int) uint64 {
	z := place + (uint64(order)<<32|uint64(epoch+1))*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// score fills probs with the softmax of the targets' scores for a text's feature rows, the
// scores multiplied by sharpen.
func (c *classifier) score(rows []int32, value float32, sharpen float64, probs []float64) {
	k := len(c.targets)
	for class := range k {
		probs[class] = float64(c.bias[class])
	}
	for _, row := range rows {
		w := c.weights[int(row)*k : int(row)*k+k]
		for class := range k {
			probs[class] += float64(w[class] * value)
		}
	}
	for class := range k {
		probs[class] *= sharpen
	}
	top := slices.Max(probs)
	var sum float64
	for class := range k {
		probs[class] = math.Exp(probs[class] - top)
		sum += probs[class]
	}
	for class := range k {
		probs[class] /= sum
	}
}

// classify returns the probability of each target for a normalized text, in c.targets'
// order, or false when no feature of the text was seen in training: then the model knows
// nothing about it, and its prior is no answer.
func (c *classifier) classify(normalized string, probs []float64) bool {
	var hashBuf [128]uint64
	var rowBuf [128]int32
	hashes := appendFeatures(hashBuf[:0], normalized)
	rows := rowBuf[:0]
	for _, h := range hashes {
		if row, ok := c.rows[h]; ok {
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		return false
	}
	// Unknown features count in the length: a long text with one known word says less about
	// it than that word alone.
	c.score(rows, float32(1/math.Sqrt(float64(len(hashes)))), c.sharpen, probs)
	return true
}

// Feature kinds, hashed in so that a word and a character n-gram of the same bytes differ.
const (
	featHan byte = iota + 1
	featWord
	featWordPair
	featLetters
)

// appendFeatures appends the distinct features of a normalized text, as FNV-1a hashes:
// Chinese characters alone, in pairs and in threes; English words (digits folded, a final
// "s" but not "ss" dropped), pairs of neighbouring words, and the letter n-grams of longer words.
func appendFeatures(into []uint64, normalized string) []uint64 {
	start := len(into)
	var prevWord string
	var han [3]rune // the last three Han characters, newest last
	hanRun := 0
	for i := 0; i < len(normalized) && len(into)-start < maxFeatures; {
		r, size := utf8.DecodeRuneInString(normalized[i:])
		switch {
		case r == ' ':
			i += size
			continue
		case unicode.Is(unicode.Han, r):
			han[0], han[1], han[2] = han[1], han[2], r
			hanRun++
			into = append(into, hashRunes(featHan, han[2:]))
			if hanRun >= 2 {
				into = append(into, hashRunes(featHan, han[1:]))
			}
			if hanRun >= 3 {
				into = append(into, hashRunes(featHan, han[:]))
			}
			prevWord = ""
			i += size
			continue
		}
		hanRun = 0
		end := i
		for end < len(normalized) && normalized[end] != ' ' {
			r, size := utf8.DecodeRuneInString(normalized[end:])
			if unicode.Is(unicode.Han, r) {
				break
			}
			end += size
		}
		word := foldWord(normalized[i:end])
		into = append(into, hashString(featWord, word, ""))
		if prevWord != "" {
			into = append(into, hashString(featWordPair, prevWord, word))
		}
		if len(into)-start < maxFeatures {
			into = appendLetterGrams(into, word)
		}
		prevWord = word
		i = end
	}
	slices.Sort(into[start:])
	return append(into[:start], slices.Compact(into[start:])...)
}

// foldWord folds digits to 0 ("3ds" and "4ds" are one shape; amounts differ only in size)
// and drops a final "s" (not "ss") from words of four letters or more: plurals mostly, and a
// few words such as "this" and "status", which lose nothing by it.
func foldWord(w string) string {
	if i := indexDigit(w); i >= 0 {
		b := []byte(w)
		for j := i; j < len(b); j++ {
			if b[j] >= '1' && b[j] <= '9' {
				b[j] = '0'
			}
		}
		w = string(b)
	}
	if len(w) >= 4 && w[len(w)-1] == 's' && w[len(w)-2] != 's' {
		w = w[:len(w)-1]
	}
	return w
}

func indexDigit(w string) int {
	for i := 0; i < len(w); i++ {
		if w[i] >= '1' && w[i] <= '9' {
			return i
		}
	}
	return -1
}

// appendLetterGrams appends the letter n-grams of a word of five to maxLetterGramWord
// letters, with its ends marked: "declind" shares most of them with "declined".
func appendLetterGrams(into []uint64, word string) []uint64 {
	if len(word) < 5 || len(word) > maxLetterGramWord || !isASCII(word) {
		return into
	}
	var buf [maxLetterGramWord + 2]byte
	marked := append(append(append(buf[:0], '^'), word...), '$')
	for i := 0; i+letterGramLen <= len(marked); i++ {
		into = append(into, hashBytes(featLetters, marked[i:i+letterGramLen]))
	}
	return into
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashBytes(kind byte, b []byte) uint64 {
	h := (fnvOffset ^ uint64(kind)) * fnvPrime
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

func hashString(kind byte, a, b string) uint64 {
	h := (fnvOffset ^ uint64(kind)) * fnvPrime
	for i := 0; i < len(a); i++ {
		h = (h ^ uint64(a[i])) * fnvPrime
	}
	if b != "" {
		h = (h ^ ' ') * fnvPrime
		for i := 0; i < len(b); i++ {
			h = (h ^ uint64(b[i])) * fnvPrime
		}
	}
	return h
}

func hashRunes(kind byte, rs []rune) uint64 {
	h := (fnvOffset ^ uint64(kind)) * fnvPrime
	for _, r := range rs {
		h = (h ^ uint64(r)) * fnvPrime
	}
	return h
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
