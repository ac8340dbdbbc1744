// Package ocrtest reads the test screenshots for the tests of several packages.
package ocrtest

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Shot is one line of testdata/screenshots/manifest.tsv, with its image.
type Shot struct {
	File string // the image's name in Dir
	Lang string
	// Want is where the bot's answer must lead: cause:<id> or solution:<id>, or none for a
	// picture without payment text.
	Want string
	Card string // the card number in view, or -
	// Phrase is the text that matters, as OCR must read it (spaces and case aside), or -.
	Phrase string
	Data   []byte
}

// Dir is the folder of the test screenshots.
func Dir() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", "..", "testdata", "screenshots")
}

// Screenshots reads the manifest and every image it names.
func Screenshots(t testing.TB) []Shot {
	t.Helper()
	f, err := os.Open(filepath.Join(Dir(), "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Shot
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") || sc.Text() == "" {
			continue
		}
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 5 {
			t.Fatalf("manifest: want 5 columns: %q", sc.Text())
		}
		data, err := os.ReadFile(filepath.Join(Dir(), p[0]))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Shot{File: p[0], Lang: p[1], Want: p[2], Card: p[3], Phrase: p[4], Data: data})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
