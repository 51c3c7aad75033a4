package transfer

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
)

// TestNotFiniteNamesTheValue: weights that overflow float32 give an error that
// says which value is not finite. Measured on the random test model at 32x32 from
// the seed-0 noise (fast graph): content 5.9e6 per 0.025 of weight, style 4.8e8
// per unit, tv 8.9e8 per unit, so 1e37 makes that term +Inf alone, while content
// 1e30 and style 5e29 give finite terms (2.36e38 and 2.39e38) whose float32 sum
// overflows. The gradient stays about 1e-4 of the loss, so it never overflows
// first here; TestWidenGradient covers its message.
func TestNotFiniteNamesTheValue(t *testing.T) {
	t.Parallel()
	model := testModel(t)
	in := referenceInputs(t)
	cases := []struct {
		name               string
		content, style, tv float64
		want               string
	}{
		{"style", 0.025, 1e37, 1, "the style loss is +Inf (loss +Inf;"},
		{"content", 1e37, 5, 1, "the content loss is +Inf (loss +Inf;"},
		{"tv", 0.025, 5, 1e37, "the tv loss is +Inf (loss +Inf;"},
		{"sum", 1e30, 5e29, 1, "the loss is +Inf although its terms are finite (content 2.3"},
	}
	x, err := vggtensor.Noise(0, 32, 32)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := Defaults()
			s.Width, s.Height = 32, 32
			s.ContentWeight, s.StyleWeight, s.TVWeight = c.content, c.style, c.tv
			e, err := newEvaluator(model, in, &s)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.evaluate(x, make([]float64, len(x)))
			if !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want ErrNotFinite containing %q", err, c.want)
			}
		})
	}
	// Through Run, the error reaches the caller with the evaluation named.
	s := Defaults()
	s.Width, s.Height, s.StyleWeight, s.Iterations = 32, 32, 1e37, 1
	_, err = Run(context.Background(), model, in, s, Observer{})
	if !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), "evaluation 1: not finite: the style loss is +Inf") {
		t.Errorf("Run with style weight 1e37: error %v", err)
	}
}

func TestWidenGradient(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	cases := []struct {
		name string
		g    []float32
		want string // empty: no error
	}{
		{"finite", []float32{1, -2, math.MaxFloat32, -math.MaxFloat32, 0, float32(math.SmallestNonzeroFloat32)}, ""},
		// A 2-pixel-wide image: value 7 is pixel 2 (x 0, y 1), channel 1.
		{"nan", []float32{0, 0, 0, 0, 0, 0, 0, nan, 0, 0, 0, 0}, "1 of 12 values NaN or infinite, the first (NaN) at pixel x 0, y 1, channel 1"},
		{"infs", []float32{0, 0, 0, 0, 0, -inf, inf, 0, 0, 0, 0, nan}, "3 of 12 values NaN or infinite, the first (-Inf) at pixel x 1, y 0, channel 2"},
	}
	for _, c := range cases {
		grad := make([]float64, len(c.g))
		err := widenGradient(grad, c.g, 2)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
		} else if !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want ErrNotFinite containing %q", c.name, err, c.want)
		}
		for i, v := range c.g {
			if g := grad[i]; g != float64(v) && !(g != g && v != v) {
				t.Errorf("%s: grad[%d] = %v, want %v", c.name, i, g, v)
			}
		}
	}
}
