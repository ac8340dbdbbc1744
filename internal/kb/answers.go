package kb

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// answer is a question people ask about a solution while trying it ("which bank should I
// call?", "要手续费吗？"), or about a question of the flow while it is asked ("how do I tell
// which card it is?"), as a phrase file lists it: the phrases that ask it, in the file's
// language. The locale message SolutionAnswer or QuestionAnswer answers it.
type answer struct {
	Solution string   `toml:"solution"`
	Question string   `toml:"question"`
	ID       string   `toml:"id"`
	Asks     []string `toml:"asks"`
	// Tells are phrases that call for the answer without asking: "还没回复" told while
	// support is to be contacted wants to know what to do meanwhile as much as "why no
	// reply?" does.
	Tells []string `toml:"tells"`
}

// ask is one phrase that asks a question, or tells what calls for its answer, folded, and
// the message that answers it.
type ask struct {
	phrase, message string
	told            bool
}

// SolutionAnswer is the ID of the message that answers question id about solution.
func SolutionAnswer(solution, id string) string { return "solution." + solution + ".answer." + id }

// QuestionAnswer is the ID of the message that answers question id about the flow's
// question.
func QuestionAnswer(question, id string) string { return "question." + question + ".answer." + id }

var answerID = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// addAnswer takes in a phrase file's answer a.
func (k *KB) addAnswer(a answer) error {
	var about, message string
	switch {
	case (a.Solution == "") == (a.Question == ""):
		return fmt.Errorf("answer %q: it answers a question about a solution or about a question of the flow, one of them", a.ID)
	case a.Solution != "" && !slices.Contains(k.Solutions, a.Solution):
		return fmt.Errorf("answer %q: unknown solution %q", a.ID, a.Solution)
	case a.Question != "" && k.questions[a.Question] == nil:
		return fmt.Errorf("answer %q: unknown question %q", a.ID, a.Question)
	case !answerID.MatchString(a.ID):
		return fmt.Errorf("answer %q: an id is lower-case words joined by hyphens", a.ID)
	case len(a.Asks) == 0 && len(a.Tells) == 0:
		return fmt.Errorf("answer %q: no phrase asks it", a.ID)
	case a.Question != "" && len(a.Tells) > 0:
		return fmt.Errorf("answer %q: what is told at a question of the flow is a typed answer, not tells", a.ID)
	case a.Solution != "":
		about, message = "solution."+a.Solution, SolutionAnswer(a.Solution, a.ID)
	default:
		about, message = "question."+a.Question, QuestionAnswer(a.Question, a.ID)
	}
	if k.asks == nil {
		k.asks = map[string][]ask{}
	}
	// A phrase it tells is asked too: listed in both, the asked one can be found first, and a
	// short text that tells it ("我没有paypal账号") gets no answer.
	if both := slices.IndexFunc(a.Tells, func(p string) bool { return slices.Contains(a.Asks, p) }); both >= 0 {
		return fmt.Errorf("answer %q: %q is in asks and tells; tells is enough", a.ID, a.Tells[both])
	}
	for _, list := range []struct {
		phrases []string
		told    bool
	}{{a.Asks, false}, {a.Tells, true}} {
		phrases, err := folded(list.phrases)
		if err != nil {
			return fmt.Errorf("answer %q: %v", a.ID, err)
		}
		for _, p := range phrases {
			// One phrase for two answers: the first listed would always win.
			if i := slices.IndexFunc(k.asks[about], func(other ask) bool { return other.phrase == p && other.message != message }); i >= 0 {
				return fmt.Errorf("answer %q: %q asks %s already", a.ID, p, k.asks[about][i].message)
			}
			k.asks[about] = append(k.asks[about], ask{p, message, list.told})
		}
	}
	return nil
}

// folded is phrases as Normalize folds them, or an error naming one that folds to nothing.
func folded(phrases []string) ([]string, error) {
	out := make([]string, len(phrases))
	for i, p := range phrases {
		if out[i] = Normalize(p); out[i] == "" {
			return nil, fmt.Errorf("phrase %q is empty once normalized", p)
		}
	}
	return out, nil
}

