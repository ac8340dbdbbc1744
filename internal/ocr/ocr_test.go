package ocr

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paydoctor/bot/internal/ocr/ocrtest"
)

// tesseract returns the installed Tesseract, or skips the test.
func tesseract(t testing.TB) *Tesseract {
	t.Helper()
	// A CI machine running the race detector in other packages at the same time can take
	// longer than the production bound: these tests check what is read, not how fast.
	ts, err := Find(context.Background(), Options{Timeout: 2 * time.Minute})
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("screenshots are not read here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// fold is how phrases are compared: no spaces, lower case.
func fold(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), ""))
}

// TestRead_Screenshots reads every test screenshot: the phrase that matters must be read
// in at least 90% of them, and no more than noise in the ones without payment text.
func TestRead_Screenshots(t *testing.T) {
	ts := tesseract(t)
	shots := ocrtest.Screenshots(t)
	if len(shots) < 24 {
		t.Fatalf("%d screenshots, want at least 24", len(shots))
	}
	read := 0
	want := 0
	for _, s := range shots {
		img := s.Data
		start := time.Now()
		text, err := ts.Read(context.Background(), img)
		if err != nil {
			t.Errorf("%s: %v", s.File, err)
			continue
		}
		if s.Phrase == "-" {
			continue
		}
		want++
		if strings.Contains(fold(text), fold(s.Phrase)) {
			read++
		} else {
			t.Logf("%s (%s): %q not read in %q", s.File, time.Since(start).Round(time.Millisecond), s.Phrase, text)
		}
	}
	t.Logf("read the phrase in %d of %d screenshots", read, want)
	if read*10 < want*9 {
		t.Errorf("read the phrase in %d of %d screenshots, want at least 90%%", read, want)
	}
}

func TestFind_MissingProgram(t *testing.T) {
	_, err := Find(context.Background(), Options{Command: filepath.Join(t.TempDir(), "tesseract")})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestFind_MissingModel(t *testing.T) {
	// A tesseract that knows only English.
	fake := filepath.Join(t.TempDir(), "tesseract")
	script := "#!/bin/sh\necho 'List of available languages in \"/x\" (2):'\necho eng\necho osd\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Find(context.Background(), Options{Command: fake})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "chi_sim") {
		t.Fatalf("err = %v, want ErrUnavailable naming chi_sim", err)
	}
}

// TestRead_DecompressionBomb: a PNG of a few bytes that claims 100,000 × 100,000 pixels is
// refused from its header, before its pixels are allocated.
func TestRead_DecompressionBomb(t *testing.T) {
	ts := &Tesseract{path: "/nonexistent", timeout: time.Second, limits: DefaultLimits}
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	bomb := buf.Bytes()
	// The IHDR chunk: length (8-11), type (12-15), width (16-19), height (20-23), ..., CRC
	// of type and data (29-32).
	binary.BigEndian.PutUint32(bomb[16:], 100_000)
	binary.BigEndian.PutUint32(bomb[20:], 100_000)
	binary.BigEndian.PutUint32(bomb[29:], crc32.ChecksumIEEE(bomb[12:29]))
	_, err := ts.Read(context.Background(), bomb)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	_, err = ts.Read(context.Background(), make([]byte, DefaultLimits.MaxBytes+1))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v for too many bytes, want ErrTooLarge", err)
	}
	_, err = ts.Read(context.Background(), []byte("not a picture at all"))
	if !errors.Is(err, ErrNotImage) {
		t.Fatalf("err = %v for garbage, want ErrNotImage", err)
	}
}

func TestRead_Timeout(t *testing.T) {
	// A tesseract that never answers.
	slow := filepath.Join(t.TempDir(), "tesseract")
	if err := os.WriteFile(slow, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ts := &Tesseract{path: slow, timeout: 200 * time.Millisecond, limits: DefaultLimits}
	img, err := os.ReadFile(filepath.Join(ocrtest.Dir(), "none_gradient.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = ts.Read(context.Background(), img)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %s to give up", d)
	}
}

func TestClean(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"您 的 卡 已 被 拒 绝 。\n\n", "您的卡已被拒绝。"},
		{"  Your card   was declined.  \n\n  Pay $20.00 ", "Your card was declined.\nPay $20.00"},
		{"失败 原因 : do_not_honor", "失败原因 : do_not_honor"},
		{"6222 O218 4736 9O51", "6222 0218 4736 9051"},
		{"S0S OK", "S0S OK"},
	} {
		if got := clean(c.in); got != c.want {
			t.Errorf("clean(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// BenchmarkOCR reads the test screenshots one after another and reports the median and
// 90th percentile time per image: phone screenshots (status bar, SMS, bank popups; 1080
// wide, or Telegram's 540-wide copy) and checkout pages (1000×760).
func BenchmarkOCR(b *testing.B) {
	ts := tesseract(b)
	imgs := map[string][][]byte{}
	for _, s := range ocrtest.Screenshots(b) {
		img := s.Data
		switch {
		case strings.Contains(s.File, "_checkout_"):
			imgs["checkout"] = append(imgs["checkout"], img)
		case strings.Contains(s.File, "_phone_"), strings.Contains(s.File, "_sms_"), strings.Contains(s.File, "_popup_"):
			imgs["phone"] = append(imgs["phone"], img)
		}
	}
	for _, kind := range []string{"phone", "checkout"} {
		b.Run(kind, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				for _, img := range imgs[kind] {
					start := time.Now()
					if _, err := ts.Read(context.Background(), img); err != nil {
						b.Fatal(err)
					}
					times = append(times, time.Since(start))
				}
			}
			slices.Sort(times)
			b.ReportMetric(float64(times[len(times)/2].Milliseconds()), "p50-ms/image")
			b.ReportMetric(float64(times[len(times)*9/10].Milliseconds()), "p90-ms/image")
			b.ReportMetric(0, "ns/op")
		})
	}
}
