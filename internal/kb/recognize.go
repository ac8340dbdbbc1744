package kb

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
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

// Match is a target recognised in a text with its probability.
type Match struct {
	Target
	Probability float64
}

// String is the target with its probability; without it, the embedded Target's String
// would print matches without how likely they are.
func (m Match) String() string { return fmt.Sprintf("%s=%.2f", m.Target, m.Probability) }

type intent struct {
	Target
	Phrases []string `toml:"phrases"`
}

// corpusFile is the training part of the labelled corpus (docs/understanding.md). It lives
// beside its held-out part, so that the split between them is in one place to see; the
// binary embeds only this one.
const corpusFile = "testdata/recognize/train.tsv"

// minProbability is the least probability Recognize reports: below it a target is noise.
const minProbability = 0.02

// maxMatches bounds the targets Recognize reports.
const maxMatches = 5

// phraseFile is one file of phrases/: lists of words the readers of free text look for, and
// tables of what phrases lead to. Every file may hold any of them.
type phraseFile struct {
	Negations []string `toml:"negations"`
	Failures  []string `toml:"failures"`
	Pending   []string `toml:"pending"`
	Courtesy  []string `toml:"courtesy"`
	Human     []string `toml:"human"`
	// Affirmations hold a word of negations and deny nothing: see Contradicts.
	Affirmations []string `toml:"affirmations"`
	// Interrogatives begin a question, or in Chinese, mark one, and openers may come before
	// them: see QuestionAbout.
	Interrogatives []string     `toml:"interrogatives"`
	Openers        []string     `toml:"openers"`
	Conditionals   []string     `toml:"conditionals"`
	Hedges         []string     `toml:"hedges"`
	Guesses        []string     `toml:"guesses"`
	NotReceived    []string     `toml:"not_received"`
	Complaints     []string     `toml:"complaints"`
	GivesUp        []string     `toml:"gives_up"`
	Likewise       []string     `toml:"likewise"`
	Why            []string     `toml:"why"`
	Lacks          []string     `toml:"lacks"`
	Choosing       []string     `toml:"choosing"`
	Corrections    []string     `toml:"corrections"`
	NewProblem     []string     `toml:"new_problem"`
	CheckoutVoice  []string     `toml:"checkout_voice"`
	OwnVoice       []string     `toml:"own_voice"`
	Elsewhere      []string     `toml:"elsewhere"`
	Later          []string     `toml:"later"`
	NotCharged     []string     `toml:"not_charged"`
	Refunded       []string     `toml:"refunded"`
	Partial        []string     `toml:"partial"`
	RefundDue      []string     `toml:"refund_due"`
	Arrived        []string     `toml:"arrived"`
	Charged        []string     `toml:"charged"`
	CheckoutAdvice []string     `toml:"checkout_advice"`
	Requests       []string     `toml:"requests"`
	WrongPress     []string     `toml:"wrong_press"`
	Vague          []string     `toml:"vague"`
	Framing        []string     `toml:"framing"`
	FormLabels     []string     `toml:"form_labels"`
	Ordinals       [][]string   `toml:"ordinals"`
	Last           []string     `toml:"last"`
	Topics         []topic      `toml:"topic"`
	Intents        []intent     `toml:"intent"`
	Codes          []stripeCode `toml:"code"`
	Answers        []answer     `toml:"answer"`
	Typed          []typed      `toml:"typed"`
	Subjects       []subject    `toml:"subject"`
	Amounts        []amount     `toml:"amount"`
	Verdicts       []verdict    `toml:"verdict"`
	Commands       []command    `toml:"command"`
}

// phraseList is a plain list of a phrase file and the list of the KB it adds to.
type phraseList struct {
	name    string
	phrases []string
	into    *[]string
}

