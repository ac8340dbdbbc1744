// Package redact removes card data from text before anything stores, logs or forwards it:
// card numbers, and CVV/CVC and SMS codes next to their keywords in English or Chinese
// (simplified or traditional), whether the keyword comes first ("验证码 839201") or last
// ("839201是您的验证码", "839201 is your verification code").
//
// It errs on the side of removing. Every run of 13 or more digits goes, not only Luhn-valid
// runs of 13 to 19: a card number pasted together with its CVV or expiry date, or with one
// digit mistyped, is still a card number, and no order or reference number is worth that risk.
// A space or a dash may stand between any two digits of a run; anything else people group a
// card's digits with (a dot, an underscore, a comma, a slash, a dash with spaces around it,
// several spaces, the full-width, no-break or zero-width ones, a line break or a blank line)
// only between groups of three to six digits, as in a card number, since they also write
// amounts ("$120.00"), dates ("2024.05.03") and a phone number on each line.
//
// A code is a whole number of 3 or 4 digits by a CVV keyword, 4 to 8 by an SMS one. A number
// after the bare word "code" goes too, but for a zip or postal code and for a code that is an
// answer rather than a secret: an error, response, decline, status, HTTP or reason code, or a
// code right after "declined" ("card declined, code 1234": a bank names its refusal so, while
// people name an SMS code for what it is). Phone numbers (11 digits in mainland China, 13
// after +86) and amounts stay, and so do numbers after 错误码, 错误代码, 返回码, 状态码 and 错误号, which
// name no secret.
package redact

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Placeholder replaces what was removed.
const Placeholder = "[removed]"

// People type ASCII or full-width digits; no other script's digits appear in card data.
const digit = `[0-9０-９]`

// space is any space a keyboard or a copied page puts between groups of digits: a tab, the
// no-break, thin and full-width spaces, and the invisible zero-width ones.
const space = `[ \t\x{00a0}\x{2000}-\x{200d}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]`

const (
	cvvWords = `cvv2?|cvc2?|cvn2?|csc|security code|on the back|安全码|安全碼|校验码|校驗碼|背面|后三位|後三位`
	// Bare "code" and "sms" count only when the code follows them: "1234 code" says too little.
	smsWords = `验证码|驗證碼|短信码|短信碼|簡訊碼|动态码|動態碼|动态密码|動態密碼|校验码|校驗碼|sms code|verification code|` +
		`one[- ]?time pass(?:word|code)|otp|passcode`
	// Between a keyword and its code: a few characters ("is", "：", "是"), perhaps a line break
	// or two.
	after = `[^0-9０-９\n]{0,8}?(?:\r?\n[ \t]*){0,2}`
	// An SMS code as people copy it, whole or in two groups of three ("482 913").
	smsCode = digit + `{4,8}|` + digit + `{3}[ \-]` + digit + `{3}`
	// Between a code and the keyword after it: "是您的", " is your Google ". Brackets stay out
	// so that a Placeholder never joins a code to a keyword, which would make Redact remove
	// more the second time over.
	before = `(?:\s*(?:是|为|為)|\s+(?:is|are|was)\s+(?:your|my|the)\s)[^0-9０-９\n.,;:!?。，；：！？\[\]【】]{0,20}?`
)

