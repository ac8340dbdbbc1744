package kb

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// ErrInvalid marks every error about the knowledge-base data itself: a broken flow, a
// missing translation, an unknown ID. The message names the node or message at fault.
var ErrInvalid = errors.New("invalid knowledge base")

// The files a knowledge base is read from, relative to the root of its file system.
const (
	flowFile   = "flow/flow.toml"
	localesDir = "locales"
	phrasesDir = "phrases"
)

// Actions an option or a phrase can lead to besides a question or an outcome. The feedback
// actions are for phrases only: what a person writes about the solution in front of them
// ("that worked", "still declined").
const (
	ActionListSolutions = "list_solutions"
	ActionWorked        = "worked"
	ActionFailed        = "failed"
	// ActionOffTopic is for text about something else than paying: the bot says what it is
	// for rather than guessing.
	ActionOffTopic = "off_topic"
)

// freeTextActions are the actions free text can lead to, in the order the model lists them.
var freeTextActions = []string{ActionListSolutions, ActionWorked, ActionFailed, ActionOffTopic}

// Option is one answer to a question. Exactly one of Next, Outcome and Action is set.
type Option struct {
	ID      string `toml:"id"`
	Next    string `toml:"next"`
	Outcome string `toml:"outcome"`
	Action  string `toml:"action"`
	// RulesOut are the solutions this answer makes no way for the person: a virtual card
	// declined is no reason to get a virtual card.
	RulesOut []string `toml:"rules_out"`
}

// Question is a node of the diagnosis flow.
type Question struct {
	ID      string   `toml:"id"`
	Options []Option `toml:"options"`
}

// Option returns the option with the given ID.
func (q *Question) Option(id string) (Option, bool) {
	for _, o := range q.Options {
		if o.ID == id {
			return o, true
		}
	}
	return Option{}, false
}

// Outcome is where a diagnosis ends: the cause it names (empty when the problem is not one of
// the four causes, such as a timeout) and the solutions to try, most likely first.
type Outcome struct {
	ID        string   `toml:"id"`
	Cause     string   `toml:"cause"`
	Solutions []string `toml:"solutions"`
}

type flowFileData struct {
	Start      string     `toml:"start"`
	Causes     []string   `toml:"causes"`
	Solutions  []string   `toml:"solutions"`
	LastResort string     `toml:"last_resort"`
	Questions  []Question `toml:"question"`
	Outcomes   []Outcome  `toml:"outcome"`
}