// plainLists pairs doc's plain lists with the KB's.
func (k *KB) plainLists(doc *phraseFile) []phraseList {
	return []phraseList{
		{"pending", doc.Pending, &k.pending},
		{"courtesy", doc.Courtesy, &k.courtesy},
		{"human", doc.Human, &k.human},
		{"affirmations", doc.Affirmations, &k.affirmations},
		{"interrogatives", doc.Interrogatives, &k.interrogatives},
		{"openers", doc.Openers, &k.openers},
		{"conditionals", doc.Conditionals, &k.conditionals},
		{"hedges", doc.Hedges, &k.hedges},
		{"guesses", doc.Guesses, &k.guesses},
		{"not_received", doc.NotReceived, &k.notReceived},
		{"complaints", doc.Complaints, &k.complaints},
		{"gives_up", doc.GivesUp, &k.givesUp},
		{"likewise", doc.Likewise, &k.likewise},
		{"why", doc.Why, &k.why},
		{"lacks", doc.Lacks, &k.lacks},
		{"choosing", doc.Choosing, &k.choosing},
		{"last", doc.Last, &k.last},
		{"corrections", doc.Corrections, &k.corrections},
		{"new_problem", doc.NewProblem, &k.newProblem},
		{"checkout_voice", doc.CheckoutVoice, &k.checkoutVoice},
		{"own_voice", doc.OwnVoice, &k.ownVoice},
		{"elsewhere", doc.Elsewhere, &k.elsewhere},
		{"later", doc.Later, &k.later},
		{"not_charged", doc.NotCharged, &k.notCharged},
		{"refunded", doc.Refunded, &k.refunded},
		{"partial", doc.Partial, &k.partial},
		{"refund_due", doc.RefundDue, &k.refundDue},
		{"arrived", doc.Arrived, &k.arrived},
		{"charged", doc.Charged, &k.charged},
		{"checkout_advice", doc.CheckoutAdvice, &k.checkoutAdvice},
		{"requests", doc.Requests, &k.requests},
		{"wrong_press", doc.WrongPress, &k.wrongPress},
		{"vague", doc.Vague, &k.vague},
		{"framing", doc.Framing, &k.framing},
		{"form_labels", doc.FormLabels, &k.formLabels},
	}
}

// loadExamples reads what the model learns from: the phrase files, the Stripe table and the
// corpus. It fills in the phrase lists and tables of the KB on the way.
func (k *KB) loadExamples(base, overlay fs.FS) ([]example, error) {
	files, err := tomlFiles(base, overlay, phrasesDir)
	if err != nil {
		return nil, err
	}
	var examples []example
	for _, f := range files {
		b, err := fs.ReadFile(f.fsys, f.name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		var doc phraseFile
		md, err := toml.Decode(string(b), &doc)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, f, err)
		}
		if err := noUnknownKeys(md); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, f, err)
		}
		learned, err := k.addPhraseFile(f, &doc)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, f, err)
		}
		examples = append(examples, learned...)
	}
	if err := k.checkCodes(); err != nil {
		return nil, err
	}
	k.finishPhrases()
	corpus, err := k.readCorpus(base, overlay)
	if err != nil {
		return nil, err
	}
	return append(examples, corpus...), nil
}

// addPhraseFile adds what doc, read from f, holds to the KB, and returns the examples the
// model learns from it: its intents' phrases and its codes' texts.
func (k *KB) addPhraseFile(f fileRef, doc *phraseFile) ([]example, error) {
	for _, word := range doc.Negations {
		n := Normalize(word)
		if n == "" || strings.Contains(n, " ") {
			return nil, fmt.Errorf("negation %q is not one word once normalized", word)
		}
		k.negations = append(k.negations, n)
	}
	for _, word := range doc.Failures {
		n := Normalize(word)
		if !slices.Contains(doc.Negations, word) || n == "" {
			return nil, fmt.Errorf("failure %q is none of the negations", word)
		}
		k.failures = append(k.failures, n)
	}
	for _, list := range k.plainLists(doc) {
		phrases, err := folded(list.phrases)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", list.name, err)
		}
		// The longest first, as withoutPhrases needs: "not sure" is found, and taken out,
		// before "not".
		*list.into = append(*list.into, phrases...)
		slices.SortStableFunc(*list.into, byLengthDown)
	}
	if err := k.addOrdinals(doc.Ordinals); err != nil {
		return nil, err
	}
	var examples []example
	for i, in := range doc.Intents {
		if err := k.checkTarget(in.Target); err != nil {
			return nil, fmt.Errorf("intent %d: %v", i+1, err)
		}
		for _, p := range in.Phrases {
			n := Normalize(p)
			if n == "" {
				return nil, fmt.Errorf("intent %d: phrase %q is empty once normalized", i+1, p)
			}
			k.phraseTargets.add(n, in.Target, f.String())
			examples = append(examples, example{text: p, target: in.Target, source: f.String()})
		}
	}
	for _, err := range []error{
		addEach(doc.Answers, k.addAnswer),
		addEach(doc.Topics, k.addTopic),
		addEach(doc.Typed, k.addTyped),
		addEach(doc.Subjects, k.addSubject),
		addEach(doc.Verdicts, k.addVerdict),
		addEach(doc.Commands, k.addCommand),
		addEach(doc.Amounts, k.addAmount),
	} {
		if err != nil {
			return nil, err
		}
	}
	for _, c := range doc.Codes {
		texts, err := k.addCode(f, c)
		if err != nil {
			return nil, err
		}
		for _, text := range texts {
			examples = append(examples, example{text: text, target: c.Target, source: c.Source})
		}
	}
	return examples, nil
}

