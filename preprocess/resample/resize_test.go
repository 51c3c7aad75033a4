package resample

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// pixelVectors is testdata/pixels/vectors.json, written by
// scripts/vectors/preprocess_vectors.py with Pillow 11.0.0.
type pixelVectors struct {
	Versions map[string]string `json:"versions"`
	Resize   []struct {
		Input  string `json:"input"`
		W, H   int
		Filter string `json:"filter"`
		SHA256 string `json:"sha256"`
		Head   string `json:"head"`
	} `json:"resize"`
	Sweep struct {
		Row  string `json:"row"`
		Runs []struct {
			Filter string   `json:"filter"`
			Axis   string   `json:"axis"`
			In     int      `json:"in"`
			Out    [][3]int `json:"out"` // Python ranges: start, stop, step
			SHA16  string   `json:"sha256_16"`
		} `json:"runs"`
	} `json:"sweep"`
	Fit []struct {
		W, H, N, FW, FH int
	} `json:"fit"`
}

var (
	vectorsOnce sync.Once
	vectors     pixelVectors
	vectorsErr  error
)

func loadVectors(t testing.TB) *pixelVectors {
	t.Helper()
	vectorsOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join("testdata", "pixels", "vectors.json"))
		if err != nil {
			vectorsErr = err
			return
		}
		vectorsErr = json.Unmarshal(b, &vectors)
	})
	if vectorsErr != nil {
		t.Fatalf("vectors: %v", vectorsErr)
	}
	return &vectors
}

// loadPNG reads an 8-bit RGB test PNG with the standard library, so that these
// tests do not depend on the package's own decoder.
func loadPNG(t testing.TB, name string) *preprocess.Image {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pixels", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	rgba, ok := m.(*image.RGBA)
	if !ok {
		t.Fatalf("%s: decoded as %T, want *image.RGBA from an RGB PNG", name, m)
	}
	r := rgba.Bounds()
	img := preprocess.NewImage(r.Dx(), r.Dy())
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			i := rgba.PixOffset(r.Min.X+x, r.Min.Y+y)
			copy(img.Pix[3*(y*r.Dx()+x):], rgba.Pix[i:i+3])
		}
	}
	return img
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestResizeVectors compares every filter on up- and downscaling, odd,
// non-square and 1-pixel sizes with Pillow's output, byte for byte.
func TestResizeVectors(t *testing.T) {
	v := loadVectors(t)
	imgs := map[string]*preprocess.Image{}
	for _, c := range v.Resize {
		src := imgs[c.Input]
		if src == nil {
			src = loadPNG(t, c.Input)
			imgs[c.Input] = src
		}
		f, err := ParseFilter(c.Filter)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Resize(src, c.W, c.H, f)
		if err != nil {
			t.Errorf("%s %dx%d %s: %v", c.Input, c.W, c.H, c.Filter, err)
			continue
		}
		if got.Width != c.W || got.Height != c.H || len(got.Pix) != 3*c.W*c.H {
			t.Errorf("%s %dx%d %s: got %dx%d with %d bytes", c.Input, c.W, c.H, c.Filter, got.Width, got.Height, len(got.Pix))
			continue
		}
		if sha(got.Pix) != c.SHA256 {
			t.Errorf("%s %dx%d->%dx%d %s: output differs from Pillow's (head %x, want %s)",
				c.Input, src.Width, src.Height, c.W, c.H, c.Filter, got.Pix[:min(12, len(got.Pix))], c.Head)
		}
	}
}