// KB is a validated knowledge base: the flow, the texts in every language and the phrases
// recognised in free text. It is read-only after Load and safe for concurrent use.
type KB struct {
	// Version changes whenever the flow file does, so that a menu rendered from an older flow
	// can be recognised as stale.
	Version string
	// Start is the first question.
	Start string
	// Causes and Solutions list every cause and solution ID, in the article's order.
	Causes    []string
	Solutions []string
	// LastResort is the solution offered when every other one failed.
	LastResort string

	questions map[string]*Question
	outcomes  map[string]*Outcome
	// causeOutcome is the first outcome of each cause in the flow file, for deep links.
	causeOutcome map[string]string
	// answered are the outcomes each question's earlier answers rule out (see AnsweredAway),
	// ahead those the flow still reaches from each question, and questionOrder the questions'
	// IDs, sorted: the flow read once at load, not on every message.
	answered      map[string][]Target
	ahead         map[string]map[string]bool
	questionOrder []string
	languages     []language.Tag
	names         []string // languages as tags, which MatchLanguage returns without formatting them
	matcher       language.Matcher
	langNames     map[string]string // a language's names, normalized, to its tag (LanguageByName)
	localizers    map[string]*i18n.Localizer
	// fixed holds every required message rendered without data, per language and ID: most
	// texts have no placeholders, and rendering one through go-i18n on every reply costs a
	// template execution.
	fixed map[textKey]string
	// templates holds the messages with placeholders that are plain fields, split at them.
	templates map[textKey]fieldTemplate
	// sources are the messages as the locale files define them, the last file's winning.
	sources map[textKey]*i18n.Message
	// model recognises free text; codes is the exact table of Stripe codes
	// (phrases/stripe.toml), codeTargets each code's target, by its index in the model, and
	// messageTargets the same for the messages of the codes that are not generic, normalized.
	model          *classifier
	codes          []stripeCode
	codeTargets    map[string]codeTarget
	messageTargets []codeMessage
	// saidTargets are the codes' said phrases, normalized: see stripeCode.Said.
	saidTargets []codeMessage
	// negations are the words of the phrase files that say something did not happen or went
	// wrong ("not", "没"), folded: see Contradicts.
	negations []string
	// denials are the negations but for the failures ("declined", 拒), which tell of a
	// payment that failed: see denied.
	failures, denials []string
	// checkoutEnglish are the English messages of the table, folded, the longest first: see
	// WithoutCheckoutText.
	checkoutEnglish []string
	// vague are the phrase files' phrases that ask for help or say a payment failed without
	// saying how, folded, the longest first: see SaysNothingYet.
	vague []string
	// framing are the words that frame a quoted message ("at checkout", 付款时提示), folded,
	// the longest first: see RecognizeRulingOut.
	framing []string
	// formLabels are the labels of a checkout's form, folded, the longest first: see
	// OnlyFormLabels.
	formLabels []string
	// genericMessages are the messages of the generic codes ("Your card was declined.",
	// 您的银行卡被拒绝了。), folded, the longest first: see RecognizeRulingOut.
	genericMessages []string
	// pending and courtesy are the phrase files' phrases that say a solution has not been
	// tried yet, and those that only thank or acknowledge (the longest first), folded: see
	// NotTriedYet and OnlyCourtesy.
	pending, courtesy []string
	// courtesyWords are the courtesy phrases that are thanks inside a sentence too: all but
	// the single Chinese characters.
	courtesyWords []string
	// human are the phrases that ask for a person, folded: see AsksForHuman.
	human []string
	// commands are the phrases that word a command, folded, and its name: see Command.
	commands map[string]string
	// affirmations are the phrases that hold a negation and deny nothing ("没问题", "no
	// longer declined"), folded, the longest first: see Contradicts.
	affirmations []string
	// interrogatives are the phrase files' words that make a text a question, folded; asks
	// the questions they list about each solution ("solution.<id>") and question of the
	// flow ("question.<id>"), the longest phrase first: see QuestionAbout and AtQuestion.
	interrogatives []string
	asks           map[string][]ask
	// openers may begin a question before its interrogative ("so", "quick question"), folded,
	// the longest first; topics are the words that name each solution ("paypal", 虚拟卡),
	// folded: see QuestionAbout.
	openers []string
	topics  map[string][]string
	// plainTopics are the topics' words that hold no interrogative: see NamesPlainly.
	plainTopics map[string][]string
	// conditionals suppose rather than tell ("if", 的话), folded: a failure in a clause that
	// holds one is no verdict (see Statements).
	conditionals []string
	// complaints say the bot did not answer, folded: see WithoutComplaint; givesUp that the
	// person stops trying: see GivesUp.
	complaints, givesUp []string
	// hedges soften what is told without changing it ("好像", "i think"), folded: the model
	// does not read them (see RecognizeRulingOut).
	hedges []string
	// notReceived say that money refunded is not on the card yet, folded: see Refunded.
	notReceived []string
	// guesses are the words that guess rather than tell, folded: a refund or a credit guessed
	// is none (see Refunded, Arrived).
	guesses []string
	// likewise are the words that say what a text tells holds for more than what it names
	// ("too", 也), folded: see Likewise.
	likewise []string
	// why are the phrases that ask why the payment fails, folded: see AsksWhy; lacks those
	// that say the person does not have something: see Lacks.
	why, lacks []string
	// choosing are the words around a choice by position ("the", "option", 选, 个), folded,
	// the longest first, and ordinals each position's words ("second", "2nd", 二), folded,
	// by position from 1: see Choice.
	choosing []string
	ordinals map[string]int
	last     []string
	// places are the words of ordinals and last: a text without one or a digit picks nothing.
	places []string
	// corrections say an earlier answer was wrong ("sorry, I meant", 说错了), folded, the
	// longest first: see Corrects.
	corrections []string
	// newProblem say a text is about another problem than the one helped with, folded: see
	// TellsNewProblem.
	newProblem []string
	// checkoutVoice and ownVoice are the words by which a checkout or a bank addresses its
	// customer and by which people speak of themselves, folded: see Pasted.
	checkoutVoice, ownVoice []string
	// elsewhere are the words of payments elsewhere or before, folded: see Elsewhere.
	elsewhere []string
	// outcomeTopics are the words that name an outcome, folded, by outcome: see Unnamed.
	outcomeTopics map[string][]string
	// later are the words that tell of a later try, folded: see laterVerdict.
	later []string
	// notCharged say that no money was taken, and charged that some was, folded: see
	// NotCharged.
	notCharged, charged []string
	// refunded say that the money taken came back, partial that only some of it did, and
	// refundDue that it is still to come, folded: see Refunded.
	refunded, partial, refundDue []string
	// arrived say that the credit or subscription paid for showed up after all, folded: see
	// Arrived.
	arrived []string
	// checkoutAdvice is what checkouts add to their errors ("Try a different card."),
	// folded: it names no solution the person tried (see OthersNamed).
	checkoutAdvice []string
	// requests are the words that ask for something, folded: see Requests; wrongPress those
	// that say a button was pressed by mistake: see WrongPress.
	requests, wrongPress []string
	// says are the typed answers to each question of the flow, the longest first: see
	// AtQuestion.
	says map[string][]say
	// subjects are the words that name what each question of the flow asks about, folded,
	// the longest first: see subject.
	subjects map[string][]string
	// signs are the emoji that give a verdict as a whole text: see Verdict.
	signs map[string]string
	// amounts are the words of the currencies a sum typed at each question is read in, the
	// longest first: see AtQuestion.
	amounts map[string][]currencyWord
	// phraseTargets is where each phrase and code message leads, to check that none leads
	// to two places.
	phraseTargets phraseTargets
}