// addEach adds items in order, stopping at the first that add refuses.
func addEach[T any](items []T, add func(T) error) error {
	for _, item := range items {
		if err := add(item); err != nil {
			return err
		}
	}
	return nil
}

// finishPhrases derives, once every phrase file is read, the lists and orders the readers
// use.
func (k *KB) finishPhrases() {
	k.denials = slices.DeleteFunc(slices.Clone(k.negations), func(n string) bool { return slices.Contains(k.failures, n) })
	// What says a solution has not been tried yet, or only a step of it, is no verdict either:
	// "是的我试试" has not been tried, and "PayPal绑定好了" holds 好了 and a step, two answers,
	// so none (noResult reads what is left besides the step).
	for _, p := range k.pending {
		k.says[verdictKey] = append(k.says[verdictKey], say{p, VerdictNotTried, nil, false, false})
	}
	// A solution's own verdicts come with everyone's.
	for _, sol := range k.Solutions {
		if own, ok := k.says[solutionVerdictKey(sol)]; ok {
			k.says[solutionVerdictKey(sol)] = slices.Concat(own, k.says[verdictKey])
		}
	}
	k.places = append(k.places, k.last...)
	k.plainTopics = map[string][]string{}
	for sol, words := range k.topics {
		k.plainTopics[sol] = slices.DeleteFunc(slices.Clone(words), func(w string) bool { return containsAny(w, k.interrogatives) })
	}
	// The longest phrase first: "not sure" is found, and taken out, before "not"; "how long"
	// asks before "long".
	for _, says := range k.says {
		slices.SortStableFunc(says, func(a, b say) int { return byLengthDown(a.phrase, b.phrase) })
	}
	for _, asks := range k.asks {
		slices.SortStableFunc(asks, func(a, b ask) int { return byLengthDown(a.phrase, b.phrase) })
	}
	for _, words := range k.subjects {
		slices.SortStableFunc(words, byLengthDown)
	}
	// Inside a sentence a Chinese character alone is part of a word more often than thanks:
	// 行 of 银行, 好 of 好像, 你 of 你们.
	k.courtesyWords = slices.DeleteFunc(slices.Clone(k.courtesy), oneHan)
}

// readCorpus reads the training corpus of base and then of overlay, which adds to it.
func (k *KB) readCorpus(base, overlay fs.FS) ([]example, error) {
	var examples []example
	for i, fsys := range []fs.FS{base, overlay} {
		if fsys == nil {
			continue
		}
		name := corpusFile
		if i == 1 {
			name = "overlay " + corpusFile
		}
		f, err := fsys.Open(corpusFile)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		lines, err := ReadCorpus(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, name, err)
		}
		for _, l := range lines {
			if err := k.checkTarget(l.Want); err != nil {
				return nil, fmt.Errorf("%w: %s line %d: %v", ErrInvalid, name, l.Line, err)
			}
			examples = append(examples, example{text: l.Text, target: l.Want, source: l.Source})
		}
	}
	return examples, nil
}

// CorpusLine is one labelled line of the corpus: its language, the target it should lead to,
// where the text came from (a public page, or "written"), and the text.
type CorpusLine struct {
	Line   int
	Lang   string
	Want   Target
	Source string
	Text   string
}

// corpusHeader is the first line of a corpus file.
const corpusHeader = "lang\twant\tsource\ttext"

// ReadCorpus reads a corpus file: the header line corpusHeader, then lines of lang, want,
// source and text separated by tabs, want being outcome:<id>, solution:<id> or action:<name>.
// A file without the header is refused rather than read without its first line.
func ReadCorpus(r io.Reader) ([]CorpusLine, error) {
	var lines []CorpusLine
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		if n == 1 {
			// A spreadsheet saving the file as UTF-8 may put a byte-order mark before it.
			if strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff")) != corpusHeader {
				return nil, fmt.Errorf("line 1: want the header %q", corpusHeader)
			}
			continue
		}
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		parts := strings.SplitN(sc.Text(), "\t", 4)
		if len(parts) != 4 || parts[3] == "" || parts[2] == "" {
			return nil, fmt.Errorf("line %d: want lang, want, source and text separated by tabs", n)
		}
		want, ok := ParseTarget(parts[1])
		if !ok {
			return nil, fmt.Errorf("line %d: want %q is not outcome:<id>, solution:<id> or action:<name>", n, parts[1])
		}
		lines = append(lines, CorpusLine{Line: n, Lang: parts[0], Want: want, Source: parts[2], Text: parts[3]})
	}
	return lines, sc.Err()
}

