package resample

import "testing"

// TestFitLongestSideVectors compares with the sizes Pillow's thumbnail((n, n))
// gives when shrinking.
func TestFitLongestSideVectors(t *testing.T) {
	v := loadVectors(t)
	if len(v.Fit) == 0 {
		t.Fatal("no fit vectors")
	}
	for _, c := range v.Fit {
		w, h, err := FitLongestSide(c.W, c.H, c.N)
		if err != nil || w != c.FW || h != c.FH {
			t.Errorf("FitLongestSide(%d, %d, %d) = %d, %d, %v; Pillow's thumbnail: %dx%d", c.W, c.H, c.N, w, h, err, c.FW, c.FH)
		}
	}
}

// TestFitLongestSideEnlarge covers enlarging, which thumbnail never does: the
// same rule, worked out by hand.
func TestFitLongestSideEnlarge(t *testing.T) {
	cases := []struct{ w, h, n, fw, fh int }{
		{4, 3, 8, 8, 6},
		{3, 4, 8, 6, 8},
		{1, 1, 5, 5, 5},
		{100, 1, 1000, 1000, 10},
		{1, 100, 1000, 10, 1000},
		{3, 2, 4, 4, 3}, // 8/3 = 2.67 -> 3 (4/3 = 1.33 is closer to 1.5 than 4/2 = 2)
		{2, 3, 4, 3, 4}, // 2.67 -> 3 (3/4 = 0.75 is closer to 0.667 than 2/4 = 0.5)
		{640, 427, 640, 640, 427},
		{5, 2, 6, 6, 2}, // 2.4 -> 2 (6/2 = 3 beats 6/3 = 2 for 2.5)
		{512, 512, 1024, 1024, 1024},
	}
	for _, c := range cases {
		w, h, err := FitLongestSide(c.w, c.h, c.n)
		if err != nil || w != c.fw || h != c.fh {
			t.Errorf("FitLongestSide(%d, %d, %d) = %d, %d, %v; want %dx%d", c.w, c.h, c.n, w, h, err, c.fw, c.fh)
		}
	}
}

func TestFitLongestSideErrors(t *testing.T) {
	for _, c := range [][3]int{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}, {-1, 5, 5}, {1 << 25, 1, 5}, {5, 5, 1 << 25}} {
		if _, _, err := FitLongestSide(c[0], c[1], c[2]); err == nil {
			t.Errorf("FitLongestSide%v: no error", c)
		}
	}
}
