package score

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// TestSSIMMatchesSkimage compares SSIM with scikit-image's
// structural_similarity on the cases of scripts/vectors/score_vectors.py. The
// tolerance, 5e-14, is from a measurement: the largest difference on these
// cases was 1.44e-14, on the flat pair, whose variances are differences of
// nearly equal numbers; 1.8e-15 or less on the others (NumPy sums the
// final mean pairwise, this package in order; the filters' sums are formed
// in SciPy's order).
func TestSSIMMatchesSkimage(t *testing.T) {
	b, err := os.ReadFile("testdata/ssim.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []struct {
			Name   string  `json:"name"`
			Width  int     `json:"width"`
			Height int     `json:"height"`
			A      []byte  `json:"a"`
			B      []byte  `json:"b"`
			SSIM   float64 `json:"ssim"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range doc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			a := &preprocess.Image{Width: c.Width, Height: c.Height, Pix: c.A}
			bb := &preprocess.Image{Width: c.Width, Height: c.Height, Pix: c.B}
			got, err := SSIM(a, bb)
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(got - c.SSIM); d > 5e-14 {
				t.Errorf("SSIM %.17g, skimage %.17g (difference %.3g)", got, c.SSIM, d)
			}
		})
	}
}

// pattern is a deterministic test image: a gradient with a bright square.
func pattern(w, h int) *preprocess.Image {
	img := preprocess.NewImage(w, h)
	for y := range h {
		for x := range w {
			p := img.Pix[3*(y*w+x):]
			p[0], p[1], p[2] = uint8(x*255/w), uint8(y*255/h), uint8((x*y)%256)
			if x > w/3 && x < w/2 && y > h/3 && y < h/2 {
				p[0], p[1], p[2] = 250, 250, 250
			}
		}
	}
	return img
}

func fill(w, h int, r, g, b uint8) *preprocess.Image {
	img := preprocess.NewImage(w, h)
	for i := 0; i < len(img.Pix); i += 3 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2] = r, g, b
	}
	return img
}

func TestSSIMProperties(t *testing.T) {
	a := pattern(40, 30)
	b := pattern(40, 30)
	b.Pix[3*(15*40+20)] ^= 0x40 // one pixel changed
	for _, c := range []struct {
		name   string
		x, y   *preprocess.Image
		lo, hi float64
	}{
		{"itself", a, a, 1, 1},
		{"one pixel changed", a, b, 0.9, 1 - 1e-6},
		{"flat", fill(16, 16, 10, 20, 30), fill(16, 16, 10, 20, 30), 1, 1},
		{"pattern vs flat", a, fill(40, 30, 128, 128, 128), -1, 0.5},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := SSIM(c.x, c.y)
			if err != nil {
				t.Fatal(err)
			}
			if s < c.lo || s > c.hi {
				t.Errorf("SSIM %.17g, want in [%g, %g]", s, c.lo, c.hi)
			}
			r, err := SSIM(c.y, c.x)
			if err != nil || r != s {
				t.Errorf("not symmetric: %v then %v (%v)", s, r, err)
			}
		})
	}
}

func TestSSIMErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		a, b *preprocess.Image
	}{
		{"sizes differ", pattern(20, 20), pattern(20, 21)},
		{"too small", pattern(10, 20), pattern(10, 20)},
	} {
		if _, err := SSIM(c.a, c.b); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestColorDistance(t *testing.T) {
	red, blue := fill(4, 4, 255, 0, 0), fill(8, 2, 0, 0, 255)
	half := fill(4, 2, 255, 0, 0)
	copy(half.Pix[12:], []uint8{0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 255}) // bottom row blue
	for _, c := range []struct {
		name string
		a, b *preprocess.Image
		want float64
	}{
		{"itself", pattern(40, 30), pattern(40, 30), 0},
		{"same colours, other size", red, fill(3, 7, 250, 10, 5), 0}, // one bin
		{"disjoint colours", red, blue, 1},
		// Half red, half blue against red: sqrt(1 - sqrt(1/2)).
		{"half shared", half, red, math.Sqrt(1 - math.Sqrt(0.5))},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := ColorDistance(c.a, c.b)
			if err != nil {
				t.Fatal(err)
			}
			// Exact up to the rounding of the square roots.
			if math.Abs(d-c.want) > 1e-15 {
				t.Errorf("distance %.17g, want %.17g", d, c.want)
			}
			r, _ := ColorDistance(c.b, c.a)
			if r != d {
				t.Errorf("not symmetric: %v then %v", d, r)
			}
		})
	}
	// The triangle inequality on three unlike images.
	x, y, z := pattern(40, 30), half, fill(9, 9, 100, 200, 50)
	dxy, _ := ColorDistance(x, y)
	dyz, _ := ColorDistance(y, z)
	dxz, _ := ColorDistance(x, z)
	if dxz > dxy+dyz {
		t.Errorf("d(x,z) %v > d(x,y) %v + d(y,z) %v", dxz, dxy, dyz)
	}
	if _, err := ColorDistance(&preprocess.Image{}, red); err == nil {
		t.Error("no error for an empty image")
	}
}

func testModel(t *testing.T) *tfgraph.Model {
	t.Helper()
	dir, err := testmodels.VGG16()
	if err != nil {
		t.Fatal(err)
	}
	m, err := tfgraph.Load(dir, &tfgraph.Options{DisableGPU: true, IntraOpThreads: 1, InterOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if err := CheckModel(m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCompute scores, with the random-weights test model at 32x32, the
// content image as its own output (content loss exactly 0, SSIM 1) and the
// style image as its own output (colour distance 0, every style term 0 up
// to float32 rounding: the Gram matrices of equal batch items), and checks
// that the terms add up to the loss.
func TestCompute(t *testing.T) {
	m := testModel(t)
	content, style := pattern(40, 30), fill(20, 20, 200, 60, 30)
	for i := 0; i < len(style.Pix); i += 7 {
		style.Pix[i] = uint8(i * 13)
	}
	sc, err := Compute(m, content, content, style, 32)
	if err != nil {
		t.Fatal(err)
	}
	if sc.ContentLoss != 0 || sc.SSIM != 1 || sc.Size != 32 {
		t.Errorf("content as output: content loss %v, SSIM %v, size %d; want 0, 1, 32", sc.ContentLoss, sc.SSIM, sc.Size)
	}
	if sc.StyleLoss <= 0 || sc.TVLoss <= 0 || sc.ColorDistance <= 0 {
		t.Errorf("content as output: style loss %v, tv %v, colour distance %v; want all > 0", sc.StyleLoss, sc.TVLoss, sc.ColorDistance)
	}
	if len(sc.StyleLayers) != 5 || sc.StyleLayers[0].Layer != "block1_conv2" {
		t.Errorf("style layers %+v, want the notebook's five", sc.StyleLayers)
	}
	sum := float32(0)
	for _, l := range sc.StyleLayers {
		sum += l.Loss
	}
	if d := math.Abs(float64(sum-sc.StyleLoss)) / float64(sc.StyleLoss); d > 1e-6 {
		t.Errorf("style layers sum to %v, style loss %v", sum, sc.StyleLoss)
	}
	if d := math.Abs(float64(sc.ContentLoss+sc.StyleLoss+sc.TVLoss-sc.Loss)) / float64(sc.Loss); d > 1e-6 {
		t.Errorf("terms %v + %v + %v, loss %v", sc.ContentLoss, sc.StyleLoss, sc.TVLoss, sc.Loss)
	}

	self, err := Compute(m, style, content, style, 32)
	if err != nil {
		t.Fatal(err)
	}
	if self.ColorDistance != 0 {
		t.Errorf("style as output: colour distance %v, want 0", self.ColorDistance)
	}
	// Measured: exactly 0 (one thread: the batch items run alike).
	if self.StyleLoss != 0 {
		t.Errorf("style as output: style loss %v, want ~0 (content as output: %v)", self.StyleLoss, sc.StyleLoss)
	}
}

func TestComputeSize(t *testing.T) {
	for _, size := range []int{0, 15, MaxSize + 1} {
		if _, err := Compute(nil, pattern(20, 20), pattern(20, 20), pattern(20, 20), size); err == nil {
			t.Errorf("size %d: no error", size)
		}
	}
}