// ParseTarget reads a target written as outcome:<id>, solution:<id> or action:<name>.
func ParseTarget(s string) (Target, bool) {
	kind, id, ok := strings.Cut(s, ":")
	if !ok || id == "" {
		return Target{}, false
	}
	switch kind {
	case "outcome":
		return Target{Outcome: id}, true
	case "solution":
		return Target{Solution: id}, true
	case "action":
		return Target{Action: id}, true
	}
	return Target{}, false
}

// String writes a target as ParseTarget reads it.
func (t Target) String() string {
	switch {
	case t.Outcome != "":
		return "outcome:" + t.Outcome
	case t.Solution != "":
		return "solution:" + t.Solution
	default:
		return "action:" + t.Action
	}
}

// Lead is where a target takes the person, as they see it: an outcome's cause (two outcomes
// of one cause differ only in the rank of their solutions), the first solution of an outcome
// without one, a solution, or an action; written cause:<id>, solution:<id> or action:<name>.
func (k *KB) Lead(t Target) string {
	if o, ok := k.outcomes[t.Outcome]; ok {
		if o.Cause != "" {
			return "cause:" + o.Cause
		}
		return "solution:" + o.Solutions[0]
	}
	return t.String()
}

// targets lists everything free text can lead to, in a fixed order: the outcomes, the
// solutions, then the actions.
func (k *KB) targets() []Target {
	var ts []Target
	for _, id := range slices.Sorted(maps.Keys(k.outcomes)) {
		ts = append(ts, Target{Outcome: id})
	}
	for _, id := range k.Solutions {
		ts = append(ts, Target{Solution: id})
	}
	for _, a := range freeTextActions {
		ts = append(ts, Target{Action: a})
	}
	return ts
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
	case !slices.Contains(freeTextActions, t.Action):
		return fmt.Errorf("unknown action %q", t.Action)
	}
	return nil
}

// Recognize returns the targets a text leads to with their probabilities, best first, the
// least likely left out. It is empty when nothing of the text was seen in training. A Stripe
// code in the text, the message a checkout shows for a precise one, or the words people give
// its reason in, is exact: it takes a fixed share of the probability for its target whatever
// the words around it say (preciseCodeShare, genericCodeShare), so that a pasted code leads
// somewhere and only words that lean strongly elsewhere make the bot ask. A checkout's generic
// message ("Your card was declined.") gives way to what the rest of the text says surely.
// Targets in leaveOut are ruled out: the rest share their probability, as if the text could
// not mean them ("still declined" means a decline when no solution is being tried).
func (k *KB) Recognize(text string, leaveOut ...Target) []Match {
	matches, _ := k.RecognizeRulingOut(text, leaveOut...)
	return matches
}

// RecognizeRulingOut is Recognize, and also returns each target of leaveOut with the
// probability the model gave it before it was ruled out: how surely the text meant what the
// dialog rules out ("it worked" when no solution is shown).
func (k *KB) RecognizeRulingOut(text string, leaveOut ...Target) (matches, ruledOut []Match) {
	n := Normalize(text)
	if hedged := strings.TrimSpace(withoutPhrases(n, k.hedges)); hedged != "" && hedged != n {
		// "好像被扣钱了" tells money taken as surely as 被扣钱了 does; the model learnt 好像
		// from chatter, and doubted it.
		n = strings.Join(strings.Fields(hedged), " ")
	}
	if n == "" {
		return nil, nil
	}
	if rest := withoutPhrases(n, k.genericMessages); rest != n {
		// "Your card was declined. but I was charged": the checkout's message says only that
		// the card was declined, and the model, which has seen it in every kind of decline,
		// would let it outweigh what the person says of their case ("no SMS code arrived",
		// 邮编填错了). Said surely, that leads; not the words that only frame a quote (the
		// phrase files' framing: 付款时提示, "at checkout"), which read alone by chance: 付款时
		// 提示：您的银行卡被拒绝了 was a billing address refused. Only an outcome: a solution read
		// from the rest is often the person's own card named ("i have bank card and virtual
		// card").
		if !k.onlyFraming(rest) {
			if matches, ruledOut := k.RecognizeRulingOut(rest, leaveOut...); k.surelyAnOutcome(matches) {
				return matches, ruledOut
			}
		}
	}
	m := k.model
	var probBuf [32]float64
	probs := probBuf[:0]
	if len(m.targets) > len(probBuf) {
		probs = make([]float64, len(m.targets))
	}
	probs = probs[:len(m.targets)]
	known := m.classify(n, probs)
	if known && len(leaveOut) > 0 {
		var left float64
		ruledOut = make([]Match, 0, len(leaveOut))
		for i, t := range m.targets {
			if slices.Contains(leaveOut, t) {
				ruledOut = append(ruledOut, Match{Target: t, Probability: probs[i]})
				probs[i] = 0
			}
			left += probs[i]
		}
		if left == 0 { // it can only mean what is ruled out
			known = false
		} else {
			for i := range probs {
				probs[i] /= left
			}
		}
	}
	var codes []int
	generic := -1 // the target of a generic code found, if any
	k.findCodes(n, true, func(c codeTarget) {
		switch {
		case c.generic:
			generic = c.target
		case !slices.Contains(codes, c.target):
			codes = append(codes, c.target)
		}
	})
	codeShare := preciseCodeShare
	if len(codes) == 0 && generic >= 0 {
		codes = append(codes, generic)
		codeShare = genericCodeShare
	}
	if !known && len(codes) == 0 {
		return nil, ruledOut
	}
	if len(codes) > 0 {
		if known {
			for i := range probs {
				probs[i] *= 1 - codeShare
			}
		} else {
			clear(probs)
			codeShare = 1
		}
		for _, i := range codes {
			probs[i] += codeShare / float64(len(codes))
		}
	}
	matches = make([]Match, 0, maxMatches)
	for i, p := range probs {
		if p >= minProbability {
			matches = append(matches, Match{Target: m.targets[i], Probability: p})
		}
	}
	slices.SortFunc(matches, func(a, b Match) int {
		if c := cmp.Compare(b.Probability, a.Probability); c != 0 {
			return c
		}
		return strings.Compare(a.Target.String(), b.Target.String())
	})
	return matches[:min(len(matches), maxMatches)], ruledOut
}

