package transfer

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

func TestFitLongSide(t *testing.T) {
	for _, tt := range []struct{ w, h, long, wantW, wantH int }{
		{4000, 3000, 1600, 1600, 1200},
		{3000, 4000, 1600, 1200, 1600},
		{512, 512, 256, 256, 256},
		{1001, 333, 512, 512, 170}, // 170.3
		{333, 1001, 512, 170, 512},
		{640, 427, 640, 640, 427}, // its own long side: unchanged
	} {
		w, h := fitLongSide(tt.w, tt.h, tt.long)
		if w != tt.wantW || h != tt.wantH {
			t.Errorf("fitLongSide(%d, %d, %d) = %dx%d, want %dx%d", tt.w, tt.h, tt.long, w, h, tt.wantW, tt.wantH)
		}
	}
}

func TestSizeSettingsErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(s *Settings)
		err  string // "" for none
	}{
		{"long side", func(s *Settings) { s.LongSide = 1600 }, ""},
		{"long side too small", func(s *Settings) { s.LongSide = 8 }, "long-side: 8: want 0 or at least 16"},
		{"long side too large", func(s *Settings) { s.LongSide = 9000 }, "long-side: 9000: want at most 8192"},
		{"long side with recipe", func(s *Settings) { s.LongSide, s.Graph = 1024, GraphRecipe }, "long-side: keeps the style image's own shape"},
		{"long side from style", func(s *Settings) { s.LongSide, s.Init = 1024, InitStyle }, "cannot start from the style image"},
		{"scales", func(s *Settings) { s.Scales = []int{128, 256} }, ""},
		{"scales up to the final", func(s *Settings) { s.Scales = []int{128, 512} }, ""},
		{"scales out of order", func(s *Settings) { s.Scales = []int{256, 128} }, "scales: 128 after 256: want increasing long sides"},
		{"scales past the target", func(s *Settings) { s.Scales = []int{256, 1024} }, "scales: 1024 is past the final size's long side 512"},
		{"scales past the long side", func(s *Settings) { s.LongSide, s.Scales = 300, []int{400} }, "past the final size's long side 300"},
		{"scale too small", func(s *Settings) { s.Scales = []int{8, 256} }, "scales: 8: every scale needs a long side of at least 16"},
		{"fractions", func(s *Settings) { s.ScaleFractions, s.ScaleIterations = []float64{0.25, 0.5}, []int{2, 2} }, ""},
		{"fraction of 1", func(s *Settings) { s.ScaleFractions = []float64{0.5, 1} }, "scales: 1: a fraction of the final size's long side is above 0 and below 1"},
		{"fractions out of order", func(s *Settings) { s.ScaleFractions = []float64{0.5, 0.25} }, "scales: 0.25 after 0.5: want increasing fractions"},
		{"fractions and long sides", func(s *Settings) { s.Scales, s.ScaleFractions = []int{128}, []float64{0.5} }, "scales: long sides and fractions together"},
		{"a count for each fraction", func(s *Settings) { s.ScaleFractions, s.ScaleIterations = []float64{0.25, 0.5}, []int{2} }, "1 counts for 2 scales"},
		{"scale iterations", func(s *Settings) { s.Scales, s.ScaleIterations = []int{128, 256}, []int{6, 3} }, ""},
		{"scale iterations, a scale at the final size", func(s *Settings) { s.Scales, s.ScaleIterations = []int{128, 512}, []int{6} }, ""},
		{"scale iterations without scales", func(s *Settings) { s.ScaleIterations = []int{6} }, "scale-iterations: counts the iterations of scales: give scales too"},
		{"scale iterations too few", func(s *Settings) { s.Scales, s.ScaleIterations = []int{128, 256}, []int{6} },
			"scale-iterations: 1 counts for 2 scales before the final size (long side 512): want one each"},
		{"scale iterations too many", func(s *Settings) { s.Scales, s.ScaleIterations = []int{128, 512}, []int{6, 1} },
			"scale-iterations: 2 counts for 1 scales before the final size"},
		{"scale iterations zero", func(s *Settings) { s.Scales, s.ScaleIterations = []int{128}, []int{0} }, "scale-iterations: 0: every scale needs at least 1 iteration"},
		{"tile", func(s *Settings) { s.Tile = 256 }, ""},
		{"tile not a multiple of 16", func(s *Settings) { s.Tile = 100 }, "tile: 100: want 0 or a multiple of 16"},
		{"tile with recipe", func(s *Settings) { s.Tile, s.Graph = 256, GraphRecipe }, "tile: the recipe graph evaluates its batch of three whole"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := Defaults()
			tt.edit(&s)
			err := s.Validate()
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("Validate: %v, want an error containing %q", err, tt.err)
			}
		})
	}
}

