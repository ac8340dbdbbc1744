// Package kbtest holds what tests of the knowledge base in several packages share.
package kbtest

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// DeclineCodes returns the codes of https://docs.stripe.com/declines/codes, as
// testdata/stripe/decline-codes.txt keeps them: the evidence the exact table
// (phrases/stripe.toml) and the bot are checked against.
func DeclineCodes(t testing.TB) []string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "..", "testdata", "stripe", "decline-codes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for line := range strings.Lines(string(b)) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			codes = append(codes, line)
		}
	}
	return codes
}

// Page is the public page a corpus line came from, by the line's source, and whether the line
// was reworded from it ("written from <page>"). Written lines, the phrase files and Stripe's
// table have none.
func Page(source string) (page string, reworded bool) {
	if from, ok := strings.CutPrefix(source, "written from "); ok {
		return from, true
	}
	if source == "written" || strings.HasPrefix(source, "phrases/") || strings.HasPrefix(source, "https://docs.stripe.com/") {
		return "", false
	}
	return source, false
}

// Fold is which of n cross-validation folds a page's lines are in: whole pages, by a hash, so
// that no fold is tested on a page, or a rewording of one, it was trained on.
func Fold(page string, n int) int {
	sum := sha256.Sum256([]byte(page))
	return int(sum[0]) % n
}
