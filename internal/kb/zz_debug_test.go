package kb_test

import (
	"testing"
)

func TestZZDebug(t *testing.T) {
	k := load(t)
	for _, s := range []string{"error code decline code message type card error", "please use a different card", "stripe says", "报错 怎么办", "but my bank says nothing is blocked", "add payment details card information cancel add payment method"} {
		t.Logf("%q %v", s, k.Recognize(s))
	}
}
