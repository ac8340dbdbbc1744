package kb_test

import "testing"

func TestContradicts(t *testing.T) {
	k := load(t)
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"the payment was not successful", true},
		{"didn't go through", true},
		{"that worked, thanks!", false},
		{"note: it went through", false}, // "not" as a word, not inside one
		{"没有付款成功", true},
		{"付款成功了", false},
		{"扣款失败", true},
	} {
		if got := k.Contradicts(tc.text); got != tc.want {
			t.Errorf("Contradicts(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}