func TestLadder(t *testing.T) {
	s := Defaults()
	s.Scales = []int{128, 256}
	if got := s.ladder(512); !cmp.Equal(got, []int{128, 256, 512}) {
		t.Errorf("ladder = %v", got)
	}
	if got := s.TotalIterations(); got != 30 {
		t.Errorf("TotalIterations = %d, want 30", got)
	}
	s.ScaleIterations = []int{6, 3}
	if got := s.iterationsPerScale(512); !cmp.Equal(got, []int{6, 3, 10}) {
		t.Errorf("iterationsPerScale = %v, want [6 3 10]", got)
	}
	if got := s.TotalIterations(); got != 19 {
		t.Errorf("TotalIterations = %d, want 19", got)
	}
	s.Scales, s.ScaleIterations = []int{128, 512}, []int{6}
	if got := s.ladder(512); !cmp.Equal(got, []int{128, 512}) {
		t.Errorf("ladder = %v", got)
	}
	// A scale at the final size is the final size: it runs Iterations.
	if got := s.iterationsPerScale(512); !cmp.Equal(got, []int{6, 10}) {
		t.Errorf("iterationsPerScale = %v, want [6 10]", got)
	}
}

// TestLadderFractions: fractions of the final long side give the same ladder
// at every size, less the scales that would be under 16 pixels or not below
// the final size, each with its iteration count.
func TestLadderFractions(t *testing.T) {
	s := Defaults()
	s.ScaleFractions, s.ScaleIterations = []float64{0.25, 0.5}, []int{6, 3}
	for _, tt := range []struct {
		final       int
		ladder, its []int
	}{
		{512, []int{128, 256, 512}, []int{6, 3, 10}},
		{1000, []int{250, 500, 1000}, []int{6, 3, 10}},
		{40, []int{20, 40}, []int{3, 10}}, // 0.25 of 40 is 10: left out, its count too
		{31, []int{16, 31}, []int{3, 10}}, // 15.5 rounds to 16
		{16, []int{16}, []int{10}},        // 8 and 4: only the final size
	} {
		if got := s.ladder(tt.final); !cmp.Equal(got, tt.ladder) {
			t.Errorf("ladder(%d) = %v, want %v", tt.final, got, tt.ladder)
		}
		if got := s.iterationsPerScale(tt.final); !cmp.Equal(got, tt.its) {
			t.Errorf("iterationsPerScale(%d) = %v, want %v", tt.final, got, tt.its)
		}
		s.Width, s.Height = tt.final, tt.final
		if err := s.Validate(); err != nil {
			t.Errorf("size %d: %v", tt.final, err)
		}
	}
	// What is left after a stop is in long sides.
	s.Width, s.Height = 512, 512
	r := s.Remaining(7)
	if !cmp.Equal(r.Scales, []int{256}) || r.ScaleFractions != nil || !cmp.Equal(r.ScaleIterations, []int{2}) {
		t.Errorf("Remaining(7): scales %v, fractions %v, counts %v; want [256], none, [2]", r.Scales, r.ScaleFractions, r.ScaleIterations)
	}
}