// OnlyFraming reports whether text says nothing but the words that frame a quote or a
// question about a checkout ("openai付款页面根本", "at checkout"): the phrase files' framing,
// thanks, and a stray word.
func (k *KB) OnlyFraming(text string) bool { return k.onlyFraming(Normalize(text)) }

func (k *KB) onlyFraming(norm string) bool {
	return !hasWords(withoutPhrases(withoutPhrases(norm, k.framing), k.courtesyWords))
}

// surelyAnOutcome reports whether matches lead surely to an outcome: the outcome alone, or
// with its first solution, which a text about the outcome's fix reads as ("账单地址填的不对":
// the billing settings, and a billing address refused). Only an outcome likely in itself:
// a solution alone is often the person's own card named.
func (k *KB) surelyAnOutcome(matches []Match) bool {
	for _, m := range matches {
		if m.Outcome == "" || m.Probability < minOutcomeShare {
			continue
		}
		p := m.Probability
		if first, ok := k.FirstSolution(m.Outcome); ok {
			for _, n := range matches {
				if n.Solution == first {
					p += n.Probability
				}
			}
		}
		if p >= sureProbability {
			return true
		}
	}
	return false
}

// minOutcomeShare is how likely an outcome must be in itself for its first solution's
// probability to count towards it.
const minOutcomeShare = 0.25

// hasWords reports whether norm has two words in Latin letters or two Han characters in a
// row: more than a stray word.
func hasWords(norm string) bool {
	words, han := 0, 0
	for _, w := range strings.Fields(norm) {
		if strings.ContainsFunc(w, isLatinLetter) {
			words++
		}
		run := 0
		for _, r := range w {
			if unicode.Is(unicode.Han, r) {
				run++
				han = max(han, run)
			} else {
				run = 0
			}
		}
	}
	return words >= 2 || han >= 2
}

func isLatinLetter(r rune) bool { return r < utf8.RuneSelf && unicode.IsLetter(r) }

// sureProbability is how surely a text must lead somewhere for what it says to stand by
// itself: the engine's bar for going without asking. The words beside a generic checkout
// message lead when they reach it.
const sureProbability = 0.6

// The share of the probability a code of the table takes for its target whatever the other
// words say: a precise code (expired_card) as much as the engine goes by alone, so that only
// words that lean strongly elsewhere make it ask, and a generic one (card_declined,
// do_not_honor: declined for a reason not told) half, the words beside it as much.
const (
	preciseCodeShare = 0.6
	genericCodeShare = 0.5
)

