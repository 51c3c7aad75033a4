package fastnet

import (
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// TestStaticMaskAndHold: a pixel whose luminance moved by HoldThreshold or
// more takes itself and its eight neighbours out of the mask; a smaller move
// does not; hold mixes the previous picture in only where the mask is set.
func TestStaticMaskAndHold(t *testing.T) {
	prev, cur := preprocess.NewImage(5, 5), preprocess.NewImage(5, 5)
	for i := range prev.Pix {
		prev.Pix[i], cur.Pix[i] = 100, 100
	}
	set := func(img *preprocess.Image, x, y int, v uint8) {
		for ch := 0; ch < 3; ch++ {
			img.Pix[3*(y*5+x)+ch] = v
		}
	}
	set(cur, 1, 1, 100+HoldThreshold) // moved
	set(cur, 4, 4, 100+HoldThreshold-1)
	mask := staticMask(cur, prev)
	for y := 0; y < 5; y++ {
		for x := 0; x < 5; x++ {
			want := x > 2 || y > 2
			if mask[y*5+x] != want {
				t.Errorf("mask at (%d,%d) = %v, want %v", x, y, mask[y*5+x], want)
			}
		}
	}
	out, old := preprocess.NewImage(5, 5), preprocess.NewImage(5, 5)
	for i := range old.Pix {
		old.Pix[i] = 200
	}
	hold(out, old, mask, 0.5)
	if out.Pix[0] != 0 || out.Pix[3*(4*5+4)] != 100 {
		t.Errorf("hold: moved pixel %d (want 0), still pixel %d (want 100)", out.Pix[0], out.Pix[3*(4*5+4)])
	}
}

func TestNewClipRefuses(t *testing.T) {
	m := &Model{}
	for _, c := range []struct {
		t    Temporal
		want string
	}{
		{Temporal{Smoothing: 1}, "smoothing 1"},
		{Temporal{Smoothing: -0.1}, "smoothing -0.1"},
		{Temporal{Hold: 1.5}, "hold 1.5"},
		{Temporal{Smoothing: 0.5}, "make fastnets"}, // a model without the statistics signatures
	} {
		if _, err := m.NewClip(Styles{1}, c.t); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.t, err, c.want)
		}
	}
}