func TestRemaining(t *testing.T) {
	s := Defaults() // 512x512, 10 iterations
	s.Scales, s.ScaleIterations = []int{128, 256}, []int{6, 3}
	type left struct {
		Scales, ScaleIterations []int
		Iterations              int
	}
	for _, tt := range []struct {
		done int
		want left
	}{
		{0, left{[]int{128, 256}, []int{6, 3}, 10}},
		{4, left{[]int{128, 256}, []int{2, 3}, 10}},
		{6, left{[]int{256}, []int{3}, 10}}, // the first scale done
		{8, left{[]int{256}, []int{1}, 10}},
		{9, left{nil, nil, 10}}, // only the final size left
		{15, left{nil, nil, 4}},
		{19, left{nil, nil, 0}}, // all done
		{25, left{nil, nil, 0}},
	} {
		r := s.Remaining(tt.done)
		got := left{r.Scales, r.ScaleIterations, r.Iterations}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Remaining(%d) (-want +got):\n%s", tt.done, diff)
		}
		if tt.done < 19 {
			if err := r.Validate(); err != nil {
				t.Errorf("Remaining(%d): %v", tt.done, err)
			}
			if n := r.TotalIterations(); n != 19-tt.done {
				t.Errorf("Remaining(%d).TotalIterations() = %d, want %d", tt.done, n, 19-tt.done)
			}
		}
	}
	// Without ScaleIterations every scale runs Iterations; a scale at the final
	// size is the final size.
	s.Scales, s.ScaleIterations = []int{256, 512}, nil
	r := s.Remaining(13)
	if got := (left{r.Scales, r.ScaleIterations, r.Iterations}); !cmp.Equal(got, left{nil, nil, 7}) {
		t.Errorf("Remaining(13) of scales 256,512: %+v, want 7 iterations at the final size", got)
	}
	s.Scales = nil
	if r := s.Remaining(3); r.Iterations != 7 || r.Scales != nil {
		t.Errorf("Remaining(3) of one scale: %d iterations, scales %v", r.Iterations, r.Scales)
	}
}

func testImage(w, h int, seed byte) *preprocess.Image {
	img := preprocess.NewImage(w, h)
	for i := range img.Pix {
		img.Pix[i] = byte(i*7) ^ seed
	}
	return img
}

