package transfer

import (
	"strings"
	"testing"
)

func TestValidateSize(t *testing.T) {
	for _, tc := range []struct {
		name          string
		width, height int
		content       string
		style         []string
		err           string
	}{
		{"notebook layers at 16x16", 16, 16, NotebookContentLayer, NotebookStyleLayers, ""},
		{"notebook layers at 15x16", 15, 16, NotebookContentLayer, NotebookStyleLayers, "size 15x16 is too small"},
		// The model runs to block5_conv3 whatever the layers, so shallow layers need
		// 16x16 too.
		{"block1 layers at 8x8", 8, 8, "block1_conv1", []string{"block1_conv2"}, "size 8x8 is too small"},
		{"block1 layers at 16x40", 16, 40, "block1_conv1", []string{"block1_conv2"}, ""},
		{"block1 layers at 40x12", 40, 12, "block1_conv1", []string{"block1_conv2"}, "needs at least 16x16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Defaults()
			s.Width, s.Height, s.ContentLayer, s.StyleLayers = tc.width, tc.height, tc.content, tc.style
			err := s.Validate()
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("Validate: %v, want an error containing %q", err, tc.err)
			}
		})
	}
}

// TestSignatureChoice: the notebook_* signatures run exactly when the layers with a
// nonzero weight are the notebook's, whatever the weights' values or the order the
// layers are listed in; the model refuses any other choice for them.
func TestSignatureChoice(t *testing.T) {
	reversed := append([]string(nil), NotebookStyleLayers...)
	for i, j := 0, len(reversed)-1; i < j; i, j = i+1, j-1 {
		reversed[i], reversed[j] = reversed[j], reversed[i]
	}
	for _, tc := range []struct {
		name     string
		edit     func(s *Settings)
		notebook bool
	}{
		{"defaults", func(s *Settings) {}, true},
		{"the gallery's weights", func(s *Settings) { s.TVWeight = 0.1; s.StyleWeight = 10 }, true},
		{"no total variation", func(s *Settings) { s.TVWeight = 0 }, true},
		{"style layers listed in reverse", func(s *Settings) { s.StyleLayers = reversed }, true},
		{"own weight per style layer", func(s *Settings) { s.StyleLayerWeights = []float64{1, 2, 3, 4, 5} }, true},
		{"an extra style layer of weight 0", func(s *Settings) {
			s.StyleLayers = append(append([]string(nil), NotebookStyleLayers...), "block1_conv1")
			s.StyleLayerWeights = []float64{1, 1, 1, 1, 1, 0}
		}, true},
		{"an extra style layer", func(s *Settings) {
			s.StyleLayers = append(append([]string(nil), NotebookStyleLayers...), "block1_conv1")
		}, false},
		{"four style layers", func(s *Settings) { s.StyleLayers = NotebookStyleLayers[:4] }, false},
		{"a style layer of weight 0", func(s *Settings) { s.StyleLayerWeights = []float64{1, 1, 0, 1, 1} }, false},
		{"no style", func(s *Settings) { s.StyleWeight = 0 }, false},
		{"no content", func(s *Settings) { s.ContentWeight = 0 }, false},
		{"a content weight too small for float32", func(s *Settings) { s.ContentWeight = 1e-60 }, false},
		{"Gatys' content layer", func(s *Settings) { s.ContentLayer = "block4_conv2" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Defaults()
			tc.edit(&s)
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			w := newWeightInputs(&s)
			for _, base := range []string{sigRecipe, sigFastTargets, sigFast} {
				want := base
				if tc.notebook {
					want = notebookPrefix + base
				}
				if got := signature(base, w, PrecisionFP32); got != want {
					t.Errorf("signature(%s) = %s, want %s", base, got, want)
				}
			}
			// bf16 always runs its own run-time-layer signatures.
			for _, base := range []string{sigFastTargets, sigFast} {
				if got := signature(base, w, PrecisionBF16); got != base+"_bf16" {
					t.Errorf("bf16: signature(%s) = %s, want %s_bf16", base, got, base)
				}
			}
		})
	}
}
