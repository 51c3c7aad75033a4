package imagefile

import (
	"bytes"
	"image/color"
	"image/color/palette"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/neuralstyle/neuralstyle/preprocess"
)

// decodeAllGIF decodes every frame with image/gif (frames here are full-size,
// so each frame's pixels are the displayed ones).
func decodeAllGIF(t *testing.T, data []byte) (*gif.GIF, []*preprocess.Image) {
	t.Helper()
	g, err := gif.DecodeAll(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out []*preprocess.Image
	for _, p := range g.Image {
		img, err := toRGB(p, false)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, img)
	}
	return g, out
}

// shifted returns img moved right by dx pixels, wrapping around, with every
// value raised by add (saturating): frames that share most colours, as the
// iterations of a style transfer do.
func shifted(img *preprocess.Image, dx int, add int) *preprocess.Image {
	out := preprocess.NewImage(img.Width, img.Height)
	for y := 0; y < img.Height; y++ {
		for x := 0; x < img.Width; x++ {
			s := 3 * (y*img.Width + (x+img.Width-dx)%img.Width)
			for c := 0; c < 3; c++ {
				out.Pix[3*(y*img.Width+x)+c] = clip8(int(img.Pix[s+c]) + add)
			}
		}
	}
	return out
}

func TestGIFExactColours(t *testing.T) {
	base := vectorImage(t, "bmp_p_23x15.bmp") // 64 colours
	frames := []*preprocess.Image{base, shifted(base, 5, 0), shifted(base, 11, 0)}
	var buf bytes.Buffer
	if err := EncodeGIF(&buf, frames, &GIFOptions{Delay: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	_, got := decodeAllGIF(t, buf.Bytes())
	if diff := cmp.Diff(frames, got); diff != "" {
		t.Errorf("frames with 64 colours do not survive exactly:\n%.300s", diff)
	}
	first, err := Decode(bytes.NewReader(buf.Bytes()), "anim.gif", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(first, frames[0]) {
		t.Error("Decode (Pillow's first-frame rules) disagrees with frame 0")
	}
}

// quantError is the mean squared error of frames against their GIF versions.
func quantError(a, b []*preprocess.Image) float64 {
	var s float64
	var n int
	for i := range a {
		for j := range a[i].Pix {
			d := float64(a[i].Pix[j]) - float64(b[i].Pix[j])
			s += d * d
			n++
		}
	}
	return s / float64(n)
}

// TestGIFFittedPalette: photographs get a palette fitted to them, far closer
// than the web-safe palette image/gif users often fall back to.
func TestGIFFittedPalette(t *testing.T) {
	base := vectorImage(t, "jpeg_420_prog_65x49.jpg")
	frames := []*preprocess.Image{base, shifted(base, 7, 10), shifted(base, 20, -15), shifted(base, 33, 25)}
	var buf bytes.Buffer
	if err := EncodeGIF(&buf, frames, nil); err != nil {
		t.Fatal(err)
	}
	g, got := decodeAllGIF(t, buf.Bytes())
	pal, ok := g.Config.ColorModel.(color.Palette)
	if !ok || len(pal) != 256 {
		t.Fatalf("global palette %T of %d colours, want 256", g.Config.ColorModel, len(pal))
	}
	for i, p := range g.Image {
		if !cmp.Equal(p.Palette, pal) {
			t.Errorf("frame %d has its own palette", i)
		}
	}
	fitted := quantError(frames, got)

	web := make([]*preprocess.Image, len(frames))
	q := newQuantizer(toRGBAPalette(palette.WebSafe))
	for i, f := range frames {
		img, err := toRGB(q.paletted(f, false), false)
		if err != nil {
			t.Fatal(err)
		}
		web[i] = img
	}
	webErr := quantError(frames, web)
	t.Logf("mean squared error: fitted palette %.2f, web-safe palette %.2f", fitted, webErr)
	// Measured: fitted 2.65, web-safe 215.15 (ratio 0.012); 0.1 leaves room
	// for changes in the median cut without letting a web-like palette pass.
	if fitted > 0.1*webErr {
		t.Errorf("fitted palette error %.2f is not well below the web-safe palette's %.2f", fitted, webErr)
	}
}

func toRGBAPalette(p color.Palette) color.Palette {
	out := make(color.Palette, len(p))
	for i, c := range p {
		r, g, b, _ := c.RGBA()
		out[i] = color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0xFF}
	}
	return out
}

// TestGIFDither: on a smooth gradient with far more than 256 colours,
// dithering keeps local averages closer to the original than nearest-colour
// mapping does.
func TestGIFDither(t *testing.T) {
	const w, h = 256, 64
	img := preprocess.NewImage(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := 3 * (y*w + x)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = uint8(x), uint8(4*y), uint8((x+4*y)/3)
		}
	}
	blockErr := func(dither bool) float64 {
		var buf bytes.Buffer
		if err := EncodeGIF(&buf, []*preprocess.Image{img}, &GIFOptions{Dither: dither}); err != nil {
			t.Fatal(err)
		}
		_, got := decodeAllGIF(t, buf.Bytes())
		// Mean absolute error of 8x8 block averages.
		var s float64
		for by := 0; by < h; by += 8 {
			for bx := 0; bx < w; bx += 8 {
				for c := 0; c < 3; c++ {
					var d float64
					for y := by; y < by+8; y++ {
						for x := bx; x < bx+8; x++ {
							i := 3*(y*w+x) + c
							d += float64(got[0].Pix[i]) - float64(img.Pix[i])
						}
					}
					if d < 0 {
						d = -d
					}
					s += d / 64
				}
			}
		}
		return s / float64(3*(w/8)*(h/8))
	}
	plain, dithered := blockErr(false), blockErr(true)
	t.Logf("8x8 block-average error: nearest %.3f, Floyd-Steinberg %.3f", plain, dithered)
	// Measured: nearest 1.569, Floyd-Steinberg 0.304 (ratio 0.19).
	if dithered >= 0.5*plain {
		t.Errorf("dithering does not preserve local averages: %.3f vs %.3f", dithered, plain)
	}
}

func TestGIFDelayAndLoop(t *testing.T) {
	img := vectorImage(t, "gif_local.gif")
	frames := []*preprocess.Image{img, shifted(img, 1, 0)}
	tests := []struct {
		delay     time.Duration
		loop      int
		wantDelay int
	}{
		{0, 0, 0},
		{15 * time.Millisecond, 0, 2},
		{14 * time.Millisecond, -1, 1},
		{time.Second, 3, 100},
		{655354 * time.Millisecond, 0, 65535},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		if err := EncodeGIF(&buf, frames, &GIFOptions{Delay: tc.delay, LoopCount: tc.loop}); err != nil {
			t.Fatal(err)
		}
		g, _ := decodeAllGIF(t, buf.Bytes())
		if !cmp.Equal(g.Delay, []int{tc.wantDelay, tc.wantDelay}) || g.LoopCount != tc.loop {
			t.Errorf("delay %v loop %d: got delays %v loop %d", tc.delay, tc.loop, g.Delay, g.LoopCount)
		}
	}
}

func TestGIFErrors(t *testing.T) {
	img := vectorImage(t, "gif_local.gif")
	other := preprocess.NewImage(img.Width+1, img.Height)
	tests := []struct {
		frames []*preprocess.Image
		opt    GIFOptions
		msg    string
	}{
		{nil, GIFOptions{}, "no frames"},
		{[]*preprocess.Image{img, other}, GIFOptions{}, "frame 1 is 7x4"},
		{[]*preprocess.Image{img, nil}, GIFOptions{}, "frame 1: nil image"},
		{[]*preprocess.Image{img}, GIFOptions{Delay: -time.Millisecond}, "delay"},
		{[]*preprocess.Image{img}, GIFOptions{Delay: 656 * time.Second}, "delay"},
		{[]*preprocess.Image{img}, GIFOptions{LoopCount: -2}, "loop count"},
		{[]*preprocess.Image{preprocess.NewImage(70000, 1)}, GIFOptions{}, "65535"},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		err := EncodeGIF(&bytes.Buffer{}, tc.frames, &tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: error %v", tc.msg, err)
		}
	}
	p := filepath.Join(dir, "anim.gif")
	if err := WriteGIF(p, []*preprocess.Image{img, other}, time.Second); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("WriteGIF: %v", err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("refused GIF left a file (%v)", err)
	}
	if err := WriteGIF(p, []*preprocess.Image{img, shifted(img, 2, 0)}, 250*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := decodeAllGIF(t, data); len(g.Image) != 2 || g.Delay[0] != 25 || g.LoopCount != 0 {
		t.Errorf("WriteGIF: %d frames, delays %v, loop %d", len(g.Image), g.Delay, g.LoopCount)
	}
	if got := dirNames(t, dir); !cmp.Equal(got, []string{"anim.gif"}) {
		t.Errorf("folder holds %v", got)
	}
}
