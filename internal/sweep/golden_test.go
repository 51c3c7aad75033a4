package sweep

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestKeysStable holds the keys of the article's sweep files (scripts/sweeps) to
// the values the first release computed, so that a finished sweep stays finished
// across versions: a new setting left at its default must not change a key. The
// model ID is a fixed string here; the images are the bundled examples.
func TestKeysStable(t *testing.T) {
	want := map[string][]string{
		"content_layer.json": {"aa2852355b875640", "ed6d3bf99c9d8463", "c2b4d025571c4f4e", "f5a56ef0f7a5033e", "67836f4f54a8111f"},
		"style_weight.json":  {"500986a2982ac718", "faf207d3456087bc", "7a5c281fdb8811d9", "5d7f6fd86d5dd05c", "383f4cc4dfb822c8"},
		"tv_weight.json":     {"21bb5592ee58db68", "3e8283b4a1e9fd93", "ed6d3bf99c9d8463", "dcb62bb8e1af361b", "88f6a0dfb1bf9f67", "2b5a7345f78f74c6", "b6f1279b85c32c11"},
	}
	for name, keys := range want {
		spec, err := ParseFile(filepath.Join("..", "..", "scripts", "sweeps", name))
		if err != nil {
			t.Fatal(err)
		}
		// Flags over the file, as documented (`make sweeps ARGS=...`).
		for _, kv := range [][2]string{{"size", "128"}, {"style-layers", "block1_conv2:2,block3_conv3:0.5"}} {
			v, err := ParseValue(kv[0], kv[1], "")
			if err != nil {
				t.Fatal(err)
			}
			if err := spec.Set(v); err != nil {
				t.Fatal(err)
			}
		}
		plan, err := NewPlan(spec, "model-id-of-the-golden-test")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range plan.Points {
			got = append(got, p.Key)
		}
		if !slices.Equal(got, keys) {
			t.Errorf("%s: keys %q, want %q", name, got, keys)
		}
	}
}
