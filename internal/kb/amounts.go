package kb

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// amount is how a phrase file reads a sum of money typed at a question of the flow ("$20",
// "20刀", "150 元"): the words that name one currency, and the largest sum in it that picks
// Option. A larger one gets the question's answer Help, which says how to compare it with
// the card's limit: a sum alone does not tell.
type amount struct {
	Question string   `toml:"question"`
	Option   string   `toml:"option"`
	Help     string   `toml:"help"`
	AtMost   float64  `toml:"at_most"`
	Words    []string `toml:"words"`
	// Bare: a number typed alone is in this currency.
	Bare bool `toml:"bare"`
}

// currencyWord is one word of an amount, folded as sumText folds text.
type currencyWord struct {
	word   string
	amount *amount
}

// sumText folds text for reading sums: width and case, and nothing else, since Normalize
// drops the currency signs ($, ¥) and the decimal point.
func sumText(text string) string { return strings.ToLower(width.Fold.String(text)) }

// addAmount takes in a phrase file's amount a.
func (k *KB) addAmount(a amount) error {
	q := k.questions[a.Question]
	switch {
	case q == nil:
		return fmt.Errorf("amount: unknown question %q", a.Question)
	case a.AtMost <= 0:
		return fmt.Errorf("amount %s/%s: at_most must be above 0", a.Question, a.Option)
	case len(a.Words) == 0:
		return fmt.Errorf("amount %s/%s: no word names its currency", a.Question, a.Option)
	case a.Help == "":
		return fmt.Errorf("amount %s/%s: no help for a larger sum", a.Question, a.Option)
	}
	if _, ok := q.Option(a.Option); !ok {
		return fmt.Errorf("amount: question %q has no option %q", a.Question, a.Option)
	}
	if k.amounts == nil {
		k.amounts = map[string][]currencyWord{}
	}
	for _, w := range a.Words {
		folded := strings.TrimSpace(sumText(w))
		if folded == "" || strings.ContainsFunc(folded, unicode.IsDigit) {
			return fmt.Errorf("amount %s/%s: word %q is empty or holds a digit", a.Question, a.Option, w)
		}
		k.amounts[a.Question] = append(k.amounts[a.Question], currencyWord{folded, &a})
	}
	// The longest first, so that 美元 is not read as 元 nor "us$" as "$".
	slices.SortStableFunc(k.amounts[a.Question], func(x, y currencyWord) int {
		return cmp.Compare(len(y.word), len(x.word))
	})
	return nil
}

// checkAmounts checks that the help of every amount is an answer the phrase files list for
// its question.
func (k *KB) checkAmounts() error {
	for question, words := range k.amounts {
		for _, w := range words {
			message := QuestionAnswer(question, w.amount.Help)
			if !slices.ContainsFunc(k.asks["question."+question], func(a ask) bool { return a.message == message }) {
				return fmt.Errorf("%w: amount %s/%s: help %q is no answer of the phrase files", ErrInvalid, question, w.amount.Option, w.amount.Help)
			}
		}
	}
	return nil
}

// sumNumber finds the numbers of a text folded by sumText: digits, with thousands
// separators, decimals and a multiplier ("1,000", "1.5k", "2万"), or Chinese numerals (二十,
// 一百五十, 几十). sumEnd is what may end a text that is a number alone ("20!", "20。").
var (
	sumNumber = regexp.MustCompile(`(\d+(?:,\d{3})*(?:\.\d+)?)\s*(k\b|千|万)?|[零一二两三四五六七八九十百千万几]+`)
	sumEnd    = " !.。！~,，"
)

// typedAmount reads text, sent while question is asked, as sums of money: the option they
// pick when all are at most their currency's figure, or else the message that helps
// compare them, and the clauses of text without sums, one per line ("20刀，被拒" is small,
// and says 被拒 besides). A clause reads so when every number in digits in it names its
// currency ("$20", "20刀"; a Chinese numeral counts only where it does: 一共 is no sum), or
// is a number alone in the currency marked bare, and what it says besides the sums is short,
// asks nothing and denies nothing ("I paid $20"; not "3 times", nor "not $20?").
func (k *KB) typedAmount(question, text string) (option, helpMessage, besides string) {
	words := k.amounts[question]
	if len(words) == 0 {
		return "", "", ""
	}
	var sums []*amount
	var values []float64
	var others []string
	for _, clause := range clauses(thousands.ReplaceAllString(text, "$1$2")) {
		found, foundValues, rest, ok := readSums(words, sumText(clause))
		if !ok {
			return "", "", ""
		}
		if len(found) == 0 {
			others = append(others, strings.TrimSpace(clause))
			continue
		}
		norm := Normalize(rest)
		if !k.short(norm) || k.isQuestion(rest, norm) || k.denied(norm) {
			return "", "", ""
		}
		sums, values = append(sums, found...), append(values, foundValues...)
	}
	if len(sums) == 0 {
		return "", "", ""
	}
	for i, a := range sums {
		if values[i] > a.AtMost {
			return "", QuestionAnswer(question, a.Help), ""
		}
		if a.Option != sums[0].Option {
			return "", "", ""
		}
	}
	return sums[0].Option, "", strings.Join(others, "\n")
}