// TestResizeSweep resizes every length 1..128 to every length 1..128 along
// each axis, plus long rows (factors up to 1024 either way), for every filter.
func TestResizeSweep(t *testing.T) {
	v := loadVectors(t)
	row := loadPNG(t, v.Sweep.Row)
	bad := 0
	for _, r := range v.Sweep.Runs {
		if testing.Short() && r.In%8 != 1 {
			continue
		}
		f, err := ParseFilter(r.Filter)
		if err != nil {
			t.Fatal(err)
		}
		src := &preprocess.Image{Width: r.In, Height: 1, Pix: row.Pix[:3*r.In]}
		if r.Axis == "col" {
			src = &preprocess.Image{Width: 1, Height: r.In, Pix: src.Pix}
		}
		h := sha256.New()
		for _, rg := range r.Out {
			for m := rg[0]; m < rg[1]; m += rg[2] {
				w, hh := m, 1
				if r.Axis == "col" {
					w, hh = 1, m
				}
				got, err := Resize(src, w, hh, f)
				if err != nil {
					t.Fatalf("%s %s %d->%d: %v", r.Filter, r.Axis, r.In, m, err)
				}
				h.Write(got.Pix)
			}
		}
		if s := hex.EncodeToString(h.Sum(nil))[:16]; s != r.SHA16 {
			bad++
			if bad <= 20 {
				t.Errorf("%s %s of %d pixels resized to %v: outputs differ from Pillow's", r.Filter, r.Axis, r.In, r.Out)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d sweep runs differ", bad, len(v.Sweep.Runs))
	}
}

func TestParseFilter(t *testing.T) {
	for _, f := range []Filter{Nearest, Box, Bilinear, Hamming, Bicubic, Lanczos} {
		for _, s := range []string{f.String(), upper(f.String())} {
			got, err := ParseFilter(s)
			if err != nil || got != f {
				t.Errorf("ParseFilter(%q) = %v, %v; want %v", s, got, err, f)
			}
		}
	}
	for _, s := range []string{"", "antialias", "cubic", "lanczos3"} {
		if _, err := ParseFilter(s); err == nil {
			t.Errorf("ParseFilter(%q): no error", s)
		}
	}
	if s := Filter(17).String(); s != "Filter(17)" {
		t.Errorf("Filter(17).String() = %q", s)
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestResizeErrors(t *testing.T) {
	ok := preprocess.NewImage(4, 3)
	cases := []struct {
		name string
		img  *preprocess.Image
		w, h int
		f    Filter
	}{
		{"nil image", nil, 2, 2, Bicubic},
		{"empty image", &preprocess.Image{}, 2, 2, Bicubic},
		{"short pixels", &preprocess.Image{Width: 4, Height: 3, Pix: make([]uint8, 35)}, 2, 2, Bicubic},
		{"zero width", ok, 0, 2, Nearest},
		{"negative height", ok, 2, -1, Lanczos},
		{"huge side", ok, 1 << 25, 1, Box},
		{"huge area", ok, 1 << 24, 1 << 24, Box},
		{"huge intermediate", &preprocess.Image{Width: 2, Height: 50000, Pix: make([]uint8, 300000)}, 5000, 1, Bilinear},
		{"unknown filter", ok, 2, 2, Filter(9)},
		{"negative filter", ok, 2, 2, Filter(-1)},
	}
	for _, c := range cases {
		if out, err := Resize(c.img, c.w, c.h, c.f); err == nil {
			t.Errorf("%s: no error (got %dx%d)", c.name, out.Width, out.Height)
		}
	}
}

// TestResizeCopies checks that the same size gives an equal image that does not
// share memory with the source, as Pillow's copy().
func TestResizeCopies(t *testing.T) {
	src := preprocess.NewImage(3, 2)
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 7)
	}
	for _, f := range []Filter{Nearest, Lanczos} {
		got, err := Resize(src, 3, 2, f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Pix, src.Pix) {
			t.Errorf("%v: same-size resize changed pixels", f)
		}
		got.Pix[0]++
		if src.Pix[0] == got.Pix[0] {
			t.Errorf("%v: same-size resize shares pixels with its source", f)
		}
	}
}

// TestResizeParallel checks that splitting rows across goroutines gives the same
// bytes as one goroutine, on an image large enough to be split.
func TestResizeParallel(t *testing.T) {
	src := loadPNG(t, "chelsea_200x150.png")
	for _, f := range []Filter{Nearest, Bilinear, Lanczos} {
		for _, size := range [][2]int{{1000, 700}, {600, 20}, {20, 600}} {
			par, err := Resize(src, size[0], size[1], f)
			if err != nil {
				t.Fatal(err)
			}
			var seq *preprocess.Image
			withOneCPU(func() { seq, err = Resize(src, size[0], size[1], f) })
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(par.Pix, seq.Pix) {
				t.Errorf("%v to %v: parallel and sequential results differ", f, size)
			}
		}
	}
}

func withOneCPU(fn func()) {
	old := parallelMinWork
	parallelMinWork = math.MaxInt
	defer func() { parallelMinWork = old }()
	fn()
}

// FuzzResize checks that any small image resized to any small size with any
// filter gives the requested size without panicking, that Nearest only copies
// source pixels, and that Box keeps a uniform image uniform.
func FuzzResize(f *testing.F) {
	f.Add(uint8(3), uint8(2), uint8(7), uint8(5), uint8(0), []byte("abcdefghijklmnopqr"))
	f.Add(uint8(1), uint8(1), uint8(40), uint8(1), uint8(5), []byte{255, 0, 128})
	f.Add(uint8(64), uint8(3), uint8(1), uint8(9), uint8(1), []byte{1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, sw, sh, dw, dh, fl uint8, pix []byte) {
		w, h := int(sw)%64+1, int(sh)%64+1
		ow, oh := int(dw)%96+1, int(dh)%96+1
		filter := Filter(int(fl) % 6)
		src := preprocess.NewImage(w, h)
		if len(pix) > 0 {
			for i := range src.Pix {
				src.Pix[i] = pix[i%len(pix)]
			}
		}
		out, err := Resize(src, ow, oh, filter)
		if err != nil {
			t.Fatalf("%dx%d to %dx%d %v: %v", w, h, ow, oh, filter, err)
		}
		if out.Width != ow || out.Height != oh || len(out.Pix) != 3*ow*oh {
			t.Fatalf("%dx%d to %dx%d %v: got %dx%d, %d bytes", w, h, ow, oh, filter, out.Width, out.Height, len(out.Pix))
		}
		switch filter {
		case Nearest:
			// Every output pixel is the source pixel under its centre,
			// floor((i+0.5)*in/out), except that a centre exactly on the boundary
			// between two source pixels may take the left or upper one: Pillow
			// steps through centres by repeated floating-point addition.
			for y := 0; y < oh; y++ {
				sy, yExact := nearestRef(y, h, oh)
				for x := 0; x < ow; x++ {
					sx, xExact := nearestRef(x, w, ow)
					o := out.Pix[3*(y*ow+x):][:3]
					ok := false
					for _, dy := range []int{0, 1} {
						for _, dx := range []int{0, 1} {
							if (dy == 1 && yExact) || (dx == 1 && xExact) || sy-dy < 0 || sx-dx < 0 {
								continue
							}
							ok = ok || bytes.Equal(o, src.Pix[3*((sy-dy)*w+sx-dx):][:3])
						}
					}
					if !ok {
						t.Fatalf("%dx%d to %dx%d nearest: pixel (%d,%d) = %v, want source (%d,%d) = %v",
							w, h, ow, oh, x, y, o, sx, sy, src.Pix[3*(sy*w+sx):][:3])
					}
				}
			}
		case Box:
			// A uniform image stays uniform under averaging, whatever the weights'
			// rounding: Pillow's weights sum to 2**22 within a few units, and
			// 255 * a few units stays below half of 2**22.
			c := [3]byte{}
			if len(pix) >= 3 {
				copy(c[:], pix[:3])
			}
			for i := range src.Pix {
				src.Pix[i] = c[i%3]
			}
			out, err := Resize(src, ow, oh, Box)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range out.Pix {
				if v != c[i%3] {
					t.Fatalf("%dx%d to %dx%d box of uniform %v: byte %d is %d", w, h, ow, oh, c, i, v)
				}
			}
		}
	})
}

// nearestRef returns the source index under output pixel i's centre when
// resizing n pixels to m, and whether the centre is strictly inside that pixel.
func nearestRef(i, n, m int) (int, bool) {
	num := (2*i + 1) * n
	return num / (2 * m), num%(2*m) != 0
}

func benchResize(b *testing.B, w, h, ow, oh int, f Filter) {
	src := preprocess.NewImage(w, h)
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 2654435761 >> 13)
	}
	b.SetBytes(int64(len(src.Pix)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Resize(src, ow, oh, f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResize(b *testing.B) {
	for _, f := range []Filter{Nearest, Bilinear, Bicubic, Lanczos} {
		b.Run(fmt.Sprintf("4000x3000to512x512/%v", f), func(b *testing.B) { benchResize(b, 4000, 3000, 512, 512, f) })
	}
	b.Run("512x512to1024x1024/bicubic", func(b *testing.B) { benchResize(b, 512, 512, 1024, 1024, Bicubic) })
}

func TestResizeAll(t *testing.T) {
	small := preprocess.NewImage(4, 3)
	for i := range small.Pix {
		small.Pix[i] = byte(i * 9)
	}
	big := preprocess.NewImage(8, 6)
	out, err := ResizeAll([]*preprocess.Image{small, big}, 8, 6, Bicubic)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Resize(small, 8, 6, Bicubic)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Width != 8 || out[0].Height != 6 || !bytes.Equal(out[0].Pix, want.Pix) {
		t.Errorf("the small frame: %dx%d, not Resize's", out[0].Width, out[0].Height)
	}
	if out[1] != big {
		t.Errorf("a frame of the size already was not kept as it is")
	}
	if _, err := ResizeAll([]*preprocess.Image{small}, 0, 6, Bicubic); err == nil || !strings.Contains(err.Error(), "frame 0") {
		t.Errorf("a bad size: %v, want an error naming frame 0", err)
	}
}
