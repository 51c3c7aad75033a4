package sweep

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testdata holds the transfer test images, relative to this package.
const testdata = "../../scripts/testdata/transfer"

// axisTexts is a spec's axes as param -> canonical values, for comparing.
func axisTexts(s *Spec) [][]string {
	var out [][]string
	for _, a := range s.Axes {
		row := []string{a.Param}
		for _, v := range a.Values {
			row = append(row, v.Text)
		}
		out = append(out, row)
	}
	return out
}

func baseTexts(s *Spec) []string {
	var out []string
	for _, v := range s.Base {
		out = append(out, v.Param+"="+v.Text)
	}
	return out
}

func TestParse(t *testing.T) {
	const file = `{
		"description": "style weight against content layer",
		"settings": {"tv-weight": 0.1, "content-weight": "0.025", "size": "48x32", "style": "style.png",
			"content": "/abs/content.png", "style-layers": ["block1_conv2", "block3_conv3"], "seed": 7},
		"axes": [
			{"param": "style-weight", "range": {"from": 0.1, "to": 10, "steps": 5, "scale": "log"}},
			{"param": "content-layer", "values": ["block2_conv2", "block4_conv2"]},
			{"param": "iterations", "range": {"from": 1, "to": 3, "steps": 3}},
			{"param": "resample", "values": ["NEAREST", "bicubic"]}
		]
	}`
	spec, err := Parse(strings.NewReader(file), "t.json", "dir")
	if err != nil {
		t.Fatal(err)
	}
	// Settings come out in Params order whatever the file's order, numbers and
	// names canonical, relative paths joined to dir.
	wantBase := []string{"content=/abs/content.png", "style=dir/style.png", "size=48x32", "content-weight=0.025",
		"tv-weight=0.1", "style-layers=block1_conv2,block3_conv3", "seed=7"}
	if diff := cmp.Diff(wantBase, baseTexts(spec)); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	wantAxes := [][]string{
		{"style-weight", "0.1", "0.316228", "1", "3.16228", "10"},
		{"content-layer", "block2_conv2", "block4_conv2"},
		{"iterations", "1", "2", "3"},
		{"resample", "nearest", "bicubic"},
	}
	if diff := cmp.Diff(wantAxes, axisTexts(spec)); diff != "" {
		t.Errorf("axes (-want +got):\n%s", diff)
	}
	if spec.Description != "style weight against content layer" {
		t.Errorf("description %q", spec.Description)
	}
	points, err := spec.Points()
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 5*2*3*2 {
		t.Fatalf("%d points, want 60", len(points))
	}
	// The first axis varies slowest, the last fastest.
	want := []string{"style-weight=0.316228", "content-layer=block2_conv2", "iterations=1", "resample=bicubic"}
	if diff := cmp.Diff(want, points[13].Label()); diff != "" {
		t.Errorf("point 14 (-want +got):\n%s", diff)
	}
	s := points[13].Config.Settings
	if s.StyleWeight != 0.316228 || s.ContentLayer != "block2_conv2" || s.Iterations != 1 || s.Resample.String() != "bicubic" ||
		s.TVWeight != 0.1 || s.Width != 48 || s.Height != 32 || s.Seed != 7 || len(s.StyleLayers) != 2 {
		t.Errorf("point 14 settings %+v", s)
	}
}

func TestRangeValues(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		r    Range
		want []float64
	}{
		{Range{From: f(0.1), To: f(10), Steps: 3, Scale: "log"}, []float64{0.1, 1, 10}},
		{Range{From: f(0), To: f(1), Steps: 5}, []float64{0, 0.25, 0.5, 0.75, 1}},
		{Range{From: f(0.1), To: f(0.3), Steps: 3, Scale: "linear"}, []float64{0.1, 0.2, 0.3}},
		{Range{From: f(10), To: f(0.1), Steps: 3, Scale: "log"}, []float64{10, 1, 0.1}},
		{Range{From: f(2), To: f(2), Steps: 1}, []float64{2}},
	} {
		got, err := tc.r.Values()
		if err != nil {
			t.Errorf("%+v: %v", tc.r, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%v..%v in %d (%s) (-want +got):\n%s", *tc.r.From, *tc.r.To, tc.r.Steps, tc.r.Scale, diff)
		}
	}
}