// Meaning is what the codes of the table that text holds, or the messages of precise ones,
// tell in plain words (stripeCode.Means): the precise codes' meaning when they agree on one,
// else, when no precise code is found, a generic one's, else "". An operator's code may mean
// nothing in particular: beside it, a generic code's "no reason" would be wrong.
func (k *KB) Meaning(text string) string {
	var precise, generic string
	anyPrecise, mixed := false, false
	k.findCodes(Normalize(text), true, func(c codeTarget) {
		switch {
		case c.generic:
			generic = c.means
		case !anyPrecise:
			anyPrecise, precise = true, c.means
		case precise != c.means:
			mixed = true
		}
	})
	switch {
	case mixed:
		return ""
	case anyPrecise:
		return precise
	}
	return generic
}

// maxCodeWords is the most words a code has ("online_or_offline_pin_required").
const maxCodeWords = 5

// HoldsCode reports whether text holds a Stripe code of the table, or the message a checkout
// shows for a precise one: a decline, told as exactly as it can be. Not the words people give
// a reason in: "I corrected the wrong zip code" tells a step done.
func (k *KB) HoldsCode(text string) bool {
	held := false
	k.findCodes(Normalize(text), false, func(codeTarget) { held = true })
	return held
}

// NamesCode reports whether text holds a code of the table, a precise one's message, or the
// words people give a code's reason in (卡过期了, "wrong cvv"): where the code leads is where the
// text does.
func (k *KB) NamesCode(text string) bool {
	named := false
	k.findCodes(Normalize(text), true, func(codeTarget) { named = true })
	return named
}

// findCodes calls found for each code of the table in a normalized text, written as Stripe
// writes it (do_not_honor) or with spaces (do not honor), and for each message of a precise
// code the text holds as the checkout shows it ("Your card has expired."): what a checkout
// says is as exact as its code. With said, also for the words people give a code's reason in
// (stripeCode.Said), which tell where it leads but not that a payment failed.
func (k *KB) findCodes(normalized string, said bool, found func(codeTarget)) {
	var wordBuf [64]string
	words := wordBuf[:0]
	for w := range strings.FieldsSeq(normalized) {
		words = append(words, w)
	}
	var key [64]byte
	for i := range words {
		joined := key[:0]
		for j := i; j < len(words) && j-i < maxCodeWords; j++ {
			if j > i {
				joined = append(joined, '_')
			}
			joined = append(joined, words[j]...)
			if len(joined) > len(key) {
				break
			}
			if c, ok := k.codeTargets[string(joined)]; ok {
				found(c)
			}
		}
	}
	for _, m := range k.messageTargets {
		if containsPhrase(normalized, m.text) {
			found(m.codeTarget)
		}
	}
	if !said {
		return
	}
	for _, m := range k.saidTargets {
		if containsPhrase(normalized, m.text) {
			found(m.codeTarget)
		}
	}
}

// containsPhrase reports whether the normalized text holds phrase, a phrase that begins or
// ends in a Latin letter or digit doing so at a word's edge: "card declined" is not in
// "discard declined".
func containsPhrase(text, phrase string) bool { return indexPhrase(text, phrase) >= 0 }

// containsAny reports whether the normalized text holds one of phrases, as containsPhrase
// finds them.
func containsAny(text string, phrases []string) bool {
	return slices.ContainsFunc(phrases, func(p string) bool { return containsPhrase(text, p) })
}

// indexPhrase is the index of the first place containsPhrase finds phrase in text, or -1.
func indexPhrase(text, phrase string) int {
	for at := 0; ; {
		i := strings.Index(text[at:], phrase)
		if i < 0 {
			return -1
		}
		i += at
		end := i + len(phrase)
		if (i == 0 || text[i-1] == ' ' || !isWordByte(phrase[0])) && (end == len(text) || text[end] == ' ' || !isWordByte(phrase[len(phrase)-1])) {
			return i
		}
		at = i + 1
	}
}

func isWordByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// Contradicts reports whether text holds a word of the phrase files' negations: "not",
// "didn't", "没", "失败". A bag of words reads "not successful" and "没有付款成功" as
// success, having learnt "successful" and "成功" from it; the engine asks rather than take
// such a text for success. Chinese words count anywhere in the text, others as whole words.
func (k *KB) Contradicts(text string) bool {
	// "没问题", "no longer declined": praise that holds a negation denies nothing.
	return k.negated(withoutPhrases(Normalize(text), k.affirmations))
}

// negated reports whether norm, folded text, holds a word of the negations.
func (k *KB) negated(norm string) bool { return holdsNegation(norm, k.negations) }

// TellsFailure reports whether text holds a word of the phrase files' failures ("declined",
// 拒, 失败) or a code of the table: it tells of a payment that failed.
func (k *KB) TellsFailure(text string) bool {
	return k.HoldsCode(text) || holdsNegation(Normalize(text), k.failures)
}

