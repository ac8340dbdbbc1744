package ocr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ErrUnavailable: Tesseract, or its chi_sim or eng model, is not installed.
var ErrUnavailable = errors.New("ocr: tesseract with the chi_sim and eng models is not installed")

// Options configures a Tesseract. The zero value works.
type Options struct {
	// Command is the tesseract program, a name looked up in PATH or a path; empty means
	// "tesseract".
	Command string
	// Timeout bounds the reading of one image, decoding included; zero means 10 s.
	Timeout time.Duration
	// Limits bound the images accepted; the zero value means DefaultLimits.
	Limits Limits
}

// Limits bound an image before it is downloaded and before it is decoded.
type Limits struct {
	// MaxBytes is the largest file downloaded. Zero: 10 MiB.
	MaxBytes int64
	// MaxPixels is the largest width × height decoded. Zero: 16 million. A phone screenshot
	// is 2 to 4 million; decoded, an image takes 4 bytes a pixel (8 for a 16-bit PNG), so
	// 64 MB (128 MB) at most, and its gray copies 1 byte a pixel.
	MaxPixels int
}

// DefaultLimits are the limits of the zero Limits.
var DefaultLimits = Limits{MaxBytes: 10 << 20, MaxPixels: 16_000_000}

// langs are the models read with: Simplified Chinese and English, in one pass, since
// screenshots mix them ("Your card was declined" under a Chinese bank's name).
const langs = "chi_sim+eng"

// Tesseract reads images with the tesseract program. It is safe for concurrent use; callers
// bound how many images are read at once.
type Tesseract struct {
	path    string
	timeout time.Duration
	limits  Limits
}

// Find looks for the tesseract program and checks that it has the chi_sim and eng models.
// It returns an error wrapping ErrUnavailable when either is missing.
func Find(ctx context.Context, opts Options) (*Tesseract, error) {
	if opts.Command == "" {
		opts.Command = "tesseract"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Limits.MaxBytes <= 0 {
		opts.Limits.MaxBytes = DefaultLimits.MaxBytes
	}
	if opts.Limits.MaxPixels <= 0 {
		opts.Limits.MaxPixels = DefaultLimits.MaxPixels
	}
	path, err := exec.LookPath(opts.Command)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--list-langs").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%w: %s --list-langs: %v", ErrUnavailable, path, err)
	}
	have := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		have[strings.TrimSpace(line)] = true
	}
	for _, l := range strings.Split(langs, "+") {
		if !have[l] {
			return nil, fmt.Errorf("%w: %s has no %s model (Debian: apt-get install tesseract-ocr-chi-sim tesseract-ocr-eng)", ErrUnavailable, path, l)
		}
	}
	return &Tesseract{path: path, timeout: opts.Timeout, limits: opts.Limits}, nil
}

// Limits returns the limits images are held to.
func (t *Tesseract) Limits() Limits { return t.limits }

// maxOutput bounds what is kept of tesseract's output; a screenshot holds a few hundred
// characters, and the engine reads 4 KiB of text at most.
const maxOutput = 64 << 10

// Read returns the text in img (PNG, JPEG or GIF), cleaned (see clean), within the timeout.
// An image over the limits is refused with ErrTooLarge before it is decoded.
func (t *Tesseract) Read(ctx context.Context, img []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	if int64(len(img)) > t.limits.MaxBytes {
		return "", fmt.Errorf("%w: %d bytes", ErrTooLarge, len(img))
	}
	g, err := prepare(ctx, img, t.limits.MaxPixels)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("ocr: %w", ctx.Err())
		}
		return "", err
	}
	// "-" for both: the image from stdin, the text to stdout; --psm 3 finds the blocks of a
	// page, which is what a screenshot is; --dpi stops it guessing (and warning) from a PGM
	// that carries none.
	cmd := exec.CommandContext(ctx, t.path, "-", "-", "-l", langs, "--psm", "3", "--dpi", "300")
	cmd.Env = childEnv(os.Getenv)
	killGroup(cmd)
	cmd.Stdin = pgm(g)
	var out, stderr limitedBuffer
	out.max, stderr.max = maxOutput, 4<<10
	cmd.Stdout, cmd.Stderr = &out, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("ocr: %w", ctx.Err())
		}
		return "", fmt.Errorf("ocr: tesseract: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return clean(out.String()), nil
}

// childEnv is the environment tesseract runs with: PATH and TESSDATA_PREFIX (where its
// models are) when set, and OMP_THREAD_LIMIT=1 (one core per image, see the package doc).
// Nothing else: the bot's environment holds its tokens and the database's DSN.
func childEnv(getenv func(string) string) []string {
	env := []string{"OMP_THREAD_LIMIT=1"}
	for _, k := range []string{"PATH", "TESSDATA_PREFIX"} {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// limitedBuffer keeps the first max bytes written to it and discards the rest.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

var _ io.Writer = (*limitedBuffer)(nil)