// topic is a solution or an outcome as a phrase file names it: the words that say a text is
// about it ("paypal", "虚拟卡"; "支付宝", "wechat"). A question naming a solution is not taken
// for a question about another solution shown; an outcome with words is read from free text
// only when the text holds one (see Unnamed).
type topic struct {
	Solution string   `toml:"solution"`
	Outcome  string   `toml:"outcome"`
	Words    []string `toml:"words"`
}

// addTopic takes in a phrase file's topic t.
func (k *KB) addTopic(t topic) error {
	words, err := folded(t.Words)
	if err != nil {
		return fmt.Errorf("topic %s%s: %v", t.Solution, t.Outcome, err)
	}
	switch {
	case t.Outcome != "" && t.Solution == "":
		if _, ok := k.outcomes[t.Outcome]; !ok {
			return fmt.Errorf("topic: unknown outcome %q", t.Outcome)
		}
		if k.outcomeTopics == nil {
			k.outcomeTopics = map[string][]string{}
		}
		k.outcomeTopics[t.Outcome] = append(k.outcomeTopics[t.Outcome], words...)
		return nil
	case !slices.Contains(k.Solutions, t.Solution) || t.Outcome != "":
		return fmt.Errorf("topic: want one known solution or outcome, got solution %q, outcome %q", t.Solution, t.Outcome)
	}
	if k.topics == nil {
		k.topics = map[string][]string{}
	}
	k.topics[t.Solution] = append(k.topics[t.Solution], words...)
	return nil
}

// Unnamed reports whether outcome has words of its own in the phrase files and text holds
// none of them: "支付不成功" is no wallet-only payment, whatever the 支付 of 支付宝 taught the
// model.
func (k *KB) Unnamed(outcome, text string) bool {
	words, ok := k.outcomeTopics[outcome]
	return ok && !containsAny(Normalize(text), words)
}

// typed is a typed answer to a question of the flow, as a phrase file lists it: the
// phrases that pick Option of Question ("no", "没开通", "it's a Visa").
type typed struct {
	Question string   `toml:"question"`
	Option   string   `toml:"option"`
	Says     []string `toml:"says"`
	// Over are the options these phrases win over when a text holds phrases of both: a Visa
	// from Hong Kong is a foreign card, not a Chinese Visa.
	Over []string `toml:"over"`
	// Alone: these phrases count only as the whole text, thanks aside. "no" answers; the
	// "no" of "money was taken but no credits" does not.
	Alone bool `toml:"alone"`
	// InSentences: these phrases answer the question in a clause of any message too (see
	// AnsweredOtherwise). "已经开通了" states a fact wherever it is written; "virtual card"
	// in "I have a bank card and a virtual card" is no answer about the card used.
	InSentences bool `toml:"in_sentences"`
}

// say is one phrase that picks an option, folded, the options it wins over, and whether it
// counts only alone.
type say struct {
	phrase, option     string
	over               []string
	alone, inSentences bool
}

// addTyped takes in a phrase file's typed answer t.
func (k *KB) addTyped(t typed) error {
	q := k.questions[t.Question]
	if q == nil {
		return fmt.Errorf("typed answer: unknown question %q", t.Question)
	}
	if _, ok := q.Option(t.Option); !ok {
		return fmt.Errorf("typed answer: question %q has no option %q", t.Question, t.Option)
	}
	for _, o := range t.Over {
		if _, ok := q.Option(o); !ok || o == t.Option {
			return fmt.Errorf("typed answer %s/%s: it wins over %q, no other option of the question", t.Question, t.Option, o)
		}
	}
	phrases, err := folded(t.Says)
	if err != nil {
		return fmt.Errorf("typed answer %s/%s: %v", t.Question, t.Option, err)
	}
	if k.says == nil {
		k.says = map[string][]say{}
	}
	for _, p := range phrases {
		k.says[t.Question] = append(k.says[t.Question], say{p, t.Option, t.Over, t.Alone, t.InSentences})
	}
	return nil
}

