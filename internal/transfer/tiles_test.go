package transfer

import (
	"fmt"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neuralstyle/neuralstyle/internal/kernels"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

func TestTileHalo(t *testing.T) {
	// The band a cut edge corrupts, per layer: +1 per conv, halved (rounded up) by
	// each pool; in input pixels, rounded up to a multiple of 16.
	want := map[string]int{
		"block1_conv1": 16, "block1_conv2": 16, // 1, 2 px
		"block2_conv2": 16, // 3 at stride 2: 6 px
		"block3_conv3": 32, // 5 at stride 4: 20 px
		"block4_conv3": 48, // 6 at stride 8
		"block5_conv1": 64, // 4 at stride 16
		"block5_conv3": 96, // 6 at stride 16
	}
	for name, px := range want {
		i, _ := layerIndex(name)
		if got := tileHalo(i); got != px {
			t.Errorf("tileHalo(%s) = %d, want %d", name, got, px)
		}
	}
}

func TestSplitAxis(t *testing.T) {
	tests := []struct {
		n, size, halo int
		want          []tileSpan
	}{
		{100, 128, 96, []tileSpan{{0, 100, 0, 100}}},
		{100, 32, 16, []tileSpan{{0, 32, 0, 48}, {32, 64, 16, 80}, {64, 100, 48, 100}}}, // a rest of 4 joins the last tile
		{120, 48, 32, []tileSpan{{0, 48, 0, 80}, {48, 96, 16, 120}, {96, 120, 64, 120}}},
	}
	for _, tt := range tests {
		got := splitAxis(tt.n, tt.size, tt.halo)
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(tileSpan{})); diff != "" {
			t.Errorf("splitAxis(%d, %d, %d) (-want +got):\n%s", tt.n, tt.size, tt.halo, diff)
		}
	}
}

func TestTotalVariationGradient(t *testing.T) {
	// Central differences of totalVariation against the gradient it adds.
	const w, h = 7, 5
	x64, err := vggtensor.Noise(3, w, h)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(x64))
	for i, v := range x64 {
		x[i] = float32(v) / 16 // whole float32 steps of 1/16 keep x+-eps exact
	}
	grad := make([]float64, len(x))
	totalVariation(x, w, h, grad, 0.5)
	const eps = 1.0 / 64
	for i := range x {
		orig := x[i]
		x[i] = orig + eps
		up := totalVariation(x, w, h, make([]float64, len(x)), 0)
		x[i] = orig - eps
		down := totalVariation(x, w, h, make([]float64, len(x)), 0)
		x[i] = orig
		fd := 0.5 * (up - down) / (2 * eps)
		// Measured: within 2e-5 relative of the largest entry (the finite
		// difference's own error at this eps); 1e-3 leaves room.
		if math.Abs(fd-grad[i]) > 1e-3*math.Max(1, math.Abs(fd)) {
			t.Errorf("gradient[%d] = %g, central difference %g", i, grad[i], fd)
		}
	}
}

// tiledCase is an image size and layer choice at which the tiled evaluation is
// compared with the whole-image one.
type tiledCase struct {
	w, h         int
	tiles        []int
	contentLayer string
	style        []string
}

func noiseImage(t testing.TB, seed uint32, w, h int) []float32 {
	t.Helper()
	x, err := vggtensor.Noise(seed, w, h)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func termDiff(a, b float32) float64 {
	return math.Abs(float64(a)-float64(b)) / math.Abs(float64(b))
}

// gradDiff returns the largest difference between two gradients relative to the
// largest entry of want.
func gradDiff(got, want []float64) float64 {
	maxDiff, maxAbs := 0.0, 0.0
	for i := range want {
		maxDiff = math.Max(maxDiff, math.Abs(got[i]-want[i]))
		maxAbs = math.Max(maxAbs, math.Abs(want[i]))
	}
	return maxDiff / maxAbs
}

// tiledVersusWhole evaluates the case's loss at one point whole (the fast graph)
// and tiled (with the given halo; 0: tileHalo's), and returns the relative
// differences of the content and style terms and of the gradient. Total variation
// is off: it dominates a noise image's loss and gradient and would hide the
// network's terms (TestTotalVariationMatchesModel checks it).
func tiledVersusWhole(t *testing.T, m *tfgraph.Model, c tiledCase, tile, halo int) (content, style, grad float64, tiles int) {
	t.Helper()
	s := Defaults()
	s.Width, s.Height = c.w, c.h
	s.ContentLayer, s.StyleLayers = c.contentLayer, c.style
	s.TVWeight = 0
	content32 := noiseImage(t, 1, c.w, c.h)
	style32 := noiseImage(t, 2, c.w, c.h)
	x, err := vggtensor.Noise(3, c.w, c.h)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := newFastEvaluator(m, content32, style32, c.w, c.h, &s)
	if err != nil {
		t.Fatal(err)
	}
	wantGrad := make([]float64, len(x))
	want, err := whole.evaluate(x, wantGrad)
	if err != nil {
		t.Fatal(err)
	}
	if halo == 0 {
		halo = tileHalo(deepestLayer(newWeightInputs(&s)))
	}
	e, err := newTiledEvaluatorHalo(m, content32, c.w, c.h, style32, c.w, c.h, &s, tile, halo)
	if err != nil {
		t.Fatal(err)
	}
	gotGrad := make([]float64, len(x))
	got, err := e.evaluate(x, gotGrad)
	if err != nil {
		t.Fatal(err)
	}
	if got.Loss != got.Content+got.Style {
		t.Errorf("tiled loss %g is not content %g + style %g", got.Loss, got.Content, got.Style)
	}
	return termDiff(got.Content, want.Content), termDiff(got.Style, want.Style), gradDiff(gotGrad, wantGrad), len(e.tiles)
}

var tiledCases = []tiledCase{
	// The notebook's layers: deepest block5_conv3, halo 96. 256 wide, so that tiles
	// of 64 are cut on both sides (interior tiles see 224 of the 256 columns).
	{w: 256, h: 48, tiles: []int{64, 112}, contentLayer: "block2_conv2", style: NotebookStyleLayers},
	// Deepest block3_conv3: halo 32, tiles cut on every side.
	{w: 128, h: 96, tiles: []int{32, 48}, contentLayer: "block3_conv2", style: []string{"block1_conv2", "block3_conv3"}},
	// Deepest block2_conv2: halo 16; odd sizes, so the last tiles are ragged.
	{w: 90, h: 62, tiles: []int{16, 32}, contentLayer: "block2_conv2", style: []string{"block1_conv1", "block2_conv2"}},
}

// TestTiledMatchesWhole holds the tiled evaluation to the whole-image one on the
// content and style terms and the gradient, non-square, at several tile sizes.
func TestTiledMatchesWhole(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the model on many tiles")
	}
	m := testModel(t) // loaded once: a load takes longer than a case
	if err := kernels.Record(t.Name(), false, "tiles against the whole image: sums over positions in another order"); err != nil {
		t.Error(err)
	}
	for _, c := range tiledCases {
		for _, tile := range c.tiles {
			t.Run(fmt.Sprintf("%dx%d/%s/tile%d", c.w, c.h, c.style[len(c.style)-1], tile), func(t *testing.T) {
				dc, ds, dg, n := tiledVersusWhole(t, m, c, tile, 0)
				t.Logf("%d tiles: relative difference content %.2g, style %.2g; gradient max difference %.2g of its largest entry", n, dc, ds, dg)
				// Measured on these cases: content up to 7.6e-8, style up to 7e-7,
				// gradient up to 2e-6 (float32 rounding: the sums over positions run
				// in another order, tile by tile); 1e-5 leaves room for other CPUs.
				if dc > 1e-5 || ds > 1e-5 || dg > 1e-5 {
					t.Errorf("tiled differs from whole: content %.2g, style %.2g, gradient %.2g", dc, ds, dg)
				}
			})
		}
	}
}

