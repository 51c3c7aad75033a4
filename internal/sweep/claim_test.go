package sweep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClaim: a folder belongs to the sweep that first wrote there; another
// sweep is refused, naming the one there, unless it reuses the folder; the
// same sweep resumes, also with another model or its images at other paths;
// batch's photos may change between runs (an open axis).
func TestClaim(t *testing.T) {
	t.Parallel()
	dir := filesDir(t)
	plan := func(decl, model string) *Plan {
		t.Helper()
		spec, err := Parse(strings.NewReader(decl), "s.json", dir)
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewPlan(spec, model)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	const weights = `{"description": "weights", "settings": {"content": "content.png", "style": "style.png", "size": 32},
		"axes": [{"param": "style-weight", "values": [0.1, 1]}]}`
	const layers = `{"settings": {"content": "content.png", "style": "style.png", "size": 32},
		"axes": [{"param": "content-layer", "values": ["block2_conv2", "block4_conv2"]}]}`
	out := t.TempDir()
	if err := Claim(out, plan(weights, "m1"), ClaimOptions{}); err != nil {
		t.Fatalf("a fresh folder: %v", err)
	}
	if err := Claim(out, plan(weights, "m2"), ClaimOptions{}); err != nil {
		t.Errorf("the same sweep with another model: %v", err)
	}
	moved := strings.ReplaceAll(weights, `"style.png"`, `"copy.png"`)
	data, _ := os.ReadFile(filepath.Join(dir, "style.png"))
	os.WriteFile(filepath.Join(dir, "copy.png"), data, 0o644)
	if err := Claim(out, plan(moved, "m1"), ClaimOptions{}); err != nil {
		t.Errorf("the same sweep, its style image at another path: %v", err)
	}
	err := Claim(out, plan(layers, "m1"), ClaimOptions{})
	if want := "sweep: " + out + ` holds another sweep ("weights": content=`; err == nil || !strings.Contains(err.Error(), want) ||
		!strings.Contains(err.Error(), "style-weight=0.1,1); give another --out, or --reuse-out") {
		t.Errorf("another sweep: %v, want %q naming the sweep there", err, want)
	}
	other := strings.ReplaceAll(weights, `"style.png"`, `"style2.png"`)
	if err := Claim(out, plan(other, "m1"), ClaimOptions{}); err == nil {
		t.Errorf("a sweep of another style image was let into the folder")
	}
	if err := Claim(out, plan(layers, "m1"), ClaimOptions{Reuse: true}); err != nil {
		t.Errorf("another sweep with Reuse: %v", err)
	}
	if err := Claim(out, plan(weights, "m1"), ClaimOptions{}); err == nil {
		t.Errorf("after Reuse the folder still took the sweep before")
	}
	// A batch: one photo, then two (content becomes an axis); another style is another batch.
	batch := t.TempDir()
	one := `{"settings": {"content": "content.png", "style": "style.png", "size": 32}}`
	two := `{"settings": {"style": "style.png", "size": 32}, "axes": [{"param": "content", "values": ["content.png", "start.png"]}]}`
	open := ClaimOptions{Open: []string{"content"}}
	if err := Claim(batch, plan(one, "m"), open); err != nil {
		t.Fatal(err)
	}
	if err := Claim(batch, plan(two, "m"), open); err != nil {
		t.Errorf("a batch with a photo more: %v", err)
	}
	if err := Claim(batch, plan(strings.ReplaceAll(two, `"style.png"`, `"style2.png"`), "m"), open); err == nil {
		t.Errorf("a batch in another style was let into the folder")
	}
	os.WriteFile(filepath.Join(out, ClaimFile), []byte("not json"), 0o644)
	if err := Claim(out, plan(weights, "m1"), ClaimOptions{}); err == nil || !strings.Contains(err.Error(), "is not a record of this version's sweeps") {
		t.Errorf("a damaged record: %v", err)
	}
}