// subject is what a phrase file lists of the words that name what a question of the flow
// asks about, and what a solution is about ("overseas payments", 境外支付). An answer that
// repeats them ("overseas payments are already enabled in my bank app") says no more than one
// that does not ("already enabled"): counted as what it says besides, they made the first
// too long to be an answer.
type subject struct {
	Question string   `toml:"question"`
	Solution string   `toml:"solution"`
	Words    []string `toml:"words"`
}

// addSubject takes in a phrase file's subject s, kept under the keys its answers are: the
// question's, and the verdicts' of the solution.
func (k *KB) addSubject(s subject) error {
	var keys []string
	switch {
	case s.Question == "" && s.Solution == "":
		return fmt.Errorf("subject: of no question of the flow and no solution")
	case s.Question != "" && k.questions[s.Question] == nil:
		return fmt.Errorf("subject: unknown question %q", s.Question)
	case s.Solution != "" && !slices.Contains(k.Solutions, s.Solution):
		return fmt.Errorf("subject: unknown solution %q", s.Solution)
	}
	if s.Question != "" {
		keys = append(keys, s.Question)
	}
	if s.Solution != "" {
		keys = append(keys, solutionVerdictKey(s.Solution))
	}
	words, err := folded(s.Words)
	if err != nil {
		return fmt.Errorf("subject of %v: %v", keys, err)
	}
	if k.subjects == nil {
		k.subjects = map[string][]string{}
	}
	for _, key := range keys {
		k.subjects[key] = append(k.subjects[key], words...)
	}
	return nil
}

// maxRest is how much a typed answer or a request for help may say besides the phrases that
// make it one and thanks, in letters, a Chinese character counting as three ("it's a" and
// "from ICBC" of "it's a Visa from ICBC", 应该 and 吧 of 应该没开吧): more is a message of its
// own ("visa，钱扣了但是账户没到账"), for the model to read.
const maxRest = 24

// AtQuestion reads text sent while question, a question of the flow, is asked. It returns
// the option text picks, when text is a short answer whose phrases all pick that one ("no",
// "不知道", "it's a Visa from ICBC"); or else the help in lang with question, when text is a
// short request for it ("how do I tell?", "I don't know"); or neither. A request for help
// that holds an answer's phrase is help when the answer goes with the request: "no idea" is
// not "no", "Visa credit card from CMB" is a Visa. A text that asks besides its answer's
// phrases ("what is a virtual card?") picks no option, and neither does one that denies an
// answer that does not deny ("I did not" is not "I did", 不是银联 not 银联). A one-character
// Chinese answer (是, 有, 对) counts only alone: the character is in most sentences. A text
// that picks no option may still be a sum of money the phrase files read (see typedAmount).
//
// besides are the clauses of text without the option's phrases, one per line: "是的，但是扣了
// 钱没到账" answers yes, and besides tells of money taken.
func (k *KB) AtQuestion(lang, question, text string) (option, help, besides string) {
	asks := k.asks["question."+question]
	if len(asks) == 0 && len(k.says[question]) == 0 && len(k.amounts[question]) == 0 {
		return "", "", "" // the start menu's question: the model reads what people type there
	}
	norm := Normalize(text)
	option, picking := k.typedOption(question, text, norm)
	if a, asked := firstAsked(asks, norm); asked {
		withoutAsk := withoutPhrases(norm, []string{a.phrase})
		if again, _ := k.typedOption(question, text, withoutAsk); k.short(withoutAsk) && (option == "" || again != option) {
			if help, ok := k.fixed[textKey{lang, a.message}]; ok {
				return "", help, ""
			}
		}
	}
	if option == "" {
		option, message, besides := k.typedAmount(question, text)
		if message != "" {
			return "", k.fixed[textKey{lang, message}], ""
		}
		return option, "", besides
	}
	var others []string
	for _, clause := range clauses(text) {
		if !containsAny(Normalize(clause), picking) {
			others = append(others, strings.TrimSpace(clause))
		}
	}
	return option, "", strings.Join(others, "\n")
}

