package kb_test

import (
	"strings"
	"testing"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/kb"
)

func BenchmarkRecognize(b *testing.B) {
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, text string }{
		{"zh", "我的卡显示 Your card was declined，怎么办？"},
		{"en", "My card was declind when I tried to pay for ChatGPT Plus, what should I do?"},
		// The most the engine passes on (conversation.MaxInputBytes), as one pasted token.
		{"blob", strings.Repeat("a", 4096)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k.Recognize(bc.text)
			}
		})
	}
}
