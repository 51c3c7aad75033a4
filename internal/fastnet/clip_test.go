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

// TestClipOf: a clip of another network paints each frame with it, holds the
// previous picture where the frame did not change, and refuses smoothing,
// which needs the 26-style network's statistics.
func TestClipOf(t *testing.T) {
	calls := 0
	// A network whose picture differs at every call, so that a held pixel
	// shows the previous call's value.
	paint := func(frame *preprocess.Image) (*preprocess.Image, error) {
		calls++
		out := preprocess.NewImage(frame.Width, frame.Height)
		for i := range out.Pix {
			out.Pix[i] = uint8(50 * calls)
		}
		return out, nil
	}
	for _, c := range []struct {
		t    Temporal
		want string
	}{
		{Temporal{Smoothing: 0.5}, "smoothing 0.5"},
		{Temporal{Hold: -1}, "hold -1"},
	} {
		if _, err := NewClipOf(paint, c.t); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.t, err, c.want)
		}
	}
	clip, err := NewClipOf(paint, Temporal{Hold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	frame := preprocess.NewImage(6, 6)
	first, err := clip.Next(frame)
	if err != nil || first.Pix[0] != 50 {
		t.Fatalf("first frame: %v, pixel %d; want the network's 50", err, first.Pix[0])
	}
	second, err := clip.Next(frame) // unchanged: half of the previous picture (50) kept
	if err != nil || calls != 2 || second.Pix[0] != 75 {
		t.Errorf("second frame: %v, %d calls, pixel %d; want (100+50)/2 = 75", err, calls, second.Pix[0])
	}
}
