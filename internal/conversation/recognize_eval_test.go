package conversation_test

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/conversation"
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

// firstAnswer says where the bot's first answer to text leads: "cause:<id>" when it names a
// cause and "solution:<id>" for the first solution it presents (a list of all eight leads
// nowhere in particular).
func firstAnswer(e *conversation.Engine, lang, text string) []string {
	_, r := stepReply(e, conversation.Dialog{Lang: lang}, conversation.Input{Kind: conversation.InputText, Text: text}, time.Now())
	var leads []string
	if r.Cause != "" {
		leads = append(leads, "cause:"+r.Cause)
	}
	if len(r.Solutions) > 0 && len(r.Solutions) < 8 {
		leads = append(leads, "solution:"+r.Solutions[0])
	}
	return leads
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
