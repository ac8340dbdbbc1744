package kb_test

import (
	"testing"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/kb"
)

// BenchmarkLoad is what a start costs the bot: reading, validating and training the
// knowledge base.
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kb.Load(bot.Data(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
