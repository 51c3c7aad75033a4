package vggtensor

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

func float32Bytes(x []float32) []byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func parseHexFloat(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("vector value %q: %v", s, err)
	}
	return v
}

// TestPreprocessVectors compares the float32 network input, bit for bit, with
// the notebook's NumPy arithmetic (recipe) and Keras' preprocess_input (caffe).
func TestPreprocessVectors(t *testing.T) {
	v := loadVectors(t)
	if len(v.VGG.Preprocess) == 0 {
		t.Fatal("no preprocess vectors")
	}
	for _, c := range v.VGG.Preprocess {
		img := loadPNG(t, c.Input)
		m, err := ParseMode(c.Mode)
		if err != nil {
			t.Fatal(err)
		}
		x, err := Preprocess(img, m)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range c.Head {
			if want := parseHexFloat(t, h); float64(x[i]) != want {
				t.Errorf("%s %s: value %d = %v, want %v", c.Input, c.Mode, i, x[i], want)
			}
		}
		if sha(float32Bytes(x)) != c.SHA256 {
			t.Errorf("%s %s: preprocessed data differs from NumPy's", c.Input, c.Mode)
		}
	}
}

// TestDeprocessVectors checks float64 and float32 deprocessing on values far
// outside 0..255 after the means, on every level k - mean, and on the nearest
// float64 values either side of those, where truncation decides.
func TestDeprocessVectors(t *testing.T) {
	v := loadVectors(t)
	d := v.VGG.Deprocess
	raw, err := os.ReadFile(filepath.Join("testdata", "pixels", "deprocess_in.f64"))
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 8*3*d.W*d.H {
		t.Fatalf("deprocess_in.f64 has %d bytes, want %d", len(raw), 8*3*d.W*d.H)
	}
	x := make([]float64, len(raw)/8)
	for i := range x {
		x[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
	}
	if len(d.Cases) != 2 {
		t.Fatalf("%d deprocess cases, want 2 (one per mode)", len(d.Cases))
	}
	for _, c := range d.Cases {
		m, err := ParseMode(c.Mode)
		if err != nil {
			t.Fatal(err)
		}
		img, err := Deprocess(x, d.W, d.H, m)
		if err != nil {
			t.Fatal(err)
		}
		want, err := hex.DecodeString(c.Out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(img.Pix, want) {
			n, first := 0, -1
			for i := range want {
				if img.Pix[i] != want[i] {
					n++
					if first < 0 {
						first = i
					}
				}
			}
			// Output byte i comes from input channel 2 - i%3 of the same pixel.
			in := first - first%3 + 2 - first%3
			t.Errorf("%s: %d bytes differ from NumPy's; first at %d: got %d, want %d (input %v)",
				c.Mode, n, first, img.Pix[first], want[first], x[in])
		}
	}
}

// TestRoundTrip preprocesses and deprocesses each test image in both modes.
// Through float64, as the notebook's optimizer hands it back, NumPy loses one
// level on the channels whose float32 mean exceeds the float64 one; the vectors
// hold NumPy's results and how many bytes changed, and Go must agree with both.
func TestRoundTrip(t *testing.T) {
	v := loadVectors(t)
	if len(v.VGG.Roundtrip) == 0 {
		t.Fatal("no round-trip vectors")
	}
	for _, c := range v.VGG.Roundtrip {
		img := loadPNG(t, c.Input)
		m, err := ParseMode(c.Mode)
		if err != nil {
			t.Fatal(err)
		}
		x, err := Preprocess(img, m)
		if err != nil {
			t.Fatal(err)
		}
		x64 := make([]float64, len(x))
		for i, v := range x {
			x64[i] = float64(v)
		}
		out, err := Deprocess(x64, img.Width, img.Height, m)
		if err != nil {
			t.Fatal(err)
		}
		changed, maxDiff := 0, 0
		for i := range out.Pix {
			if d := int(img.Pix[i]) - int(out.Pix[i]); d != 0 {
				changed++
				maxDiff = max(maxDiff, d, -d)
			}
		}
		if sha(out.Pix) != c.SHA256 || changed != c.Changed || maxDiff != c.MaxDiff {
			t.Errorf("%s %s: %d bytes changed by up to %d, NumPy: %d by up to %d (same output: %v)",
				c.Input, c.Mode, changed, maxDiff, c.Changed, c.MaxDiff, sha(out.Pix) == c.SHA256)
		}
	}
}

func TestPreprocessChannels(t *testing.T) {
	img := &preprocess.Image{Width: 1, Height: 1, Pix: []uint8{200, 100, 50}} // R, G, B
	cases := []struct {
		m    Mode
		want [3]float32 // B, G, R slots of the network input
	}{
		// The recipe's quirk: blue is centred with the red mean and vice versa.
		{ModeRecipe, [3]float32{50 - float32(123.68), 100 - float32(116.779), 200 - float32(103.939)}},
		{ModeCaffe, [3]float32{50 - float32(103.939), 100 - float32(116.779), 200 - float32(123.68)}},
	}
	for _, c := range cases {
		x, err := Preprocess(img, c.m)
		if err != nil {
			t.Fatal(err)
		}
		if [3]float32(x) != c.want {
			t.Errorf("%v: got %v, want %v", c.m, x, c.want)
		}
	}
}

func TestDeprocessSpecialValues(t *testing.T) {
	nan := math.NaN()
	// Network order B, G, R per pixel; caffe adds 103.939, 116.779, 123.68.
	x := []float64{
		nan, nan, nan,
		math.Inf(1), math.Inf(-1), -1e300,
		1e300, 300, 0.9999 - 123.68,
	}
	img, err := Deprocess(x, 3, 1, ModeCaffe)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{ // R, G, B per pixel
		0, 0, 0, // NaN becomes 0
		0, 0, 255,
		0, 255, 255, // 0.9999 truncates to 0
	}
	if !bytes.Equal(img.Pix, want) {
		t.Errorf("got %v, want %v", img.Pix, want)
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{ModeRecipe, ModeCaffe} {
		for _, s := range []string{m.String(), strings.ToUpper(m.String())} {
			if got, err := ParseMode(s); err != nil || got != m {
				t.Errorf("ParseMode(%q) = %v, %v", s, got, err)
			}
		}
	}
	for _, s := range []string{"", "tf", "torch", "keras"} {
		if _, err := ParseMode(s); err == nil {
			t.Errorf("ParseMode(%q): no error", s)
		}
	}
}

func TestVGGErrors(t *testing.T) {
	img := preprocess.NewImage(2, 2)
	if _, err := Preprocess(nil, ModeRecipe); err == nil {
		t.Error("Preprocess(nil): no error")
	}
	if _, err := Preprocess(&preprocess.Image{Width: 2, Height: 2, Pix: make([]uint8, 11)}, ModeRecipe); err == nil {
		t.Error("Preprocess(short pixels): no error")
	}
	if _, err := Preprocess(img, Mode(5)); err == nil {
		t.Error("Preprocess(mode 5): no error")
	}
	if _, err := Deprocess(make([]float64, 12), 2, 2, Mode(-1)); err == nil {
		t.Error("Deprocess(mode -1): no error")
	}
	for _, c := range []struct{ n, w, h int }{{11, 2, 2}, {13, 2, 2}, {0, 0, 0}, {3, 1, -1}, {3, 1 << 25, 1}} {
		if _, err := Deprocess(make([]float64, c.n), c.w, c.h, ModeRecipe); err == nil {
			t.Errorf("Deprocess(%d values, %dx%d): no error", c.n, c.w, c.h)
		}
	}
}

func BenchmarkPreprocess512(b *testing.B) {
	img := preprocess.NewImage(512, 512)
	b.SetBytes(int64(len(img.Pix)))
	for i := 0; i < b.N; i++ {
		if _, err := Preprocess(img, ModeRecipe); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeprocess512(b *testing.B) {
	x := make([]float64, 3*512*512)
	b.SetBytes(int64(len(x)))
	for i := 0; i < b.N; i++ {
		if _, err := Deprocess(x, 512, 512, ModeRecipe); err != nil {
			b.Fatal(err)
		}
	}
}
