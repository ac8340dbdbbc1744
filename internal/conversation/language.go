package conversation

import (
	"strings"
	"unicode"

	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/redact"
)

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
	around := current == "" && e.han != "" && e.latin != "" && containsHan(text) && e.englishAroundHan(text)
	if e.han != "" && containsHan(text) && current != e.latin && !around {
		return e.han, true // the usual case, spared the count of English words
	}
	text = strings.ReplaceAll(text, redact.Placeholder, " ") // no word of the person's
	words := latinWords(e.kb.WithoutCheckoutText(text))
	// Two words that ask with a question word ("which provider?", "how long?") are English too;
	// not a name with a question mark ("PayPal OK?", "Visa?"), which a Chinese writer sends.
	english := e.latin != "" && (words >= minLatinSentence || words >= 2 && !containsHan(text) && e.kb.Asks(questionMarks.Replace(text)))
	// In a dialog in English, a few Han characters in English words are a name or a quote
	// ("it's 招商银行 card", "the page says 交易被拒绝"); elsewhere they are Chinese, with
	// an English error pasted in ("我这里提示 OpenAI's services are not available"), unless
	// the person speaks of themselves in English around them.
	quoting := e.latin != "" && (current == e.latin && words >= 2 && 2*words >= hanCount(text) || around)
	switch {
	case e.han != "" && containsHan(text) && !quoting:
		return e.han, true
	case english || quoting:
		return e.latin, true
	}
	return "", false
}

// englishAroundHan reports whether text, holding Han characters, is a sentence in English
// about its writer with a name in Chinese ("my card from 工行 keeps getting declined"): as
// many words in Latin letters as Han characters, "I" or "my" among them, and among the Han
// ones no 我 and none of Chinese grammar's words ("my visa卡 payment failed 了, 咋办" is a
// Chinese writer's). Answered in Chinese as the first message of a dialog, it was.
func (e *Engine) englishAroundHan(text string) bool {
	latin := strings.Map(func(r rune) rune {
		if isHan(r) {
			return ' '
		}
		return r
	}, text)
	han := strings.Map(func(r rune) rune {
		if isHan(r) {
			return r
		}
		return ' '
	}, text)
	words := latinWords(e.kb.WithoutCheckoutText(latin))
	return words >= minLatinSentence && words >= hanCount(text) && e.kb.OwnVoice(latin) && !e.kb.OwnVoice(han) &&
		!strings.ContainsAny(han, chineseGrammar)
}

// chineseGrammar are characters that make Chinese sentences rather than names: particles
// (kb's, and those that ask), question words, copulas.
const chineseGrammar = kb.EndParticles + "了的吗呢咋怎么办是在也就还都很"

var questionMarks = strings.NewReplacer("?", "", "？", "")

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
