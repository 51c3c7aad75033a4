package sweep

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neuralstyle/neuralstyle/internal/provenance"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// filesDir is a folder with a sweep's files: content.png, two styles
// (style.png, style2.png), two masks that split the image in halves (left.png,
// right.png) and a starting image (start.png).
func filesDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyFile := func(from, to string) {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(filepath.Join(testdata, "content.png"), "content.png")
	copyFile(filepath.Join(testdata, "style.png"), "style.png")
	copyFile(filepath.Join(testdata, "64x64_seed1", "out.png"), "style2.png")
	copyFile(filepath.Join(testdata, "64x64_seed2", "out.png"), "start.png")
	for name, left := range map[string]bool{"left.png": true, "right.png": false} {
		writeMask(t, filepath.Join(dir, name), left)
	}
	return dir
}

// writeMask writes a 32x32 mask, white on the left half (or the right).
func writeMask(t *testing.T, path string, left bool) {
	t.Helper()
	m := image.NewGray(image.Rect(0, 0, 32, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			if (x < 16) == left {
				m.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, m); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// filesPlan plans a sweep declared in dir.
func filesPlan(t *testing.T, dir, decl string) (*Plan, error) {
	t.Helper()
	spec, err := Parse(strings.NewReader(decl), "files.json", dir)
	if err != nil {
		return nil, err
	}
	return NewPlan(spec, "model-id")
}

// captured runs plan with a transfer that records its inputs and settings in
// place of running the model.
func captured(t *testing.T, plan *Plan) ([]transfer.Inputs, []transfer.Settings) {
	t.Helper()
	var ins []transfer.Inputs
	var sets []transfer.Settings
	rep, err := Run(context.Background(), nil, plan, Options{Out: t.TempDir(),
		Transfer: func(_ context.Context, in transfer.Inputs, s transfer.Settings, _ transfer.Observer) (*transfer.Result, error) {
			ins, sets = append(ins, in), append(sets, s)
			return &transfer.Result{Image: in.Content}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) > 0 {
		t.Fatal(rep.Failed)
	}
	return ins, sets
}

func decoded(t *testing.T, paths ...string) []*preprocess.Image {
	t.Helper()
	var out []*preprocess.Image
	for _, p := range paths {
		img, err := imagefile.ReadFile(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, img)
	}
	return out
}

// TestSweepSeveralStyles: a sweep's points take several styles, blends, masks
// and a starting image, each file read and given to the transfer as the
// transfer command gives them; points differ by the blend swept.
func TestSweepSeveralStyles(t *testing.T) {
	dir := filesDir(t)
	plan, err := filesPlan(t, dir, `{
		"settings": {"content": "content.png", "style": "style.png, style2.png", "size": 32, "iterations": 1, "graph": "fast",
			"init": "image", "init-image": "start.png"},
		"axes": [{"param": "style-blend", "values": ["1,0", "0.25,0.75"]}]
	}`)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(plan.Points); n != 2 {
		t.Fatalf("%d points, want 2", n)
	}
	if plan.Points[0].Key == plan.Points[1].Key {
		t.Error("two blends share a key")
	}
	ins, sets := captured(t, plan)
	if len(ins) != 2 {
		t.Fatalf("%d transfers, want 2", len(ins))
	}
	styles := decoded(t, filepath.Join(dir, "style.png"), filepath.Join(dir, "style2.png"))
	start := decoded(t, filepath.Join(dir, "start.png"))[0]
	for i, in := range ins {
		if in.Style != nil || len(in.Styles) != 2 {
			t.Fatalf("point %d: Style %v and %d Styles, want two Styles", i+1, in.Style != nil, len(in.Styles))
		}
		for j := range styles {
			if diff := cmp.Diff(styles[j].Pix, in.Styles[j].Pix); diff != "" {
				t.Errorf("point %d: style %d is not its file's pixels", i+1, j+1)
			}
		}
		if in.Init == nil || !slices.Equal(in.Init.Pix, start.Pix) {
			t.Errorf("point %d: the starting image is not start.png's pixels", i+1)
		}
		if sets[i].Init != transfer.InitImage {
			t.Errorf("point %d: init %s", i+1, sets[i].Init)
		}
	}
	if want := [][]float64{{1, 0}, {0.25, 0.75}}; !cmp.Equal([][]float64{sets[0].StyleBlend, sets[1].StyleBlend}, want) {
		t.Errorf("blends %v, %v; want %v", sets[0].StyleBlend, sets[1].StyleBlend, want)
	}

	// An axis of masks: each point's masks in its order.
	plan, err = filesPlan(t, dir, `{
		"settings": {"content": "content.png", "style": "style.png,style2.png", "size": 32, "iterations": 1, "graph": "fast"},
		"axes": [{"param": "style-mask", "values": ["left.png,right.png", "right.png,left.png"]}]
	}`)
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Points[1].Label(); !slices.Equal(got, []string{"style-mask=right+left"}) {
		t.Errorf("label %q, want style-mask=right+left", got)
	}
	ins, _ = captured(t, plan)
	left, right := decoded(t, filepath.Join(dir, "left.png"))[0], decoded(t, filepath.Join(dir, "right.png"))[0]
	for i, want := range [][]*preprocess.Image{{left, right}, {right, left}} {
		if len(ins[i].StyleMasks) != 2 {
			t.Fatalf("point %d: %d masks, want 2", i+1, len(ins[i].StyleMasks))
		}
		for j := range want {
			if !slices.Equal(ins[i].StyleMasks[j].Pix, want[j].Pix) {
				t.Errorf("point %d: mask %d is not its file's", i+1, j+1)
			}
		}
	}
}

// TestSweepFileKeys: a point's key hashes the bytes of its masks and starting
// image, not their paths, as it does its content and style; and several
// styles key differently from one.
func TestSweepFileKeys(t *testing.T) {
	dir := filesDir(t)
	const decl = `{"settings": {"content": "content.png", "style": "style.png,style2.png", "size": 32, "graph": "fast",
		"style-mask": "left.png,right.png", "init": "image", "init-image": "start.png"}}`
	key := func(decl string) string {
		t.Helper()
		plan, err := filesPlan(t, dir, decl)
		if err != nil {
			t.Fatal(err)
		}
		return plan.Points[0].Key
	}
	base := key(decl)
	if k := key(decl); k != base {
		t.Fatalf("key not reproducible: %s, then %s", base, k)
	}
	// The same bytes under other names keep the key.
	for _, f := range []string{"left.png", "start.png"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "copy-"+f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if k := key(strings.NewReplacer(`"left.png`, `"copy-left.png`, `"start.png"`, `"copy-start.png"`).Replace(decl)); k != base {
		t.Error("copies of the mask and starting image change the key")
	}
	for name, changed := range map[string]string{
		"one style":         strings.Replace(strings.Replace(decl, "style.png,style2.png", "style.png", 1), `"style-mask": "left.png,right.png", `, "", 1),
		"the styles' order": strings.Replace(decl, "style.png,style2.png", "style2.png,style.png", 1),
		"the masks' order":  strings.Replace(decl, "left.png,right.png", "right.png,left.png", 1),
		"no starting image": strings.Replace(decl, `, "init": "image", "init-image": "start.png"`, "", 1),
	} {
		if k := key(changed); k == base {
			t.Errorf("%s keeps the key", name)
		}
	}
	// New bytes under the same names change it.
	writeMask(t, filepath.Join(dir, "left.png"), false)
	if k := key(decl); k == base {
		t.Error("another mask in left.png keeps the key")
	}
	writeMask(t, filepath.Join(dir, "left.png"), true)
	if err := os.WriteFile(filepath.Join(dir, "start.png"), mustRead(t, filepath.Join(dir, "style.png")), 0o644); err != nil {
		t.Fatal(err)
	}
	if k := key(decl); k == base {
		t.Error("another starting image in start.png keeps the key")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestSweepFileErrors: a sweep with files that do not fit its settings fails
// before anything runs, naming the point and the file.
func TestSweepFileErrors(t *testing.T) {
	dir := filesDir(t)
	for _, tc := range []struct{ name, decl, want string }{
		{"blend count", `{"settings": {"content": "content.png", "style": "style.png,style2.png"},
			"axes": [{"param": "style-blend", "values": ["1,0", "1,1,1"]}]}`,
			"point 2 (style-blend=1,1,1): style-blend: 3 weights for 2 style images"},
		{"mask count", `{"settings": {"content": "content.png", "style": "style.png,style2.png", "style-mask": "left.png"}}`,
			"style-mask: 1 masks for 2 style images"},
		{"masks and blend", `{"settings": {"content": "content.png", "style": "style.png,style2.png",
			"style-mask": "left.png,right.png", "style-blend": "1,1"}}`, "style-mask: excludes style-blend"},
		{"starting image without init image", `{"settings": {"content": "content.png", "style": "style.png", "init-image": "start.png"}}`,
			"init-image: " + filepath.Join(dir, "start.png") + ": a starting image is given but init is noise"},
		{"init image without a file", `{"settings": {"content": "content.png", "style": "style.png", "init": "image"}}`,
			"init-image: init image needs a starting image file"},
		{"missing mask", `{"settings": {"content": "content.png", "style": "style.png,style2.png", "style-mask": "left.png,nothing.png"}}`,
			"sweep: style mask " + filepath.Join(dir, "nothing.png") + ": no such file or directory"},
		{"missing second style", `{"settings": {"content": "content.png", "style": "style.png,nothing.png"}}`,
			"sweep: style image " + filepath.Join(dir, "nothing.png") + ": no such file or directory"},
	} {
		_, err := filesPlan(t, dir, tc.decl)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}

	// A mask that is not an image fails as the images are read, before a
	// model loads.
	if err := os.WriteFile(filepath.Join(dir, "bad.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := filesPlan(t, dir, `{"settings": {"content": "content.png", "style": "style.png,style2.png", "style-mask": "left.png,bad.png", "graph": "fast"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Images(plan.Points); err == nil || !strings.Contains(err.Error(), "style mask") || !strings.Contains(err.Error(), "bad.png") {
		t.Errorf("a mask that is not an image: %v", err)
	}

	// A score compares with one style image: refused for a point with two.
	plan, err = filesPlan(t, dir, `{"settings": {"content": "content.png", "style": "style.png,style2.png"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.Scorable(plan.Points); err == nil || !strings.Contains(err.Error(), "several") {
		t.Errorf("a score of a point of two styles: %v", err)
	}
}

// TestSweepBlendOfOne runs the model: a point of two styles blended 1,0 gives
// the image of the first style alone, bit for bit, and one blended 0,1 that of
// the second (a weight of 0 adds exact zeros to the blended Gram targets), as the
// transfer command does; the two styles alone differ, so each style reached its
// point.
func TestSweepBlendOfOne(t *testing.T) {
	m, modelDir := testModel(t)
	id, err := provenance.ModelID(modelDir)
	if err != nil {
		t.Fatal(err)
	}
	dir := filesDir(t)
	run := func(style string) []uint8 {
		t.Helper()
		spec, err := Parse(strings.NewReader(`{"settings": {"content": "content.png", "size": 32, "iterations": 1, "maxfun": 2,
			"graph": "fast", "style": `+style+`}}`), "blend.json", dir)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := NewPlan(spec, id)
		if err != nil {
			t.Fatal(err)
		}
		out := t.TempDir()
		rep, err := Run(context.Background(), m, plan, Options{Out: out})
		if err != nil || len(rep.Failed) > 0 {
			t.Fatal(err, rep.Failed)
		}
		return decoded(t, filepath.Join(out, "points", plan.Points[0].Key+".png"))[0].Pix
	}
	first, second := run(`"style.png"`), run(`"style2.png"`)
	if slices.Equal(first, second) {
		t.Fatal("the two styles alone give the same image: the test cannot tell them apart")
	}
	if !slices.Equal(run(`"style.png,style2.png", "style-blend": "1,0"`), first) {
		t.Error("two styles blended 1,0 differ from the first style alone")
	}
	if !slices.Equal(run(`"style.png,style2.png", "style-blend": "0,1"`), second) {
		t.Error("two styles blended 0,1 differ from the second style alone")
	}
}