// Bad sweep files fail in Parse or Points, before anything runs, with an error
// that names the problem.
func TestBadSweepFiles(t *testing.T) {
	images := `"content": "content.png", "style": "style.png"`
	for _, tc := range []struct {
		name, file, want string
	}{
		{"syntax", "{\n  \"axes\": [\n    {\"param\": \"style-weight\",}\n  ]\n}", "line 3 column"},
		{"unknown top key", `{"setings": {}}`, `unknown key "setings"`},
		{"unknown setting", `{"settings": {"style_weight": 1}}`, `unknown setting "style_weight"`},
		{"unknown axis key", `{"axes": [{"param": "style-weight", "value": [1]}]}`, `unknown key "value"`},
		{"unknown param", `{"axes": [{"param": "stlye-weight", "values": [1, 2]}]}`, `axis 1 (stlye-weight): unknown setting "stlye-weight"; the settings are content, style, size,`},
		{"no param", `{"axes": [{"values": [1, 2]}]}`, `axis 1: no "param"`},
		{"empty values", `{"axes": [{"param": "style-weight", "values": []}]}`, "axis 1 (style-weight): no values"},
		{"neither values nor range", `{"axes": [{"param": "style-weight"}]}`, `give "values" or "range"`},
		{"values and range", `{"axes": [{"param": "style-weight", "values": [1], "range": {"from": 1, "to": 2, "steps": 2}}]}`, "not both"},
		{"empty range", `{"axes": [{"param": "style-weight", "range": {"from": 0.1, "to": 10, "steps": 0}}]}`, "range has 0 steps: empty"},
		{"range without to", `{"axes": [{"param": "style-weight", "range": {"from": 0.1, "steps": 3}}]}`, "range needs from and to"},
		{"log range through 0", `{"axes": [{"param": "tv-weight", "range": {"from": 0, "to": 1, "steps": 3, "scale": "log"}}]}`, "both ends must be > 0"},
		{"bad scale", `{"axes": [{"param": "tv-weight", "range": {"from": 1, "to": 2, "steps": 3, "scale": "ln"}}]}`, `scale "ln"`},
		{"one step two ends", `{"axes": [{"param": "tv-weight", "range": {"from": 1, "to": 2, "steps": 1}}]}`, "in 1 step"},
		{"range of layers", `{"axes": [{"param": "content-layer", "range": {"from": 1, "to": 2, "steps": 2}}]}`, "takes a list of values, not a range"},
		{"fractional iterations", `{"axes": [{"param": "iterations", "range": {"from": 1, "to": 2, "steps": 3}}]}`, "1.5 is not a whole number"},
		{"negative weight", `{"settings": {"content-weight": -0.025}}`, "content-weight: -0.025: want a finite number >= 0"},
		{"negative weight in axis", `{"axes": [{"param": "style-weight", "values": [1, -1]}]}`, "style-weight: -1: want a finite number >= 0"},
		{"weight not a number", `{"settings": {"tv-weight": "lots"}}`, `tv-weight "lots": not a number`},
		{"weight true", `{"settings": {"tv-weight": true}}`, "tv-weight: true is not a number or a string"},
		{"unknown content layer", `{"axes": [{"param": "content-layer", "values": ["block2_conv2", "block9_conv1"]}]}`, `unknown layer "block9_conv1"`},
		{"unknown style layer", `{"settings": {"style-layers": "block1_conv2,block1_conv3"}}`, `unknown layer "block1_conv3"`},
		{"zero size", `{"settings": {"size": 0}}`, `size "0": want WxH`},
		{"size list outside an axis", `{"settings": {"size": [32, 32]}}`, "size: a list of values belongs in an axis"},
		{"repeated value", `{"axes": [{"param": "style-weight", "values": [1, 1.0]}]}`, "style-weight: value 1 is listed twice"},
		{"axis twice", `{"axes": [{"param": "seed", "values": [1, 2]}, {"param": "seed", "values": [3, 4]}]}`, "axis 2: seed is swept twice"},
		{"setting and axis", `{"settings": {"seed": 1}, "axes": [{"param": "seed", "values": [1, 2]}]}`, "seed is both a setting and an axis"},
		{"seed too large", `{"settings": {"seed": 4294967296}}`, `seed "4294967296": want a whole number from 0 to 4294967295`},
		{"two documents", `{} {}`, "more than one JSON value"},
		{"empty", ``, "empty file"},
		{"wrong type", `{"axes": {"param": "seed"}}`, "axes: want a JSON array, got an object"},
		{"not an object", `[]`, `line 1 column 2: a sweep file is one JSON object (keys: "description", "settings", "axes"), not an array`},
		{"string param", `{"axes": [{"param": 3}]}`, "axes.param: want a JSON string, got a number"},
		// These parse but no point can run: Points refuses them.
		{"too small for the layers", `{"settings": {` + images + `, "size": 8}, "axes": [{"param": "content-layer", "values": ["block1_conv2", "block4_conv2"]}]}`,
			"point 1 (content-layer=block1_conv2): size 8x8 is too small"},
		{"too large", `{"settings": {` + images + `, "size": "10000x10000"}}`, "size 10000x10000 has more than"},
		{"no images", `{"axes": [{"param": "style-weight", "values": [1, 2]}]}`, `point 1 (style-weight=1): no content image (set "content")`},
		{"style layer twice", `{"settings": {"style-layers": "block1_conv2,block1_conv2"}}`, "style-layers: block1_conv2 is listed twice"},
		{"some style layers weighted", `{"axes": [{"param": "style-layers", "values": ["block1_conv2", "block1_conv2:1,block2_conv2"]}]}`,
			`style-layers "block1_conv2:1,block2_conv2": give every layer a weight, or none`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := Parse(strings.NewReader(tc.file), "bad.json", "")
			if err == nil {
				_, err = spec.Points()
			}
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.file)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestSet(t *testing.T) {
	spec, err := Parse(strings.NewReader(`{"settings": {"seed": 1, "tv-weight": 0.1},
		"axes": [{"param": "style-weight", "values": [1, 2]}, {"param": "content-layer", "values": ["block1_conv2", "block2_conv2"]}]}`), "t", "")
	if err != nil {
		t.Fatal(err)
	}
	values := func(param string, texts ...string) []Value {
		var out []Value
		for _, s := range texts {
			v, err := ParseValue(param, s, "")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		return out
	}
	steps := []struct {
		values []Value
		axes   [][]string
		base   []string
	}{
		// Several values replace an axis in place.
		{values("style-weight", "3", "4", "5"), [][]string{{"style-weight", "3", "4", "5"}, {"content-layer", "block1_conv2", "block2_conv2"}}, []string{"tv-weight=0.1", "seed=1"}},
		// Several values of a fixed setting make a new, last axis.
		{values("seed", "1", "2"), [][]string{{"style-weight", "3", "4", "5"}, {"content-layer", "block1_conv2", "block2_conv2"}, {"seed", "1", "2"}}, []string{"tv-weight=0.1"}},
		// One value of an axis fixes it.
		{values("content-layer", "block4_conv2"), [][]string{{"style-weight", "3", "4", "5"}, {"seed", "1", "2"}}, []string{"tv-weight=0.1", "content-layer=block4_conv2"}},
	}
	for i, st := range steps {
		if err := spec.Set(st.values...); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(st.axes, axisTexts(spec)); diff != "" {
			t.Errorf("step %d axes (-want +got):\n%s", i, diff)
		}
		if diff := cmp.Diff(st.base, baseTexts(spec)); diff != "" {
			t.Errorf("step %d settings (-want +got):\n%s", i, diff)
		}
	}
	if err := spec.Set(values("seed", "1", "1")...); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("repeated value: %v", err)
	}
}

// The article's experiments in scripts/sweeps parse and have the points
// docs/recipe.md section 6 asks for.
func TestScriptSweeps(t *testing.T) {
	dir := "../../scripts/sweeps"
	want := map[string]struct {
		axes [][]string
		base []string
	}{
		"style_weight.json": {
			[][]string{{"style-weight", "0.1", "0.316228", "1", "3.16228", "10"}},
			[]string{"content-weight=0.025", "tv-weight=0.1"}},
		"content_layer.json": {
			[][]string{{"content-layer", "block1_conv2", "block2_conv2", "block3_conv3", "block4_conv2", "block5_conv2"}},
			[]string{"content-weight=0.025", "style-weight=5", "tv-weight=0.1"}},
		"tv_weight.json": {
			[][]string{{"tv-weight", "0.01", "0.0316228", "0.1", "0.316228", "1", "3.16228", "10"}},
			[]string{"content-weight=0.025", "style-weight=5"}},
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Errorf("sweep files %v, want %d", files, len(want))
	}
	for _, f := range files {
		spec, err := ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[filepath.Base(f)]
		if !ok {
			t.Errorf("unexpected sweep file %s", f)
			continue
		}
		if diff := cmp.Diff(w.axes, axisTexts(spec)); diff != "" {
			t.Errorf("%s axes (-want +got):\n%s", f, diff)
		}
		// The article's size, iterations and seed are set explicitly too.
		got := map[string]bool{}
		for _, b := range baseTexts(spec) {
			got[b] = true
		}
		for _, b := range append(w.base, "size=512x512", "iterations=10", "maxfun=20") {
			if !got[b] {
				t.Errorf("%s: no setting %s in %v", f, b, baseTexts(spec))
			}
		}
		// The bundled example images, and every point valid.
		for _, b := range []string{"content=../../scripts/examples/grace_hopper.jpg", "style=../../scripts/examples/wave.jpg"} {
			if !got[b] {
				t.Errorf("%s: no setting %s in %v", f, b, baseTexts(spec))
			}
		}
		if _, err := NewPlan(spec, "model"); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestParseFileMissing(t *testing.T) {
	_, err := ParseFile(filepath.Join(t.TempDir(), "none.json"))
	if err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := os.Stat(testdata); err != nil {
		t.Fatal(err)
	}
}
