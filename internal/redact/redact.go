// Package redact removes card data from text before anything stores, logs or forwards it:
// card numbers (13 to 19 digits, Luhn-valid, spaces or dashes allowed between digits), and
// CVV/CVC and SMS codes that follow their keywords in English or Chinese.
//
// It errs on the side of removing: a number that merely looks like a code next to the word
// "code" is removed too, which costs nothing in a payment-support chat.
package redact

import "regexp"

// Placeholder replaces what was removed.
const Placeholder = "[removed]"

var (
	// People type ASCII or full-width digits; no other script's digits appear in card data.
	digitRun = regexp.MustCompile(`[0-9０-９](?:[ \-]?[0-9０-９])*`)
	// A keyword, a few characters of glue ("is", "：", "是"), then the code itself.
	securityCode = regexp.MustCompile(`(?i)(cvv2?|cvc2?|csc|security code|安全码|校验码|背面三位数?)[^0-9０-９\n]{0,8}?[0-9０-９]{3,4}|` +
		`(?i)(验证码|短信码|动态码|动态密码|sms code|sms|verification code|otp|passcode|code)[^0-9０-９\n]{0,8}?[0-9０-９]{4,8}`)
	trailingDigits = regexp.MustCompile(`[0-9０-９]+$`)
)

// Redact returns s with card data replaced by Placeholder, and whether it found any.
func Redact(s string) (string, bool) {
	found := false
	s = digitRun.ReplaceAllStringFunc(s, func(run string) string {
		if isCardNumber(run) {
			found = true
			return Placeholder
		}
		return run
	})
	s = securityCode.ReplaceAllStringFunc(s, func(m string) string {
		found = true
		return trailingDigits.ReplaceAllString(m, Placeholder)
	})
	return s, found
}

func isCardNumber(run string) bool {
	digits := make([]int, 0, len(run))
	for _, r := range run {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, int(r-'0'))
		case r >= '０' && r <= '９':
			digits = append(digits, int(r-'０'))
		}
	}
	return len(digits) >= 13 && len(digits) <= 19 && luhnValid(digits)
}

func luhnValid(digits []int) bool {
	sum := 0
	for i := range digits {
		d := digits[len(digits)-1-i]
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}
