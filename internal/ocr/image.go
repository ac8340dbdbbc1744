package ocr

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // the formats people's screenshots come in; Telegram's photos are JPEG
	_ "image/jpeg"
	_ "image/png"
	"strconv"
	"strings"
	"unicode"
)

// ErrTooLarge: the image is over the limits in bytes or pixels.
var ErrTooLarge = errors.New("ocr: image too large")

// ErrNotImage: the bytes are not a PNG, JPEG or GIF image.
var ErrNotImage = errors.New("ocr: not an image it reads")

// The width images are scaled towards. Tesseract reads best with letters 20-40 pixels high;
// a phone screenshot is about 1080 wide with 35-50 pixel text, and Telegram's compressed
// copy of it about 590 wide.
const (
	minWidth = 1000 // narrower images are scaled up, at most maxUp times
	maxWidth = 1600 // wider ones are scaled down: Tesseract's time grows with the pixels
	maxUp    = 3
)

// prepare decodes img within maxPixels and returns it as a binary PGM, gray, scaled towards
// minWidth..maxWidth and inverted when dark.
func prepare(img []byte, maxPixels int) ([]byte, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxPixels/max(cfg.Height, 1) {
		return nil, fmt.Errorf("%w: %d×%d pixels", ErrTooLarge, cfg.Width, cfg.Height)
	}
	src, _, err := image.Decode(bytes.NewReader(img))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotImage, err)
	}
	g := gray(src)
	if w := g.Rect.Dx(); w < minWidth {
		f := min(float64(minWidth)/float64(w), maxUp)
		g = scale(g, int(float64(w)*f), int(float64(g.Rect.Dy())*f))
	} else if w > maxWidth {
		f := float64(maxWidth) / float64(w)
		g = scale(g, maxWidth, max(1, int(float64(g.Rect.Dy())*f)))
	}
	if dark(g) {
		for i := range g.Pix {
			g.Pix[i] = 255 - g.Pix[i]
		}
	}
	return pgm(g), nil
}

// gray converts src to 8-bit luminance.
func gray(src image.Image) *image.Gray {
	b := src.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		row := g.Pix[y*g.Stride:]
		for x := 0; x < b.Dx(); x++ {
			r, gg, bb, _ := src.At(b.Min.X+x, b.Min.Y+y).RGBA()
			// ITU-R BT.601 luma, on 16-bit channels.
			row[x] = uint8((19595*r + 38470*gg + 7471*bb + 1<<15) >> 24)
		}
	}
	return g
}

// scale resizes g to w×h bilinearly.
func scale(g *image.Gray, w, h int) *image.Gray {
	sw, sh := g.Rect.Dx(), g.Rect.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	fx, fy := float64(sw)/float64(w), float64(sh)/float64(h)
	for y := 0; y < h; y++ {
		sy := max((float64(y)+0.5)*fy-0.5, 0)
		y0 := min(int(sy), sh-1)
		y1 := min(y0+1, sh-1)
		wy := sy - float64(y0)
		for x := 0; x < w; x++ {
			sx := max((float64(x)+0.5)*fx-0.5, 0)
			x0 := min(int(sx), sw-1)
			x1 := min(x0+1, sw-1)
			wx := sx - float64(x0)
			p := func(x, y int) float64 { return float64(g.Pix[y*g.Stride+x]) }
			top := p(x0, y0)*(1-wx) + p(x1, y0)*wx
			bottom := p(x0, y1)*(1-wx) + p(x1, y1)*wx
			out.Pix[y*out.Stride+x] = uint8(top*(1-wy) + bottom*wy + 0.5)
		}
	}
	return out
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

// pgm encodes g as a binary PGM (P5), which Tesseract's image library reads from stdin
// without the cost of compressing a PNG.
func pgm(g *image.Gray) []byte {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	header := "P5\n" + strconv.Itoa(w) + " " + strconv.Itoa(h) + "\n255\n"
	out := make([]byte, 0, len(header)+w*h)
	out = append(out, header...)
	for y := 0; y < h; y++ {
		out = append(out, g.Pix[y*g.Stride:y*g.Stride+w]...)
	}
	return out
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
