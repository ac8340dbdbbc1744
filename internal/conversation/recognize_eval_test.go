package conversation_test

import (
	"bufio"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
)

// minAccuracy is the share of labelled utterances whose first answer must lead to the right
// cause or solution, per language.
const minAccuracy = 0.90

type labelled struct{ lang, want, text string }

func readEvalSet(t *testing.T, name string) []labelled {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "recognize", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var set []labelled
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if line == 1 || strings.TrimSpace(sc.Text()) == "" {
			continue // header
		}
		parts := strings.SplitN(sc.Text(), "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("%s line %d: want lang, want, text separated by tabs", name, line)
		}
		set = append(set, labelled{parts[0], parts[1], parts[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return set
}

// firstAnswer says where the bot's first answer to text leads (answerLeads).
func firstAnswer(e *conversation.Engine, lang, text string) []string {
	_, r := stepReply(e, conversation.Dialog{Lang: lang}, conversation.Input{Kind: conversation.InputText, Text: text}, time.Now())
	return answerLeads(r)
}

// TestRecognitionAccuracy replays labelled messages through the engine and checks where its
// first answer leads, per language. The two sets were written from the article and from real
// checkout and bank messages, apart from the corpus the recognizer learns from
// (testdata/recognize/train.tsv), and none of their lines is in it.
func TestRecognitionAccuracy(t *testing.T) {
	for _, name := range []string{"holdout.tsv", "unseen.tsv"} {
		t.Run(name, func(t *testing.T) { checkAccuracy(t, readEvalSet(t, name)) })
	}
}

func checkAccuracy(t *testing.T, set []labelled) {
	e := newEngine(t, "zh-Hans")
	total, right := map[string]int{}, map[string]int{}
	var misses []string
	for _, u := range set {
		leads := firstAnswer(e, u.lang, u.text)
		total[u.lang]++
		if slices.Contains(leads, u.want) {
			right[u.lang]++
		} else {
			misses = append(misses, u.lang+"\t"+u.want+"\tgot "+strings.Join(leads, ",")+"\t"+u.text)
		}
	}
	sort.Strings(misses)
	for _, m := range misses {
		t.Log("miss:", m)
	}
	for _, lang := range []string{"zh-Hans", "en"} {
		if total[lang] == 0 {
			t.Errorf("no %s utterances in the set", lang)
			continue
		}
		acc := float64(right[lang]) / float64(total[lang])
		t.Logf("%s: %d/%d right (%.1f%%)", lang, right[lang], total[lang], 100*acc)
		if acc < minAccuracy {
			t.Errorf("%s accuracy %.1f%% is below %.0f%%", lang, 100*acc, 100*minAccuracy)
		}
	}
}

// minFirstAnswer is the least share of the held-out corpus lines whose first answer goes
// where the label does, and maxWrongFirstAnswer the most whose first answer goes somewhere
// else. They guard against regressions; docs/understanding.md has the figures.
const (
	minFirstAnswer      = 0.55
	maxWrongFirstAnswer = 0.14
)

// TestHeldOut_FirstAnswer sends each line of the corpus's held-out part to the engine as a
// person's first message (feedback on a solution while one is shown) and checks what the bot
// does with it: goes where the label does, asks a clarifying question (with or without the
// right destination among its buttons), calls it something else, or asks what happened. It
// is the recognizer's held-out figure as people meet it, after the engine's thresholds.
func TestHeldOut_FirstAnswer(t *testing.T) {
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, "en")
	f, err := os.Open(filepath.Join("..", "..", "testdata", "recognize", "heldout.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines, err := kb.ReadCorpus(f)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, l := range lines {
		outcome, got, _ := judgeFirstAnswer(k, e, l)
		if outcome == answerWrong {
			t.Logf("wrong: want %s, got %v\t%s", k.Lead(l.Want), got, l.Text)
		}
		counts[outcome]++
	}
	for _, o := range slices.Sorted(maps.Keys(counts)) {
		t.Logf("%-34s %3d (%.1f%%)", o, counts[o], 100*float64(counts[o])/float64(len(lines)))
	}
	if share := float64(counts[answerRight]) / float64(len(lines)); share < minFirstAnswer {
		t.Errorf("%.1f%% of first answers go where the label does, want at least %.0f%%", 100*share, 100*minFirstAnswer)
	}
	if share := float64(counts[answerWrong]) / float64(len(lines)); share > maxWrongFirstAnswer {
		t.Errorf("%.1f%% of first answers go somewhere else, want at most %.0f%%", 100*share, 100*maxWrongFirstAnswer)
	}
}

// What a first answer does with a labelled line.
const (
	answerRight      = "right"
	answerAskedRight = "asked, the right one offered"
	answerAskedWrong = "asked, the right one not offered"
	answerVague      = "asked what happened"
	answerWrong      = "wrong"
)

// judgeFirstAnswer sends l to e as a person's first message (feedback on a solution while one
// is shown) and says what the bot does with it, and where it went when it went somewhere, with
// the reply.
func judgeFirstAnswer(k *kb.KB, e *conversation.Engine, l kb.CorpusLine) (string, []string, conversation.Reply) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	want := k.Lead(l.Want)
	d := conversation.Dialog{Lang: l.Lang}
	if l.Want.Action == kb.ActionWorked || l.Want.Action == kb.ActionFailed {
		d, _ = stepReply(e, d, conversation.Input{Kind: conversation.InputButton, Text: "open:enable-cross-border"}, now)
	}
	_, res := e.Step(d, conversation.Input{Kind: conversation.InputText, Text: l.Text}, now)
	var leads []string
	outcome := answerWrong
	for _, ev := range res.Events {
		switch ev.Kind {
		case conversation.EventRecognized:
			leads = answerLeads(res.Reply)
		case conversation.EventWorked, conversation.EventFailed, conversation.EventOffTopic:
			leads = []string{"action:" + string(ev.Kind)}
		case conversation.EventClarified:
			outcome = answerAskedWrong
			for _, b := range res.Reply.Buttons {
				if buttonLead(k, b.ID) == want {
					outcome = answerAskedRight
				}
			}
		case conversation.EventNotUnderstood:
			outcome = answerVague
		}
	}
	if slices.Contains(leads, want) {
		outcome = answerRight
	}
	return outcome, leads, res.Reply
}

// answerLeads says where an answer that went somewhere leads: its cause and first solution,
// or, for the list of every solution, that.
func answerLeads(r conversation.Reply) []string {
	var leads []string
	if r.Cause != "" {
		leads = append(leads, "cause:"+r.Cause)
	}
	switch {
	case len(r.Solutions) == 8:
		leads = append(leads, "action:"+kb.ActionListSolutions)
	case len(r.Solutions) > 0:
		leads = append(leads, "solution:"+r.Solutions[0])
	}
	return leads
}

// buttonLead says where a clarifying question's button leads.
func buttonLead(k *kb.KB, id string) string {
	if outcome, ok := strings.CutPrefix(id, "go:"); ok {
		return k.Lead(kb.Target{Outcome: outcome})
	}
	if solution, ok := strings.CutPrefix(id, "open:"); ok {
		return "solution:" + solution
	}
	switch {
	case strings.HasPrefix(id, "ok:"):
		return "action:" + kb.ActionWorked
	case strings.HasPrefix(id, "no:"):
		return "action:" + kb.ActionFailed
	case id == conversation.ButtonAll:
		return "action:" + kb.ActionListSolutions
	}
	return id
}

// TestStripeTable_GoesWithoutAsking types each code of the exact table
// (phrases/stripe.toml) and each message a checkout shows for it, alone, as a first message:
// the bot goes where the table says at once, without a clarifying question, and answers a
// message in its language. A generic code's messages ("Your card was declined.") decide
// nothing alone; the bot may ask, with the table's destination among the buttons.
func TestStripeTable_GoesWithoutAsking(t *testing.T) {
	k, err := kb.Load(bot.Data(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, "en")
	var table struct {
		Code []struct {
			Code string
			kb.Target
			En, Zh  []string
			Generic bool
		}
	}
	if _, err := toml.DecodeFS(bot.Data(), "phrases/stripe.toml", &table); err != nil {
		t.Fatal(err)
	}
	if len(table.Code) < 50 {
		t.Fatalf("%d codes in the table", len(table.Code))
	}
	for _, c := range table.Code {
		texts := map[string]string{c.Code: ""}
		for _, m := range c.En {
			texts[m] = "en"
		}
		for _, m := range c.Zh {
			texts[m] = "zh-Hans"
		}
		for text, lang := range texts {
			outcome, got, r := judgeFirstAnswer(k, e, kb.CorpusLine{Want: c.Target, Text: text})
			switch {
			case outcome == answerRight, outcome == answerAskedRight && c.Generic && lang != "":
			default:
				t.Errorf("%s: %q: %s, got %v, want %s", c.Code, text, outcome, got, k.Lead(c.Target))
			}
			if lang != "" && r.Lang != lang {
				t.Errorf("%s: %q answered in %s", c.Code, text, r.Lang)
			}
		}
	}
}

// TestFirstAnswer_SaysNothingYet: a first message about a payment that does not say what
// happened gets the question of what happened, with every situation as a button, rather than
// a clarifying question about whatever the model ranks first among weak guesses.
func TestFirstAnswer_SaysNothingYet(t *testing.T) {
	e := newEngine(t, "en")
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	// 支付 is in 支付宝: read by the model, "支付不成功" was a wallet nobody mentioned.
	for _, text := range []string{"what?", "求助", "付款出问题了", "怎么办", "支付不成功", "支付失败了"} {
		_, res := e.Step(conversation.Dialog{}, conversation.Input{Kind: conversation.InputText, Text: text}, now)
		if kinds := eventKinds(res); !slices.Contains(kinds, conversation.EventNotUnderstood) || len(res.Reply.Buttons) < 6 ||
			!strings.HasPrefix(res.Reply.Buttons[0].ID, "a:what_happened:") {
			t.Errorf("%q: events %v, buttons %v; want the question of what happened", text, kinds, res.Reply.Buttons)
		}
	}
}
