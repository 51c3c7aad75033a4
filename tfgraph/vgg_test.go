package tfgraph

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/kernels"
	"github.com/neuralstyle/neuralstyle/internal/testmodels"
)

// vggVector is tfgraph/testdata/vgg16_random_seed1.json (make vectors-vgg): one
// evaluation of the style model with random weights, as Python ran it.
type vggVector struct {
	Weights struct {
		Source string `json:"source"`
		Seed   int    `json:"seed"`
		SHA256 string `json:"sha256"`
	} `json:"weights"`
	// Kernels is the family of TensorFlow's float32 CPU kernels the vector was
	// made with (internal/kernels).
	Kernels struct {
		Family string `json:"family"`
	} `json:"kernels"`
	Shape          []int64                    `json:"shape"`
	Content        []float32                  `json:"content"`
	Style          []float32                  `json:"style"`
	Combination    []float32                  `json:"combination"`
	ContentWeights []float32                  `json:"content_weights"`
	StyleWeights   []float32                  `json:"style_weights"`
	TVWeight       float32                    `json:"tv_weight"`
	Recipe         map[string]json.RawMessage `json:"recipe"`
	Fast           map[string]json.RawMessage `json:"fast"`
}

// vggModelDir is $NEURALSTYLE_TEST_MODEL, or build/testmodels/vgg16-random-seed1,
// built by savedmodel/export.py when missing (as `make testmodels` does).
func vggModelDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("NEURALSTYLE_TEST_MODEL"); dir != "" {
		return dir
	}
	dir, err := testmodels.VGG16()
	if err != nil {
		t.Fatalf("the random-weights style model is missing and could not be built (run make testmodels): %v", err)
	}
	return dir
}

func TestVGG16StyleModelMatchesPython(t *testing.T) {
	var vec vggVector
	b, err := os.ReadFile(filepath.Join("testdata", "vgg16_random_seed1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vec); err != nil {
		t.Fatal(err)
	}
	dir := vggModelDir(t)
	var meta struct {
		Weights struct {
			SHA256 string `json:"sha256"`
		} `json:"weights"`
	}
	if b, err = os.ReadFile(filepath.Join(dir, "neuralstyle.json")); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Weights.SHA256 != vec.Weights.SHA256 {
		t.Fatalf("%s has weights %s but the vector was made with %s (%s seed %d): run make vectors-vgg",
			dir, meta.Weights.SHA256, vec.Weights.SHA256, vec.Weights.Source, vec.Weights.Seed)
	}

	m, err := Load(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	img := func(d []float32) *Tensor { return &Tensor{Shape: vec.Shape, Data: d} }
	weights := map[string]*Tensor{
		"content_weights": {Shape: []int64{13}, Data: vec.ContentWeights},
		"style_weights":   {Shape: []int64{13}, Data: vec.StyleWeights},
	}
	recipeIn := map[string]*Tensor{
		"content": img(vec.Content), "style": img(vec.Style), "combination": img(vec.Combination),
		"tv_weight": Scalar(vec.TVWeight),
	}
	targetsIn := map[string]*Tensor{"content": img(vec.Content), "style": img(vec.Style)}
	for k, v := range weights {
		recipeIn[k], targetsIn[k] = v, v
	}
	recipe, err := m.Run("recipe", recipeIn)
	if err != nil {
		t.Fatal(err)
	}
	fastIn, err := m.Run("fast_targets", targetsIn)
	if err != nil {
		t.Fatal(err)
	}
	fastIn["combination"] = img(vec.Combination)
	fastIn["tv_weight"] = Scalar(vec.TVWeight)
	for k, v := range weights {
		fastIn[k] = v
	}
	fast, err := m.Run("fast", fastIn)
	if err != nil {
		t.Fatal(err)
	}

	// On the vector's kernels the same graph gives Python's values bit for bit
	// (measured: every term and gradient value, on an Intel Xeon with AVX-512 and
	// AMX). On another family the sums run in another order: the vector this one
	// replaced, made on another CPU whose features were not recorded, against this
	// one had the same terms and gradient values up to 6.8e-7 of the largest entry
	// apart (1035 of 1152 differed); the bounds (1e-6 relative on a term,
	// 1e-5 of the largest gradient entry) are what different kernels cost on one
	// machine (recipe against fast at 128x128 and 256x256: 1e-7) with room.
	exact := kernels.Same(vec.Kernels.Family)
	why := fmt.Sprintf("the vector's kernels (%s) are this CPU's", vec.Kernels.Family)
	if !exact {
		why = fmt.Sprintf("the vector was made on %q kernels, this CPU runs %s: measured bounds", vec.Kernels.Family, kernels.Family())
	}
	t.Log(why)
	if err := kernels.Record(t.Name(), exact, why); err != nil {
		t.Error(err)
	}
	for _, tc := range []struct {
		sig  string
		got  map[string]*Tensor
		want map[string]json.RawMessage
	}{{"recipe", recipe, vec.Recipe}, {"fast", fast, vec.Fast}} {
		for _, name := range []string{"loss", "content_loss", "style_loss", "tv_loss"} {
			var want float32
			if err := json.Unmarshal(tc.want[name], &want); err != nil {
				t.Fatalf("%s %s: %v", tc.sig, name, err)
			}
			got := tc.got[name].Data[0]
			switch {
			case exact && got != want:
				t.Errorf("%s %s = %v, Python %v on the same kernels", tc.sig, name, got, want)
			case math.Abs(float64(got-want)) > 1e-6*math.Abs(float64(want)):
				t.Errorf("%s %s = %v, Python %v", tc.sig, name, got, want)
			}
		}
		var want []float32
		if err := json.Unmarshal(tc.want["gradient"], &want); err != nil {
			t.Fatalf("%s gradient: %v", tc.sig, err)
		}
		got := tc.got["gradient"]
		if len(got.Data) != len(want) {
			t.Fatalf("%s gradient: %d values, Python %d", tc.sig, len(got.Data), len(want))
		}
		var maxDiff, maxAbs float64
		differ := 0
		for i, g := range got.Data {
			if g != want[i] {
				differ++
			}
			maxDiff = math.Max(maxDiff, math.Abs(float64(g-want[i])))
			maxAbs = math.Max(maxAbs, math.Abs(float64(want[i])))
		}
		switch {
		case exact && differ > 0:
			t.Errorf("%s gradient: %d of %d values differ from Python's on the same kernels, by up to %g (largest entry %g)", tc.sig, differ, len(want), maxDiff, maxAbs)
		case maxDiff > 1e-5*maxAbs:
			t.Errorf("%s gradient differs from Python's by up to %g (largest entry %g)", tc.sig, maxDiff, maxAbs)
		}
	}
}
