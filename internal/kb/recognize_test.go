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

func TestNotTriedYet(t *testing.T) {
	k := load(t)
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"haven't tried it yet", true},
		{"I'll try it tomorrow, thanks", true},
		{"还没试", true},
		{"好的我晚点试试", true},
		{"tried it, still declined", false},
		{"please try again later", false}, // a checkout's message, not a plan
		{"试过了还是不行", false},
		{"attempted yesterday", false},
	} {
		if got := k.NotTriedYet(tc.text); got != tc.want {
			t.Errorf("NotTriedYet(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestOnlyCourtesy(t *testing.T) {
	k := load(t)
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"thanks!", true},
		{"Thank you so much", true},
		{"ok", true},
		{"谢谢大佬！", true},
		{"好的，收到", true},
		{"thanks, it worked", false},
		{"ok it works now", false},
		{"好了", false}, // "fixed", not "fine"
		{"谢谢，还是不行", false},
		{"thanksgiving sale", false},
		{"", false},
	} {
		if got := k.OnlyCourtesy(tc.text); got != tc.want {
			t.Errorf("OnlyCourtesy(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}