// denied reports whether norm, folded text, holds a word of the negations that is none of the
// failures: whether it says that something did not happen, besides a payment that failed.
func (k *KB) denied(norm string) bool { return holdsNegation(norm, k.denials) }

// holdsNegation reports whether norm holds a word of negations: a Chinese one anywhere, others
// as whole words.
func holdsNegation(norm string, negations []string) bool {
	words := strings.Fields(norm)
	for _, neg := range negations {
		if r, _ := utf8.DecodeRuneInString(neg); unicode.Is(unicode.Han, r) {
			if strings.Contains(norm, neg) {
				return true
			}
		} else if slices.Contains(words, neg) {
			return true
		}
	}
	return false
}

// NotTriedYet reports whether text says the solution shown has not been tried yet ("not
// tried yet", "I'll try it tomorrow", "晚点试试", "稍等"), a phrase of the phrase files' pending
// lists found in it. The model reads 没/not + 试/tried as a failure, and a failure recorded for
// a solution nobody tried moves the person past it. A try told with how it went (再试一次就成功
// 了, "tried again and it worked") has been tried.
func (k *KB) NotTriedYet(text string) bool {
	norm := Normalize(text)
	return containsAny(norm, k.pending) && k.laterVerdict("", text, norm) == ""
}

// AsksForHuman reports whether text asks for a person instead of the bot ("talk to a human",
// 转人工), a phrase of the phrase files' human lists found in it. The model reads such text
// as a wish to contact support, which is one of the solutions; what the person asks for is
// what /human does.
func (k *KB) AsksForHuman(text string) bool {
	norm := Normalize(text)
	if !containsAny(norm, k.human) {
		return false
	}
	// A request is short: "打了银行电话转人工，说卡没问题" tells what happened with the bank.
	rest := strings.Join(strings.Fields(withoutPhrases(withoutPhrases(norm, k.human), k.courtesyWords)), "")
	return utf8.RuneCountInString(rest) <= maxHumanRequestRest
}

// command is a command of the bot as a phrase file words it ("start over", 重新开始,
// "English please"): the phrases that, as a whole message, do what Command does with Arg.
type command struct {
	Command string   `toml:"command"`
	Arg     string   `toml:"arg"`
	Says    []string `toml:"says"`
}

// maxCommandText is the longest text, in bytes, that Command reads: a command's phrase and some
// thanks around it.
const maxCommandText = 96

// PhraseCommands are the commands a phrase file may word: starting over, the help and the
// list of solutions, whose buttons' labels people type, and a language, which people ask for
// in words.
var PhraseCommands = []string{"start", "help", "solutions", "lang", "back", "repeat"}

// addCommand takes in a phrase file's command c.
func (k *KB) addCommand(c command) error {
	if !slices.Contains(PhraseCommands, c.Command) {
		return fmt.Errorf("command %q: a phrase file words one of %v", c.Command, PhraseCommands)
	}
	if (c.Command == "lang") != (c.Arg != "") {
		return fmt.Errorf("command %s: only lang takes an arg, and it needs one", c.Command)
	}
	phrases, err := folded(c.Says)
	if err != nil {
		return fmt.Errorf("command %s: %v", c.Command, err)
	}
	if k.commands == nil {
		k.commands = map[string]string{}
	}
	for _, p := range phrases {
		k.commands[p] = strings.TrimSpace(c.Command + " " + c.Arg)
	}
	return nil
}

// checkCommands checks that every language a phrase file's command asks for is one of the
// knowledge base: a typo would answer "English please" with the list of languages.
func (k *KB) checkCommands() error {
	for _, c := range k.commands {
		if lang, ok := strings.CutPrefix(c, "lang "); ok {
			if _, known := k.LanguageByName(lang); !known {
				return fmt.Errorf("%w: command lang: %q is no language of the knowledge base", ErrInvalid, lang)
			}
		}
	}
	return nil
}

// Command is the command of PhraseCommands, with its argument, that text, thanks aside, words
// as a whole ("start over", "menu", 重新开始, "English please": "lang en"), or "". People type
// the labels of the buttons ("Start over") and the words other bots take ("restart", "menu");
// read by the model, they are a payment too vague to place.
func (k *KB) Command(text string) string {
	if len(text) > maxCommandText {
		return "" // most messages: spared the folding
	}
	norm := Normalize(text)
	if c, ok := k.commands[norm]; ok {
		return c
	}
	rest := withoutPhrases(norm, k.courtesyWords)
	if rest == norm {
		return ""
	}
	return k.commands[strings.Join(strings.Fields(rest), " ")]
}

// maxHumanRequestRest is the most letters a request for a person has besides the request and
// thanks ("请帮我", "can i please").
const maxHumanRequestRest = 10