// noUnknownKeys reports the keys of a TOML file that no field takes: a misspelt key, or a
// top-level list written after a [[table]], which TOML reads as the table's, would otherwise
// be dropped without a word.
func noUnknownKeys(md toml.MetaData) error {
	if u := md.Undecoded(); len(u) > 0 {
		return fmt.Errorf("unknown key %s", u[0])
	}
	return nil
}

// Load reads the knowledge base from base, with the files of overlay (if not nil) taking
// precedence: overlay's flow file replaces base's, its locale files add to or correct
// base's, message by message, and its phrase files and corpus add to base's (a phrase that
// leads elsewhere than the same phrase of base's is an error naming both). The result is
// validated; any problem is an error wrapping ErrInvalid that names what is wrong.
func Load(base, overlay fs.FS) (*KB, error) {
	flowBytes, flowName, err := readFlow(base, overlay)
	if err != nil {
		return nil, err
	}
	var f flowFileData
	md, err := toml.Decode(string(flowBytes), &f)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, flowName, err)
	}
	if err := noUnknownKeys(md); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, flowName, err)
	}
	sum := sha256.Sum256(flowBytes)
	k := &KB{
		Version:      hex.EncodeToString(sum[:4]),
		Start:        f.Start,
		Causes:       f.Causes,
		Solutions:    f.Solutions,
		LastResort:   f.LastResort,
		questions:    make(map[string]*Question, len(f.Questions)),
		outcomes:     make(map[string]*Outcome, len(f.Outcomes)),
		causeOutcome: map[string]string{},
	}
	for i := range f.Questions {
		q := &f.Questions[i]
		if _, dup := k.questions[q.ID]; dup {
			return nil, fmt.Errorf("%w: %s: question %q defined twice", ErrInvalid, flowName, q.ID)
		}
		k.questions[q.ID] = q
	}
	for i := range f.Outcomes {
		o := &f.Outcomes[i]
		if _, dup := k.outcomes[o.ID]; dup {
			return nil, fmt.Errorf("%w: %s: outcome %q defined twice", ErrInvalid, flowName, o.ID)
		}
		k.outcomes[o.ID] = o
		if _, ok := k.causeOutcome[o.Cause]; !ok && o.Cause != "" {
			k.causeOutcome[o.Cause] = o.ID
		}
	}
	if err := k.validateFlow(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, flowName, err)
	}
	k.questionOrder = slices.Sorted(maps.Keys(k.questions))
	k.ahead = make(map[string]map[string]bool, len(k.questions))
	for _, id := range k.questionOrder {
		_, k.ahead[id] = k.reachableFrom(id)
	}
	k.answered = k.answeredAway()
	messageIDs, err := k.loadLocales(base, overlay)
	if err != nil {
		return nil, err
	}
	if err := k.validateMessages(messageIDs); err != nil {
		return nil, err
	}
	if err := k.indexLanguages(); err != nil {
		return nil, err
	}
	examples, err := k.loadExamples(base, overlay)
	if err != nil {
		return nil, err
	}
	if err := k.checkAnswers(); err != nil {
		return nil, err
	}
	if err := k.checkAmounts(); err != nil {
		return nil, err
	}
	if err := k.checkCommands(); err != nil {
		return nil, err
	}
	k.model = trainCached(examples, k.targets(), defaultTraining)
	k.codeTargets = make(map[string]codeTarget, len(k.codes))
	exact := map[string]bool{}
	for _, c := range k.codes {
		ct := codeTarget{target: slices.Index(k.model.targets, c.Target), generic: c.Generic, means: c.Means}
		k.codeTargets[c.Code] = ct
		for _, m := range c.En {
			k.checkoutEnglish = append(k.checkoutEnglish, Normalize(m))
		}
		// A generic code's messages ("Your card was declined.") are what Stripe shows for most
		// declines and what people quote when a remedy did not help: they teach the model but
		// decide nothing.
		if c.Generic && !c.ExactMessages {
			for _, m := range slices.Concat(c.En, c.Zh) {
				k.genericMessages = append(k.genericMessages, Normalize(m))
			}
			continue
		}
		for _, m := range slices.Concat(c.En, c.Zh) {
			if n := Normalize(m); !exact[n] {
				exact[n] = true
				k.messageTargets = append(k.messageTargets, codeMessage{n, ct})
			}
		}
		for _, m := range c.Said {
			k.saidTargets = append(k.saidTargets, codeMessage{Normalize(m), ct})
		}
	}
	slices.SortFunc(k.genericMessages, byLengthDown)
	k.genericMessages = slices.Compact(k.genericMessages)
	slices.SortFunc(k.checkoutEnglish, byLengthDown)
	k.checkoutEnglish = slices.Compact(k.checkoutEnglish)
	return k, nil
}

