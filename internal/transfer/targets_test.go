package transfer

import (
	"path/filepath"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// TestGramCache: frames of one size compute the style's Gram targets once,
// another size once more, and runs with the cache give the bits of the same
// runs without it (in this process, on this CPU): a first frame, whose targets
// are computed, and a later one, whose content features then come from the
// minimal-style run. Two blended styles find the first's targets and compute
// the second's. 38 s on this shared two-core AMD Zen 3 (32 s of CPU), most of it
// the first run's graph optimisation.
func TestGramCache(t *testing.T) {
	t.Parallel()
	m := testModel(t)
	ref := referenceInputs(t)
	other := readImage(t, filepath.Join("..", "..", "scripts", "examples", "wave.jpg"))
	cache := NewGramCache()
	check := func(name string, in Inputs, s Settings, computed int, compare bool) {
		t.Helper()
		var want *Result
		if compare {
			want = run(t, m, in, s)
		}
		in.Grams = cache
		got := run(t, m, in, s)
		if compare && !sameX(got.X, want.X) {
			t.Errorf("%s: the result with the cache differs from the result without", name)
		}
		if n := cache.Computed(); n != computed {
			t.Errorf("%s: style targets computed %d times in all, want %d", name, n, computed)
		}
	}
	s := controlSettings() // 32x32
	check("frame 1 at 32x32", Inputs{Content: ref.Content, Style: ref.Style}, s, 1, true)
	check("frame 2 at 32x32", Inputs{Content: other, Style: ref.Style}, s, 1, true)
	check("frame 3 at 32x32", Inputs{Content: ref.Style, Style: ref.Style}, s, 1, false)
	s48 := s
	s48.Width, s48.Height = 48, 48
	check("frame 1 at 48x48", Inputs{Content: ref.Content, Style: ref.Style}, s48, 2, false)
	check("frame 2 at 48x48", Inputs{Content: other, Style: ref.Style}, s48, 2, false)
	check("32x32 again", Inputs{Content: ref.Content, Style: ref.Style}, s, 2, false)

	blend := s
	blend.StyleBlend = []float64{0.5, 0.5}
	styles := []*preprocess.Image{ref.Style, other}
	check("two styles", Inputs{Content: other, Styles: styles}, blend, 3, true)
	check("two styles again", Inputs{Content: ref.Content, Styles: styles}, blend, 3, true)
}
