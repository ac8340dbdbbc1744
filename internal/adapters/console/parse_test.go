package console

import (
	"testing"

	"github.com/paydoctor/bot/internal/conversation"
)

// What each JSON-mode line is read as. A line that is a message of the protocol (an object
// with "text" or "button") is never read as typed text, whatever its values: its words
// ("button", "null") would be taken for a description.
func TestParse_JSONLines(t *testing.T) {
	unsupported := conversation.Input{Kind: conversation.InputUnsupported}
	for _, tc := range []struct {
		line string
		want conversation.Input
	}{
		{``, conversation.Input{Kind: conversation.InputResume}},
		{`{"button": "a:what_happened:declined"}`, conversation.Input{Kind: conversation.InputButton, Text: "a:what_happened:declined"}},
		{`{"text": "card declined"}`, conversation.Input{Kind: conversation.InputText, Text: "card declined"}},
		{`{"text": "card declined", "button": null}`, conversation.Input{Kind: conversation.InputText, Text: "card declined"}},
		{`{"button": "all", "text": null}`, conversation.Input{Kind: conversation.InputButton, Text: "all"}},
		{`{"button": null}`, unsupported},
		{`{"text": null}`, unsupported},
		{`{"text": null, "button": null}`, unsupported},
		{`{"button": 123}`, unsupported},
		{`{"button": ["all"]}`, unsupported},
		{`{"text": 5}`, unsupported},
		{`{"button": 123, "text": "hi"}`, unsupported},
		// Not the protocol's: text someone typed.
		{`{not json at all`, conversation.Input{Kind: conversation.InputText, Text: `{not json at all`}},
		{`{"note": "hi"}`, conversation.Input{Kind: conversation.InputText, Text: `{"note": "hi"}`}},
		{`plain words`, conversation.Input{Kind: conversation.InputText, Text: `plain words`}},
	} {
		got, err := New(nil, Options{JSON: true}).parse(tc.line)
		if err != nil || got != tc.want {
			t.Errorf("parse(%s) = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
	// Interactively, JSON is what someone typed.
	if got, _ := New(nil, Options{}).parse(`{"button": null}`); got != (conversation.Input{Kind: conversation.InputText, Text: `{"button": null}`}) {
		t.Errorf("interactive parse = %+v, want the line as text", got)
	}
}
