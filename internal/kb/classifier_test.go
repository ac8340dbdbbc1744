package kb

import (
	"crypto/sha256"
	"flag"
	"strings"
	"testing"

	bot "github.com/paydoctor/bot"
)

var tune = flag.Bool("kb.tune", false, "TestCrossValidation: try a grid of training settings and report each")

// minCrossValidated is the least share of corpus lines the model must get right when each
// fold is held out of its training. It guards against a change that makes learning worse.
const minCrossValidated = 0.70

// TestCrossValidation trains on four fifths of the examples and tests on the rest, five
// times, the folds made of whole sources, as the held-out part is. It is how the training
// settings were chosen: go test ./internal/kb -run CrossValidation -v -kb.tune
func TestCrossValidation(t *testing.T) {
	k := loadShipped(t)
	examples, err := (&KB{outcomes: k.outcomes, Solutions: k.Solutions}).loadExamples(bot.Data(), nil)
	if err != nil {
		t.Fatal(err)
	}
	grid := []trainSettings{defaultTraining}
	if *tune {
		grid = nil
		for _, epochs := range []int{10, 20, 30, 50} {
			for _, rate := range []float32{0.1, 0.2, 0.4, 0.8} {
				for _, l2 := range []float32{0, 1e-5, 1e-4, 1e-3} {
					grid = append(grid, trainSettings{epochs: epochs, rate: rate, l2: l2})
				}
			}
		}
	}
	for _, set := range grid {
		acc := k.crossValidate(examples, set, 5)
		t.Logf("%+v: %.1f%%", set, 100*acc)
		if set == defaultTraining && acc < minCrossValidated {
			t.Errorf("cross-validated accuracy %.1f%% is below %.0f%%", 100*acc, 100*minCrossValidated)
		}
	}
}

// crossValidate returns the share of the corpus's lines (not the phrases' or the table's,
// which are always trained on) whose best guess leads where their label does.
func (k *KB) crossValidate(examples []example, set trainSettings, folds int) float64 {
	fold := func(ex example) int {
		group := ex.source
		if group == "written" {
			group = ex.text // written lines are each their own
		}
		sum := sha256.Sum256([]byte(group))
		return int(sum[0]) % folds
	}
	isCorpus := func(ex example) bool {
		return !strings.HasPrefix(ex.source, "phrases/") && !strings.HasPrefix(ex.source, "https://docs.stripe.com/")
	}
	right, total := 0, 0
	probs := make([]float64, len(k.targets()))
	for f := range folds {
		var trainOn []example
		for _, ex := range examples {
			if !isCorpus(ex) || fold(ex) != f {
				trainOn = append(trainOn, ex)
			}
		}
		m := train(trainOn, k.targets(), set)
		for _, ex := range examples {
			if !isCorpus(ex) || fold(ex) != f {
				continue
			}
			total++
			if m.classify(Normalize(ex.text), probs) && k.bestLead(m, probs) == k.lead(ex.target) {
				right++
			}
		}
	}
	return float64(right) / float64(total)
}

// lead is where a target takes the person: an outcome's cause, or its first solution when it
// has none; a solution; an action.
func (k *KB) lead(t Target) string {
	if o, ok := k.outcomes[t.Outcome]; ok {
		if o.Cause != "" {
			return "cause:" + o.Cause
		}
		return "solution:" + o.Solutions[0]
	}
	return t.String()
}

func (k *KB) bestLead(m *classifier, probs []float64) string {
	sums := map[string]float64{}
	best := ""
	for i, p := range probs {
		l := k.lead(m.targets[i])
		sums[l] += p
		if best == "" || sums[l] > sums[best] {
			best = l
		}
	}
	return best
}

// BenchmarkTrain is what a start spends on the recognizer: training it on the shipped data.
// (Load trains each distinct data set once per process, so a benchmark of Load measures the
// cache after its first round.)
func BenchmarkTrain(b *testing.B) {
	k, err := Load(bot.Data(), nil)
	if err != nil {
		b.Fatal(err)
	}
	examples, err := (&KB{outcomes: k.outcomes, Solutions: k.Solutions}).loadExamples(bot.Data(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		train(examples, k.targets(), defaultTraining)
	}
}