// AnsweredOtherwise finds, in text that the model reads as leading to outcome, a typed answer
// to a question on the way there that rules outcome out: "我已经开通了境外支付，还是被拒绝" reads
// as a card that blocks payments abroad, yet answers "Is overseas online payment enabled?"
// with yes, after which the flow never reaches that cause. It returns the question and the
// option, read clause by clause as AtQuestion reads typed answers.
func (k *KB) AnsweredOtherwise(outcome, text string) (question, option string, ok bool) {
	if outcome == "" {
		return "", "", false
	}
	var norm string
	for _, qid := range k.questionOrder {
		q := k.questions[qid]
		if !k.ahead[qid][outcome] && !slices.ContainsFunc(q.Options, func(o Option) bool { return o.Outcome == outcome }) {
			continue
		}
		if norm == "" {
			norm = Normalize(text)
		}
		for _, picked := range k.answersInSentences(qid, text, norm) {
			o, _ := q.Option(picked)
			if o.Outcome == outcome || o.Next != "" && k.ahead[o.Next][outcome] {
				continue
			}
			return qid, picked, true
		}
	}
	return "", "", false
}

// AnsweredInSentences is the option of question that a clause of text picks by the phrases
// that answer in sentences, if any: after the answer to one question, a message that told
// several facts ("招行visa，境外支付已开，收到短信也输入了，还是被拒") answers the next too.
func (k *KB) AnsweredInSentences(question, text string) (string, bool) {
	options := k.answersInSentences(question, text, Normalize(text))
	if len(options) == 0 {
		return "", false
	}
	return options[0], true
}

// FactAnswer is the first question of the flow, and its option, that a clause of text answers
// by the phrases that answer in sentences ("overseas payments enabled", 用的是虚拟卡): the
// person tells their case. "" when none.
func (k *KB) FactAnswer(text string) (question, option string) {
	norm := Normalize(text)
	for _, q := range k.questionOrder {
		if options := k.answersInSentences(q, text, norm); len(options) > 0 {
			return q, options[0]
		}
	}
	return "", ""
}

// answersInSentences are the options of question that the clauses of text, folded as norm,
// pick by the phrases that answer in sentences, in the clauses' order.
func (k *KB) answersInSentences(question, text, norm string) []string {
	// Most messages hold no phrase that answers in sentences: spare them the clauses.
	if !slices.ContainsFunc(k.says[question], func(s say) bool { return s.inSentences && containsPhrase(norm, s.phrase) }) {
		return nil
	}
	var options []string
	for _, clause := range Clauses(text) {
		if picked, _ := k.typedOptionIn(question, clause, Normalize(clause), false); picked != "" {
			options = append(options, picked)
		}
	}
	return options
}

// contrast ends a clause where a message turns against what came before: "I already enabled
// overseas payments but my card is still declined".
var contrast = regexp.MustCompile(`(?i)\b(?:but|however|even though|although)\b|但是|可是|不过|但`)

// TurnsAgainst reports whether text holds a word that turns it against what came before
// ("but", 但是).
func TurnsAgainst(text string) bool { return contrast.MatchString(text) }

// AfterContrast is what text says after the last word that turns it against what came before
// ("it worked but I was charged twice": "I was charged twice"), or "" when none does.
func AfterContrast(text string) string {
	m := contrast.FindAllStringIndex(text, -1)
	if len(m) == 0 {
		return ""
	}
	return strings.TrimSpace(text[m[len(m)-1][1]:])
}

// Clauses is text split at the punctuation that ends a sentence or a clause and at the words
// that turn it ("but", 但是): "no. now it says authentication_required" is two.
func Clauses(text string) []string {
	var out []string
	for _, clause := range clauses(text) {
		out = append(out, contrast.Split(clause, -1)...)
	}
	return out
}

// typedOption is the option of question that text, folded as norm, picks, or "", and the
// phrases that picked it.
func (k *KB) typedOption(question, text, norm string) (string, []string) {
	return k.typedOptionIn(question, text, norm, true)
}

