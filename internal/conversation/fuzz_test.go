package conversation_test

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paydoctor/bot/internal/conversation"
)

// FuzzStep feeds arbitrary input of every kind to dialogs at every stage. A reply must always
// come, in a language the bot speaks, in valid UTF-8, with a way forward.
func FuzzStep(f *testing.F) {
	e := newEngine(f, "zh-Hans")
	starts := map[string][]string{}
	for _, tc := range transcripts {
		starts[tc.name] = tc.lines
	}
	var dialogs []conversation.Dialog
	for _, lines := range [][]string{nil, {"/start"}, {"/start", "[a:what_happened:declined]"}, starts["en-verification-worked"], starts["en-account-settings"], {"/solution paypal"}} {
		steps := run(f, e, "", lines)
		if len(steps) == 0 {
			dialogs = append(dialogs, conversation.Dialog{})
			continue
		}
		dialogs = append(dialogs, steps[len(steps)-1].d)
	}
	for _, seed := range []struct {
		kind       uint8
		text, hint string
	}{
		{1, "/start", "en"}, {1, "Your card was declined", ""}, {2, "a:what_happened:declined", ""},
		{2, "ok:paypal", ""}, {3, "", "zh-hans"}, {1, "/lang", ""}, {1, "/lang ＥＮＧＬＩＳＨ", ""}, {1, "/lang 中文", ""},
		{1, "/solution ", ""}, {1, "\xff/\x00", "\xff"},
	} {
		for i := range dialogs {
			f.Add(uint8(i), seed.kind, seed.text, seed.hint)
		}
	}
	f.Fuzz(func(t *testing.T, dialog, kind uint8, text, hint string) {
		d := dialogs[int(dialog)%len(dialogs)]
		in := conversation.Input{Kind: conversation.InputKind(kind%5 + 1), Text: text, LangHint: hint}
		next, r := stepReply(e, d, in, time.Now())
		if r.Text == "" || !utf8.ValidString(r.Text) {
			t.Fatalf("reply %q to %+v", r.Text, in)
		}
		if !slices.Contains(e.KB().Languages(), r.Lang) || next.Lang != r.Lang {
			t.Fatalf("reply language %q, dialog %q", r.Lang, next.Lang)
		}
		if len(next.Attempts) > len(e.KB().Solutions) {
			t.Fatalf("%d attempts, more than one per solution", len(next.Attempts))
		}
		if len(r.Buttons) == 0 && next.Stage != conversation.StageResolved && in.Kind != conversation.InputFlooded {
			t.Fatalf("no way forward after %+v: %+v", in, r)
		}
		for _, b := range r.Buttons {
			if b.ID == "" || b.Label == "" || len(b.ID) > 48 {
				t.Fatalf("bad button %+v", b)
			}
		}
		if _, err := conversation.UnmarshalDialog(mustMarshal(t, next)); err != nil {
			t.Fatalf("the new dialog does not round-trip: %v", err)
		}
		if strings.Contains(r.Text, "\x00") {
			t.Fatalf("control character echoed: %q", r.Text)
		}
	})
}

func mustMarshal(t *testing.T, d conversation.Dialog) []byte {
	b, err := conversation.MarshalDialog(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
