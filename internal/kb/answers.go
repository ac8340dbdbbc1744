package kb

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// answer is a question people ask about a solution while trying it ("which bank should I
// call?", "要手续费吗？"), as a phrase file lists it: the phrases that ask it, in the file's
// language. The locale message SolutionAnswer(Solution, ID) answers it.
type answer struct {
	Solution string   `toml:"solution"`
	ID       string   `toml:"id"`
	Asks     []string `toml:"asks"`
}

// ask is one phrase that asks a question about a solution, folded, and the message that
// answers it.
type ask struct{ phrase, message string }

// SolutionAnswer is the ID of the message that answers question id about solution.
func SolutionAnswer(solution, id string) string { return "solution." + solution + ".answer." + id }

var answerID = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// addAnswer takes in a phrase file's answer a.
func (k *KB) addAnswer(a answer) error {
	switch {
	case !slices.Contains(k.Solutions, a.Solution):
		return fmt.Errorf("answer %q: unknown solution %q", a.ID, a.Solution)
	case !answerID.MatchString(a.ID):
		return fmt.Errorf("answer %q of %s: an id is lower-case words joined by hyphens", a.ID, a.Solution)
	case len(a.Asks) == 0:
		return fmt.Errorf("answer %q of %s: no phrase asks it", a.ID, a.Solution)
	}
	if k.asks == nil {
		k.asks = map[string][]ask{}
	}
	for _, p := range a.Asks {
		n := Normalize(p)
		if n == "" {
			return fmt.Errorf("answer %q of %s: phrase %q is empty once normalized", a.ID, a.Solution, p)
		}
		k.asks[a.Solution] = append(k.asks[a.Solution], ask{n, SolutionAnswer(a.Solution, a.ID)})
	}
	return nil
}

// checkAnswers checks that every answer the phrase files ask for exists in at least one
// language and needs no data, and keeps it rendered, as the flow's fixed messages are. A
// language may lack answers (one an operator adds, say): there, questions are read as any
// other text.
func (k *KB) checkAnswers() error {
	var problems []string
	for sol, asks := range k.asks {
		// The longest phrase first: "how long" before "long".
		slices.SortStableFunc(asks, func(a, b ask) int { return byLengthDown(a.phrase, b.phrase) })
		k.asks[sol] = asks
		for _, a := range asks {
			found := false
			for _, lang := range k.Languages() {
				key := textKey{lang, a.message}
				if _, done := k.fixed[key]; done {
					found = true
					continue
				}
				if k.sources[key] == nil {
					continue
				}
				found = true
				t, ok := compileFieldTemplate(k.sources[key], k.localizers[lang], a.message)
				if !ok || len(t.fields) > 0 {
					problems = append(problems, fmt.Sprintf("locale %s: message %q: an answer takes no fields", lang, a.message))
					continue
				}
				k.fixed[key] = t.text[0]
			}
			if !found {
				problems = append(problems, fmt.Sprintf("message %q, which a phrase file asks, is in no locale", a.message))
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(slices.Compact(problems), "; "))
	}
	return nil
}

// QuestionAbout returns the answer in lang to text, when text is a question about solution
// that the phrase files list ("which bank should I call?" while the bank is to be called)
// and lang has its answer. A question is a text with a question mark, one that begins with a word of
// the phrase files' interrogatives ("which", "how"), or one holding a Chinese one (吗, 多久)
// anywhere.
func (k *KB) QuestionAbout(lang, solution, text string) (string, bool) {
	asks := k.asks[solution]
	if len(asks) == 0 {
		return "", false
	}
	norm := Normalize(text)
	if !k.isQuestion(text, norm) {
		return "", false
	}
	for _, a := range asks {
		if containsPhrase(norm, a.phrase) {
			answer, ok := k.fixed[textKey{lang, a.message}]
			return answer, ok
		}
	}
	return "", false
}

// isQuestion reports whether text, folded as norm, asks something.
func (k *KB) isQuestion(text, norm string) bool {
	if strings.ContainsAny(text, "?？") {
		return true
	}
	first, _, _ := strings.Cut(k.withoutLeadingCourtesy(norm), " ")
	for _, q := range k.interrogatives {
		if r, _ := utf8.DecodeRuneInString(q); unicode.Is(unicode.Han, r) {
			if strings.Contains(norm, q) {
				return true
			}
		} else if first == q {
			return true
		}
	}
	return false
}

// withoutLeadingCourtesy is norm without the thanks and greetings it begins with ("ok so",
// "thanks, which"): what the person goes on to say.
func (k *KB) withoutLeadingCourtesy(norm string) string {
	for {
		rest, found := norm, false
		for _, p := range k.courtesyWords {
			if after, ok := strings.CutPrefix(norm, p); ok && (after == "" || after[0] == ' ') {
				rest, found = strings.TrimLeft(after, " "), true
				break
			}
		}
		if !found {
			return norm
		}
		norm = rest
	}
}
