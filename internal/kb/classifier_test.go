package kb

import (
	"crypto/sha256"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	bot "github.com/paydoctor/bot"
	"github.com/paydoctor/bot/internal/kb/kbtest"
)

var (
	tune   = flag.Bool("kb.tune", false, "TestCrossValidation: try a grid of training settings and report each")
	spread = flag.Bool("kb.spread", false, "TestHeldOutSpread: report how the held-out figure moves with training order and data")
)

// minCrossValidated is the least share of corpus lines the model must get right when each
// fold is held out of its training. It guards against a change that makes learning worse.
const minCrossValidated = 0.65

// TestCrossValidation trains on four fifths of the examples and tests on the rest, five
// times, the folds made of whole sources, as the held-out part is. It is how the training
// settings were chosen: go test ./internal/kb -run CrossValidation -v -kb.tune
func TestCrossValidation(t *testing.T) {
	k := loadShipped(t)
	examples, err := (&KB{outcomes: k.outcomes, questions: k.questions, Solutions: k.Solutions}).loadExamples(bot.Data(), nil)
	if err != nil {
		t.Fatal(err)
	}
	grid := []trainSettings{defaultTraining}
	if *tune {
		grid = nil
		for _, epochs := range []int{4, 10, 20} {
			for _, rate := range []float32{0.1, 0.2, 0.4} {
				for _, l2 := range []float32{1e-4, 1e-3, 3e-3} {
					for _, sharpen := range []float64{1, 1.5, 2, 3} {
						grid = append(grid, trainSettings{epochs: epochs, rate: rate, l2: l2, sharpen: sharpen})
					}
				}
			}
		}
	}
	for _, set := range grid {
		acc, ece := k.crossValidate(examples, set, 5)
		t.Logf("%+v: %.1f%%, calibration error %.3f", set, 100*acc, ece)
		if set == defaultTraining && acc < minCrossValidated {
			t.Errorf("cross-validated accuracy %.1f%% is below %.0f%%", 100*acc, 100*minCrossValidated)
		}
	}
}

// origin is the page a line came from and whether it was reworded from it; written lines,
// the phrases and the table have none.
func origin(ex example) (page string, reworded bool) { return kbtest.Page(ex.source) }

// crossValidate returns the share of the corpus's real lines whose best guess leads where
// their label does, and the expected calibration error of those guesses' probabilities.
// Written lines, the phrases and the table are trained on in every fold and never scored: the
// question is how the bot does on what people actually write. A line written from a page's
// line belongs to that page's fold, so no fold is tested on the rewording of its own lines.
func (k *KB) crossValidate(examples []example, set trainSettings, folds int) (accuracy, calibrationError float64) {
	fold := func(ex example) int {
		page, _ := origin(ex)
		if page == "" {
			return -1
		}
		return kbtest.Fold(page, folds)
	}
	isReal := func(ex example) bool {
		page, reworded := origin(ex)
		return page != "" && !reworded
	}
	right, total := 0, 0
	var binN, binRight [10]int
	var binP [10]float64
	probs := make([]float64, len(k.targets()))
	for f := range folds {
		var trainOn []example
		for _, ex := range examples {
			if fold(ex) != f {
				trainOn = append(trainOn, ex)
			}
		}
		m := train(trainOn, k.targets(), set)
		for _, ex := range examples {
			if !isReal(ex) || fold(ex) != f {
				continue
			}
			total++
			lead, p := "none", 0.0
			if m.classify(Normalize(ex.text), probs) {
				lead, p = k.bestLead(m, probs)
			}
			b := min(int(p*10), 9)
			binN[b]++
			binP[b] += p
			if lead == k.Lead(ex.target) {
				right++
				binRight[b]++
			}
		}
	}
	for b := range binN {
		calibrationError += math.Abs(binP[b]-float64(binRight[b])) / float64(total)
	}
	return float64(right) / float64(total), calibrationError
}

// bestLead returns the lead of probs' targets with the most probability, and that.
func (k *KB) bestLead(m *classifier, probs []float64) (string, float64) {
	sums := map[string]float64{}
	best := ""
	for i, p := range probs {
		l := k.Lead(m.targets[i])
		sums[l] += p
		if best == "" || sums[l] > sums[best] {
			best = l
		}
	}
	return best, sums[best]
}

// BenchmarkTrain is what a start spends on the recognizer: training it on the shipped data.
// (Load trains each distinct data set once per process, so a benchmark of Load measures the
// cache after its first round.)
func BenchmarkTrain(b *testing.B) {
	k, err := Load(bot.Data(), nil)
	if err != nil {
		b.Fatal(err)
	}
	examples, err := (&KB{outcomes: k.outcomes, questions: k.questions, Solutions: k.Solutions}).loadExamples(bot.Data(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		train(examples, k.targets(), defaultTraining)
	}
}

// TestHeldOutSpread reports how much the held-out figure owes to chance and to data, for
// docs/understanding.md: trained in six other orders of the same lines, and on a growing
// share of the real training pages (their rewordings with them, chosen by a hash), with and
// without the written lines. It measures, and asserts nothing beyond the measuring working:
// go test ./internal/kb -run HeldOutSpread -v -kb.spread
func TestHeldOutSpread(t *testing.T) {
	if !*spread {
		t.Skip("a report: run with -kb.spread")
	}
	k := loadShipped(t)
	examples, err := (&KB{outcomes: k.outcomes, questions: k.questions, Solutions: k.Solutions}).loadExamples(bot.Data(), nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join("..", "..", "testdata", "recognize", "heldout.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	held, err := ReadCorpus(f)
	if err != nil {
		t.Fatal(err)
	}
	probs := make([]float64, len(k.targets()))
	heldOut := func(on []example, order uint32) float64 {
		set := defaultTraining
		set.order = order
		m := train(on, k.targets(), set)
		right := 0
		for _, l := range held {
			if m.classify(Normalize(l.Text), probs) {
				if lead, _ := k.bestLead(m, probs); lead == k.Lead(l.Want) {
					right++
				}
			}
		}
		return 100 * float64(right) / float64(len(held))
	}
	for order := uint32(1); order <= 6; order++ {
		t.Logf("order %d: %.1f%%", order, heldOut(examples, order))
	}
	for _, written := range []bool{true, false} {
		for quarters := 0; quarters <= 4; quarters++ {
			var on []example
			for _, ex := range examples {
				page, _ := origin(ex)
				sum := sha256.Sum256([]byte("curve " + page))
				switch {
				case page != "":
					if int(sum[0]) < quarters*64 {
						on = append(on, ex)
					}
				case written || ex.source != "written":
					on = append(on, ex)
				}
			}
			t.Logf("written lines %v, %d/4 of the real pages: %d lines, %.1f%%", written, quarters, len(on), heldOut(on, 0))
		}
	}
}