func readFlow(base, overlay fs.FS) ([]byte, string, error) {
	if overlay != nil {
		b, err := fs.ReadFile(overlay, flowFile)
		if err == nil {
			return b, "overlay " + flowFile, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("read %s: %w", flowFile, err)
		}
	}
	b, err := fs.ReadFile(base, flowFile)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", flowFile, err)
	}
	return b, flowFile, nil
}

// tomlFiles lists the .toml files of dir in base and then in overlay, so that overlay's
// entries are applied last and win.
func tomlFiles(base, overlay fs.FS, dir string) ([]fileRef, error) {
	var refs []fileRef
	for i, fsys := range []fs.FS{base, overlay} {
		if fsys == nil {
			continue
		}
		entries, err := fs.ReadDir(fsys, dir)
		if errors.Is(err, fs.ErrNotExist) && i == 1 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", dir, err)
		}
		for _, e := range entries {
			if e.IsDir() || path.Ext(e.Name()) != ".toml" {
				continue
			}
			refs = append(refs, fileRef{fsys: fsys, name: path.Join(dir, e.Name()), overlay: i == 1})
		}
	}
	return refs, nil
}

type fileRef struct {
	fsys    fs.FS
	name    string
	overlay bool
}

func (r fileRef) String() string {
	if r.overlay {
		return "overlay " + r.name
	}
	return r.name
}

// loadLocales parses every message file and returns, per language, the IDs it defines.
func (k *KB) loadLocales(base, overlay fs.FS) (map[string]map[string]bool, error) {
	bundle := i18n.NewBundle(language.SimplifiedChinese)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	files, err := tomlFiles(base, overlay, localesDir)
	if err != nil {
		return nil, err
	}
	ids := map[string]map[string]bool{}
	k.sources = map[textKey]*i18n.Message{}
	for _, f := range files {
		b, err := fs.ReadFile(f.fsys, f.name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		mf, err := bundle.ParseMessageFileBytes(b, f.name)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, f, err)
		}
		if mf.Tag == language.Und {
			return nil, fmt.Errorf("%w: %s: the file name names no language (want e.g. active.en.toml)", ErrInvalid, f)
		}
		tag := mf.Tag.String()
		if ids[tag] == nil {
			ids[tag] = map[string]bool{}
		}
		for _, m := range mf.Messages {
			ids[tag][m.ID] = true
			k.sources[textKey{tag, m.ID}] = m
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: no locale files in %s", ErrInvalid, localesDir)
	}
	// The default language comes first so that the matcher falls back to it.
	tags := bundle.LanguageTags()
	sort.SliceStable(tags, func(i, j int) bool { return tags[i] == language.SimplifiedChinese })
	k.languages = tags
	k.names = make([]string, len(tags))
	for i, t := range tags {
		k.names[i] = t.String()
	}
	k.matcher = language.NewMatcher(tags)
	k.localizers = make(map[string]*i18n.Localizer, len(tags))
	for _, t := range tags {
		k.localizers[t.String()] = i18n.NewLocalizer(bundle, t.String())
	}
	return ids, nil
}

