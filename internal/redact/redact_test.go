package redact_test

import (
	"strings"
	"testing"

	"github.com/paydoctor/bot/internal/redact"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name, in string
		found    bool
		gone     []string // must not survive
		kept     []string // must survive
	}{
		{"visa with spaces", "my card 4111 1111 1111 1111 fails", true, []string{"4111"}, []string{"my card", "fails"}},
		{"unionpay 19 digits with dashes", "卡号6222-0212-3456-7890-128被拒", true, []string{"6222", "7890"}, []string{"卡号", "被拒"}},
		{"stripe's empty card field", "Card number\n1234 1234 1234 1234\nYour card was declined.", false, nil, []string{"1234 1234 1234 1234", "declined"}},
		{"a real number beside the placeholder", "1234 1234 1234 1234 then 4111 1111 1111 1111", true, []string{"4111"}, []string{"1234 1234 1234 1234"}},
		{"full-width digits", "卡号４１１１１１１１１１１１１１１１", true, []string{"４１１１"}, nil},
		{"card with a typo", "my card 4111 1111 1111 1112 fails", true, []string{"4111"}, []string{"my card", "fails"}},
		{"card, cvv and expiry run together", "41111111111111111231225", true, []string{"4111", "1225"}, nil},
		{"phone number", "call 400 820 8888 or 13800138000", false, nil, []string{"400 820 8888", "13800138000"}},
		{"cvv", "CVV: 123", true, []string{"123"}, []string{"CVV"}},
		{"安全码", "安全码是456", true, []string{"456"}, []string{"安全码"}},
		{"sms code", "验证码 884512 没用", true, []string{"884512"}, []string{"没用"}},
		{"english code", "the sms code is 9932", true, []string{"9932"}, nil},
		{"zip code", "my zip code is 100000", false, nil, []string{"100000"}},
		{"postal code, then an sms code", "Postal code 200000, sms code 123456", true, []string{"123456"}, []string{"200000"}},
		{"decline code text", "card_declined do_not_honor", false, nil, []string{"card_declined do_not_honor"}},
		{"amount", "paid $120 twice", false, nil, []string{"$120"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, found := redact.Redact(tc.in)
			if found != tc.found {
				t.Errorf("found = %v, want %v (out %q)", found, tc.found, out)
			}
			for _, s := range tc.gone {
				if strings.Contains(out, s) {
					t.Errorf("%q survives in %q", s, out)
				}
			}
			for _, s := range tc.kept {
				if !strings.Contains(out, s) {
					t.Errorf("%q was lost from %q", s, out)
				}
			}
		})
	}
}
