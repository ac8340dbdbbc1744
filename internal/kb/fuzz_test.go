package kb_test

import (
	"testing"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/kb"
)

func FuzzRecognize(f *testing.F) {
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"Your card was declined.", "“交易被拒绝”", "declind", "openai客服", "", " \t", "\xff\xfe", "$20", "1,000.5元", "us$ 3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n := kb.Normalize(in)
		if kb.Normalize(n) != n {
			t.Errorf("Normalize is not idempotent: %q -> %q -> %q", in, n, kb.Normalize(n))
		}
		matches := k.Recognize(in)
		for i := 1; i < len(matches); i++ {
			if matches[i].Probability > matches[i-1].Probability {
				t.Errorf("matches not best first: %v", matches)
			}
		}
		for _, m := range matches {
			if m.Probability <= 0 || m.Probability > 1 {
				t.Errorf("a match without weight: %v", m)
			}
		}
		// The amount question reads options, help and sums of money: one answer at most.
		if option, help, _ := k.AtQuestion("en", "amount", in); option != "" && help != "" {
			t.Errorf("AtQuestion(%q) = option %q and help %q", in, option, help)
		}
	})
}