var (
	// People group a card's digits with whatever is at hand: the spaces of other keyboards
	// (a Chinese input method's full-width one, a web page's no-break one), several of them,
	// a blank line. splitRun sorts out which joints hold.
	digitRun = regexp.MustCompile(digit + `(?:(?:[\-._,，/／－—–‐−、。·．]|` + space + `+|` + space + `*(?:[-－—–‐−]|(?:\r?\n` + space + `*){1,2})` + space + `*)?` + digit + `)*`)
	// Stretches of anything but digits inside a digitRun.
	separator = regexp.MustCompile(`[^0-9０-９]+`)

	// A code is a whole number: "验证码发到13800138000" names a phone, not a code. Taking part
	// of a number would also leave digits that group differently the second time over.
	securityCode = regexp.MustCompile(`(?i)` +
		`(?P<kw>` + cvvWords + `)` + after + `(?P<code>` + digit + `{3,4})(?:[^0-9０-９]|$)|` +
		`(?P<kw>` + smsWords + `|sms|code)` + after + `(?P<code>` + smsCode + `)(?:[^0-9０-９]|$)|` +
		// 短信 names the message, not its code: only right before one ("短信：482913").
		`(?P<kw>短信|簡訊)(?:[：:]|是|为|為)\s*(?P<code>` + smsCode + `)(?:[^0-9０-９]|$)|` +
		`(?:^|[^0-9０-９])(?P<code>` + digit + `{3,4})` + before + `(?:` + cvvWords + `)|` +
		`(?:^|[^0-9０-９])(?P<code>` + digit + `{4,8})` + before + `(?:` + smsWords + `)`)
	// notSecret ends a text whose next word is "code": "zip code", "error code: 2001".
	notSecret = regexp.MustCompile(`(?i)\b(?:zip|postal|post|error|response|declined?|status|http|reason)[\s,:;-]*$`)
)

// notACode reports whether the number between before and after is a sum or a card's last
// digits, which a bank's text message quoted beside its code holds too: "消费 1234 元",
// "金额 2000.00", "尾号1234".
func notACode(before, after string) bool {
	for _, unit := range []string{"元", "美元", "块", "刀", "%", "USD", "usd"} {
		if strings.HasPrefix(strings.TrimLeft(after, " "), unit) {
			return true
		}
	}
	if r, size := utf8.DecodeRuneInString(after); (r == '.' || r == '．') && len(after) > size && after[size] >= '0' && after[size] <= '9' {
		return true
	}
	return strings.HasSuffix(strings.TrimRight(before, " "), "尾号")
}

// notSecretReach is how far before "code" notSecret looks: its longest word and the
// punctuation after it.
const notSecretReach = 32

// Redact returns s with card data replaced by Placeholder, and whether it found any.
func Redact(s string) (string, bool) {
	// A card number has 13 digits or more (single spaces may stand between any two) and a code
	// 3 in a row; most messages have neither ("$20"), and are spared the regular expressions.
	digits, longest := digitCounts(s)
	if digits < 13 && longest < 3 {
		return s, false
	}
	found := false
	if digits >= 13 {
		s = replaceCards(s, &found)
	}
	var b strings.Builder
	at := 0
	for pos := 0; pos < len(s); {
		m := securityCode.FindStringSubmatchIndex(s[pos:])
		if m == nil {
			break
		}
		kw, code := groups(m, pos)
		// A code before its keyword leaves the keyword to be searched again: a second code may follow it.
		pos = code[1]
		// The word before "code" is all notSecret needs: the whole text before it, searched at
		// each match, made a text of many codes quadratic.
		if kw[0] >= 0 && strings.EqualFold(s[kw[0]:kw[1]], "code") && notSecret.MatchString(s[max(0, kw[0]-notSecretReach):kw[0]]) {
			continue
		}
		if notACode(s[:code[0]], s[code[1]:]) {
			continue
		}
		found = true
		b.WriteString(s[at:code[0]])
		b.WriteString(Placeholder)
		at = code[1]
	}
	if at == 0 {
		return s, found
	}
	b.WriteString(s[at:])
	return b.String(), found
}

// replaceCards replaces the card numbers of s by Placeholder, setting *found if there were any.
func replaceCards(s string, found *bool) string {
	var b strings.Builder
	at := 0
	for _, span := range digitRun.FindAllStringIndex(s, -1) {
		b.WriteString(s[at:span[0]])
		for i, part := range splitRun(s[span[0]:span[1]]) {
			international := i == 0 && (strings.HasSuffix(s[:span[0]], "+") || strings.HasSuffix(s[:span[0]], "＋"))
			if countDigits(part) >= 13 && !isPlaceholderCard(part) && !(international && isMainlandMobile(part)) {
				*found = true
				part = Placeholder
			}
			b.WriteString(part)
		}
		at = span[1]
	}
	b.WriteString(s[at:])
	return b.String()
}

