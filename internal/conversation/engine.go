package conversation

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/redact"
)

// MaxInputBytes is how much of a message the engine reads. Real questions and pasted errors
// are far shorter; the cut keeps a 360 KB paste from costing more than a normal message.
const MaxInputBytes = 4096

// Engine computes the next dialog and the reply for one input. It holds only read-only data,
// so one Engine serves every conversation concurrently.
type Engine struct {
	kb          *kb.KB
	defaultLang string
	handoff     bool
	// handoffTTL and handoffSignature: see EngineOptions.
	handoffTTL       time.Duration
	handoffSignature string
	texts            map[string]*texts // per language the kb speaks
	// han is the language text in Chinese characters is answered in, and latin the one a
	// sentence in Latin letters is, matched once here rather than per message; empty if the
	// kb speaks no Chinese (no English).
	han, latin string
	// languages lists every language the kb speaks with the /lang command that picks it,
	// the same in every reply: each language is named in itself.
	languages  string
	confidence confidence
	// labels are the labels of the buttons that choose, folded as kb.Normalize folds (the
	// emoji gone), in every language, and the buttons each is on ("Not sure" is on several
	// questions'): see pressedByLabel.
	labels map[string][]string
}

// EngineOptions configures NewEngine. The zero value works.
type EngineOptions struct {
	// HandoffTTL is how long a handoff stays open without being closed; zero means 72 hours.
	HandoffTTL time.Duration
	// HandoffSignature is how a helper's answer is signed to the person: empty means the
	// helper's first name (a helper without one signs as the support team), and
	// AnonymousSignature the support team always.
	HandoffSignature string
	// Lang is the language (a BCP 47 tag such as "zh-Hans" or "en") spoken when neither the
	// platform nor the text tells the person's; empty means the kb's default.
	Lang string
	// Handoff tells the engine that a human helper can be reached: /human and the "talk to a
	// person" button then record a handoff (EventHandoff) and promise a human follow-up, and
	// the dialog keeps its last free-text message, redacted, for the summary the humans get.
	Handoff bool
}

// NewEngine returns an engine answering from k.
func NewEngine(k *kb.KB, opts EngineOptions) (*Engine, error) {
	lang := k.Languages()[0]
	if opts.Lang != "" {
		var ok bool
		if lang, ok = k.MatchLanguage(opts.Lang); !ok {
			return nil, fmt.Errorf("default language %q: the knowledge base speaks only %s", opts.Lang, strings.Join(k.Languages(), ", "))
		}
	}
	if opts.HandoffTTL <= 0 {
		opts.HandoffTTL = defaultHandoffTTL
	}
	e := &Engine{kb: k, defaultLang: lang, handoff: opts.Handoff, handoffTTL: opts.HandoffTTL, handoffSignature: opts.HandoffSignature, texts: map[string]*texts{}, confidence: defaultConfidence}
	e.han, _ = k.MatchLanguage("zh-Hans")
	e.latin, _ = k.MatchLanguage("en")
	var langLines []string
	for _, l := range k.Languages() {
		e.texts[l] = newTexts(k, l)
		langLines = append(langLines, "/lang "+shortTag(k, l)+" - "+k.LanguageName(l))
	}
	e.languages = strings.Join(langLines, "\n")
	e.labels = map[string][]string{}
	label := func(text, id string) { e.labels[kb.Normalize(text)] = append(e.labels[kb.Normalize(text)], id) }
	for _, l := range k.Languages() {
		for _, q := range e.texts[l].questions {
			for _, b := range q.Buttons {
				label(b.Label, b.ID)
			}
		}
		for _, sol := range k.Solutions {
			label(e.texts[l].solutions[sol].title, buttonOpenPrefix+sol)
		}
		for _, o := range k.OutcomeIDs() {
			label(k.Text(l, kb.OutcomeChoice(o), nil), buttonOutcomePrefix+o)
		}
	}
	return e, nil
}

// HandoffTTL is how long a handoff stays open: EngineOptions.HandoffTTL.
func (e *Engine) HandoffTTL() time.Duration { return e.handoffTTL }

// KB returns the knowledge base the engine answers from.
func (e *Engine) KB() *kb.KB { return e.kb }

// DefaultLang returns the language the engine speaks when nothing tells the person's: one
// of KB().Languages().
func (e *Engine) DefaultLang() string { return e.defaultLang }

// shortTag is the shortest tag /lang takes for lang: its primary subtag ("zh" for zh-Hans)
// unless that would pick another language the kb speaks.
func shortTag(k *kb.KB, lang string) string {
	base, _, _ := strings.Cut(lang, "-")
	if l, ok := k.MatchLanguage(base); ok && l == lang {
		return base
	}
	return lang
}

// Step is the conversation: given the stored dialog and one input at time now, it returns the
// new dialog and the result: the reply and the events that happened. It has no side effects.
func (e *Engine) Step(d Dialog, in Input, now time.Time) (Dialog, Result) {
	d.Plan, d.Asked = slices.Clone(d.Plan), slices.Clone(d.Asked) // backTo cuts Asked, and follow appends to it
	d.Attempts = compactAttempts(d.Attempts)
	isNew := d.Started.IsZero()
	if isNew {
		d.Started = now
	}
	d.LastActive = now

	var events []Event
	var notices []Notice
	if in.Kind == InputHelperReply || in.Kind == InputHelperDone || in.Kind == InputSweep {
		// A helper's message, or the sweep: the person's dialog changes only in its handoff,
		// and the reply, if any, is for the helpers' chat.
		in.Text, _ = cleanText(in.Text)
		t := turn{e: e, d: &d, now: now, events: &events, notices: &notices}
		r, _ := t.handoff(in)
		r.Lang = e.defaultLang
		r.Buttons, r.Solutions = []Button{}, []string{}
		return d, Result{Reply: r, Events: events, Notices: notices}
	}

	var secrets removed
	if in.Kind == InputText || in.Kind == InputButton || in.Kind == InputImage {
		in.Text, secrets = cleanText(in.Text)
	}
	if in.Kind == InputText {
		// Before anything asks whether it is a command: the language it is answered in, the
		// text kept for the helpers, a handoff closed by /start.
		in.Text = withCommandSlash(in.Text)
	}
	if in.Kind == InputImage {
		var seen removed
		in.Seen, seen = cleanText(in.Seen)
		secrets = secrets.and(seen)
	}
	// Card data in the message replied to is redacted, and warned about only when the message
	// is the person's own: the warning asks them to delete it. A command replied to was for a
	// bot, not a description of a payment.
	var quoted removed
	if in.Quoted, quoted = cleanText(in.Quoted); in.Kind != InputText || strings.HasPrefix(in.Text, "/") || strings.HasPrefix(in.Quoted, "/") {
		in.Quoted, quoted = "", removed{}
	}
	if in.QuotedOwn {
		secrets = secrets.and(quoted)
	}
	e.chooseLanguage(&d, in)

	t := turn{e: e, d: &d, now: now, redacted: secrets.any(), events: &events, notices: &notices}
	if e.handoff {
		switch {
		case in.Kind == InputText && (in.Text != "" || in.Quoted != "") && !strings.HasPrefix(in.Text, "/"):
			d.LastText = truncateRunes(withQuote(in.Text, in.Quoted), maxLastText)
		case in.Kind == InputImage && (in.Text != "" || in.Seen != ""):
			d.LastText = truncateRunes(joinLines(in.Text, in.Seen), maxLastText)
		}
	}
	r, handled := t.handoff(in)
	if !handled {
		note := r.Text
		r = t.dispatch(in)
		r.Text = join(note, r.Text)
	}
	// A dialog that begins with free text (a pasted error) or a button goes straight on
	// without start(): it is a dialog started all the same.
	if isNew && !slices.ContainsFunc(events, func(e Event) bool { return e.Kind == EventStarted }) {
		events = slices.Insert(events, 0, Event{Kind: EventStarted, Lang: d.Lang, At: now})
	}
	if secrets.apiKey {
		r.Text = join(e.kb.Text(d.Lang, kb.MsgAPIKeyWarning, nil), r.Text)
	}
	if secrets.cardData {
		r.Text = join(e.kb.Text(d.Lang, kb.MsgCardDataWarning, nil), r.Text)
	}
	r.Lang = d.Lang
	d.Offered = choices(r.Buttons)
	if r.Buttons == nil {
		r.Buttons = []Button{}
	}
	if r.Solutions == nil {
		r.Solutions = []string{}
	}
	return d, Result{Reply: r, Events: events, Notices: notices}
}

// maxLastText bounds the message a handoff summary quotes.
const maxLastText = 500

// Apology is the reply to a message whose handling failed unexpectedly: it leaves the dialog
// as it was and says so in the dialog's language.
func (e *Engine) Apology(d Dialog) Reply {
	lang := d.Lang
	if lang == "" {
		lang = e.defaultLang
	}
	return Reply{Text: e.kb.Text(lang, kb.MsgSorry, nil), Buttons: []Button{}, Cause: d.Cause, Solutions: []string{}, Lang: lang}
}

// withCommandSlash is text with the "/" a Chinese keyboard types before a command ("／", or
// in Chinese mode "、") made the ASCII one: "／help" answered in English, being no command to
// the language chosen before it.
func withCommandSlash(text string) string {
	if r, size := utf8.DecodeRuneInString(text); (r == '／' || r == '、') && len(text) > size && isASCIILetter(text[size]) {
		return "/" + text[size:]
	}
	return text
}

// removed is what cleanText took out of a text: card data, an API key.
type removed struct{ cardData, apiKey bool }

func (r removed) and(other removed) removed {
	return removed{r.cardData || other.cardData, r.apiKey || other.apiKey}
}

func (r removed) any() bool { return r.cardData || r.apiKey }

// cleanText cuts text to MaxInputBytes, drops invalid UTF-8 and control characters, and
// redacts card data and API keys. It reports what it removed.
func cleanText(s string) (string, removed) {
	// Redacted before the cut, and with room past it: cut first, a card number across the
	// cut kept the digits before it, too few to be found, and they were stored and forwarded.
	if len(s) > MaxInputBytes+redactMargin {
		s = s[:MaxInputBytes+redactMargin]
	}
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, s)
	var found removed
	s, found.cardData = redact.Redact(s)
	s, found.apiKey = redact.RedactKeys(s)
	if len(s) > MaxInputBytes {
		s = strings.ToValidUTF8(s[:MaxInputBytes], "")
	}
	return strings.TrimSpace(s), found
}

// redactMargin is how far past MaxInputBytes cleanText reads for card data: more than the
// longest card number written in full-width digits with a separator between each.
const redactMargin = 256

// chooseLanguage sets the dialog's language, unless /lang pinned it: the language the person
// writes in (Han script: Chinese; a sentence in Latin letters: English), else the language
// they last wrote in, else the platform's hint (their app's language, for presses, commands
// and short texts such as a pasted decline code), else the language the dialog has, else the
// default. Many Chinese developers run an English UI: what they write tells more than their
// settings, and a button they press after writing Chinese is still answered in Chinese.
func (e *Engine) chooseLanguage(d *Dialog, in Input) {
	if d.LangPinned {
		return
	}
	if lang, ok := e.writtenLanguage(in, d.Lang); ok {
		// A checkout's or a bank's words pasted into a dialog in the person's own language
		// ("The zip code you supplied failed validation.", 您的卡已被拒绝) are not theirs.
		if d.LangWritten && lang != d.Lang && in.Kind == InputText && e.kb.Pasted(in.Text) {
			return
		}
		d.Lang, d.LangWritten = lang, true
		return
	}
	if d.LangWritten {
		return
	}
	if lang, ok := e.kb.MatchLanguage(in.LangHint); ok {
		d.Lang = lang
		return
	}
	if d.Lang == "" {
		d.Lang = e.defaultLang
	}
}

// writtenLanguage is the language the person's own words in the input are in, if they tell.
// A screen in Chinese tells that they read Chinese (a line of it: OCR reads a stray Han glyph
// into English screens now and then); one in English tells little, as checkouts show English
// to everyone. When nothing else tells the language yet (no dialog language, no hint from the
// app), one word in Latin letters is a better guess than the default. current is the dialog's.
func (e *Engine) writtenLanguage(in Input, current string) (string, bool) {
	fresh := current == "" && in.LangHint == ""
	switch {
	case in.Kind == InputText && !strings.HasPrefix(in.Text, "/"):
		if lang, ok := e.languageOf(in.Text, current); ok {
			return lang, true
		}
		if fresh && e.latin != "" && !containsHan(in.Quoted) && plainWords(e.kb.WithoutCheckoutText(in.Text)) > 0 {
			// "hello", "help", "payment failed" to a bot whose default is Chinese, in a
			// terminal or where Slack's locale is unknown. A bare code ("card_declined")
			// is no word.
			return e.latin, true
		}
		// Asked about a message without words that tell their language ("@bot ?"), the
		// person reads the one it is in, as with a screenshot.
		if e.han != "" && containsHan(in.Quoted) {
			return e.han, true
		}
	case in.Kind == InputImage:
		if e.han != "" && hasChineseLine(in.Seen) {
			return e.han, true
		}
		return e.languageOf(in.Text, current)
	}
	return "", false
}

