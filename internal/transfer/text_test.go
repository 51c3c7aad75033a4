package transfer

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		w, h int
		err  bool
	}{
		{"512", 512, 512, false},
		{"640x480", 640, 480, false},
		{" 32X48 ", 32, 48, false},
		{"0", 0, 0, true},
		{"-3x4", 0, 0, true},
		{"3x", 0, 0, true},
		{"1x2x3", 0, 0, true},
		{"big", 0, 0, true},
	} {
		w, h, err := ParseSize(tc.in)
		if (err != nil) != tc.err || w != tc.w || h != tc.h {
			t.Errorf("ParseSize(%q) = %d, %d, %v", tc.in, w, h, err)
		}
		if err != nil && !strings.Contains(err.Error(), "want WxH") {
			t.Errorf("ParseSize(%q): error %q does not say what is wanted", tc.in, err)
		}
	}
}

func TestParseStyleLayers(t *testing.T) {
	layers, weights, err := ParseStyleLayers("block1_conv2, block2_conv2,")
	if err != nil || !cmp.Equal(layers, []string{"block1_conv2", "block2_conv2"}) || weights != nil {
		t.Errorf("names: %v %v %v", layers, weights, err)
	}
	layers, weights, err = ParseStyleLayers("block1_conv2:1.5,block3_conv3: 0.5")
	if err != nil || !cmp.Equal(layers, []string{"block1_conv2", "block3_conv3"}) || !cmp.Equal(weights, []float64{1.5, 0.5}) {
		t.Errorf("weighted: %v %v %v", layers, weights, err)
	}
	for in, want := range map[string]string{
		"block1_conv2:x":              `style-layers: weight "x" of block1_conv2 is not a number`,
		"block1_conv2:1,block2_conv2": `style-layers "block1_conv2:1,block2_conv2": give every layer a weight, or none`,
	} {
		if _, _, err := ParseStyleLayers(in); err == nil || err.Error() != want {
			t.Errorf("ParseStyleLayers(%q): %v, want %s", in, err, want)
		}
	}
}