// typedOptionIn is typedOption; unless whole says text is the whole message, only the
// phrases that answer in sentences count.
func (k *KB) typedOptionIn(question, text, norm string, whole bool) (string, []string) {
	says := k.says[question]
	if len(says) == 0 || strings.ContainsAny(text, "?？") {
		return "", nil
	}
	alone := strings.TrimSpace(withoutPhrases(norm, k.courtesyWords))
	rest, picked := norm, ""
	var found, over []string
	for _, s := range says {
		if (s.alone || oneHan(s.phrase)) && alone != s.phrase || !whole && !s.inSentences {
			continue
		}
		if !containsPhrase(rest, s.phrase) {
			continue
		}
		// The phrase found first (the longest) wins a tie: "still declined" of "still
		// declined, will try later" over "will try", "我试试" of "是的我试试" over "是的".
		switch {
		case picked == "":
			picked, over = s.option, s.over
		case picked == s.option:
			over = slices.Concat(over, s.over) // not append: over may be a phrase file's own list
		case slices.Contains(over, s.option):
		case slices.Contains(s.over, picked):
			picked, over = s.option, s.over
		default:
			return "", nil // "not sure, maybe yes": two answers, none picked
		}
		rest = withoutPhrases(rest, []string{s.phrase})
		found = append(found, s.phrase)
	}
	// What is left asks ("is mastercard ok", 虚拟卡是什么): a question about the option, not
	// the option. Only what is left: 还没 and 几美元 answer.
	if picked == "" || !k.short(withoutPhrases(rest, k.subjects[question])) || k.isQuestion("", rest) || k.deniesAnswer(text, found) {
		return "", nil
	}
	return picked, found
}

// deniesAnswer reports whether a clause of text that holds one of the phrases found denies
// besides them: "I haven't enabled it" is no "enabled", while in "开通了，但还是失败" the
// failure is another clause's.
func (k *KB) deniesAnswer(text string, found []string) bool {
	if k.negated(strings.Join(found, " ")) {
		return false // "no I haven't": the answer denies already
	}
	for _, clause := range clauses(text) {
		norm := Normalize(clause)
		if containsAny(norm, found) && k.denied(withoutPhrases(withoutPhrases(norm, found), k.affirmations)) {
			return true
		}
	}
	return false
}

