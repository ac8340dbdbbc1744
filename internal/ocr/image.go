package ocr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // the formats people's screenshots come in; Telegram's photos are JPEG
	_ "image/jpeg"
	_ "image/png"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// ErrTooLarge: the image is over the limits in bytes or pixels.
var ErrTooLarge = errors.New("ocr: image too large")

// ErrNotImage: the bytes are not a PNG, JPEG or GIF image.
var ErrNotImage = errors.New("ocr: not an image it reads")

// Decodes reports whether files of this MIME type are images Read decodes: PNG, JPEG, GIF.
// The adapters pick the files to download with it.
func Decodes(mime string) bool {
	mime, _, _ = strings.Cut(mime, ";")
	switch strings.ToLower(strings.TrimSpace(mime)) {
	case "image/png", "image/jpeg", "image/jpg", "image/gif":
		return true
	}
	return false
}

// The width images are scaled towards. Tesseract reads best with letters 20-40 pixels high;
// a phone screenshot is about 1080 wide with 35-50 pixel text, and Telegram's compressed
// copy of it about 590 wide.
const (
	minWidth = 1000 // narrower images are scaled up, at most maxUp times
	maxWidth = 1600 // wider ones are scaled down: Tesseract's time grows with the pixels
	maxUp    = 3
)

// maxScaled bounds the pixels of the image handed to Tesseract, after scaling: the scale is
// lowered to stay under it. A 1080×2400 phone screenshot is 2.6 million; Telegram's
// 590×1280 copy of it, scaled up, 2.2 million.
const maxScaled = 12_000_000

// maxAspect bounds how much longer one side may be than the other. A phone screenshot is
// about 2.2:1 and a long one scrolled through a few screens stays under 8:1; a picture
// narrower than that is no screenshot, and scaling it up (or down) to a width Tesseract
// reads well would blow its pixels up.
const maxAspect = 8

// outSize returns the size w×h is scaled to: towards minWidth..maxWidth wide, at most maxUp
// times larger, and at most maxScaled pixels.
func outSize(w, h int) (int, int) {
	f := 1.0
	if w < minWidth {
		f = min(float64(minWidth)/float64(w), maxUp)
	} else if w > maxWidth {
		f = float64(maxWidth) / float64(w)
	}
	if px := float64(w) * float64(h) * f * f; px > maxScaled {
		f *= math.Sqrt(maxScaled / px)
	}
	if f == 1 {
		return w, h
	}
	return max(1, int(float64(w)*f)), max(1, int(float64(h)*f))
}

// prepare decodes img within maxPixels and returns it gray, scaled (see outSize) and
// inverted when dark, with its Pix rows packed (Stride == width) for pgm. It gives up when
// ctx is done.
//
// What it allocates is bounded by the pixel count, checked before any pixel is decoded: the
// decoded image (4 bytes a pixel, 8 for a 16-bit PNG: 64 or 128 MB at the default 16 million
// pixels; a progressive JPEG also holds its coefficients while decoding, about 240 MB there
// for a colour one), its gray copy (1 byte a pixel), and the scaled one (maxScaled bytes at
// most). Phone screenshots are 2 to 6 million pixels.
func prepare(ctx context.Context, img []byte, maxPixels int) (*image.Gray, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 || w > maxPixels/h {
		return nil, fmt.Errorf("%w: %d×%d pixels", ErrTooLarge, w, h)
	}
	if w > maxAspect*h || h > maxAspect*w {
		return nil, fmt.Errorf("%w: %d×%d pixels, more than %d:1", ErrTooLarge, w, h, maxAspect)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	src, _, err := image.Decode(bytes.NewReader(img))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	if b := src.Bounds(); b.Dx() != w || b.Dy() != h {
		return nil, fmt.Errorf("%w: decoded %v, header %d×%d", ErrNotImage, b, w, h)
	}
	g, err := gray(ctx, src)
	if err != nil {
		return nil, err
	}
	if ow, oh := outSize(w, h); ow != w || oh != h {
		if g, err = scale(ctx, g, ow, oh); err != nil {
			return nil, err
		}
	}
	if dark(g) {
		for i := range g.Pix {
			g.Pix[i] = 255 - g.Pix[i]
		}
	}
	return g, nil
}

// luma is ITU-R BT.601 luma, on 16-bit channels as color.Color.RGBA returns them.
func luma(r, g, b uint32) uint8 {
	return uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 24)
}

