// Package kbtest holds what tests of the knowledge base in several packages share.
package kbtest

import (
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