// Languages returns the BCP 47 tags of the languages the knowledge base speaks, the default
// (Simplified Chinese) first.
func (k *KB) Languages() []string { return slices.Clone(k.names) }

// MatchLanguage maps a language hint (a BCP 47 tag such as Telegram's "zh-hans" or Slack's
// "en-US", or a short name such as "zh") to the closest language the knowledge base speaks.
// It reports false when none is close enough.
func (k *KB) MatchLanguage(hint string) (string, bool) {
	hint = strings.TrimSpace(hint)
	if hint == "" {
		return "", false
	}
	tag, err := language.Parse(strings.ReplaceAll(hint, "_", "-"))
	if err != nil {
		return "", false
	}
	_, index, confidence := k.matcher.Match(tag)
	if confidence == language.No {
		return "", false
	}
	return k.names[index], true
}

// Question returns the question with the given ID.
func (k *KB) Question(id string) (*Question, bool) {
	q, ok := k.questions[id]
	return q, ok
}

// QuestionIDs returns the ID of every question, sorted.
func (k *KB) QuestionIDs() []string { return slices.Sorted(maps.Keys(k.questions)) }

// OutcomeIDs returns the ID of every outcome, sorted.
func (k *KB) OutcomeIDs() []string { return slices.Sorted(maps.Keys(k.outcomes)) }

// Outcome returns the outcome with the given ID.
func (k *KB) Outcome(id string) (*Outcome, bool) {
	o, ok := k.outcomes[id]
	return o, ok
}

// SupportFirst reports whether outcome's plan starts with the last resort, OpenAI's support:
// a problem only they can see, money taken without credit.
func (k *KB) SupportFirst(outcome string) bool {
	first, ok := k.FirstSolution(outcome)
	return ok && first == k.LastResort
}

// FirstSolution returns the first solution of outcome's plan: the step a text about the
// outcome's fix reads as, and where the outcome leads first.
func (k *KB) FirstSolution(outcome string) (string, bool) {
	o, ok := k.outcomes[outcome]
	if !ok || len(o.Solutions) == 0 {
		return "", false
	}
	return o.Solutions[0], true
}

// SupportFirstOutcomes returns the outcomes whose plan starts with the last resort.
func (k *KB) SupportFirstOutcomes() []Target {
	var out []Target
	for _, id := range slices.Sorted(maps.Keys(k.outcomes)) {
		if k.SupportFirst(id) {
			out = append(out, Target{Outcome: id})
		}
	}
	return out
}

// IsSolution reports whether id is a solution ID.
func (k *KB) IsSolution(id string) bool { return slices.Contains(k.Solutions, id) }

// CauseOutcome returns the outcome a link to cause opens: the first of the flow file's
// outcomes with that cause.
func (k *KB) CauseOutcome(cause string) (string, bool) {
	id, ok := k.causeOutcome[cause]
	return id, ok
}

type textKey struct{ lang, id string }

// Text returns the message id in lang, filled in with data. Load has checked that every
// message the flow needs exists in every language, so a miss here means a caller asked for
// an ID outside the flow: the text falls back to the default language, then to the ID itself,
// rather than failing a conversation.
func (k *KB) Text(lang, id string, data map[string]any) string {
	if data == nil {
		if s, ok := k.fixed[textKey{lang, id}]; ok {
			return s
		}
	} else if t, ok := k.templates[textKey{lang, id}]; ok {
		if s, ok := t.fill(data); ok {
			return s
		}
	}
	l, ok := k.localizers[lang]
	if !ok {
		l = k.localizers[k.languages[0].String()]
	}
	s, err := l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil && s == "" {
		return id
	}
	return s
}
