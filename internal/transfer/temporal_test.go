package transfer

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
)

// TestTemporalTermValue: the term is W * mean over values of m * (x - prev)^2,
// checked on a 2x1 image by hand.
func TestTemporalTermValue(t *testing.T) {
	term := &temporalTerm{weight: 3, prev: []float64{1, 2, 3, 4, 5, 6}, mask: []float64{1, 0}}
	x := []float64{2, 2, 5, 100, 100, 100} // the second pixel is masked out
	grad := []float64{1, 1, 1, 1, 1, 1}
	got := term.value(x, grad)
	want := 3.0 / 6 * (1 + 0 + 4)
	if got != want {
		t.Errorf("value %v, want %v", got, want)
	}
	wantGrad := []float64{1 + 1, 1, 1 + 2, 1, 1, 1} // adds 2 W/N m (x - prev)
	for i := range grad {
		if grad[i] != wantGrad[i] {
			t.Errorf("gradient %v, want %v", grad, wantGrad)
			break
		}
	}
}

// TestTemporalTermGradient: the gradient matches central differences of the
// value on a random 5x4 image with a random 0/1 mask, within 1e-6 relative
// (a quadratic's central difference is exact up to the rounding of x +- h:
// measured 1.5e-8 here).
func TestTemporalTermGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const w, h = 5, 4
	term := &temporalTerm{weight: 0.7, prev: make([]float64, w*h*3), mask: make([]float64, w*h)}
	x := make([]float64, len(term.prev))
	for i := range x {
		term.prev[i] = rng.Float64()*255 - 128
		x[i] = rng.Float64()*255 - 128
	}
	for i := range term.mask {
		term.mask[i] = float64(rng.IntN(2))
	}
	grad := make([]float64, len(x))
	term.value(x, grad)
	scratch := make([]float64, len(x))
	worst := 0.0
	for i := range x {
		const step = 1e-3
		old := x[i]
		x[i] = old + step
		up := term.value(x, scratch)
		x[i] = old - step
		down := term.value(x, scratch)
		x[i] = old
		fd := (up - down) / (2 * step)
		d := math.Abs(fd - grad[i])
		if scale := math.Max(math.Abs(grad[i]), 1e-3); d/scale > worst {
			worst = d / scale
		}
		if term.mask[i/3] == 0 && grad[i] != 0 {
			t.Errorf("value %d: gradient %v where the mask is 0", i, grad[i])
		}
	}
	t.Logf("worst relative difference %.3g", worst)
	if worst > 1e-6 {
		t.Errorf("gradient differs from central differences by %.3g relative, want at most 1e-6", worst)
	}
}

// TestStaticMask: a pixel is held when neither it nor a neighbour moved by
// TemporalThreshold or more in luminance.
func TestStaticMask(t *testing.T) {
	const w, h = 6, 5
	grey := func(v uint8) *preprocess.Image {
		img := &preprocess.Image{Width: w, Height: h, Pix: make([]uint8, w*h*3)}
		for i := range img.Pix {
			img.Pix[i] = v
		}
		return img
	}
	prev := grey(100)
	cur := grey(100 + TemporalThreshold - 1) // under the threshold everywhere
	cur.Pix[3*(2*w+4)+0] = 200               // one pixel moves, at x 4, y 2
	cur.Pix[3*(2*w+4)+1] = 200
	cur.Pix[3*(2*w+4)+2] = 200
	mask, err := staticMask(cur, prev, w, h, resample.Nearest)
	if err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	for y := range h {
		for x := range w {
			got.WriteByte(".#"[int(mask[y*w+x])])
		}
		got.WriteByte('\n')
	}
	want := "######\n" +
		"###...\n" +
		"###...\n" +
		"###...\n" +
		"######\n"
	if got.String() != want {
		t.Errorf("mask (# held):\n%s\nwant:\n%s", got.String(), want)
	}
}

// TestTemporalSetting: the temporal weight is refused for a single transfer
// (a Config with a content image) and with the colour controls that put the
// content's colours back, and a run without the previous frame is refused
// before any work.
func TestTemporalSetting(t *testing.T) {
	c := DefaultConfig()
	c.TemporalWeight = 2.5
	// A video's settings (no content image): content and style are missing,
	// nothing else.
	if err := c.Validate(); err != nil && strings.Contains(err.Error(), "temporal") {
		t.Errorf("a video's settings: %v", err)
	}
	c.OriginalColors = true
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "temporal-weight: excludes original-colors") {
		t.Errorf("with original colours: %v", err)
	}
	c.OriginalColors = false
	c.Content, c.Style = "a.png", []string{"b.png"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "temporal-weight: applies to the frames of a video") {
		t.Errorf("a single transfer with a temporal weight: %v", err)
	}
	c.Content, c.TemporalWeight = "", -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "temporal-weight: -1") {
		t.Errorf("weight -1: %v", err)
	}
	img := &preprocess.Image{Width: 16, Height: 16, Pix: make([]uint8, 16*16*3)}
	set := Defaults()
	set.TemporalWeight = 1
	if err := CheckInputs(Inputs{Content: img, Style: img}, &set); err == nil || !strings.Contains(err.Error(), "previous frame") {
		t.Errorf("no previous frame: %v", err)
	}
	if err := CheckInputs(Inputs{Content: img, Style: img, Previous: img, PreviousContent: img}, &set); err != nil {
		t.Errorf("with the previous frame: %v", err)
	}
}