// TestTiledHaloIsNeeded shows that the halo matters: one stride (16 pixels)
// thinner than tileHalo's, the tiles' features near cut edges are wrong.
func TestTiledHaloIsNeeded(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the model on many tiles")
	}
	c := tiledCases[1]
	_, ds, dg, _ := tiledVersusWhole(t, testModel(t), c, 32, tileHalo(deepestLayer(newWeightInputs(&Settings{ContentLayer: c.contentLayer, StyleLayers: c.style, ContentWeight: 1, StyleWeight: 1})))-tileAlign)
	t.Logf("halo 16: style relative difference %.2g, gradient %.2g", ds, dg)
	if ds < 1e-3 && dg < 1e-3 {
		t.Errorf("a halo thinner than tileHalo's gave the whole image's numbers (style %.2g, gradient %.2g): is tileHalo too large?", ds, dg)
	}
}

// TestTotalVariationMatchesModel compares totalVariation with the model's total
// variation term (the fast graph with content and style weights 0).
func TestTotalVariationMatchesModel(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	const w, h = 40, 24
	s := Defaults()
	s.Width, s.Height = w, h
	s.ContentWeight, s.StyleWeight, s.TVWeight = 0, 0, 0.5
	e, err := newFastEvaluator(m, noiseImage(t, 1, w, h), noiseImage(t, 2, w, h), w, h, &s)
	if err != nil {
		t.Fatal(err)
	}
	x, err := vggtensor.Noise(3, w, h)
	if err != nil {
		t.Fatal(err)
	}
	wantGrad := make([]float64, len(x))
	want, err := e.evaluate(x, wantGrad)
	if err != nil {
		t.Fatal(err)
	}
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
	}
	grad := make([]float64, len(x))
	tv := float32(0.5 * totalVariation(x32, w, h, grad, 0.5))
	dl, dg := termDiff(tv, want.TV), gradDiff(grad, wantGrad)
	t.Logf("total variation %g vs the model's %g (relative %.2g), gradient %.2g of its largest entry", tv, want.TV, dl, dg)
	// Measured: 8.3e-8 and 1.1e-7 (float32 rounding of the model's sums).
	if dl > 1e-5 || dg > 1e-5 {
		t.Errorf("total variation %g, model %g (relative %.2g); gradient %.2g", tv, want.TV, dl, dg)
	}
}

// BenchmarkEvaluate compares one evaluation of the whole image (the fast graph)
// with the tiled one, side by side, on random weights with the notebook's layers.
func BenchmarkEvaluate(b *testing.B) {
	m := testModel(b)
	const side = 256
	s := Defaults()
	s.Width, s.Height = side, side
	content, style := noiseImage(b, 1, side, side), noiseImage(b, 2, side, side)
	x, err := vggtensor.Noise(3, side, side)
	if err != nil {
		b.Fatal(err)
	}
	grad := make([]float64, len(x))
	for _, tile := range []int{0, 128} {
		var e lossEvaluator
		if tile == 0 {
			e, err = newFastEvaluator(m, content, style, side, side, &s)
		} else {
			e, err = newTiledEvaluator(m, content, side, side, style, side, side, &s, tile)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("%dx%d/tile%d", side, side, tile), func(b *testing.B) {
			for range b.N {
				if _, err := e.evaluate(x, grad); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