// languageOf is the language text is written in, if it tells, where the dialog is in current:
// Han script is Chinese, a sentence in Latin letters English, but for a checkout's message
// pasted as it was shown.
func (e *Engine) languageOf(text, current string) (string, bool) {
	if e.han != "" && containsHan(text) && current != e.latin {
		return e.han, true // the usual case, spared the count of English words
	}
	text = strings.ReplaceAll(text, redact.Placeholder, " ") // no word of the person's
	words := latinWords(e.kb.WithoutCheckoutText(text))
	english := e.latin != "" && words >= minLatinSentence
	// In a dialog in English, a few Han characters in English words are a name or a quote
	// ("it's 招商银行 card", "the page says 交易被拒绝"); elsewhere they are Chinese, with
	// an English error pasted in ("我这里提示 OpenAI's services are not available").
	quoting := e.latin != "" && current == e.latin && words >= 2 && 2*words >= hanCount(text)
	switch {
	case e.han != "" && containsHan(text) && !quoting:
		return e.han, true
	case english || quoting:
		return e.latin, true
	}
	return "", false
}

// minLatinSentence is how many words in Latin letters make a text English: fewer is a code
// or a name ("card_declined", "do_not_honor"), which says nothing about the person's
// language.
const minLatinSentence = 3

// latinWords counts the words of two or more Latin letters in s; an identifier such as
// do_not_honor is one word. plainWords counts those that are no identifiers: "hello" is one,
// card_declined none.
func latinWords(s string) int { n, _ := countLatinWords(s); return n }

func plainWords(s string) int { _, n := countLatinWords(s); return n }

// countLatinWords counts the words of two or more Latin letters in s, and those of them
// without an underscore.
func countLatinWords(s string) (words, plain int) {
	run, underscore := 0, false
	for _, r := range s + " " {
		if unicode.In(r, unicode.Latin) && unicode.IsLetter(r) || r == '_' && run > 0 {
			run++
			underscore = underscore || r == '_'
			continue
		}
		if run >= 2 {
			words++
			if !underscore {
				plain++
			}
		}
		run, underscore = 0, false
	}
	return words, plain
}

func hanCount(s string) int {
	n := 0
	for _, r := range s {
		if isHan(r) {
			n++
		}
	}
	return n
}

func containsHan(s string) bool { return strings.ContainsFunc(s, isHan) }

// saysSomething reports whether s has two words in Latin letters or two Han characters in a
// row: a stray word or character left over is too little to read.
func saysSomething(s string) bool {
	if latinWords(s) >= 2 {
		return true
	}
	run := 0
	for _, r := range s {
		if !isHan(r) {
			run = 0
		} else if run++; run >= 2 {
			return true
		}
	}
	return false
}

