package kb

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	bot "github.com/paydoctor/bot"
)

// Every shipped message with fields takes the split form (so the engine never executes a
// template), and an operator's text with a condition or a function does not.
func TestFieldTemplates_Chosen(t *testing.T) {
	shipped, err := Load(bot.Data(), nil)
	if err != nil {
		t.Fatal(err)
	}
	withFields := 0
	for key, m := range shipped.sources {
		if !strings.Contains(m.Other, "{{") {
			continue
		}
		withFields++
		if _, ok := shipped.templates[key]; !ok {
			t.Errorf("shipped message %s %s (%q) is rendered by go-i18n, want the split form", key.lang, key.id, m.Other)
		}
	}
	if withFields == 0 {
		t.Fatal("no shipped message has a field: the test checks nothing")
	}

	conditional, err := Load(bot.Data(), os.DirFS(filepath.Join("..", "..", "testdata", "kb", "conditional-template")))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{MsgPlan, MsgDiagnosis} {
		if _, ok := conditional.templates[textKey{"en", id}]; ok {
			t.Errorf("the operator's %s has a condition, yet takes the split form", id)
		}
	}
	if _, ok := conditional.templates[textKey{"en", MsgSolutionHeading}]; !ok {
		t.Errorf("the operator's %s has only fields (and spaces trimmed before one), yet is rendered by go-i18n", MsgSolutionHeading)
	}
}