// thousands finds the separators of thousands, which clauses would split at.
var thousands = regexp.MustCompile(`(\d),(\d{3})`)

// readSums reads the sums of s, a clause folded by sumText, in the currencies of words: the
// amounts and values found and what s says besides them. It reports false when s holds a
// number in digits that is no sum.
func readSums(words []currencyWord, s string) (sums []*amount, values []float64, rest string, ok bool) {
	var b strings.Builder
	at := 0
	alone := strings.TrimLeft(strings.TrimRight(s, sumEnd), " ~")
	for _, m := range sumNumber.FindAllStringSubmatchIndex(s, -1) {
		value := numberValue(s, m)
		if alone == strings.TrimSpace(s[m[0]:m[1]]) {
			for _, w := range words {
				if w.amount.Bare {
					return []*amount{w.amount}, []float64{value}, "", true
				}
			}
			return nil, nil, "", m[2] < 0
		}
		start, end, a := currencyAround(words, s, at, m[0], m[1])
		switch {
		case a == nil && m[2] < 0:
			continue // a Chinese numeral that is no sum: 一共, 三次
		case a == nil:
			return nil, nil, "", false
		}
		b.WriteString(s[at:start])
		b.WriteByte(' ')
		sums, values = append(sums, a), append(values, value)
		at = end
	}
	b.WriteString(s[at:])
	return sums, values, b.String(), true
}

// numberValue is the value of the number sumNumber matched at m in s.
func numberValue(s string, m []int) float64 {
	if m[2] < 0 {
		return chineseNumber(s[m[0]:m[1]])
	}
	// A number too long for a float64 reads as infinity, more than any figure.
	v, _ := strconv.ParseFloat(strings.ReplaceAll(s[m[2]:m[3]], ",", ""), 64)
	if m[4] >= 0 {
		v *= multipliers[s[m[4]:m[5]]]
	}
	return v
}

var (
	multipliers   = map[string]float64{"k": 1e3, "千": 1e3, "万": 1e4}
	chineseDigits = map[rune]float64{'零': 0, '一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9, '几': 9}
	chineseUnits  = map[rune]float64{'十': 10, '百': 100, '千': 1000}
)

// chineseNumber is the value of Chinese numerals (二十, 一百五十, 两万). 几 ("a few") counts as
// nine: 几十块 is under a hundred, 几百块 may be many hundreds.
func chineseNumber(numerals string) float64 {
	var total, section float64
	digit := -1.0 // none yet
	for _, r := range numerals {
		if unit, ok := chineseUnits[r]; ok {
			if digit < 0 {
				digit = 1 // 十五 is fifteen
			}
			section += digit * unit
			digit = -1
		} else if r == '万' {
			total += (section + max(digit, 0)) * 1e4
			section, digit = 0, -1
		} else {
			digit = chineseDigits[r]
		}
	}
	return total + section + max(digit, 0)
}

// currencyAround finds a currency word right before the number s[from:to] (after at) or
// right after it, and returns where the sum with its word starts and ends, or a nil amount.
func currencyAround(words []currencyWord, s string, at, from, to int) (start, end int, a *amount) {
	before := strings.TrimRight(s[at:from], " ")
	after := strings.TrimLeft(s[to:], " ")
	for _, w := range words {
		if strings.HasSuffix(before, w.word) && wordEdge(before[:len(before)-len(w.word)], w.word, true) {
			return len(before) - len(w.word) + at, to, w.amount
		}
		if strings.HasPrefix(after, w.word) && wordEdge(after[len(w.word):], w.word, false) {
			return from, len(s) - len(after) + len(w.word), w.amount
		}
	}
	return 0, 0, nil
}

// wordEdge reports whether a currency word ends where a word does, given the text beside
// it: "usd" is no currency in "usda", nor "$" anywhere but by a number. A Chinese word or
// a sign needs no edge.
func wordEdge(beside, word string, beforeWord bool) bool {
	var r rune
	if beforeWord {
		r, _ = utf8.DecodeLastRuneInString(beside)
	} else {
		r, _ = utf8.DecodeRuneInString(beside)
	}
	first, _ := utf8.DecodeRuneInString(word)
	if !unicode.IsLetter(first) || unicode.Is(unicode.Han, first) {
		return true
	}
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}