// hasChineseLine reports whether a line of s has two Han characters or more.
func hasChineseLine(s string) bool {
	for line := range strings.Lines(s) {
		if hanCount(line) >= 2 {
			return true
		}
	}
	return false
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// keepHan is a strings.Map function that keeps only Han characters.
func keepHan(r rune) rune {
	if isHan(r) {
		return r
	}
	return -1
}

// turn is one step in progress: the dialog being changed and the helpers that render texts in
// its language.
type turn struct {
	e   *Engine
	d   *Dialog
	now time.Time
	// redacted: the input held card data or a key, which Step removed and warns about; then
	// text that says nothing else needs no "I don't understand" on top of the warning.
	redacted bool
	// corrects: the free text holds a correction's words ("I meant", 说错了), read once for
	// the two readings that need it (kb.Corrects).
	corrects bool
	events   *[]Event
	notices  *[]Notice // to other chats: the helpers', or the person's from a helper's turn
}

// solving reports whether a solution is shown, whose result is what the person's words are
// about.
func (t turn) solving() bool {
	_, ok := t.d.CurrentSolution()
	return ok
}

func (t turn) record(kind EventKind, solution string) {
	if *t.events == nil {
		// A step records at most four events (what free text became; started; diagnosed or
		// failed; shown).
		*t.events = make([]Event, 0, 4)
	}
	*t.events = append(*t.events, Event{Kind: kind, Lang: t.d.Lang, Outcome: t.d.Outcome, Cause: t.d.Cause, Solution: solution, At: t.now})
}

func (t turn) text(id string, data map[string]any) string { return t.e.kb.Text(t.d.Lang, id, data) }

// texts returns the fixed texts of the dialog's language. A dialog stored in a language the
// kb no longer speaks gets those of the kb's default language, as kb.Text renders it.
func (t turn) texts() *texts {
	if ts, ok := t.e.texts[t.d.Lang]; ok {
		return ts
	}
	return t.e.texts[t.e.kb.Languages()[0]]
}

func (t turn) dispatch(in Input) Reply {
	switch in.Kind {
	case InputButton:
		return t.press(in.Text, in.FlowVersion)
	case InputUnsupported:
		return t.withView(t.text(kb.MsgUnsupportedMedia, nil))
	case InputFlooded:
		return Reply{Text: t.text(kb.MsgSlowDown, nil), Cause: t.d.Cause}
	case InputResume:
		if t.d.Stage == StageNew {
			return t.start()
		}
		return t.withView(t.text(kb.MsgResume, nil))
	case InputText:
		return t.freeText(in.Text, in.Quoted)
	case InputImage:
		return t.picture(in)
	}
	return t.withView(t.text(kb.MsgNotUnderstood, nil))
}

func (t turn) freeText(text, quoted string) Reply {
	if strings.HasPrefix(text, "/") {
		return t.command(text)
	}
	if name := t.e.kb.Command(text); name != "" {
		return t.command("/" + name) // "start over", the label of a button, typed
	}
	if t.redacted {
		// What was removed is no word of the person's: read as one, "[removed]" was a
		// billing-settings problem.
		text = strings.TrimSpace(strings.ReplaceAll(text, redact.Placeholder, ""))
		quoted = strings.TrimSpace(strings.ReplaceAll(quoted, redact.Placeholder, ""))
		if !saysSomething(text) && !saysSomething(quoted) {
			return t.withView()
		}
	}
	if t.e.kb.AsksForHuman(text) {
		return t.human()
	}
	t.corrects = t.e.kb.Corrects(text)
	// Before the verdicts: 不对，境外支付已经开通了 after a diagnosis changes an answer; its
	// 已经开通了 would read as a step done.
	if r, ok := t.correction(text); ok {
		return r
	}
	// A short answer to "Did this work?" first: "no, not yet" and "是的我试试" are no
	// failure or success, and "👍" has no letter for the rest to read.
	if r, ok := t.answerVerdict(text); ok {
		return r
	}
	// Thanks or a plan for later under someone's "it worked" is about the person's own
	// attempt, not theirs: read before the message replied to.
	text, r, ok := t.noResult(text)
	if ok {
		return r
	}
	if r, ok := t.answerQuestion(text); ok {
		return r
	}
	if t.solving() && t.e.kb.AsksWhy(text) && len(t.e.kb.OthersNamed("", text)) == 0 {
		return t.explain(t.d.Outcome) // "why does this happen?"; why PayPal fails is another question
	}
	if r, ok := t.answerTyped(text); ok {
		return r
	}
	// After the typed answers, which read a number alone at the amount question as a sum.
	if id, ok := t.picked(text); ok {
		return t.press(id, "")
	}
	if r, ok := t.answerVerdict(text); ok {
		return r // what noResult left of a text: "tried it, still declined, will try tomorrow"
	}
	// The person's own words first: "@bot it worked" under the error it was about is
	// feedback, and the error read again would start the diagnosis over.
	if quoted != "" && !t.decisive(text) {
		text = joinLines(text, quoted)
	}
	// Text without a letter ("+1", "2", "???") says nothing the model could read; what it
	// makes of digits is what amounts meant in its corpus.
	if strings.ContainsFunc(text, unicode.IsLetter) {
		if r, ok := t.understand(text, ""); ok {
			return r
		}
	}
	t.record(EventNotUnderstood, "")
	if t.d.Stage == StageNew {
		return t.start()
	}
	if t.solving() {
		return t.nudge()
	}
	if t.redacted {
		return t.withView()
	}
	return t.withView(t.text(kb.MsgNotUnderstood, nil))
}

// confidence is how sure the bot must be of what free text means. The recognizer's
// probabilities are calibrated (docs/understanding.md), so these read as they say.
type confidence struct {
	// sure is the probability of a destination the bot goes to without asking, and that a
	// person's own words must reach to be read without the message they replied to...
	sure float64
	// ...when the next likely one is apart behind.
	apart float64
	// ask is the probability two or three destinations of at least plausible each must reach
	// together to be offered in a clarifying question; below it, text that is not about
	// something else gets the question of what happened.
	ask, plausible float64
	// offTopic is the probability of "about something else" at which the bot says what it is
	// for, whatever the payment readings.
	offTopic float64
}

// defaultConfidence: sure, apart, ask and plausible were chosen by cross-validation on the
// training corpus's real lines (TestCrossValidated_FirstAnswer; docs/understanding.md has the
// grid). A wrong first answer sends someone down the wrong path and a question costs a tap, so
// going only at 0.6 is worth the right answers it turns into questions; asking at 0.4 rather
// than lower keeps messages that say nothing yet ("what?", 求助) on the what-happened menu
// instead of a question about arbitrary options. offTopic was not part of the grid, whose
// lines are nearly all about payments; it stays where it was.
var defaultConfidence = confidence{sure: 0.6, apart: 0.25, ask: 0.4, plausible: 0.1, offTopic: 0.5}

// understand answers text by what it is recognised as: a diagnosis, a solution, feedback on
// the solution shown, a question of which of two or three it is, for text about something
// else what the bot is for, and for text about a payment too vague to tell, the question of
// what happened. lead goes first in the reply. It reports false when nothing of the text was
// recognised.
func (t turn) understand(text, lead string) (Reply, bool) {
	matches, ruledOut := t.e.kb.RecognizeRulingOut(text, t.ruledOut(text)...)
	if r, ok := t.lateFeedback(text, ruledOut); ok {
		r.Text = join(lead, r.Text)
		return r, true
	}
	if !t.solving() && t.e.kb.SaysNothingYet(text) {
		// "what?", 怎么办, 支付失败了: what the model makes of them is chance, and a question
		// about its weak guesses asks about things the person never said.
		r := t.whatHappened()
		r.Text = join(lead, r.Text)
		return r, true
	}
	if len(matches) == 0 {
		return Reply{}, false
	}
	var offTopic float64
	if matches[0].Action == kb.ActionOffTopic && !t.surelyFeedback(ruledOut) {
		// "still not working" with no solution shown is about a payment, if not yet which:
		// with its feedback ruled out, what is left of it is no reading of chatter.
		offTopic = matches[0].Probability
	}
	if t.ownCardFailing(text, matches[0]) {
		// "招行信用卡 付openai api一直失败": the card solution read from the person's own
		// card, whose bank its steps name. Gone to, it told them to get the card they have, or
		// (as the first step of wallets not accepted) diagnosed a wallet nobody mentioned.
		r := t.whatHappened()
		r.Text = join(lead, r.Text)
		return r, true
	}
	// An outcome with words of its own that the text does not hold is no reading of it: the
	// 支付 of "支付不成功" made wallets not accepted sure (支付宝). Left out, not shared out.
	matches = slices.DeleteFunc(matches, func(m kb.Match) bool { return m.Outcome != "" && t.e.kb.Unnamed(m.Outcome, text) })
	if len(matches) == 0 {
		return Reply{}, false
	}
	options := t.destinations(matches)
	c := t.e.confidence
	// While a question is asked, a cause the answers before it ruled out (kb.AnsweredAway) is
	// no destination: "declined 3 times" after "overseas payment is enabled" is no card that
	// blocks payments abroad. Read as the text's most likely meaning, it contradicts an
	// answer, which the person hears; less likely, it is left out of what is offered. Left
	// out of the model's reading instead, the next cause would take its probability: "没收
	// 到验证码" after "I completed the check" became money taken.
	if away := t.e.kb.AnsweredAway(t.d.Question); t.d.Stage == StageAsking && len(away) > 0 {
		isAway := func(o kb.Match) bool { return o.Outcome != "" && slices.Contains(away, kb.Target{Outcome: o.Outcome}) }
		if len(options) > 0 && isAway(options[0]) && options[0].Probability >= c.ask {
			t.record(EventNotUnderstood, "")
			r := t.withView(t.text(kb.MsgContradicts, nil))
			r.Text = join(lead, r.Text)
			return r, true
		}
		options = slices.DeleteFunc(options, isAway)
	}
	if t.solving() && t.e.kb.SupportFirst(t.d.Outcome) && len(options) > 0 && (options[0].Outcome == "" || options[0].Probability < c.sure) &&
		offTopic < c.offTopic {
		// "I used a CCB card" while money taken is with OpenAI's support: a fact of the case.
		// Another card or a virtual card, offered as what it might mean, invites a second
		// payment; only a new problem the bot is sure of is diagnosed.
		t.record(EventNotUnderstood, "")
		r := t.nudge()
		r.Text = join(lead, r.Text)
		return r, true
	}
	var best, second float64
	if len(options) > 0 {
		best = options[0].Probability
	}
	if len(options) > 1 {
		second = options[1].Probability
	}
	n, together := 0, 0.0 // the options a clarifying question would offer, and their probability
	for n < min(len(options), 3) && options[n].Probability >= c.plausible {
		together += options[n].Probability
		n++
	}
	// While a question of the flow is asked, what people type answers it: a solution read
	// from words that do not name it ("工商银行的" or "不知道是什么卡" at the card question,
	// read as the card solution's banks) is no request for it.
	unasked := t.answering() && len(options) > 0 && (options[0].Solution != "" && !t.e.kb.NamesPlainly(options[0].Solution, text) ||
		options[0].Action == kb.ActionListSolutions) // "有" at the verification question: no request for the list
	var r Reply
	switch {
	case offTopic == 0 && best >= c.sure && best-second >= c.apart && !unasked:
		r = t.goTo(text, options[0].Target)
	case offTopic == 0 && t.restatesDiagnosis(options):
		r = t.goTo(text, options[0].Target)
	case t.solving() && n >= 2 && together >= c.ask && offTopic < together && t.e.kb.Statements(text) == "":
		// A question while a solution is shown ("is there a fee?" where none is listed): a
		// clarifying question about what happened would leave the solution for nothing.
		r = t.noReadyAnswer()
	case t.answering() && offTopic < c.offTopic && offTopic < 2*best:
		// An answer to the question asked that no typed phrase reads ("ICBC" for the card,
		// "收到了" for the verification): the question's own buttons are the clarifying
		// question, and other causes offered instead would leave it for a guess.
		t.record(EventNotUnderstood, "")
		r = t.withView(t.text(kb.MsgPickAnAnswer, nil))
	case n >= 2 && together >= c.ask && offTopic < together && !t.redacted:
		t.record(EventClarified, "")
		worked := slices.IndexFunc(options[:n], func(o kb.Match) bool { return o.Action == kb.ActionWorked })
		failed := slices.ContainsFunc(options[:n], func(o kb.Match) bool { return o.Action == kb.ActionFailed })
		switch {
		case (worked >= 0 || failed) && t.solving():
			// A verdict among the likely few while a solution is shown: whether it worked is
			// the question, with both buttons. "✅ This worked" beside diagnoses for "中文" or
			// "太难了" ended the help as a success at a tap.
			r = t.nudge()
		case worked >= 0 && t.e.kb.Contradicts(text):
			// "没有付款成功" is never offered "this worked": what it may be is a failure.
			options[worked].Target = kb.Target{Action: kb.ActionFailed}
			r = t.clarify(options[:n])
		default:
			r = t.clarify(options[:n])
		}
	case t.redacted:
		// The warning says all there is to say about a message that was mostly card data.
		return Reply{}, false
	case offTopic >= c.offTopic || offTopic >= 2*best:
		t.record(EventOffTopic, "")
		r = t.offTopic()
	default:
		// About a payment, but nothing in particular: ask what happened, unless a solution
		// is shown, whose result is what matters now, or which the text only asks about.
		switch {
		case t.solving() && t.e.kb.Asks(text) && t.e.kb.Statements(text) == "" && saysSomething(kb.Normalize(text)) && !t.e.kb.Supposes(text):
			// "is there a fee?" where no answer is listed and the model places nothing. Not
			// "what?", which asks nothing in particular, nor "what if it fails?", which the
			// buttons under the question whether it worked answer.
			r = t.noReadyAnswer()
		case t.solving():
			t.record(EventNotUnderstood, "")
			r = t.nudge()
		default:
			r = t.whatHappened()
		}
	}
	r.Text = join(lead, r.Text)
	return r, true
}

// restatesDiagnosis reports whether options, the likely destinations of a text while a
// solution is shown, lead first to the diagnosis already made, and the others either say as
// much (the solution failed) or lag far behind: the person telling or asking about their
// problem again ("is it because my card blocks payments abroad?", "they enabled it but it
// still said card declined"), which goTo answers as such. Asked about as one of a few, it got
// a clarifying question offering the diagnosis they are in.
func (t turn) restatesDiagnosis(options []kb.Match) bool {
	c := t.e.confidence
	if !t.solving() || len(options) == 0 || options[0].Outcome != t.d.Outcome || options[0].Probability < c.ask {
		return false
	}
	for _, o := range options[1:] {
		if o.Action != kb.ActionFailed && options[0].Probability-o.Probability < c.apart {
			return false
		}
	}
	return true
}

// whatHappened answers text about a payment that says too little to place: the question of
// what happened (with the greeting, in a new dialog), and the dialog stays where it is.
func (t turn) whatHappened() Reply {
	t.record(EventNotUnderstood, "")
	if t.d.Stage == StageNew {
		return t.start()
	}
	return t.withView(t.text(kb.MsgVague, nil))
}

// ownCardFailing reports whether best, the model's likeliest reading of text, is a solution
// read from words that do not name it, before any solution is shown, in a text that tells of
// a payment failing and asks for nothing: the person's own card or bank, not a request. A
// code of the table leads to its solution as it is (incorrect_cvc: re-enter the details).
func (t turn) ownCardFailing(text string, best kb.Match) bool {
	return !t.solving() && best.Solution != "" && !t.e.kb.NamesPlainly(best.Solution, text) &&
		t.e.kb.TellsFailure(text) && !t.e.kb.NamesCode(text) && !t.e.kb.Asks(text) && !t.e.kb.Requests(text) &&
		!t.e.kb.AnswersTheFlow(text) && !t.tellsFacts(text) // "BOC visa, overseas payments enabled, 3DS done": the questions go on
}

// tellsFacts reports whether a clause of text answers a question of the flow (kb.FactAnswer).
func (t turn) tellsFacts(text string) bool {
	q, _ := t.e.kb.FactAnswer(text)
	return q != ""
}

// surelyFeedback reports whether the model read text as "worked" or "didn't work" surely
// before those were ruled out.
func (t turn) surelyFeedback(ruledOut []kb.Match) bool {
	return slices.ContainsFunc(ruledOut, func(m kb.Match) bool {
		return (m.Action == kb.ActionWorked || m.Action == kb.ActionFailed) && m.Probability >= t.e.confidence.sure
	})
}

// goTo answers text that the bot is sure leads to target, where the dialog stands.
func (t turn) goTo(text string, target kb.Target) Reply {
	sol, _ := t.d.CurrentSolution()
	verdict := target.Action == kb.ActionWorked || target.Action == kb.ActionFailed
	// Every clause asks, nothing is told. Only a dialog with a solution shown needs to know
	// (the model's verdicts are ruled out elsewhere), and a first message is spared the
	// reading.
	asksOnly := t.solving() && t.e.kb.Statements(text) == ""
	switch {
	case target.Action == kb.ActionWorked && t.e.kb.Contradicts(text):
		// "not successful", "没有付款成功": success read from words that deny it. Asked.
		t.record(EventClarified, "")
		return t.nudge()
	case t.solving() && t.e.kb.Supposes(text) && !saysSomething(t.e.kb.Statements(text)):
		// "ok. if it fails then I'll try paypal": a plan for a result not known yet, no
		// request for PayPal's steps now. Whether the one shown worked is the question.
		t.record(EventRecognized, "")
		return t.nudge()
	case target.Action == kb.ActionFailed && sol == t.e.kb.LastResort && t.e.kb.Verdict(sol, text) != kb.ActionFailed:
		// "2 x $20 on my CCB card same day" while OpenAI's support is to be contacted: the
		// model reads "same" as "same error", but support takes days to answer, and its
		// failure read from words that say none ended the help at once.
		t.record(EventNotUnderstood, "")
		return t.nudge()
	case verdict && asksOnly:
		// "有没有用啊", "did it work for you?": asked, not told ("still declined, which bank
		// should I call?" tells).
		t.record(EventNotUnderstood, "")
		return t.nudge()
	case target.Action == kb.ActionWorked && t.solving() && len(t.e.kb.OthersNamed(sol, text)) == 1:
		// "刚才点错了，开通跨境其实是有用的" while the card is shown: the success is the
		// solution named, which the model saw but the phrase files' verdicts did not.
		t.record(EventRecognized, "")
		return t.workedBy(t.e.kb.OthersNamed(sol, text)[0])
	case t.solving() && target.Solution == sol:
		// About the solution shown, which is right above: its steps again would answer
		// nothing. A new problem beside its name is that problem ("paypal 扣款了 openai没
		// 到账"); a question no answer of the phrase files lists ("does PayPal work in China?")
		// is told so, and counted as not understood, so that the statistics show what people
		// ask; anything else ("linked my card to paypal") gets the question whether it worked.
		asks := t.e.kb.Asks(text)
		if rest, named := t.e.kb.WithoutTopic(sol, text); named && !asks && saysSomething(rest) {
			if m := t.recognize(rest); len(m) > 0 && m[0].Outcome != "" && m[0].Probability >= t.e.confidence.sure {
				t.record(EventRecognized, "")
				return t.recognized(rest, m[0].Target)
			}
		}
		if asks {
			return t.noReadyAnswer()
		}
		t.record(EventNotUnderstood, "")
		return t.nudge()
	case t.solving() && target.Outcome != "" && target.Outcome == t.d.Outcome:
		// The diagnosis that led to the solution shown, again. Asked about ("is it because my
		// card is UnionPay?"), what the diagnosis says answers; told with a failure ("called
		// ICBC, enabled now, but it still said card declined"), the solution shown failed;
		// told without one ("I changed the address to match"), it is a step done. Diagnosed
		// anew, it would start the same solutions over.
		switch {
		case asksOnly:
			return t.explain(target.Outcome)
		case t.e.kb.Contradicts(text) || t.e.kb.HoldsCode(text) || t.e.kb.Verdict(sol, text) == kb.ActionFailed:
			t.record(EventRecognized, "")
			return t.failed()
		}
		t.record(EventNotUnderstood, "")
		return t.nudge()
	case t.solving() && asksOnly && target.Outcome != "" && !t.e.kb.SupportFirst(target.Outcome) && !t.e.kb.TellsFailure(text):
		// A question about another cause ("3-D Secure是啥", "does OpenAI take Alipay?", "maybe
		// the amount is too big?"): what that cause is answers it, and the solution shown
		// stays. Diagnosed, a question would start other solutions over. Money taken without
		// credit, which only OpenAI's support can see, is still diagnosed when asked about
		// ("扣费了但是没到账，怎么回事？").
		return t.explain(target.Outcome)
	case t.solving() && asksOnly && target.Solution != "" && !slices.Contains(t.e.kb.OthersNamed(sol, text), target.Solution):
		// A question that does not name the solution the model reads ("is it safe?" read as
		// payment timing): it asks about the solution shown, which has no answer for it.
		return t.noReadyAnswer()
	case t.solving() && target.Solution != "" && target.Solution != sol && t.e.kb.Lacks(text) && !asksOnly:
		// "I don't have PayPal" while the bank is to be called: no request for PayPal's steps.
		t.record(EventNotUnderstood, "")
		return t.nudge()
	case !t.solving() && target.Solution != "" && t.e.kb.NamesPlainly(target.Solution, text) && !t.e.kb.Asks(text) && t.e.kb.TellsFailure(text) &&
		!t.e.kb.HoldsCode(text) && !t.e.kb.Supposes(text):
		// "my virtual card got declined", paypal也失败了: what the person tried failed, and
		// its steps would tell them to try it. Their case, where the flow asks about it (a
		// virtual card: the card question), takes the questions on; otherwise the solution's
		// failure is noted and the text read for the problem without it. Not a code's own
		// solution: "chase sent me a new card, now openai says expired_card" is no failure of
		// a new card, and the code says what to do.
		if q, option := t.e.kb.FlowAnswer(text); q != "" {
			return t.answerAnew(q, option)
		}
		if q, option := t.e.kb.FactAnswer(text); q != "" {
			return t.answerAnew(q, option) // "用的虚拟卡 充值api一直被拒"
		}
		return t.triedAlready(text, target.Solution)
	case !t.solving() && target.Solution != "" && t.e.kb.NamesPlainly(target.Solution, text) && !t.e.kb.Asks(text) && !t.e.kb.Requests(text) && t.answersALaterQuestion(text):
		// "it's a virtual card", "visa" before any solution: the person's card, which the
		// solution named so is no answer to; the questions go on from it.
		q, option := t.e.kb.FlowAnswer(text)
		return t.answerAnew(q, option)
	case t.solving() && target.Solution != "" && t.e.kb.NamesPlainly(target.Solution, text) && !t.e.kb.Asks(text) && !t.e.kb.Requests(text) &&
		t.d.Outcome != "" && t.answersALaterQuestion(text):
		// "it's a virtual card", 我用的是虚拟卡 after a diagnosis: the person tells their case,
		// named like a solution. An answer that differs from the one given, or was never asked,
		// takes the questions on from there; the solution's steps would tell a virtual card's
		// owner to get one.
		q, option := t.e.kb.FlowAnswer(text)
		return t.answerAnew(q, option)
	case t.solving() && target.Solution != "" && !t.e.kb.NamesPlainly(target.Solution, text) && !t.e.kb.Asks(text) &&
		!t.e.kb.NamesCode(text) && (t.e.kb.AnswersTheFlow(text) || t.e.kb.Brief(text)):
		// An answer to a question of the flow or a fragment, told without naming the solution
		// read: "it's a CCB Mastercard" or 招行 while the bank is to be called is read as the
		// card solution, whose steps name banks, and asks for none. Opened, it left the bank
		// untried and took the next "still declined" for the card's failure.
		t.record(EventNotUnderstood, "")
		return t.nudge()
	}
	if q, option, ok := t.e.kb.AnsweredOtherwise(target.Outcome, text); ok && !t.solving() {
		// "我已经开通了境外支付，还是被拒绝": the text answered a question on the way to the
		// cause the model read in a way that rules it out. The flow goes on from that answer,
		// and from those it gives to the questions after it ("短信也收到输入了").
		t.record(EventRecognized, "")
		r := t.answerAt(q, option)
		answered := []string{q} // a flow may loop back to a question: each is answered once
		for t.d.Stage == StageAsking && !slices.Contains(answered, t.d.Question) {
			next, ok := t.e.kb.AnsweredInSentences(t.d.Question, text)
			if !ok {
				break
			}
			answered = append(answered, t.d.Question)
			r = t.answerAt(t.d.Question, next)
		}
		return r
	}
	switch {
	case t.solving() && target.Outcome != "" && t.startsWith(target.Outcome, sol) && !t.e.kb.HoldsCode(text) && !t.e.kb.Contradicts(text):
		// "银行说是风控拦截了，已经解除" while the bank was to be called: what the bank found
		// and did, read as a diagnosis whose plan starts with the bank again. Whether paying
		// again worked is the question.
		t.record(EventRecognized, "")
		return t.nudge()
	case t.solving() && target.Outcome != "" && t.startsWith(target.Outcome, sol) && !t.e.kb.HoldsCode(text),
		t.solving() && target.Outcome != "" && t.e.kb.TellsFailure(text) && sol != t.e.kb.LastResort:
		// "the bank told me this card doesn't support overseas payments", "now it says
		// authentication_required" while the bank was to be called: the solution shown
		// failed, and the new diagnosis puts it last rather than first again (it sent people
		// back to the bank they had just called). Not OpenAI's support, which a payment failing
		// again says nothing of.
		t.recordResult(sol, FeedbackFailed)
	}
	t.record(EventRecognized, "")
	return t.recognized(text, target)
}

// startsWith reports whether outcome's plan, with what the answers so far rule out, starts
// with sol.
func (t turn) startsWith(outcome, sol string) bool {
	o, ok := t.e.kb.Outcome(outcome)
	if !ok {
		return false
	}
	plan := slices.DeleteFunc(slices.Clone(o.Solutions), t.ruledOutByAnswers)
	return len(plan) > 0 && plan[0] == sol
}

// explain answers, while a solution is shown, why the payment fails with what the diagnosis
// outcome says, and asks again whether the solution worked. A solution opened before any
// diagnosis has no such answer.
func (t turn) explain(outcome string) Reply {
	if outcome == "" {
		return t.noReadyAnswer()
	}
	t.record(EventRecognized, "")
	r := t.nudge()
	r.Text = join(t.text(kb.OutcomeText(outcome), nil), r.Text)
	return r
}

// noReadyAnswer answers a question about the solution shown that no answer of the phrase files
// lists ("does PayPal work in China?"): its steps again would answer nothing, and neither would
// a clarifying question about what happened. Counted as not understood, so that the
// statistics show what people ask.
func (t turn) noReadyAnswer() Reply {
	t.record(EventNotUnderstood, "")
	r := t.nudge()
	r.Text = join(t.text(kb.MsgNoReadyAnswer, nil), r.Text)
	return r
}

// answering reports whether a question of the flow past the first is asked: what people
// type then answers it.
func (t turn) answering() bool { return t.d.Stage == StageAsking && t.d.Question != t.e.kb.Start }

// decisive reports whether text alone leads somewhere the bot would go without asking.
func (t turn) decisive(text string) bool {
	if text == "" {
		return false
	}
	matches := t.recognize(text)
	if len(matches) == 0 || matches[0].Action == kb.ActionOffTopic || matches[0].Probability < t.e.confidence.sure {
		return false
	}
	// A cause the answers so far ruled out leads nowhere: "20刀，被拒" at the amount question
	// answers it, and its 被拒 is what brought the person there.
	return t.d.Stage != StageAsking || !slices.Contains(t.e.kb.AnsweredAway(t.d.Question), kb.Target{Outcome: matches[0].Outcome})
}

// newProblem reports whether text, after a success, tells of another problem rather than
// of the solution that worked failing: in the phrase files' words ("new problem", "my other
// card", 新问题), or a problem the bot is sure of, other than the dialog's diagnosis, told
// without a clause that is a verdict alone ("sorry, wrong button, it didn't work" is one,
// whatever the model makes of the rest).
func (t turn) newProblem(text string) bool {
	if t.e.kb.TellsNewProblem(text) {
		return true
	}
	matches := t.recognize(text)
	if len(matches) == 0 || matches[0].Outcome == "" || matches[0].Outcome == t.d.Outcome || matches[0].Probability < t.e.confidence.sure {
		return false
	}
	last, _ := t.d.lastShown()
	return !slices.ContainsFunc(kb.Clauses(text), func(c string) bool { return t.e.kb.Verdict(last, c) != "" })
}

// noResult answers text that says nothing about the payment: thanks, "ok" and, while a
// solution is shown, "not tried yet". It records no verdict and leaves the dialog where it is.
// A text that says more than it has not been tried ("tried it, still declined, will try
// another card tomorrow") says what is left without those words and the thanks, if that
// alone leads somewhere: noResult returns it to be read on.
func (t turn) noResult(text string) (string, Reply, bool) {
	solving := t.solving()
	if !t.e.kb.OnlyCourtesy(text) {
		if !solving || !t.e.kb.NotTriedYet(text) {
			return text, Reply{}, false
		}
		// "it" of "I'll try it tomorrow" is too little to read, and so is the name of the
		// solution shown: "改了账单地址" did its step, it is no new description.
		if told := t.e.kb.WithoutPendingPhrases(text); t.hasVerdict(told) {
			return told, Reply{}, false
		}
		if rest := t.e.kb.WithoutPending(text); saysSomething(rest) && t.decisive(rest) && !t.onlyNamesShown(rest) {
			return rest, Reply{}, false
		}
	}
	// Understood as thanks or a plan for later: nothing to act on, and nothing for the
	// statistics' "not understood", which shows operators what people ask.
	t.record(EventRecognized, "")
	switch {
	case solving:
		return text, t.nudge(), true
	case t.d.Stage == StageNew:
		return text, t.start(), true
	case t.d.Stage == StageResolved || t.d.Stage == StageExhausted:
		// Thanks or a greeting after the help ended: the closing message again, which can be
		// long, would answer nothing. Its buttons stay.
		r := t.withView()
		r.Text = t.text(kb.MsgWelcome, nil)
		return text, r, true
	default:
		return text, t.withView(), true
	}
}

// onlyNamesShown reports whether text names the solution shown and says nothing decisive
// besides.
func (t turn) onlyNamesShown(text string) bool {
	sol, _ := t.d.CurrentSolution()
	rest, named := t.e.kb.WithoutTopic(sol, text)
	return named && !(saysSomething(rest) && t.decisive(rest))
}

// answerQuestion answers a question about the solution shown ("which bank should I call?",
// "要手续费吗？") from the knowledge base, and asks again whether it worked. Read as a new
// description instead, such a question would move the person to another solution ("which
// bank" is also what people ask about cards that work). What the text says besides its
// questions goes first: a verdict ("also declined. which card now?") or a new problem
// ("扣费了但是没到账，怎么回事？"); and so does a question that describes one besides what it
// asks ("I was charged a fee but the payment failed?").
func (t turn) answerQuestion(text string) (Reply, bool) {
	if !t.solving() {
		return Reply{}, false
	}
	sol, _ := t.d.CurrentSolution()
	answer, besides, ok := t.e.kb.QuestionAbout(t.d.Lang, sol, text)
	if !ok {
		return Reply{}, false
	}
	// Its clauses that do not ask, then all it says besides the words it asks with, which
	// is the whole of a one-clause text ("did it in the app but it still gets declined").
	// Without those words, "can I top it up with alipay?" is about the card shown, not about
	// paying with a wallet. A text that does not ask ("三天了还没回复", "phone number") is
	// one statement of what calls for the answer: only what it says besides is read.
	statements := ""
	if t.e.kb.Asks(text) {
		statements = t.e.kb.Statements(text)
	}
	for _, said := range []string{statements, besides} {
		// What asks as Chinese does with 不 is the question's own ("招行的行不行": 的行不行
		// asks whether it works, and its 不 denies nothing).
		if !saysSomething(said) || t.e.kb.OnlyCourtesy(said) || t.e.kb.AsksAsAChoice(said) {
			continue
		}
		if r, ok := t.statement(said); ok {
			return r, true
		}
	}
	t.record(EventRecognized, "")
	r := t.nudge()
	r.Text = join(answer, r.Text)
	return r, true
}

// statement acts on what a question's text says besides it: a failure told in words that
// deny ("the virtual card got declined too", which the model reads as naming the card), likely
// enough to ask about or read as the solution shown; a success not denied; or a problem the
// bot is sure of. The model reads "issue" of "which banks issue these?" as a problem: a
// failure without such a word is none.
func (t turn) statement(said string) (Reply, bool) {
	m := t.recognize(said)
	if len(m) == 0 {
		return Reply{}, false
	}
	c := t.e.confidence
	sol, _ := t.d.CurrentSolution()
	denies := t.e.kb.Contradicts(said)
	var failed float64
	if i := slices.IndexFunc(m, func(m kb.Match) bool { return m.Action == kb.ActionFailed }); i >= 0 {
		failed = m[i].Probability
	}
	switch top := m[0]; {
	case denies && (top.Action == kb.ActionFailed && top.Probability >= c.ask || top.Solution == sol):
		t.record(EventRecognized, "")
		return t.failed(), true
	case top.Action == kb.ActionWorked && !denies && (top.Probability >= c.sure || top.Probability >= c.ask && t.e.kb.Verdict(sol, said) == kb.ActionWorked):
		// Only sure, or in the words of a verdict: "is it problem with my browser?" without
		// its question word left "is it problem with my", which the model half read as thanks
		// for a success, and the help ended.
		t.record(EventRecognized, "")
		return t.worked(), true
	case top.Outcome != "" && top.Probability >= c.sure:
		return t.understand(said, "")
	case denies && failed >= c.plausible:
		t.record(EventRecognized, "")
		return t.failed(), true
	}
	return Reply{}, false
}

// answerTyped takes a short typed answer to the question asked ("no", "不知道", "it's a Visa
// from ICBC") as the press of its option, and answers what people ask about the question
// itself ("how do I tell which card it is?") with the question again. In groups people
// answer in words as often as they press, replying to the bot's question. Read by the model,
// "no" says nothing, and "it's a Visa from ICBC" reads as asking which cards work.
func (t turn) answerTyped(text string) (Reply, bool) {
	if t.d.Stage != StageAsking || t.d.Question == "" {
		return Reply{}, false
	}
	option, help, besides := t.e.kb.AtQuestion(t.d.Lang, t.d.Question, text)
	switch {
	case option != "" && saysSomething(besides) && t.decisive(besides):
		// "是的，但是扣了钱没到账": what else it says is a problem of its own.
		return t.understand(besides, "")
	case option != "":
		t.record(EventRecognized, "")
		return t.answer(t.d.Question, option), true
	case help != "":
		t.record(EventRecognized, "")
		return t.withView(help), true
	}
	return Reply{}, false
}

// answerVerdict takes a short answer to "Did this work?" while a solution is shown ("no",
// 有用, "paypal worked!") as its button, or for "not yet", as no verdict. A verdict on another
// solution named goes to that one.
func (t turn) answerVerdict(text string) (Reply, bool) {
	if !t.solving() {
		return Reply{}, false
	}
	sol, _ := t.d.CurrentSolution()
	if t.e.kb.SupportFirst(t.d.Outcome) && t.e.kb.NotCharged(text) {
		// "没扣钱", "no money taken" where money taken without credit was diagnosed: a
		// payment that failed, whose cause is still to find; told to wait for OpenAI's
		// support and not to pay again, the person stayed without what they paid for.
		t.record(EventRecognized, "")
		t.clearDiagnosis()
		t.d.Stage, t.d.Question = StageAsking, t.e.kb.Start
		return t.withView(t.text(kb.MsgFindTheCause, nil)), true
	}
	if t.e.kb.SupportFirst(t.d.Outcome) && t.e.kb.Refunded(text) {
		// "钱退回来了，但是额度还是没有": the payment did not go through, and its cause is
		// what is left to find. Read as support failing, it ended the help with "we've
		// tried everything" and counted a failure for support, which had not answered.
		t.record(EventRecognized, "")
		t.clearDiagnosis()
		t.d.Stage, t.d.Question = StageAsking, t.e.kb.Start
		return t.withView(t.text(kb.MsgRefunded, nil)), true
	}
	if sol == t.e.kb.LastResort && t.e.kb.TellsFailure(text) && !t.e.kb.NamesPlainly(sol, text) && !t.e.kb.HoldsCode(text) {
		// "卡被拒了" while OpenAI's support is to be contacted tells of the payment, not of
		// support, which takes days to answer: read as its failure, it ended the help with
		// "we've tried everything" one message after support was suggested.
		return Reply{}, false
	}
	// "it works fine on steam", 上个月还能用: payments elsewhere or before, no verdict on this
	// one. Read as one, they ended the help as a success.
	if t.e.kb.Elsewhere(text) && !t.e.kb.TellsFailure(text) {
		if _, _, answered := t.e.kb.QuestionAbout(t.d.Lang, sol, text); answered {
			return Reply{}, false // "I changed my number last year": answered below
		}
		if m := t.recognize(text); len(m) > 0 && m[0].Outcome != "" && m[0].Outcome != t.d.Outcome && m[0].Probability >= t.e.confidence.sure {
			// "昨天扣了20刀 但是plus没开通": money taken yesterday is a new problem, told with
			// when; left at "did the bank's solution work?", the person was on the way to
			// paying again.
			return Reply{}, false
		}
		if v, _ := t.clausesVerdict(text); v == "" {
			t.record(EventNotUnderstood, "")
			return t.nudge(), true
		}
		return t.verdictInClauses(text) // "it worked yesterday but not today"
	}
	// A problem told after "but" is what matters now: "付款成功了，但是余额没到账" is money
	// taken without credit, not a success to end the help with.
	if after := kb.AfterContrast(text); saysSomething(after) {
		if m := t.recognize(after); len(m) > 0 && m[0].Outcome != "" && m[0].Outcome != t.d.Outcome && m[0].Probability >= t.e.confidence.sure {
			return t.goTo(after, m[0].Target), true
		}
	}
	// "sorry, I meant yes" right after "didn't work": the success is the solution the press
	// moved past, not the one it showed.
	if t.corrects {
		prev, justFailed := t.justFailed()
		switch v := t.e.kb.Verdict(sol, t.e.kb.WithoutCorrection(text)); {
		case justFailed && v == kb.ActionWorked:
			t.record(EventRecognized, "")
			return t.workedBy(prev), true
		case !justFailed && v == kb.ActionWorked:
			t.record(EventRecognized, "")
			return t.worked(), true
		case !justFailed && v == kb.ActionFailed:
			t.record(EventRecognized, "") // "actually no": the correction word says nothing more
			return t.failed(), true
		}
	}
	v, about := t.verdict(text)
	switch {
	case v == "" && t.e.kb.Asks(text):
		// What a question tells besides ("It didn't work, what should I try next?",
		// 没用，下一步怎么做？), whole or clause by clause.
		told := t.e.kb.Statements(text)
		if !saysSomething(told) || t.e.kb.OnlyCourtesy(told) {
			return Reply{}, false // "太好了，谢谢。打哪个电话？" thanks for the steps
		}
		if v, about = t.verdict(told); v == "" {
			return t.verdictInClauses(told)
		}
	case v == "":
		return t.verdictInClauses(text)
	}
	switch v {
	case kb.ActionWorked:
		t.record(EventRecognized, "")
		return t.workedBy(about[0]), true
	case kb.ActionFailed:
		t.record(EventRecognized, "")
		var noted []string
		others := slices.DeleteFunc(slices.Clone(about), func(s string) bool { return s == sol })
		for _, other := range others {
			t.recordResult(other, FeedbackFailed)
			noted = append(noted, t.text(kb.MsgOtherFailed, map[string]any{"Title": t.texts().solutions[other].title}))
		}
		// The others, tried already, are no longer to come. Those a new diagnosis put last
		// for having failed before stay, as after a button's "didn't work".
		ahead := slices.DeleteFunc(t.d.Plan[t.d.Current+1:], func(s string) bool { return slices.Contains(others, s) })
		t.d.Plan = t.d.Plan[:t.d.Current+1+len(ahead)]
		if slices.Contains(about, sol) {
			return t.failed(), true
		}
		r := t.nudge()
		r.Text = join(strings.Join(noted, "\n"), r.Text)
		return r, true
	case kb.VerdictSkipped:
		return t.skipped(text), true
	case kb.VerdictNotTried:
		if _, _, answered := t.e.kb.QuestionAbout(t.d.Lang, sol, text); answered {
			return Reply{}, false // "不知道银行登记的地址" is no "not tried": it calls for an answer
		}
		t.record(EventNotUnderstood, "") // nothing to act on, as noResult
		return t.nudge(), true
	}
	return Reply{}, false
}

// justFailed returns the solution before the one shown when it is the one that just failed:
// the one shown has no verdict yet.
func (t turn) justFailed() (string, bool) {
	if t.d.Current < 1 || t.d.Current >= len(t.d.Plan) {
		return "", false
	}
	prev, shown := t.d.Plan[t.d.Current-1], t.d.attempt(t.d.Plan[t.d.Current])
	return prev, t.d.failedBefore(prev) && (shown == nil || shown.Result == "")
}

// verdictInClauses reads a text that holds no short verdict as a whole clause by clause: "It
// didn't work, the bank says overseas payments are already on" is a failure, and "no. now it
// says authentication_required" a failure of the solution shown and a new problem, which is
// diagnosed. The clauses that give a verdict must agree.
func (t turn) verdictInClauses(text string) (Reply, bool) {
	verdict, rest := t.clausesVerdict(text)
	if verdict == "" {
		return Reply{}, false
	}
	clauses := kb.Clauses(text)
	for _, c := range rest {
		if verdict == kb.ActionWorked && c != clauses[len(clauses)-1] {
			// "the bank said risk control flagged it and unblocked it, works now!": a problem
			// told before the success is what was solved, not a new one ("it worked, but now
			// the renewal failed").
			continue
		}
		if m := t.recognize(c); len(m) > 0 && m[0].Outcome != "" && m[0].Outcome != t.d.Outcome && m[0].Probability >= t.e.confidence.sure {
			if verdict == kb.ActionFailed {
				sol, _ := t.d.CurrentSolution()
				t.recordResult(sol, FeedbackFailed)
			}
			return t.goTo(c, m[0].Target), true
		}
	}
	if verdict == kb.VerdictSkipped {
		return t.skipped(text), true
	}
	t.record(EventRecognized, "")
	switch verdict {
	case kb.ActionWorked:
		return t.worked(), true
	case kb.ActionFailed:
		return t.failed(), true
	}
	return t.nudge(), true // not tried yet
}

// clausesDisagree reports whether the clauses of text give both "worked" and "didn't work",
// or name different solutions: one verdict for all of them would be wrong for some.
func (t turn) clausesDisagree(text string) bool {
	var worked, failed bool
	var first []string
	for _, c := range kb.Clauses(text) {
		switch t.e.kb.Verdict("", c) {
		case kb.ActionWorked:
			worked = true
		case kb.ActionFailed:
			failed = true
		}
		switch named := t.e.kb.OthersNamed("", c); {
		case len(named) == 0:
		case first == nil:
			first = named
		case !slices.Equal(first, named):
			return true
		}
	}
	return worked && failed
}

// clausesVerdict is the verdict on the solution shown that the clauses of text agree on, and
// the clauses that give none, or "" when fewer than two clauses, none or two verdicts.
func (t turn) clausesVerdict(text string) (string, []string) {
	clauses := kb.Clauses(text)
	if len(clauses) < 2 {
		return "", nil
	}
	sol, _ := t.d.CurrentSolution()
	var verdict string
	var rest []string
	for _, c := range clauses {
		v, about := t.verdict(c)
		switch {
		case t.e.kb.OnlyCourtesy(c), t.e.kb.Supposes(c), t.e.kb.Elsewhere(c):
			// "sorry, I clicked the wrong button": says nothing, which the model would read;
			// "我以为好了": a success only supposed; "it worked yesterday": another payment
		case v == "" || v == kb.VerdictNotTried:
			// "试了，付款还是没能成功": 试了 alone is not yet; beside a result it is the try
			rest = append(rest, c)
		case !slices.Equal(about, []string{sol}) || v != verdict && verdict != "":
			return "", nil // another solution's, or two verdicts: the model reads it
		default:
			verdict = v
		}
	}
	return verdict, rest
}

// verdict is what text, sent while a solution is shown, says as a short answer to whether
// it worked (kb.Verdict), and which solutions it is about: the one shown, others it names, or
// both. Beside the name of the one shown ("paypal worked!", 虚拟卡也被拒了 while the virtual
// card is shown) a verdict counts: read whole, the name is what the model sees, and it would
// show the same steps again or diagnose "declined" anew. So does a cause the bot is sure of
// ("虚拟卡付款还是提示 Your card was declined"): the solution named failed the way that cause
// does. "申请了虚拟卡" tells of a step done, not of the payment, and money taken is a problem
// of its own (its outcome names no cause).
func (t turn) verdict(text string) (string, []string) {
	sol, _ := t.d.CurrentSolution()
	if t.e.kb.Supposes(text) {
		// "ok. if it fails then I'll try paypal": what only supposes tells no verdict, on the
		// solution shown or on the one it names; what the other clauses tell may.
		told := t.e.kb.Statements(text)
		if !saysSomething(told) || t.e.kb.OnlyCourtesy(told) {
			return "", nil
		}
		text = told
	}
	others := slices.DeleteFunc(t.e.kb.OthersNamed(sol, text), func(other string) bool { return t.tellsProblemOf(other, text) })
	if len(others) > 0 {
		// What it tells besides what it asks: "I already tried virtual card and paypal, both
		// failed. what else?"
		rest := text
		if t.e.kb.Asks(text) {
			rest = t.e.kb.Statements(text)
		}
		if t.clausesDisagree(rest) {
			// "虚拟卡可以，银行开通没用": a verdict for each, which one reading would give both
			return "", nil
		}
		for _, other := range others {
			rest, _ = t.e.kb.WithoutTopic(other, rest)
		}
		if t.e.kb.BareVerdict(rest) {
			return "", nil // "是虚拟卡": which card it is, not that the virtual card worked
		}
		switch t.e.kb.Verdict("", rest) { // what is said of another is not in the shown one's own phrases
		case kb.ActionWorked:
			// "虚拟卡成功了" while PayPal is shown: the payment went through, which is what
			// the help is for, by the virtual card.
			if len(others) == 1 {
				return kb.ActionWorked, others
			}
		case kb.ActionFailed:
			// "the virtual card failed" while a card is shown: the virtual card did, and the
			// card too when the text names it or says so ("虚拟卡也被拒了").
			if _, named := t.e.kb.WithoutTopic(sol, text); named || t.e.kb.Likewise(text) {
				return kb.ActionFailed, append(others, sol)
			}
			return kb.ActionFailed, others
		}
		return "", nil
	}
	shown := []string{sol}
	if v := t.e.kb.Verdict(sol, text); v != "" || t.e.kb.Asks(text) {
		return v, shown
	}
	rest, named := t.e.kb.WithoutTopic(sol, text)
	if !named || !saysSomething(rest) {
		return "", nil
	}
	if v := t.e.kb.Verdict(sol, rest); v != "" {
		return v, shown
	}
	if m := t.recognize(rest); len(m) > 0 && m[0].Probability >= t.e.confidence.sure {
		if out, ok := t.e.kb.Outcome(m[0].Outcome); ok && out.Cause != "" {
			return kb.ActionFailed, shown
		}
	}
	return "", nil
}

// tellsProblemOf reports whether text names solution, never tried in this dialog, only in
// telling the problem solution is for: "账单地址报错" names the billing settings in telling
// of an address refused, which is a problem to diagnose, not a verdict on them.
func (t turn) tellsProblemOf(solution, text string) bool {
	if t.d.attempt(solution) != nil {
		return false
	}
	for _, c := range kb.Clauses(text) {
		if !slices.Contains(t.e.kb.OthersNamed("", c), solution) {
			continue
		}
		m := t.recognize(c)
		if len(m) == 0 || m[0].Outcome == "" || m[0].Probability < t.e.confidence.sure {
			continue
		}
		if o, ok := t.e.kb.Outcome(m[0].Outcome); ok && len(o.Solutions) > 0 && o.Solutions[0] == solution {
			return true
		}
	}
	return false
}

// hasVerdict reports whether text says whether a solution worked (see verdict).
func (t turn) hasVerdict(text string) bool {
	v, _ := t.verdict(text)
	return v != ""
}

// lateFeedback answers "it worked" or "still not working" when no solution is shown. After
// the help ended in success, a failure reopens it at the next solution; after it ran out, a
// success is the last solution's, and a failure gets the way on again (a human, all
// solutions); success after a success moves nothing. Before any solution a failure is no
// feedback but a description ("still declined"), which recognize reads as one: it reports
// false.
func (t turn) lateFeedback(text string, ruledOut []kb.Match) (Reply, bool) {
	if t.d.Stage == StageExhausted || t.d.Stage == StageResolved {
		// "it worked but now the renewal failed", "different problem now: the page times out":
		// after the help ended, another problem, told after "but" or after words that say so.
		for _, part := range []string{kb.AfterContrast(text), t.e.kb.WithoutNewProblem(text)} {
			if part == kb.Normalize(text) || !saysSomething(part) {
				continue // the whole text: read as feedback below
			}
			if m := t.recognize(part); len(m) > 0 && m[0].Outcome != "" && m[0].Probability >= t.e.confidence.sure {
				t.record(EventRecognized, "")
				return t.recognized(part, m[0].Target), true
			}
		}
	}
	if t.d.Stage == StageExhausted || t.d.Stage == StageResolved || t.d.Stage == StageAsking && len(t.d.Attempts) > 0 {
		// "我刚才又试了一次虚拟卡，成功了" after the help ended: the success is the virtual
		// card's, not the last solution's, and read whole the text would open the virtual
		// card again. So is "sorry, PayPal did work" at the questions that PayPal's failure,
		// before any diagnosis, went back to; a solution never shown is no success of the
		// help's.
		if named := t.e.kb.OthersNamed("", text); len(named) == 1 && (t.d.Stage != StageAsking || t.d.attempt(named[0]) != nil) {
			if rest, _ := t.e.kb.WithoutTopic(named[0], text); t.e.kb.Verdict("", rest) == kb.ActionWorked {
				t.record(EventRecognized, "")
				return t.workedBy(named[0]), true
			}
		}
		// "今天又不行了" after a success, in the phrase files' words, which the model reads as
		// chatter, or "sorry, wrong button, it didn't work": the solution that worked no longer
		// does.
		if last, ok := t.d.lastShown(); ok && t.d.Stage == StageResolved && !t.newProblem(text) {
			v := t.e.kb.Verdict(last, text)
			if v == "" && t.e.kb.Corrects(text) {
				v = t.e.kb.Verdict(last, t.e.kb.WithoutCorrection(text)) // "sorry, I meant no"
			}
			if v == "" {
				v, _ = t.clausesVerdict(text)
			}
			if v == kb.ActionFailed {
				t.d.Stage = StageSolving
				t.record(EventRecognized, "")
				return t.failed(), true
			}
		}
	}
	var worked, failed float64
	for _, m := range ruledOut {
		switch m.Action {
		case kb.ActionWorked:
			worked = m.Probability
		case kb.ActionFailed:
			failed = m.Probability
		}
	}
	sure := t.e.confidence.sure
	success := worked >= sure && worked > failed
	failure := failed >= sure && failed > worked
	if success && t.d.Stage == StageExhausted {
		// After every solution failed, only words that say so make a success: the model reads
		// "thanks anyway" or 那好吧，谢谢 as one, having learnt thanks from successes.
		last, _ := t.d.lastShown()
		v := t.e.kb.Verdict(last, text)
		if v == "" {
			v, _ = t.clausesVerdict(text)
		}
		success, failure = v == kb.ActionWorked, v != kb.ActionWorked
	}
	hasLast := t.d.Current >= 0 && t.d.Current < len(t.d.Plan)
	if t.d.Stage == StageResolved && !hasLast && t.e.kb.Verdict("", text) == kb.ActionFailed {
		failure = true // the phrase files' words, as after a solution's success
	}
	// "solved it already", 现在可以了 while a question is asked: the words say so. Not "yes",
	// 是的 or 好了, which answer or acknowledge the question as often.
	// The model's reading gates the phrase lookup, which every answer typed at a question
	// would otherwise pay for.
	toldSuccess := t.d.Stage == StageAsking && !hasLast && worked >= t.e.confidence.plausible &&
		(latinWords(text) >= 3 || strings.Count(strings.Map(keepHan, text), "") > 3) &&
		t.e.kb.Verdict("", text) == kb.ActionWorked && !t.e.kb.Contradicts(text)
	if toldSuccess {
		success, failure = true, false
	}
	switch {
	case !success && !failure:
		return Reply{}, false
	case success && t.e.kb.Contradicts(text), success && t.d.Stage == StageNew:
		// "成功了，没问题了" after a success is praise, not a failure; before any solution,
		// success has nothing to confirm.
		t.record(EventNotUnderstood, "")
		if t.d.Stage == StageNew {
			return t.start(), true
		}
		return t.withView(), true
	case hasLast && (success && t.d.Stage == StageExhausted || failure && t.d.Stage == StageResolved):
		// The last solution shown worked after all, or the one that worked no longer does:
		// the verdict goes to it.
		t.d.Stage = StageSolving
		t.record(EventRecognized, "")
		if success {
			return t.worked(), true
		}
		return t.failed(), true
	case toldSuccess:
		// "it works now, payment succeeded" while a question is asked: the person found the
		// way before any solution was shown, and the same question again ignored them. No
		// solution is credited: none was tried.
		t.record(EventRecognized, "")
		t.clearDiagnosis()
		t.d.Stage, t.d.Question = StageResolved, ""
		return t.withView(), true
	case success, t.d.Stage == StageExhausted:
		t.record(EventRecognized, "")
		return t.withView(), true
	case failure && t.d.Stage == StageResolved && !hasLast:
		// "it stopped working again" after a success found before any solution: why the
		// payment fails is still to find out.
		t.record(EventRecognized, "")
		t.d.Stage, t.d.Question = StageAsking, t.e.kb.Start
		return t.withView(t.text(kb.MsgFindTheCause, nil)), true
	}
	return Reply{}, false
}

// nudge answers, while a solution is shown, what says nothing about it yet: it asks for the
// result once the person has tried it, with the solution's buttons, and no verdict.
func (t turn) nudge() Reply {
	sol, _ := t.d.CurrentSolution()
	st, ok := t.texts().solutions[sol]
	if !ok {
		return t.view()
	}
	return Reply{Text: st.nudge, Buttons: slices.Clone(st.buttons), Cause: t.d.Cause, Solutions: []string{sol}}
}

// offTopic says what the bot is for, with the menu, or while a solution is shown, with the
// question of its result rather than its steps again.
func (t turn) offTopic() Reply {
	if t.solving() {
		r := t.nudge()
		r.Text = join(t.text(kb.MsgOffTopic, nil), r.Text)
		return r
	}
	if t.d.Stage == StageNew {
		r := t.start()
		r.Text = join(t.text(kb.MsgOffTopic, nil), r.Text)
		return r
	}
	return t.withView(t.text(kb.MsgOffTopic, nil))
}

// picture answers a screenshot: one line quoting what it read that mattered, then what that
// leads to; or, when nothing in it is about a payment, a request for the text. Only the lines
// of the screen that are clearly about a payment count: the rest of a screen (the clock, the
// merchant's name, the buttons) is noise that would make the bot ask about nothing.
func (t turn) picture(in Input) Reply {
	if t.e.kb.AsksForHuman(in.Text) {
		return t.human()
	}
	var lead string
	evidence := t.evidence(in.Seen)
	if len(evidence) > 0 {
		lead = t.text(kb.MsgImageSeen, map[string]any{"Quote": truncateRunes(evidence[0], maxQuote)})
	}
	if text := strings.Join(append([]string{in.Text}, evidence...), "\n"); strings.TrimSpace(text) != "" {
		if r, ok := t.understand(text, lead); ok {
			return r
		}
	}
	t.record(EventNotUnderstood, "")
	if t.d.Stage == StageNew {
		r := t.start()
		r.Text = join(t.text(kb.MsgImageNoText, nil), r.Text)
		return r
	}
	return t.withView(t.text(kb.MsgImageNoText, nil))
}

// minEvidence is the least probability of the destination a line of a screenshot leads to for
// the line to count.
const minEvidence = 0.5

// maxQuote bounds the line of a screenshot the reply quotes.
const maxQuote = 80

// evidence returns the lines of what OCR read that are clearly about a payment problem, the
// clearest first.
func (t turn) evidence(seen string) []string {
	type line struct {
		text        string
		probability float64
	}
	var found []line
	for text := range strings.Lines(seen) {
		text = strings.TrimSpace(text)
		// A screen's clock, battery and one-word labels say nothing, however the model
		// scores them, and nor do the form's labels ("Card number": the payment settings).
		if hanCount(text) < 2 && latinWords(text) < 2 || t.e.kb.OnlyFormLabels(text) {
			continue
		}
		options := t.destinations(t.recognize(text))
		if len(options) > 0 && options[0].Probability >= minEvidence {
			found = append(found, line{text, options[0].Probability})
		}
	}
	slices.SortStableFunc(found, func(a, b line) int { return cmp.Compare(b.probability, a.probability) })
	lines := make([]string, len(found))
	for i, l := range found {
		lines[i] = l.text
	}
	return lines
}

// withQuote is what a person wrote with the message they replied to under it, marked as a
// quote, so that the helpers of a handoff can tell whose words are whose.
func withQuote(text, quoted string) string {
	if quoted == "" {
		return text
	}
	return joinLines(text, "> "+strings.ReplaceAll(quoted, "\n", "\n> "))
}

// joinLines puts two texts one under the other, either of them possibly empty: a picture's
// caption and what it shows, or someone's words and the message they reply to.
func joinLines(first, second string) string {
	if first == "" || second == "" {
		return first + second
	}
	return first + "\n" + second
}

// commandName is the command of text, a "/" and a name, lower-cased and without Telegram's
// @botname (/start@paydoctor_bot), and its argument.
func commandName(text string) (name, arg string) {
	name, arg, _ = strings.Cut(strings.TrimPrefix(text, "/"), " ")
	name, _, _ = strings.Cut(name, "@")
	return strings.ToLower(name), strings.TrimSpace(arg)
}

// startsOver reports whether in begins the dialog anew: a command that does (/start,
// /restart, /reset) or the restart button.
func startsOver(in Input) bool {
	if in.Kind == InputButton {
		return in.Text == ButtonRestart
	}
	if in.Kind != InputText || !strings.HasPrefix(in.Text, "/") {
		return false
	}
	name, _ := commandName(in.Text)
	return slices.Contains(restartCommands, name)
}

var restartCommands = []string{"start", "restart", "reset"}

func (t turn) command(text string) Reply {
	name, arg := commandName(text)
	if slices.Contains(restartCommands, name) {
		return t.deepLink(arg)
	}
	switch name {
	case "help":
		return t.withView(t.text(kb.MsgHelp, nil))
	case "lang", "language":
		lang, ok := t.e.kb.LanguageByName(arg)
		if !ok {
			return t.withView(t.text(kb.MsgLangUsage, map[string]any{"Languages": t.e.languages}))
		}
		t.d.Lang, t.d.LangPinned = lang, true
		return t.withView(t.text(kb.MsgLangSwitched, nil))
	case "solutions":
		return t.listSolutions()
	case "solution":
		id := strings.ToLower(arg)
		if !t.e.kb.IsSolution(id) {
			return t.withView(t.text(kb.MsgSolutionUsage, map[string]any{"IDs": strings.Join(t.e.kb.Solutions, ", ")}))
		}
		return t.open(id, "")
	case "human":
		return t.human()
	case "back":
		return t.back()
	case "repeat":
		return t.view() // "where was I?", "what should I do?": where the dialog stands, whole
	}
	return t.withView(t.text(kb.MsgUnknownCommand, map[string]any{"Command": "/" + truncateRunes(name, 32)}))
}

// deepLink starts over at the place a /start payload names, as Telegram's
// t.me/<bot>?start=<payload> links send it: solution-<id> opens that solution, cause-<id>
// that cause's diagnosis, lang-<tag> starts in that language. Anything else, a payload the
// bot does not know included, is a plain /start.
func (t turn) deepLink(payload string) Reply {
	kind, id, _ := strings.Cut(strings.ToLower(payload), "-")
	switch kind {
	case "solution":
		if t.e.kb.IsSolution(id) {
			t.start()
			return t.open(id, "")
		}
	case "cause":
		if outcome, ok := t.e.kb.CauseOutcome(id); ok {
			t.start()
			return t.diagnose(outcome, "")
		}
	case "lang":
		if lang, ok := t.e.kb.LanguageByName(id); ok {
			t.d.Lang, t.d.LangPinned = lang, true
		}
	}
	return t.start()
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func (t turn) press(id, flowVersion string) Reply {
	if flowVersion != "" && flowVersion != t.e.kb.Version {
		return t.stale()
	}
	switch {
	case id == ButtonAll:
		return t.listSolutions()
	case id == ButtonRestart:
		return t.start()
	case id == ButtonHuman:
		return t.human()
	case id == ButtonBackToBot:
		return t.withView()
	case id == ButtonHelpedYes, id == ButtonHelpedNo:
		return t.helped(id == ButtonHelpedYes)
	case strings.HasPrefix(id, buttonOpenPrefix):
		sol := strings.TrimPrefix(id, buttonOpenPrefix)
		if !t.e.kb.IsSolution(sol) {
			return t.stale()
		}
		return t.open(sol, "")
	case strings.HasPrefix(id, buttonOutcomePrefix):
		if _, ok := t.e.kb.Outcome(strings.TrimPrefix(id, buttonOutcomePrefix)); !ok {
			return t.stale()
		}
		return t.diagnose(strings.TrimPrefix(id, buttonOutcomePrefix), "")
	case strings.HasPrefix(id, buttonWorkedPrefix), strings.HasPrefix(id, buttonFailedPrefix):
		worked := strings.HasPrefix(id, buttonWorkedPrefix)
		sol := id[strings.Index(id, ":")+1:]
		if cur, ok := t.d.CurrentSolution(); !ok || cur != sol {
			if worked && t.d.attempt(sol) != nil {
				// "✅ This worked" under a solution shown before: it worked after all, as
				// "actually the bank one did work" says.
				return t.workedBy(sol)
			}
			return t.stale()
		}
		if worked {
			return t.worked()
		}
		return t.failed()
	}
	if q, o, ok := parseAnswer(id); ok {
		return t.answer(q, o)
	}
	return t.stale()
}

// human hands the person to a human helper when one is configured; otherwise it points to
// OpenAI's support, the last resort.
func (t turn) human() Reply {
	if !t.e.handoff {
		t.record(EventNoHelper, "")
	}
	switch {
	case !t.e.handoff && t.d.failedBefore(t.e.kb.LastResort):
		// OpenAI's support, the person to ask without helpers, is what failed already.
		return t.withView(t.text(kb.MsgNoHelper, nil))
	case !t.e.handoff && t.showing(t.e.kb.LastResort):
		// OpenAI's support is shown already: shown again, it counted as shown once per request.
		return t.withView(t.text(kb.MsgHumanUnavailable, nil))
	case !t.e.handoff:
		return t.open(t.e.kb.LastResort, t.text(kb.MsgHumanUnavailable, nil))
	}
	return t.openHandoff()
}

// showing reports whether sol is the solution shown.
func (t turn) showing(sol string) bool {
	shown, ok := t.d.CurrentSolution()
	return ok && shown == sol
}

func (t turn) stale() Reply { return t.withView(t.text(kb.MsgStaleMenu, nil)) }

func (t turn) start() Reply {
	// A dialog still at StageNew (a clarifying question answered with thanks) is the same
	// dialog, shown the menu: counted again, one conversation made two in the statistics.
	// /start after that is a start over, counted.
	startedOver := t.d.Stage != StageNew
	*t.d = Dialog{
		Lang:        t.d.Lang,
		LangPinned:  t.d.LangPinned,
		LangWritten: t.d.LangWritten,
		Stage:       StageAsking,
		Question:    t.e.kb.Start,
		Started:     t.now,
		LastActive:  t.now,
		LastText:    t.d.LastText,
	}
	if startedOver {
		t.record(EventStarted, "")
	}
	return t.withView(t.text(kb.MsgGreeting, nil))
}

// answerAt moves the dialog as option of question would, wherever the dialog stands: what a
// text answered of a later question.
func (t turn) answerAt(question, option string) Reply {
	q, _ := t.e.kb.Question(question)
	o, _ := q.Option(option)
	return t.follow(o, question)
}

// follow moves the dialog where option o of question leads.
func (t turn) follow(o kb.Option, question string) Reply {
	switch {
	case o.Next != "":
		t.d.Asked = append(t.d.Asked, question+":"+o.ID)
		t.d.Stage, t.d.Question = StageAsking, o.Next
		return t.withView()
	case o.Outcome != "":
		t.d.Asked = append(t.d.Asked, question+":"+o.ID)
		return t.diagnose(o.Outcome, "")
	default: // kb validated that the only other target is ActionListSolutions
		t.d.Stage, t.d.Question = StageAsking, question
		return t.listSolutions()
	}
}

func (t turn) answer(questionID, optionID string) Reply {
	current := t.d.Question
	switch t.d.Stage {
	case StageNew:
		current = t.e.kb.Start
	case StageAsking:
	default:
		current = "" // no question waits: only one answered before can be answered again
	}
	q, ok := t.e.kb.Question(questionID)
	if !ok {
		return t.stale()
	}
	o, ok := q.Option(optionID)
	if !ok {
		return t.stale()
	}
	if questionID != current {
		// The button of a question answered before: the person changed their mind. The same
		// answer again (a double tap) changes nothing.
		switch {
		case t.d.answered(questionID) < 0:
			return t.stale()
		case slices.Contains(t.d.Asked, questionID+":"+optionID):
			return t.withView()
		}
		t.backTo(questionID)
	}
	return t.follow(o, questionID)
}

// picked returns the button offered last that text picks: by its label typed whole ("银行卡被
// 拒绝" at the first question: read by the model, it skipped the questions the button asks),
// or by its place (kb.Choice: "the second one", 第二个, "2"; not "+1", which agrees).
func (t turn) picked(text string) (string, bool) {
	if len(t.d.Offered) == 0 || len(text) > maxPickText {
		return "", false
	}
	norm := kb.Normalize(text)
	for _, id := range t.e.labels[norm] {
		if slices.Contains(t.d.Offered, id) {
			return id, true
		}
	}
	if n := t.e.kb.Choice(norm, len(t.d.Offered)); n > 0 && !strings.ContainsAny(text, "+-") {
		return t.d.Offered[n-1], true
	}
	return "", false
}

// maxPickText is the longest text, in bytes, that picked reads: longer than any label, which
// spares most messages the folding.
const maxPickText = 160

// backTo returns the dialog to question, answered before: the answers after it, and the
// diagnosis they led to, no longer hold. The verdicts on solutions tried stand.
func (t turn) backTo(question string) {
	t.d.Asked = t.d.Asked[:t.d.answered(question)]
	t.d.Stage, t.d.Question = StageAsking, question
	t.clearDiagnosis()
}

// answersALaterQuestion reports whether text as a whole is a typed answer to a question of the
// flow other than the first.
func (t turn) answersALaterQuestion(text string) bool {
	q, _ := t.e.kb.FlowAnswer(text)
	return q != "" && q != t.e.kb.Start
}

// answerAnew takes the dialog to question answered with option, the diagnosis and what came
// after that question dropped, unless the dialog's answers hold that answer already.
func (t turn) answerAnew(question, option string) Reply {
	if slices.Contains(t.d.Asked, question+":"+option) {
		t.record(EventNotUnderstood, "")
		return t.nudge()
	}
	t.record(EventRecognized, "")
	if t.d.answered(question) >= 0 {
		t.backTo(question)
	} else {
		t.d.Stage, t.d.Question = StageAsking, question
		t.clearDiagnosis()
	}
	return t.answer(question, option)
}

// takeBack undoes the verdict just given on sol, a press by mistake, and asks about sol again.
// The statistics keep the verdict until the next one on sol replaces it: events are not
// rewritten.
func (t turn) takeBack(sol string) Reply {
	t.record(EventRecognized, "")
	if i := slices.Index(t.d.Plan, sol); i >= 0 {
		t.d.Current = i
	}
	t.d.Stage = StageSolving
	if a := t.d.attempt(sol); a != nil {
		a.Result = ""
	}
	return t.withView(t.text(kb.MsgAnswerChanged, nil))
}

// skipped goes on without a verdict on the solution shown: to the next one, or, when text
// answers a question of the flow so that the diagnosis no longer holds ("本来就开着", "it's a
// BOC visa, overseas payments are already on" at the bank's solution), to the questions
// from that answer.
func (t turn) skipped(text string) Reply {
	if q, option, ok := t.e.kb.AnsweredOtherwise(t.d.Outcome, text); ok {
		return t.answerAnew(q, option)
	}
	t.record(EventRecognized, "")
	return t.next()
}

// clearDiagnosis forgets the diagnosis and its plan, as an answer changed or given anew
// makes them no longer hold. The verdicts on solutions tried stand.
func (t turn) clearDiagnosis() {
	t.d.Outcome, t.d.Cause, t.d.Plan, t.d.Current, t.d.Resume = "", "", nil, 0, ""
}

// triedAlready records that sol, named in text, failed for the person before the bot showed
// it, and answers the problem text tells without it: a diagnosis likely enough to ask about,
// which puts sol last, or the question of what happened.
func (t turn) triedAlready(text, sol string) Reply {
	t.recordResult(sol, FeedbackFailed)
	note := t.text(kb.MsgOtherFailed, map[string]any{"Title": t.texts().solutions[sol].title})
	for _, m := range t.e.kb.Recognize(text, append(t.ruledOut(text), kb.Target{Solution: sol})...) {
		if m.Outcome != "" && m.Probability >= t.e.confidence.ask {
			t.record(EventRecognized, "")
			return t.diagnose(m.Outcome, note)
		}
	}
	t.record(EventNotUnderstood, "")
	if t.d.Stage == StageNew {
		r := t.start()
		r.Text = join(note, r.Text)
		return r
	}
	return t.withView(note)
}

// back goes back to the question answered last, as "go back" or /back asks.
func (t turn) back() Reply {
	if len(t.d.Asked) == 0 {
		return t.withView(t.text(kb.MsgNoWayBack, nil))
	}
	last, _, _ := strings.Cut(t.d.Asked[len(t.d.Asked)-1], ":")
	t.backTo(last)
	return t.withView(t.text(kb.MsgBack, nil))
}

// correction answers again the question answered last that a correction typed answers
// ("sorry, I meant no", 不对，是visa双币卡): a text with a word of the phrase files'
// corrections whose rest a typed answer of that question reads.
func (t turn) correction(text string) (Reply, bool) {
	if last, ok := t.d.lastShown(); ok && t.d.Stage == StageResolved && t.e.kb.WrongPress(text) && t.e.kb.Verdict(last, t.e.kb.WithoutCorrection(text)) == "" {
		return t.takeBack(last), true // "wrong button", 按错了 after "This worked"
	}
	if !t.corrects || t.e.kb.OnlyCourtesy(text) { // "sorry" alone
		return Reply{}, false
	}
	rest := t.e.kb.WithoutCorrection(text)
	_, justFailed := t.justFailed()
	if last, ok := t.d.lastShown(); ok && (t.d.Stage == StageResolved || t.d.Stage == StageExhausted || justFailed) {
		if v := t.e.kb.Verdict(last, rest); v == kb.ActionWorked || v == kb.ActionFailed {
			return Reply{}, false // "sorry, I meant no" right after a verdict corrects the verdict
		}
	}
	if rest == "" {
		// 说错了, "I pressed the wrong one": right after "didn't work", that press is taken back
		// and its solution shown again; otherwise the question answered last is asked again,
		// at a solution only while no verdict was given on it.
		if prev, justFailed := t.justFailed(); justFailed {
			return t.takeBack(prev), true
		}
		if shown, ok := t.d.CurrentSolution(); t.d.Stage != StageAsking && (!ok || t.d.attempt(shown) != nil && t.d.attempt(shown).Result != "") {
			return Reply{}, false
		}
		return t.back(), true
	}
	for _, a := range slices.Backward(t.d.Asked) {
		q, _, _ := strings.Cut(a, ":")
		option, _, _ := t.e.kb.AtQuestion(t.d.Lang, q, rest)
		if option == "" || slices.Contains(t.d.Asked, q+":"+option) {
			continue // "actually no" where "no" was the answer: no change of it
		}
		t.record(EventRecognized, "")
		t.backTo(q)
		r := t.answer(q, option)
		r.Text = join(t.text(kb.MsgAnswerChanged, nil), r.Text)
		return r, true
	}
	return Reply{}, false
}

// recognized goes where text was read to lead. A Stripe code or checkout message in it is
// said in plain words first ("That means the card has expired. If your bank sent you a
// new one, ..."): the cause or solution it leads to alone did not say what the code tells,
// and what to do about a wrong CVC or an expired card is in those words.
func (t turn) recognized(text string, target kb.Target) Reply {
	var meaning string
	if means := t.e.kb.Meaning(text); means != "" {
		meaning = t.text(kb.CodeMeaning(means), nil)
	}
	switch {
	case target.Outcome != "":
		return t.diagnose(target.Outcome, cmp.Or(meaning, t.text(kb.MsgRecognized, nil)))
	case target.Solution != "":
		return t.open(target.Solution, meaning)
	case target.Action == kb.ActionWorked:
		return t.worked()
	case target.Action == kb.ActionFailed:
		return t.failed()
	default:
		return t.listSolutions()
	}
}

// recognize is what text means where the dialog stands.
func (t turn) recognize(text string) []kb.Match { return t.e.kb.Recognize(text, t.ruledOut(text)...) }

// ruledOut is what text cannot mean where the dialog stands: what a person writes about a
// solution ("that worked", "still declined") means something else when none is in front of
// them, and a text that says no money was taken ("payment failed, no money taken") is no
// money taken without credit, whatever else it shares with those.
func (t turn) ruledOut(text string) []kb.Target {
	var out []kb.Target
	if !t.solving() {
		out = append(out, feedback...)
	}
	if t.e.kb.NotCharged(text) {
		out = append(out, t.e.kb.SupportFirstOutcomes()...)
	}
	return out
}

var feedback = []kb.Target{{Action: kb.ActionWorked}, {Action: kb.ActionFailed}}

// destinations returns the matches that lead somewhere, best first, one per place they lead
// to (kb.Lead), with the probabilities of those leading to one place added up. A
// solution that is the first step of a likely outcome adds to it too: asking "your card
// blocks payments abroad, or: ask your bank to allow them?" would be no question at all.
func (t turn) destinations(matches []kb.Match) []kb.Match {
	var options []kb.Match
	var dests []string
	for _, m := range matches {
		if m.Action == kb.ActionOffTopic {
			continue
		}
		dest := t.e.kb.Lead(m.Target)
		if i := slices.Index(dests, dest); i >= 0 {
			options[i].Probability += m.Probability
			continue
		}
		dests = append(dests, dest)
		options = append(options, m)
	}
	slices.SortStableFunc(options, func(a, b kb.Match) int { return cmp.Compare(b.Probability, a.Probability) })
	for i := 0; i < len(options); i++ {
		if options[i].Solution == "" {
			continue
		}
		first := slices.IndexFunc(options, func(o kb.Match) bool {
			out, ok := t.e.kb.Outcome(o.Outcome)
			return ok && out.Solutions[0] == options[i].Solution
		})
		if first >= 0 {
			options[first].Probability += options[i].Probability
			options = slices.Delete(options, i, i+1)
			i--
		}
	}
	slices.SortStableFunc(options, func(a, b kb.Match) int { return cmp.Compare(b.Probability, a.Probability) })
	return options
}

// clarify asks which of a few recognised targets fits, without moving the dialog.
func (t turn) clarify(options []kb.Match) Reply {
	buttons := make([]Button, 0, len(options))
	for _, option := range options {
		target := option.Target
		switch {
		case target.Outcome != "":
			buttons = append(buttons, Button{ID: buttonOutcomePrefix + target.Outcome, Label: t.text(kb.OutcomeChoice(target.Outcome), nil)})
		case target.Solution != "":
			buttons = append(buttons, Button{ID: buttonOpenPrefix + target.Solution, Label: t.text(kb.SolutionTitle(target.Solution), nil)})
		case target.Action == kb.ActionWorked, target.Action == kb.ActionFailed:
			// recognize offers these only while a solution is shown.
			sol, _ := t.d.CurrentSolution()
			if target.Action == kb.ActionWorked {
				buttons = append(buttons, Button{ID: buttonWorkedPrefix + sol, Label: t.text(kb.MsgButtonWorked, nil)})
			} else {
				buttons = append(buttons, Button{ID: buttonFailedPrefix + sol, Label: t.text(kb.MsgButtonFailed, nil)})
			}
		default:
			buttons = append(buttons, Button{ID: ButtonAll, Label: t.text(kb.MsgButtonAll, nil)})
		}
	}
	// The bot asks because it is unsure, so none of the likely few may fit: starting over asks
	// what happened, a step at a time. Not while a solution is shown: starting over would
	// drop the diagnosis and the solutions already tried.
	if t.d.Stage != StageSolving {
		buttons = append(buttons, Button{ID: ButtonRestart, Label: t.text(kb.MsgButtonRestart, nil)})
	}
	return Reply{Text: t.text(kb.MsgClarify, nil), Buttons: buttons, Cause: t.d.Cause}
}

// diagnose moves the dialog to an outcome and shows its first solution.
func (t turn) diagnose(outcomeID, prefix string) Reply {
	if t.d.Stage == StageResolved || t.d.Stage == StageExhausted {
		// Another problem after the help ended: the answers were about the one before.
		t.d.Asked = nil
	}
	o, _ := t.e.kb.Outcome(outcomeID)
	t.d.Stage, t.d.Question = StageSolving, ""
	t.d.Outcome, t.d.Cause = o.ID, o.Cause
	t.d.Plan, t.d.Current = slices.DeleteFunc(slices.Clone(o.Solutions), t.ruledOutByAnswers), 0
	if len(t.d.Plan) == 0 { // every solution ruled out: OpenAI's support is left
		t.d.Plan = []string{t.e.kb.LastResort}
	}
	// A new diagnosis changes why the payment fails, not what the person found not to work:
	// that goes last.
	slices.SortStableFunc(t.d.Plan, func(a, b string) int { return cmp.Compare(b2i(t.d.failedBefore(a)), b2i(t.d.failedBefore(b))) })
	t.record(EventDiagnosed, "")
	t.recordShown()

	r := t.view()
	r.Text = join(prefix, t.texts().diagnoses[o.ID], t.texts().plans[len(t.d.Plan)], r.Text)
	r.Solutions = slices.Clone(t.d.Plan)
	return r
}

// ruledOutByAnswers reports whether an answer given on the way makes sol no way for the
// person (flow/flow.toml's rules_out): "a virtual card" at the card question rules out getting
// one.
func (t turn) ruledOutByAnswers(sol string) bool {
	for _, a := range t.d.Asked {
		question, option, _ := strings.Cut(a, ":")
		q, ok := t.e.kb.Question(question) // a dialog from before a change of the flow may hold others
		if !ok {
			continue
		}
		if o, ok := q.Option(option); ok && slices.Contains(o.RulesOut, sol) {
			return true
		}
	}
	return false
}

// open shows one solution. While a plan is walked it puts the solution where the person is,
// so "didn't work" carries on with the one they were at and those after it: jumping to its
// place in the plan skipped those between. Before any plan, the question asked, if any, is
// kept to go back to.
func (t turn) open(sol, prefix string) Reply {
	if t.d.Stage == StageSolving {
		if i := slices.Index(t.d.Plan, sol); i >= 0 {
			t.d.Plan = slices.Delete(t.d.Plan, i, i+1)
			if i < t.d.Current {
				t.d.Current--
			}
		}
		t.d.Plan = slices.Insert(t.d.Plan, t.d.Current, sol)
	} else {
		t.d.Resume = ""
		if t.d.Stage == StageAsking {
			t.d.Resume = t.d.Question
		}
		t.d.Stage, t.d.Question = StageSolving, ""
		t.d.Plan, t.d.Current = []string{sol}, 0
	}
	t.recordShown()
	return t.withView(prefix)
}

func (t turn) worked() Reply {
	sol, _ := t.d.CurrentSolution()
	return t.workedBy(sol)
}

// workedBy ends the help in success by sol, the solution shown or another the person tried.
func (t turn) workedBy(sol string) Reply {
	t.recordResult(sol, FeedbackWorked)
	// The plan stands at what worked: "it stopped working again" is about that one.
	if i := slices.Index(t.d.Plan, sol); i >= 0 {
		t.d.Current = i
	}
	t.d.Stage = StageResolved
	return t.withView()
}

func (t turn) failed() Reply {
	sol, _ := t.d.CurrentSolution()
	t.recordResult(sol, FeedbackFailed)
	return t.next()
}

// next goes on from the solution shown, which failed or which the person skipped, to the next
// of the plan, the last resort after the plan, or the end.
func (t turn) next() Reply {
	if t.d.Current+1 >= len(t.d.Plan) && t.d.Outcome == "" {
		// Opened before any diagnosis, and done with: why the payment fails is still to find
		// out, which "we've tried everything" would never do.
		t.d.Stage, t.d.Question = StageAsking, cmp.Or(t.d.Resume, t.e.kb.Start)
		t.d.Plan, t.d.Current, t.d.Resume = nil, 0, ""
		return t.withView(t.text(kb.MsgFindTheCause, nil))
	}
	if t.d.Current+1 >= len(t.d.Plan) && !slices.Contains(t.d.Plan, t.e.kb.LastResort) {
		t.d.Plan = append(t.d.Plan, t.e.kb.LastResort)
	}
	if t.d.Current+1 < len(t.d.Plan) {
		t.d.Current++
		t.recordShown()
		return t.withView(t.text(kb.MsgNextAfterFailure, nil))
	}
	t.d.Stage = StageExhausted
	return t.withView()
}

// outsideThePlan reports whether the solution shown is none of the diagnosis's: the last
// resort added after every planned solution failed ("Solution 5 of 5" after "Solution 4 of 4"
// would recount the plan), or one the person opened (/solution again and again counted "1 of
// 2", "1 of 3"...).
func (t turn) outsideThePlan() bool {
	sol, _ := t.d.CurrentSolution()
	out, diagnosed := t.e.kb.Outcome(t.d.Outcome)
	return !(diagnosed && slices.Contains(out.Solutions, sol))
}

func (t turn) recordShown() {
	sol, _ := t.d.CurrentSolution()
	t.d.noteShown(sol, t.now)
	t.record(EventShown, sol)
}

func (t turn) recordResult(sol string, r Feedback) {
	if r == FeedbackWorked {
		t.record(EventWorked, sol)
	} else {
		t.record(EventFailed, sol)
	}
	t.d.noteVerdict(sol, r, t.now)
}

func (t turn) listSolutions() Reply {
	lines := []string{t.text(kb.MsgAllSolutions, nil)}
	buttons := make([]Button, 0, len(t.e.kb.Solutions))
	for _, sol := range t.e.kb.Solutions {
		title := t.text(kb.SolutionTitle(sol), nil)
		lines = append(lines, "• "+title+"  /solution "+sol)
		buttons = append(buttons, Button{ID: buttonOpenPrefix + sol, Label: title})
	}
	return Reply{
		Text:      strings.Join(lines, "\n"),
		Buttons:   buttons,
		Cause:     t.d.Cause,
		Solutions: slices.Clone(t.e.kb.Solutions),
	}
}

// withView answers with the given paragraphs followed by the dialog where it stands.
func (t turn) withView(paragraphs ...string) Reply {
	r := t.view()
	r.Text = join(join(paragraphs...), r.Text)
	return r
}

// view renders where the dialog stands: the open question, the solution being tried, or the
// end of the walk, with the buttons that move it on.
func (t turn) view() Reply {
	d := t.d
	switch d.Stage {
	case StageNew, StageAsking:
		qid := d.Question
		if d.Stage == StageNew || qid == "" {
			qid = t.e.kb.Start
		}
		ts := t.texts()
		q, ok := ts.questions[qid]
		if !ok { // the flow changed under a stored dialog: start over rather than strand it
			d.Stage, d.Question = StageAsking, t.e.kb.Start
			q = ts.questions[t.e.kb.Start]
		}
		// Replies are the caller's to change: each gets its own buttons.
		return Reply{Text: q.Text, Buttons: slices.Clone(q.Buttons)}
	case StageSolving:
		sol, ok := d.CurrentSolution()
		st, known := t.texts().solutions[sol]
		if !ok || !known {
			d.Stage = StageExhausted
			return t.view()
		}
		heading := st.single
		if len(d.Plan) > 1 && !t.outsideThePlan() {
			heading = t.text(kb.MsgSolutionHeading, map[string]any{"N": d.Current + 1, "Total": len(d.Plan), "Title": st.title})
		}
		return Reply{
			Text:      heading + st.tail,
			Buttons:   slices.Clone(st.buttons),
			Cause:     d.Cause,
			Solutions: []string{sol},
		}
	case StageResolved:
		return Reply{
			Text:    t.text(kb.MsgWorked, nil),
			Buttons: []Button{{ID: ButtonRestart, Label: t.text(kb.MsgButtonRestart, nil)}},
			Cause:   d.Cause,
		}
	default: // StageExhausted
		buttons := []Button{{ID: ButtonRestart, Label: t.text(kb.MsgButtonRestart, nil)}}
		if t.e.handoff {
			// Without helpers, "a human" is OpenAI's support, which has just failed.
			buttons = append(buttons, Button{ID: ButtonHuman, Label: t.text(kb.MsgButtonHuman, nil)})
		}
		return Reply{
			Text:    t.text(kb.MsgExhausted, nil),
			Buttons: append(buttons, Button{ID: ButtonAll, Label: t.text(kb.MsgButtonAll, nil)}),
			Cause:   d.Cause,
		}
	}
}

// join puts the non-empty paragraphs together, a blank line between them. One paragraph
// comes back as it is, without a copy.
func join(paragraphs ...string) string {
	const sep = "\n\n"
	count, size, last := 0, 0, ""
	for _, p := range paragraphs {
		if p != "" {
			count, size, last = count+1, size+len(p), p
		}
	}
	if count <= 1 {
		return last
	}
	var b strings.Builder
	b.Grow(size + (count-1)*len(sep))
	for _, p := range paragraphs {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return b.String()
}

// HandoffSummary is what the humans' chat gets when someone asks for a human: who, where,
// in which language, the cause diagnosed, the solutions tried with their outcomes, and their
// last message (redacted when it was stored), in the bot's default language.
func (e *Engine) HandoffSummary(d Dialog, from Person, platform, ref string) Reply {
	lang := e.defaultLang
	text := func(id string) string { return e.kb.Text(lang, id, nil) }

	who := from.Name
	if from.Username != "" {
		who = strings.TrimSpace(who + " @" + from.Username)
	}
	if who == "" {
		who = "?"
	}
	if from.Reach != "" {
		who += " (" + from.Reach + ")"
	}
	cause := text(kb.MsgHandoffNoCause)
	if d.Cause != "" {
		cause = e.kb.Text(lang, kb.CauseTitle(d.Cause), nil) + " [" + d.Cause + "]"
	}
	var tried []string
	for _, a := range compactAttempts(d.Attempts) {
		verdict := text(kb.MsgHandoffUnanswered)
		switch a.Result {
		case FeedbackWorked:
			verdict = text(kb.MsgHandoffWorked)
		case FeedbackFailed:
			verdict = text(kb.MsgHandoffFailed)
		}
		tried = append(tried, a.Solution+": "+verdict)
	}
	triedText := text(kb.MsgHandoffNothingTried)
	if len(tried) > 0 {
		triedText = strings.Join(tried, "; ")
	}
	last := d.LastText
	if last == "" {
		last = text(kb.MsgHandoffNoMessage)
	}
	summary := e.kb.Text(lang, kb.MsgHandoffSummary, map[string]any{
		"Who": who, "Platform": platform, "Lang": d.Lang, "Cause": cause, "Tried": triedText, "Last": last,
	})
	summary = join(summary, e.kb.Text(lang, kb.MsgHandoffHow, nil)+"\n"+refPrefix+ref)
	return Reply{Text: summary, Buttons: []Button{}, Cause: d.Cause, Solutions: []string{}, Lang: lang}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