// gray converts src to 8-bit luminance, giving up when ctx is done. The types Go's decoders
// return for PNG, JPEG and GIF are read from their pixel buffers; any other through At, a
// pixel at a time. Transparent pixels come out as over black, as At's premultiplied colors
// give them.
func gray(ctx context.Context, src image.Image) (*image.Gray, error) {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	g := image.NewGray(image.Rect(0, 0, w, h))
	var row func(y int, out []uint8) // y in src's coordinates; out is w long
	switch s := src.(type) {
	case *image.Gray:
		row = func(y int, out []uint8) {
			i := s.PixOffset(b.Min.X, y)
			copy(out, s.Pix[i:i+w])
		}
	case *image.RGBA: // premultiplied already
		row = func(y int, out []uint8) {
			p := s.Pix[s.PixOffset(b.Min.X, y):]
			for x := range out {
				c := p[4*x : 4*x+3 : 4*x+3]
				out[x] = luma(uint32(c[0])*0x101, uint32(c[1])*0x101, uint32(c[2])*0x101)
			}
		}
	case *image.NRGBA:
		row = func(y int, out []uint8) {
			p := s.Pix[s.PixOffset(b.Min.X, y):]
			for x := range out {
				c := p[4*x : 4*x+4 : 4*x+4]
				if a := uint32(c[3]); a == 0xff {
					out[x] = luma(uint32(c[0])*0x101, uint32(c[1])*0x101, uint32(c[2])*0x101)
				} else {
					a *= 0x101 // as color.NRGBA.RGBA premultiplies
					out[x] = luma(uint32(c[0])*0x101*a/0xffff, uint32(c[1])*0x101*a/0xffff, uint32(c[2])*0x101*a/0xffff)
				}
			}
		}
	case *image.YCbCr:
		// Y is the luma already (JPEG's is BT.601, full range).
		row = func(y int, out []uint8) {
			i := s.YOffset(b.Min.X, y)
			copy(out, s.Y[i:i+w])
		}
	case *image.Paletted:
		var lut [256]uint8
		for i, c := range s.Palette {
			r, gg, bb, _ := c.RGBA()
			lut[i] = luma(r, gg, bb)
		}
		row = func(y int, out []uint8) {
			p := s.Pix[s.PixOffset(b.Min.X, y):]
			for x := range out {
				out[x] = lut[p[x]]
			}
		}
	default:
		row = func(y int, out []uint8) {
			for x := range out {
				r, gg, bb, _ := src.At(b.Min.X+x, y).RGBA()
				out[x] = luma(r, gg, bb)
			}
		}
	}
	for y := range h {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		row(b.Min.Y+y, g.Pix[y*g.Stride:y*g.Stride+w])
	}
	return g, nil
}

// scale resizes g to w×h bilinearly, giving up when ctx is done.
func scale(ctx context.Context, g *image.Gray, w, h int) (*image.Gray, error) {
	sw, sh := g.Rect.Dx(), g.Rect.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	fx, fy := float64(sw)/float64(w), float64(sh)/float64(h)
	p := func(x, y int) float64 { return float64(g.Pix[y*g.Stride+x]) }
	for y := range h {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sy := max((float64(y)+0.5)*fy-0.5, 0)
		y0 := min(int(sy), sh-1)
		y1 := min(y0+1, sh-1)
		wy := sy - float64(y0)
		for x := range w {
			sx := max((float64(x)+0.5)*fx-0.5, 0)
			x0 := min(int(sx), sw-1)
			x1 := min(x0+1, sw-1)
			wx := sx - float64(x0)
			top := p(x0, y0)*(1-wx) + p(x1, y0)*wx
			bottom := p(x0, y1)*(1-wx) + p(x1, y1)*wx
			out.Pix[y*out.Stride+x] = uint8(top*(1-wy) + bottom*wy + 0.5)
		}
	}
	return out, nil
}

// dark reports whether most of g is dark: a dark-mode screenshot, light text on black,
// which Tesseract's models (trained on dark text on light paper) read poorly.
func dark(g *image.Gray) bool {
	var sum int
	for _, p := range g.Pix {
		sum += int(p)
	}
	return len(g.Pix) > 0 && sum/len(g.Pix) < 110
}

// pgm returns g as a binary PGM (P5), which Tesseract's image library reads from stdin
// without the cost of compressing a PNG. g's rows are packed (prepare's are): its pixels are
// read where they are, not copied.
func pgm(g *image.Gray) io.Reader {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	header := "P5\n" + strconv.Itoa(w) + " " + strconv.Itoa(h) + "\n255\n"
	return io.MultiReader(strings.NewReader(header), bytes.NewReader(g.Pix[:w*h]))
}

// maxText bounds the text returned: the engine reads no more than 4 KiB of a message.
const maxText = 4 << 10

// clean turns tesseract's output into text as a person would paste it: one line per line of
// the picture, blank lines and runs of spaces gone, and no spaces between Chinese characters
// (Tesseract puts one between every two).
func clean(s string) string {
	var lines []string
	for _, line := range strings.Split(s, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		for i, f := range fields {
			fields[i] = digits(f)
		}
		var b strings.Builder
		for i, f := range fields {
			if i > 0 && !(wide(lastRune(fields[i-1])) && wide(firstRune(f))) {
				b.WriteByte(' ')
			}
			b.WriteString(f)
		}
		lines = append(lines, b.String())
	}
	out := strings.Join(lines, "\n")
	if len(out) > maxText {
		out = strings.ToValidUTF8(out[:maxText], "")
	}
	return out
}

// confusable are the letters Tesseract reads for digits in a run of digits.
var confusable = strings.NewReplacer("O", "0", "o", "0", "D", "0", "I", "1", "l", "1", "|", "1", "S", "5", "B", "8", "Z", "2")

// digits reads a group of a card number as digits when Tesseract took some for letters
// ("6222 O218"): a group of four or more characters, most of them digits. Otherwise the
// redaction downstream, which removes runs of 13 digits or more, would miss the number.
func digits(f string) string {
	n := 0
	for _, r := range f {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	if len(f) < 4 || n*4 < len(f)*3 {
		return f
	}
	return confusable.Replace(f)
}

// wide reports whether r is written without spaces around it in Chinese: Han characters and
// full-width punctuation.
func wide(r rune) bool {
	return unicode.Is(unicode.Han, r) || r >= 0x3000 && r <= 0x303f || r >= 0xff00 && r <= 0xffef
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}

func lastRune(s string) rune {
	r := rune(0)
	for _, c := range s {
		r = c
	}
	return r
}