// isMainlandMobile reports whether run, after a "+", is a mainland mobile number with its
// country code (+86 138 0013 8000): 13 digits, as many as the shortest card number, which
// people with an SMS problem give to say where the code should go.
func isMainlandMobile(run string) bool {
	digits := strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return '0' + r - '０'
		}
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, run)
	return len(digits) == 13 && strings.HasPrefix(digits, "861")
}

// digitCounts returns how many digits s has, and the most of them in a row.
func digitCounts(s string) (digits, longest int) {
	run := 0
	for _, r := range s {
		if r >= '0' && r <= '9' || r >= '０' && r <= '９' {
			digits, run = digits+1, run+1
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return digits, longest
}

// groups returns where the keyword (if before the code) and the code of a securityCode
// match lie in the text the search started at offset into; [-1 -1] for a missing one.
func groups(m []int, offset int) (kw, code [2]int) {
	kw = [2]int{-1, -1}
	for i, name := range securityCode.SubexpNames() {
		if m[2*i] < 0 {
			continue
		}
		span := [2]int{m[2*i] + offset, m[2*i+1] + offset}
		switch name {
		case "kw":
			kw = span
		case "code":
			code = span
		}
	}
	return kw, code
}

// splitRun cuts a digitRun at each separator other than a single space or dash, unless it
// stands between two card-like groups. The pieces, separators included, make up run.
func splitRun(run string) []string {
	var parts []string
	start := 0
	seps := separator.FindAllStringIndex(run, -1)
	for i, sep := range seps {
		if joint := run[sep[0]:sep[1]]; joint == " " || joint == "-" {
			continue
		}
		prev, next := 0, len(run)
		if i > 0 {
			prev = seps[i-1][1]
		}
		if i+1 < len(seps) {
			next = seps[i+1][0]
		}
		if cardGroup(run[prev:sep[0]]) && cardGroup(run[sep[1]:next]) {
			continue
		}
		parts = append(parts, run[start:sep[0]], run[sep[0]:sep[1]])
		start = sep[1]
	}
	return append(parts, run[start:])
}

// cardGroup reports whether digits could be one group of a card number as people write it:
// 4-4-4-4, 4-6-5, 4-4-4-4-3.
func cardGroup(digits string) bool {
	n := utf8.RuneCountInString(digits)
	return n >= 3 && n <= 6
}

// stripePlaceholder is what Stripe's card field shows while empty: a screenshot of a checkout
// holds it, and it is nobody's card.
const stripePlaceholder = "1234123412341234"

func isPlaceholderCard(run string) bool {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1 // separators, of any kind
	}, run) == stripePlaceholder
}

func countDigits(run string) int {
	n := 0
	for _, r := range run {
		if r >= '0' && r <= '9' || r >= '０' && r <= '９' {
			n++
		}
	}
	return n
}

// apiKey is an OpenAI API key as the platform issues them ("sk-", "sk-proj-", "sk-svcacct-"
// and 20 or more letters, digits, dashes or underscores): developers with a billing problem
// paste their code, key and all.
var apiKey = regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{20,}`)

// RedactKeys returns s with API keys replaced by Placeholder, and whether it found any. A key
// is no card data, but it is a secret: kept as the dialog's last text and posted to the
// helpers' chat like any other words, it would reach whoever reads either.
func RedactKeys(s string) (string, bool) {
	if !strings.Contains(s, "sk-") {
		return s, false
	}
	out := apiKey.ReplaceAllString(s, Placeholder)
	return out, out != s
}
