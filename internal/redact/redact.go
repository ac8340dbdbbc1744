// Package redact removes card data from text before anything stores, logs or forwards it:
// card numbers, and CVV/CVC and SMS codes that follow their keywords in English or Chinese.
//
// It errs on the side of removing. Every run of 13 or more digits (spaces or dashes allowed
// between them) goes, not only Luhn-valid runs of 13 to 19: a card number pasted together with
// its CVV or expiry date, or with one digit mistyped, is still a card number, and no order or
// reference number is worth that risk. A number next to the word "code" goes too, but for a
// zip or postal code. Phone numbers (11 digits in mainland China) and amounts stay.
package redact

import (
	"regexp"
	"strings"
)

// Placeholder replaces what was removed.
const Placeholder = "[removed]"

var (
	// People type ASCII or full-width digits; no other script's digits appear in card data.
	digitRun = regexp.MustCompile(`[0-9０-９](?:[ \-]?[0-9０-９])*`)
	// A keyword, a few characters of glue ("is", "：", "是"), then the code itself.
	securityCode = regexp.MustCompile(`(?i)(cvv2?|cvc2?|csc|security code|安全码|校验码|背面三位数?)[^0-9０-９\n]{0,8}?[0-9０-９]{3,4}|` +
		`(?i)(验证码|短信码|动态码|动态密码|sms code|sms|verification code|otp|passcode|code)[^0-9０-９\n]{0,8}?[0-9０-９]{4,8}`)
	trailingDigits = regexp.MustCompile(`[0-9０-９]+$`)
	// postalCode ends a text whose next word is "code": "zip code", "postal code".
	postalCode = regexp.MustCompile(`(?i)(zip|postal|post)\s*$`)
)

// Redact returns s with card data replaced by Placeholder, and whether it found any.
func Redact(s string) (string, bool) {
	// Everything it removes contains a digit; most messages have none.
	if !strings.ContainsAny(s, "0123456789０１２３４５６７８９") {
		return s, false
	}
	found := false
	s = digitRun.ReplaceAllStringFunc(s, func(run string) string {
		if countDigits(run) >= 13 && !isPlaceholderCard(run) {
			found = true
			return Placeholder
		}
		return run
	})
	var b strings.Builder
	at := 0
	for _, m := range securityCode.FindAllStringIndex(s, -1) {
		if postalCode.MatchString(s[:m[0]]) {
			continue // "zip code is 100000": a place, not a secret
		}
		found = true
		b.WriteString(s[at:m[0]])
		b.WriteString(trailingDigits.ReplaceAllString(s[m[0]:m[1]], Placeholder))
		at = m[1]
	}
	if at == 0 {
		return s, found
	}
	b.WriteString(s[at:])
	return b.String(), found
}

// stripePlaceholder is what Stripe's card field shows while empty: a screenshot of a checkout
// holds it, and it is nobody's card.
const stripePlaceholder = "1234123412341234"

func isPlaceholderCard(run string) bool {
	return strings.NewReplacer(" ", "", "-", "").Replace(run) == stripePlaceholder
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