// Lacks reports whether text says the person does not have something ("I don't have PayPal",
// 我没有visa卡): a phrase of the phrase files' lacks lists.
func (k *KB) Lacks(text string) bool { return containsAny(Normalize(text), k.lacks) }

// AsksWhy reports whether text asks why the payment fails and little else ("why does this
// happen?", 为什么会这样): a phrase of the phrase files' why lists, and a short rest. While a
// solution is shown, the diagnosis answers it; read by the model, it says nothing of payments.
func (k *KB) AsksWhy(text string) bool {
	norm := Normalize(text)
	return containsAny(norm, k.why) && k.short(withoutPhrases(withoutPhrases(norm, k.why), k.courtesyWords))
}

// WithoutPending is text folded, without the phrases NotTriedYet finds in it and the thanks
// around them: what else it says ("tried it, still declined" of "thanks, tried it, still
// declined, will try another card tomorrow").
func (k *KB) WithoutPending(text string) string {
	return withoutPhrases(k.WithoutPendingPhrases(text), k.courtesyWords)
}

// WithoutPendingPhrases is text folded, without the phrases NotTriedYet finds in it but with
// its thanks, some of which are part of a verdict: 可以 of 可以用了 ("虚拟卡申请好了，可以用了").
func (k *KB) WithoutPendingPhrases(text string) string {
	return withoutPhrases(Normalize(text), k.pending)
}

// OnlyCourtesy reports whether text is nothing but greetings, thanks, acknowledgement or a
// request to wait ("thanks!", "ok", "谢谢大佬", "收到"): phrases of the phrase files' courtesy
// lists and nothing else. People in groups thank the bot for the steps before they try them;
// the corpus's "thanks" lines nearly all follow a success, and the model would take the
// thanks for one.
func (k *KB) OnlyCourtesy(text string) bool {
	norm := Normalize(text)
	return norm != "" && strings.TrimSpace(withoutPhrases(norm, k.courtesy)) == ""
}

// SaysNothingYet reports whether text asks for help or says a payment failed, and nothing
// more: made of the phrase files' vague phrases, at least one, and courtesy.
func (k *KB) SaysNothingYet(text string) bool {
	norm := Normalize(text)
	rest := withoutPhrases(norm, k.vague)
	return rest != norm && strings.TrimSpace(withoutPhrases(rest, k.courtesy)) == ""
}

// OnlyFormLabels reports whether text, a line of a screenshot, is nothing but the labels of
// a checkout's form ("Card number", 安全码): the form, not what went wrong.
func (k *KB) OnlyFormLabels(text string) bool {
	norm := Normalize(text)
	return norm != "" && strings.TrimSpace(k.WithoutFormLabels(norm)) == ""
}

// WithoutFormLabels is text folded without the labels of a checkout's form: what else a
// message that named the card data it held says ("安全码是" says nothing more).
func (k *KB) WithoutFormLabels(text string) string {
	return withoutPhrases(Normalize(text), k.formLabels)
}

// WithoutCheckoutText is text folded, without the English messages of the exact table
// ("Your card was declined."): checkouts show them in English to everyone, so they say
// nothing about the language of the person who pastes them.
func (k *KB) WithoutCheckoutText(text string) string {
	return withoutPhrases(Normalize(text), k.checkoutEnglish)
}

// withoutPhrases is the normalized text with every place containsPhrase finds one of phrases
// in it blanked out. phrases go longest first, so that "thank you" is taken whole before
// "thank" leaves "you".
func withoutPhrases(text string, phrases []string) string {
	for _, p := range phrases {
		i := indexPhrase(text, p)
		if i < 0 {
			continue
		}
		// One pass per phrase: rebuilding the text at each place found made a text of many
		// repeats quadratic.
		var b strings.Builder
		b.Grow(len(text))
		at := 0
		for i >= 0 {
			b.WriteString(text[at:i])
			b.WriteByte(' ')
			at = i + len(p)
			// The blank written before at is a word edge, as the start of text[at:] is taken to be.
			j := indexPhrase(text[at:], p)
			if j < 0 {
				break
			}
			i = at + j
		}
		b.WriteString(text[at:])
		text = b.String()
	}
	return text
}

// oneHan reports whether phrase is a single Chinese character, which inside a sentence is
// mostly part of a word.
func oneHan(phrase string) bool {
	r, size := utf8.DecodeRuneInString(phrase)
	return size == len(phrase) && unicode.Is(unicode.Han, r)
}

func byLengthDown(a, b string) int { return cmp.Compare(len(b), len(a)) }

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