// TestRunSizes runs the model with a long side, coarse to fine, and tiles: the
// images keep their shapes, scales number their iterations on, and a tiled run's
// first evaluation equals the whole image's.
func TestRunSizes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the model")
	}
	m := testModel(t)
	in := Inputs{Content: testImage(90, 60, 1), Style: testImage(40, 70, 2)}

	s := Defaults()
	s.LongSide, s.Scales, s.ScaleIterations = 48, []int{32, 40}, []int{2, 1}
	s.Iterations, s.MaxFun = 1, 2
	var seen []Iteration
	res, err := Run(context.Background(), m, in, s, Observer{Done: func(it Iteration) error {
		it.X = nil
		seen = append(seen, it)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Image.Width != 48 || res.Image.Height != 32 {
		t.Errorf("image %dx%d, want 48x32 (90x60's shape at long side 48)", res.Image.Width, res.Image.Height)
	}
	type step struct{ Iteration, Scale, Width, Height int }
	var got []step
	for _, it := range seen {
		got = append(got, step{it.Iteration, it.Scale, it.Width, it.Height})
	}
	// Two iterations at long side 32, one at 40 (--scale-iterations 2,1), then
	// --iterations' one at the final 48.
	want := []step{{0, 0, 32, 21}, {1, 0, 32, 21}, {2, 1, 40, 27}, {3, 2, 48, 32}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("iterations (-want +got):\n%s", diff)
	}

	// Tiles: the first evaluation at a long side of 80 (80x53), tiles of 32.
	first := func(s Settings) Terms {
		var t0 Terms
		_, err := Run(context.Background(), m, in, s, Observer{Evaluation: func(i, e int, t Terms, _ time.Duration) {
			if i == 0 && e == 1 {
				t0 = t
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		return t0
	}
	s = Defaults()
	s.LongSide, s.Iterations, s.MaxFun = 80, 1, 1
	whole := first(s)
	s.Tile = 32
	tiled := first(s)
	d := math.Abs(float64(tiled.Loss)-float64(whole.Loss)) / float64(whole.Loss)
	t.Logf("first evaluation, tiled %g, whole %g: relative difference %.2g", tiled.Loss, whole.Loss, d)
	// Float32 rounding; TestTiledMatchesWhole measures the terms and gradient.
	if d > 1e-5 {
		t.Errorf("tiled loss %g, whole %g", tiled.Loss, whole.Loss)
	}
}

func TestScaleContentWeight(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mode   ScaleContent
		scales []int
		frac   []float64
		want   []float64 // each step's content weight, the final size's last
	}{
		{"fixed", ScaleContentFixed, []int{128, 256}, nil, []float64{0.025, 0.025, 0.025}},
		{"area", ScaleContentArea, []int{128, 256}, nil, []float64{0.025 * 16, 0.025 * 4, 0.025}},
		{"area, fractions", ScaleContentArea, nil, []float64{0.25, 0.5}, []float64{0.025 * 16, 0.025 * 4, 0.025}},
		{"area, no scales", ScaleContentArea, nil, nil, []float64{0.025}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := Defaults() // 512x512, content weight 0.025
			s.ScaleContent, s.Scales, s.ScaleFractions = tt.mode, tt.scales, tt.frac
			p, err := Prepare(s, Inputs{Content: testImage(64, 64, 1), Style: testImage(64, 64, 2)}, MemoryLimit{})
			if err != nil {
				t.Fatal(err)
			}
			var got []float64
			for _, st := range p.scaleSteps {
				got = append(got, st.settings.ContentWeight)
			}
			if !cmp.Equal(got, tt.want) {
				t.Errorf("content weights %v, want %v", got, tt.want)
			}
			if p.Settings.ContentWeight != 0.025 {
				t.Errorf("the plan's own content weight became %v", p.Settings.ContentWeight)
			}
		})
	}
}

// TestScaleContentArea runs a coarse scale both ways: from the same start, the
// first evaluation's content term is (48/24)^2 = 4 times larger with area, and
// its style term is the same.
func TestScaleContentArea(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the model")
	}
	m := testModel(t)
	in := Inputs{Content: testImage(48, 48, 1), Style: testImage(48, 48, 2)}
	first := func(mode ScaleContent) Terms {
		s := Defaults()
		s.Width, s.Height, s.Scales, s.ScaleContent = 48, 48, []int{24}, mode
		s.Iterations, s.MaxFun = 1, 1
		var t0 *Terms
		_, err := Run(context.Background(), m, in, s, Observer{Evaluation: func(i, e int, tm Terms, _ time.Duration) {
			if t0 == nil {
				t0 = &tm
			}
		}})
		if err != nil || t0 == nil {
			t.Fatalf("%s: %v (first evaluation seen: %v)", mode, err, t0 != nil)
		}
		return *t0
	}
	fixed, area := first(ScaleContentFixed), first(ScaleContentArea)
	if fixed.Style != area.Style {
		t.Errorf("style term %v with area, %v fixed: want the same", area.Style, fixed.Style)
	}
	// float32(0.1) is float32(0.025) times 4 exactly (the same significand), so
	// the weighted sums are too: exactly 4x, no tolerance.
	if fixed.Content == 0 || area.Content != 4*fixed.Content {
		t.Errorf("content term %v with area, %v fixed: want exactly 4 times", area.Content, fixed.Content)
	}
}
