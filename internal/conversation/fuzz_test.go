package conversation_test

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paydoctor/bot/internal/conversation"
)

// FuzzStep feeds arbitrary input of every kind a person sends (text with a message it
// replies to, presses, pictures with what OCR read, media without text) to dialogs at every
// stage. A reply must always come, in a language the bot speaks, in valid UTF-8, with a way
// forward.
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
	kinds := []conversation.InputKind{conversation.InputText, conversation.InputButton, conversation.InputUnsupported,
		conversation.InputResume, conversation.InputFlooded, conversation.InputImage}
	for _, seed := range []struct {
		kind                     uint8
		text, seen, quoted, hint string
	}{
		{0, "/start", "", "", "en"}, {0, "Your card was declined", "", "", ""}, {1, "a:what_happened:declined", "", "", ""},
		{1, "ok:paypal", "", "", ""}, {2, "", "", "", "zh-hans"}, {0, "/lang", "", "", ""}, {0, "/lang ＥＮＧＬＩＳＨ", "", "", ""},
		{0, "/lang 中文", "", "", ""}, {0, "/solution ", "", "", ""}, {0, "\xff/\x00", "", "", "\xff"},
		{0, "?", "", "Your card was declined. 4242 4242 4242 4242", "en"}, {0, "thanks", "", "", ""},
		{5, "", "9:41\nYour card was declined.\nPay", "", "en"}, {5, "这是什么", "您的银行卡被拒绝了。", "", ""},
	} {
		for i := range dialogs {
			f.Add(uint8(i), seed.kind, seed.text, seed.seen, seed.quoted, i%2 == 0, seed.hint)
		}
	}
	f.Fuzz(func(t *testing.T, dialog, kind uint8, text, seen, quoted string, quotedOwn bool, hint string) {
		d := dialogs[int(dialog)%len(dialogs)]
		in := conversation.Input{Kind: kinds[int(kind)%len(kinds)], Text: text, Seen: seen, Quoted: quoted, QuotedOwn: quotedOwn, LangHint: hint}
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
