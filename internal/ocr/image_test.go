package ocr

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// stripePNG writes a valid 8-bit gray PNG of w×h pixels, white with a black line every 50
// rows, without holding its pixels: a row at a time through zlib. A long thin one
// compresses to a few hundred KB.
func stripePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(data)))
		out.Write(n[:])
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.BigEndian.PutUint32(n[:], crc.Sum32())
		out.Write(n[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 0 // 8 bits, gray
	chunk("IHDR", ihdr)
	var idat bytes.Buffer
	z := zlib.NewWriter(&idat)
	white, black := bytes.Repeat([]byte{255}, w+1), make([]byte, w+1)
	white[0] = 0 // the filter byte: none
	for y := range h {
		row := white
		if y%50 == 0 {
			row = black
		}
		if _, err := z.Write(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// allocated returns the bytes f allocates (with whatever else runs meanwhile).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestRead_TallThinImage: a 300×133,000 PNG of a few hundred KB (under the byte limit, and
// under the old pixel limit, but 9 times that once scaled up to a readable width) and a
// 300×20,000 one (under the pixel limit, 66:1) are refused from their headers, without
// allocating their pixels.
func TestRead_TallThinImage(t *testing.T) {
	ts := &Tesseract{path: "/nonexistent", timeout: time.Minute, limits: DefaultLimits}
	for _, size := range [][2]int{{300, 133_000}, {300, 20_000}, {20_000, 300}} {
		img := stripePNG(t, size[0], size[1])
		if int64(len(img)) > DefaultLimits.MaxBytes {
			t.Fatalf("%v: %d bytes, over the byte limit", size, len(img))
		}
		var err error
		n := allocated(func() { _, err = ts.Read(context.Background(), img) })
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%d×%d: err = %v, want ErrTooLarge", size[0], size[1], err)
		}
		if n > 8<<20 {
			t.Errorf("%d×%d: allocated %d MB to refuse it", size[0], size[1], n>>20)
		}
	}
}

// TestOutSize: the scale is chosen before any pixel is allocated, and bounded.
func TestOutSize(t *testing.T) {
	for _, c := range []struct{ w, h, ow, oh int }{
		{1080, 2400, 1080, 2400},  // a phone screenshot: as it is
		{540, 1200, 1000, 2222},   // Telegram's half-size copy: up to minWidth
		{200, 400, 600, 1200},     // at most maxUp times
		{3200, 1000, 1600, 500},   // down to maxWidth
		{1600, 12800, 1224, 9797}, // 8:1 and wide: under maxScaled
		{333, 2664, 999, 7992},    // 8:1 and narrow: 3 times, 8 million
	} {
		ow, oh := outSize(c.w, c.h)
		if ow != c.ow || oh != c.oh || ow*oh > maxScaled {
			t.Errorf("outSize(%d, %d) = %d, %d; want %d, %d", c.w, c.h, ow, oh, c.ow, c.oh)
		}
	}
}

// TestPrepare_Cancelled: a done context stops the preparation.
func TestPrepare_Cancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := prepare(ctx, stripePNG(t, 500, 1000), DefaultLimits.MaxPixels); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestGray_FastPaths: the image types read from their buffers give what At gives (within
// rounding for YCbCr, whose Y is taken as it is), sub-images included.
func TestGray_FastPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := image.Rect(3, 5, 40, 31)
	noise := image.NewNRGBA(r)
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
	}
	for i := 3; i < len(noise.Pix); i += 16 { // some opaque pixels
		noise.Pix[i] = 255
	}
	rgba := image.NewRGBA(r)
	draw.Draw(rgba, r, noise, r.Min, draw.Src)
	gray := image.NewGray(r)
	draw.Draw(gray, r, noise, r.Min, draw.Src)
	pal := image.NewPaletted(r, palette.Plan9)
	draw.Draw(pal, r, noise, r.Min, draw.Src)
	// As a JPEG decodes: colors in gamut (a random Cb and Cr would not be).
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio444)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := rgba.RGBAAt(x, y)
			i := ycc.YOffset(x, y)
			ycc.Y[i], ycc.Cb[ycc.COffset(x, y)], ycc.Cr[ycc.COffset(x, y)] = color.RGBToYCbCr(c.R, c.G, c.B)
		}
	}
	sub := image.Rect(7, 9, 30, 27)
	for _, c := range []struct {
		name string
		img  image.Image
		tol  int
	}{
		{"NRGBA", noise, 0}, {"RGBA", rgba, 0}, {"Gray", gray, 0}, {"Paletted", pal, 0}, {"YCbCr", ycc, 2},
		{"NRGBA sub-image", noise.SubImage(sub), 0}, {"YCbCr sub-image", ycc.SubImage(sub), 2},
	} {
		got, err := grayOf(c.img)
		if err != nil {
			t.Fatal(err)
		}
		b := c.img.Bounds()
		for y := range b.Dy() {
			for x := range b.Dx() {
				r, g, bb, _ := c.img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				want := int(luma(r, g, bb))
				if d := int(got.Pix[y*got.Stride+x]) - want; d < -c.tol || d > c.tol {
					t.Fatalf("%s: (%d, %d) = %d, want %d", c.name, x, y, got.Pix[y*got.Stride+x], want)
				}
			}
		}
	}
}

func grayOf(img image.Image) (*image.Gray, error) { return gray(context.Background(), img) }
