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
		{"full-width digits", "卡号４１１１１１１１１１１１１１１１", true, []string{"４１１１"}, nil},
		{"not Luhn-valid", "order 4111 1111 1111 1112", false, nil, []string{"4111 1111 1111 1112"}},
		{"too short", "call 400 820 8888", false, nil, []string{"400 820 8888"}},
		{"cvv", "CVV: 123", true, []string{"123"}, []string{"CVV"}},
		{"安全码", "安全码是456", true, []string{"456"}, []string{"安全码"}},
		{"sms code", "验证码 884512 没用", true, []string{"884512"}, []string{"没用"}},
		{"english code", "the sms code is 9932", true, []string{"9932"}, nil},
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
