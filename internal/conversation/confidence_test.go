package conversation_test

import (
	"bytes"
	"flag"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/conversation"
	"github.com/paydoctor/bot/internal/kb"
	"github.com/paydoctor/bot/internal/kb/kbtest"
)

var tuneConfidence = flag.Bool("conversation.tune", false, "TestCrossValidated_FirstAnswer: report first answers by cross-validation for a grid of confidence settings")

// crossFolds is how many folds of whole pages the training corpus's real lines are split into.
const crossFolds = 5

// TestCrossValidated_FirstAnswer is how the engine's confidence settings were chosen: each
// real line of the training corpus is sent as a first message to an engine whose recognizer
// was trained without the line's page (nor the lines written from it), and what the bot does
// with it is counted for each setting of a grid. The held-out part is never used to choose.
// go test ./internal/conversation -run CrossValidated -v -conversation.tune
func TestCrossValidated_FirstAnswer(t *testing.T) {
	if !*tuneConfidence {
		t.Skip("a report: run with -conversation.tune")
	}
	raw, err := fs.ReadFile(bot.Data(), "testdata/recognize/train.tsv")
	if err != nil {
		t.Fatal(err)
	}
	lines, err := kb.ReadCorpus(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	type setting struct{ sure, apart, ask, plausible float64 }
	var grid []setting
	for _, sure := range []float64{0.5, 0.6, 0.7} {
		for _, apart := range []float64{0.15, 0.25} {
			for _, ask := range []float64{0.3, 0.4, 0.5} {
				for _, plausible := range []float64{0.05, 0.1} {
					grid = append(grid, setting{sure, apart, ask, plausible})
				}
			}
		}
	}
	counts := make([]map[string]int, len(grid))
	for i := range counts {
		counts[i] = map[string]int{}
	}
	total := 0
	for fold := range crossFolds {
		k, err := kb.Load(withCorpus(t, foldOut(raw, fold)), nil)
		if err != nil {
			t.Fatal(err)
		}
		e := newEngineOn(t, k, conversation.EngineOptions{Lang: "en"})
		for _, l := range lines {
			page, reworded := kbtest.Page(l.Source)
			if page == "" || reworded || kbtest.Fold(page, crossFolds) != fold {
				continue
			}
			total++
			for i, s := range grid {
				conversation.SetConfidence(e, s.sure, s.apart, s.ask, s.plausible)
				outcome, _, _ := judgeFirstAnswer(k, e, l)
				counts[i][outcome]++
			}
		}
	}
	share := func(c map[string]int, o string) float64 { return 100 * float64(c[o]) / float64(total) }
	t.Logf("%d real lines; right, asked with the right one, asked without, asked what happened, wrong:", total)
	for i, s := range grid {
		c := counts[i]
		t.Logf("%+v\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f", s, share(c, answerRight), share(c, answerAskedRight), share(c, answerAskedWrong), share(c, answerVague), share(c, answerWrong))
	}
}

// foldOut is the corpus file raw without the lines of fold's pages.
func foldOut(raw []byte, fold int) []byte {
	var out bytes.Buffer
	for i, line := range bytes.SplitAfter(raw, []byte("\n")) {
		if cols := strings.SplitN(string(line), "\t", 4); i > 0 && len(cols) == 4 {
			if page, _ := kbtest.Page(cols[2]); page != "" && kbtest.Fold(page, crossFolds) == fold {
				continue
			}
		}
		out.Write(line)
	}
	return out.Bytes()
}

// withCorpus is the shipped knowledge base with corpus as its training corpus.
func withCorpus(t *testing.T, corpus []byte) fs.FS {
	t.Helper()
	fsys := fstest.MapFS{}
	err := fs.WalkDir(bot.Data(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(bot.Data(), path)
		fsys[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	fsys["testdata/recognize/train.tsv"] = &fstest.MapFile{Data: corpus}
	return fsys
}