// checkAnswers checks that every answer the phrase files ask for exists in at least one
// language and needs no data, and keeps it rendered, as the flow's fixed messages are. A
// language may lack answers (one an operator adds, say): there, questions are read as any
// other text.
func (k *KB) checkAnswers() error {
	messages := map[string]bool{}
	for _, asks := range k.asks {
		for _, a := range asks {
			messages[a.message] = true
		}
	}
	var problems []string
	for _, message := range slices.Sorted(maps.Keys(messages)) {
		found := false
		for _, lang := range k.Languages() {
			key := textKey{lang, message}
			if k.sources[key] == nil {
				continue
			}
			found = true
			t, ok := compileFieldTemplate(k.sources[key], k.localizers[lang], message)
			if !ok || len(t.fields) > 0 {
				problems = append(problems, fmt.Sprintf("locale %s: message %q: an answer takes no fields", lang, message))
				continue
			}
			k.fixed[key] = t.text[0]
		}
		if !found {
			problems = append(problems, fmt.Sprintf("message %q, which a phrase file asks, is in no locale", message))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

// QuestionAbout returns the answer in lang to text, when text is a question about solution
// that the phrase files list ("which bank should I call?" while the bank is to be called)
// and lang has its answer. A question is a text with a question mark; one that begins, past
// thanks and openers ("so", "quick question"), with an interrogative of the phrase files
// ("which", "how"); one holding a Chinese one (吗, 多久) or the form 收不收 anywhere; or one that
// is nothing but what it asks ("phone number", 手续费); and a short text that tells what an
// answer's tells list (三天了还没回复). A text that names another solution
// ("does PayPal charge a fee?") asks about that one, not this, unless the phrase that asks
// holds the name: "can I just use another card?" while OpenAI's support has money taken asks
// whether to pay again.
//
// besides is what text says besides the phrases that ask about solution and thanks, folded,
// or nothing when it supposes (conditionals: "if", 的话):
// "I was charged a fee but the payment failed?" without "fee" still describes money taken, a
// problem of its own; "did it in the app but it still gets declined" without "app" a failure.
func (k *KB) QuestionAbout(lang, solution, text string) (answer, besides string, ok bool) {
	return k.questionAbout(lang, solution, text, false)
}

// ToldOrAskedAbout is QuestionAbout, where what a tells list holds calls for its answer
// however much is said around it: while money taken is with OpenAI's support, "they said
// theyll refund but its not in my account yet" wants to know what to do meanwhile, and read
// for a verdict it ended the help.
func (k *KB) ToldOrAskedAbout(lang, solution, text string) (answer, besides string, ok bool) {
	return k.questionAbout(lang, solution, text, true)
}

func (k *KB) questionAbout(lang, solution, text string, toldAtAnyLength bool) (answer, besides string, ok bool) {
	asks := k.asks["solution."+solution]
	if len(asks) == 0 {
		return "", "", false
	}
	norm := Normalize(text)
	a, found := firstAsked(asks, norm)
	if !found || len(k.OthersNamed(solution, text)) > 0 && !k.namedOnlyAsking(solution, a.phrase, norm) {
		return "", "", false
	}
	phrases := make([]string, len(asks))
	for i, other := range asks {
		phrases[i] = other.phrase
	}
	besides = withoutPhrases(withoutPhrases(norm, phrases), k.courtesyWords)
	if !k.isQuestion(text, norm) && strings.TrimSpace(besides) != "" &&
		!(a.told && (toldAtAnyLength || k.short(withoutPhrases(besides, k.subjects[solutionVerdictKey(solution)])))) {
		return "", "", false
	}
	if containsAny(norm, k.conditionals) {
		besides = "" // "is there a fee if it still fails?" tells of no failure
	}
	if answer, ok = k.fixed[textKey{lang, a.message}]; !ok || !k.isQuestion(text, norm) {
		return answer, besides, ok // told, one thing is: "I sent an email 3 days ago and still no reply" asks nothing of email
	}
	return k.answersIn(lang, a, asks, norm), besides, true
}

// maxAnswers is how many questions about one solution a text gets answered at once: "which
// provider should I use, what are the fees, is it safe?" is three.
const maxAnswers = 3

// answersIn is the answer in lang to first, the question of asks found first, and to each
// other that the question norm asks, in the order it asks them, each once, one paragraph
// each. Answered one, "which provider? what are the fees? is it safe?" got where to find a
// card and nothing of fees or safety.
func (k *KB) answersIn(lang string, first ask, asks []ask, norm string) string {
	type found struct {
		at      int
		message string
	}
	var all []found
	rest := norm
	for _, a := range asks { // the longest phrase first: "how long" before "long"
		if a != first && a.told || !containsPhrase(rest, a.phrase) {
			continue
		}
		rest = withoutPhrases(rest, []string{a.phrase})
		if !slices.ContainsFunc(all, func(f found) bool { return f.message == a.message }) {
			all = append(all, found{indexPhrase(norm, a.phrase), a.message})
		}
	}
	slices.SortStableFunc(all, func(a, b found) int { return cmp.Compare(a.at, b.at) })
	var answers []string
	for _, f := range all[:min(len(all), maxAnswers)] {
		if answer, ok := k.fixed[textKey{lang, f.message}]; ok {
			answers = append(answers, answer)
		}
	}
	return strings.Join(answers, "\n\n")
}

// namedOnlyAsking reports whether the other solutions that norm names are named only by
// phrase, which asks about solution.
func (k *KB) namedOnlyAsking(solution, phrase, norm string) bool {
	return len(k.OthersNamed(solution, phrase)) > 0 && len(k.OthersNamed(solution, withoutPhrases(norm, []string{phrase}))) == 0
}

// WithoutTopic is text without the words that name solution (see QuestionAbout), folded,
// and whether it held one: what "paypal worked!" says of PayPal while PayPal is shown.
func (k *KB) WithoutTopic(solution, text string) (rest string, named bool) {
	norm := Normalize(text)
	rest = withoutPhrases(norm, k.topics[solution])
	return strings.TrimSpace(rest), rest != norm
}

// OthersNamed are the solutions other than solution that text names by a word of the phrase
// files' topics ("virtual card" while PayPal is shown), in the order of the knowledge base.
func (k *KB) OthersNamed(solution, text string) []string {
	// "Your card was declined. Try a different card." quoted: the checkout's advice names the
	// card solution, which the person did not try.
	norm := withoutPhrases(Normalize(text), k.checkoutAdvice)
	var others []string
	for _, other := range k.Solutions {
		if other != solution && containsAny(norm, k.topics[other]) {
			others = append(others, other)
		}
	}
	return others
}

// AnswersTheFlow reports whether text, as a whole, is a typed answer to a question of the flow
// ("it's a CCB Mastercard", 没开通): it describes the person's case rather than asks for help.
func (k *KB) AnswersTheFlow(text string) bool {
	q, _ := k.FlowAnswer(text)
	return q != ""
}

// FlowAnswer returns the first question of the flow, in the order they are asked, that text
// as a whole is a typed answer to, and the option it picks: "it's a virtual card" is the card
// question's "virtual".
func (k *KB) FlowAnswer(text string) (question, option string) {
	norm := Normalize(text)
	for _, q := range k.questionOrder {
		if option, _ := k.typedOption(q, text, norm); option != "" {
			return q, option
		}
	}
	return "", ""
}

// NamesPlainly reports whether text names solution by a word of its topic that asks nothing:
// "paypal", 换卡, not "which card" or 什么卡, which "不知道是什么卡" at the card question holds
// without asking for the card solution.
func (k *KB) NamesPlainly(solution, text string) bool {
	return containsAny(Normalize(text), k.plainTopics[solution])
}

// Likewise reports whether text says that what it tells holds for more than what it names
// ("too", "either", 也): "虚拟卡也被拒了" while a card is shown says that the card failed as well.
func (k *KB) Likewise(text string) bool { return containsAny(Normalize(text), k.likewise) }

// Supposes reports whether text holds a word of the phrase files' conditionals ("if", 的话,
// "I thought", 以为): what it says is supposed, not told.
func (k *KB) Supposes(text string) bool { return containsAny(Normalize(text), k.conditionals) }

// Statements is what text says besides its questions: its clauses (split at sentence and
// clause punctuation) that neither ask nor suppose, one per line. "got a CMB visa, also
// declined. which card now?" says "got a CMB visa" and "also declined"; "不行的话，打哪个电话"
// says nothing.
func (k *KB) Statements(text string) string {
	var kept []string
	for _, clause := range clauses(text) {
		norm := Normalize(clause)
		if !k.isQuestion(clause, norm) && !containsAny(norm, k.conditionals) {
			kept = append(kept, strings.TrimSpace(clause))
		}
	}
	return strings.Join(kept, "\n")
}

// clauses splits text after each mark that ends a sentence or a clause, keeping the mark
// with its clause (a question keeps its question mark). A full stop ends one only before a
// space or the end: "3.5" and "openai.com" stay whole.
func clauses(text string) []string {
	var out []string
	start := 0
	for i, r := range text {
		end := false
		switch r {
		case '?', '!', ';', ',', '\n', '？', '！', '；', '，', '。', '、':
			end = true
		case '.':
			next := i + 1
			end = next == len(text) || text[next] == ' ' || text[next] == '\n'
		}
		if end {
			next := i + utf8.RuneLen(r)
			out = append(out, text[start:next])
			start = next
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// firstAsked is the first of asks (the longest phrase first) in norm.
func firstAsked(asks []ask, norm string) (ask, bool) {
	for _, a := range asks {
		if containsPhrase(norm, a.phrase) {
			return a, true
		}
	}
	return ask{}, false
}

// Brief reports whether text, thanks aside, says no more than a typed answer may: a fragment
// ("招行", "it's a debit card yes").
func (k *KB) Brief(text string) bool { return k.short(Normalize(text)) }

// short reports whether rest, what a typed answer or request holds besides the phrases that
// made it one, is short enough besides thanks to be no message of its own. A particle that
// ends a Chinese sentence (我这张就是visa信用卡啊) only colours it, and counts for nothing.
func (k *KB) short(rest string) bool {
	letters := 0
	rest = withoutPhrases(rest, k.courtesyWords)
	for i, r := range rest {
		next, _ := utf8.DecodeRuneInString(rest[i+utf8.RuneLen(r):])
		switch {
		case strings.ContainsRune(EndParticles, r) && (next == ' ' || next == utf8.RuneError):
		case unicode.Is(unicode.Han, r):
			letters += 3
		case r != ' ':
			letters++
		}
	}
	return letters <= maxRest
}

// EndParticles are the particles that end a Chinese sentence with a tone and add no word: not
// 吗 and 呢, which ask.
const EndParticles = "啊呀吧嘛啦哈哦噢喔咯"

// Asks reports whether text asks something: it has a question mark, begins with an
// interrogative of the phrase files past thanks and openers, or holds a Chinese one, as
// QuestionAbout reads questions.
func (k *KB) Asks(text string) bool { return k.isQuestion(text, Normalize(text)) }

// isQuestion reports whether text, folded as norm, asks something.
func (k *KB) isQuestion(text, norm string) bool {
	if strings.ContainsAny(text, "?？") || choiceQuestion(norm) {
		return true
	}
	start := k.withoutLeading(norm)
	for _, q := range k.interrogatives {
		if r, _ := utf8.DecodeRuneInString(q); unicode.Is(unicode.Han, r) {
			if strings.Contains(norm, q) {
				return true
			}
		} else if hasWordPrefix(start, q) {
			return true
		}
	}
	return false
}

// AsksAsAChoice reports whether text asks as Chinese does with 不 or 没 and no question word
// (行不行, 要收费不): its 不 denies nothing.
func (k *KB) AsksAsAChoice(text string) bool { return choiceQuestion(Normalize(text)) }

// choiceQuestion reports whether norm asks as Chinese does without a question word: A不A or
// A没A (行不行, 收不收费, 收费不收费, 有没有), 不, 没 or 么 last (要收费不, 到账了没, 要手续费么;
// 么 elsewhere is mostly 这么 and 那么), or 那 first and 呢 last (那微信呢: "what about
// WeChat?"; 呢 last alone is as often a statement's, 还没到账呢).
func choiceQuestion(norm string) bool {
	rs := []rune(strings.TrimSpace(norm))
	if n := len(rs); n > 1 && (rs[n-1] == '不' || rs[n-1] == '没' || rs[n-1] == '么' || rs[0] == '那' && rs[n-1] == '呢') {
		return true
	}
	for i, r := range rs {
		if r != '不' && r != '没' {
			continue
		}
		for n := 1; n <= 2 && i-n >= 0 && i+n < len(rs); n++ {
			before, after := rs[i-n:i], rs[i+1:i+1+n]
			if slices.Equal(before, after) && unicode.Is(unicode.Han, before[0]) {
				return true
			}
		}
	}
	return false
}

// withoutLeading is norm without the thanks, greetings and openers it begins with ("ok so",
// "thanks, quick question:"): where what the person says begins.
func (k *KB) withoutLeading(norm string) string {
	for {
		rest, found := norm, false
		for _, list := range [][]string{k.courtesyWords, k.openers} {
			for _, p := range list {
				if hasWordPrefix(norm, p) {
					rest, found = strings.TrimLeft(norm[len(p):], " "), true
					break
				}
			}
			if found {
				break
			}
		}
		if !found {
			return norm
		}
		norm = rest
	}
}

// hasWordPrefix reports whether norm begins with the phrase p, followed by a space or the end.
func hasWordPrefix(norm, p string) bool {
	after, ok := strings.CutPrefix(norm, p)
	return ok && (after == "" || after[0] == ' ')
}
