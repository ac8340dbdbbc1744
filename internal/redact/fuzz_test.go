package redact_test

import (
	"regexp"
	"testing"
	"unicode/utf8"

	"github.com/paydoctor/bot/internal/redact"
)

var longDigitRun = regexp.MustCompile(`[0-9](?:[ \-]?[0-9]){12,18}`)

func FuzzRedact(f *testing.F) {
	for _, s := range []string{"4111 1111 1111 1111", "卡号6222-0212-3456-7890-128", "CVV 123", "验证码：884512", "card_declined", "", "４１１１１１１１１１１１１１１１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, found := redact.Redact(in)
		if again, foundAgain := redact.Redact(out); foundAgain || again != out {
			t.Errorf("redacting twice changes the text: %q -> %q -> %q", in, out, again)
		}
		if !found && out != in {
			t.Errorf("text changed without card data found: %q -> %q", in, out)
		}
		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Errorf("redaction broke UTF-8: %q -> %q", in, out)
		}
		if run := longDigitRun.FindString(out); run != "" {
			t.Errorf("a run of 13 or more digits survives: %q in %q", run, out)
		}
	})
}
