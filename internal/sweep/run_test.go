package sweep

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/neuralstyle/neuralstyle/internal/provenance"
	"github.com/neuralstyle/neuralstyle/internal/testmodels"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

var (
	modelOnce sync.Once
	model     *tfgraph.Model
	modelDir  string
	modelErr  error
)

// testModel loads the random-weights VGG16 once for the package's tests, with
// one thread each, which makes its results the same from run to run.
func testModel(t *testing.T) (*tfgraph.Model, string) {
	t.Helper()
	modelOnce.Do(func() {
		if modelDir, modelErr = testmodels.VGG16(); modelErr != nil {
			return
		}
		model, modelErr = tfgraph.Load(modelDir, &tfgraph.Options{IntraOpThreads: 1, InterOpThreads: 1, DisableGPU: true})
	})
	if modelErr != nil {
		t.Fatal(modelErr)
	}
	return model, modelDir
}

// tinySweep is the CI sweep: 2x2 points at 32x32, one outer iteration of at most
// one L-BFGS-B iteration's evaluations.
const tinySweep = `{
	"description": "tiny",
	"settings": {"content": "content.png", "style": "style.png", "size": 32, "iterations": 1, "maxfun": 1,
		"tv-weight": 0.1, "seed": 3},
	"axes": [
		{"param": "style-weight", "values": [0.1, 10]},
		{"param": "content-layer", "values": ["block1_conv2", "block2_conv2"]}
	]
}`

func tinyPlan(t *testing.T) *Plan {
	t.Helper()
	_, dir := testModel(t)
	spec, err := Parse(strings.NewReader(tinySweep), "tiny.json", testdata)
	if err != nil {
		t.Fatal(err)
	}
	id, err := provenance.ModelID(dir)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(spec, id)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// counter counts the model evaluations of runs and the points they start.
type counter struct {
	evaluations int
	points      []int
}

func (c *counter) observer() Observer {
	return Observer{
		Point: func(p *Point, i, n int) { c.points = append(c.points, p.Index) },
		Transfer: transfer.Observer{
			Evaluation: func(int, int, transfer.Terms, time.Duration) { c.evaluations++ },
		},
	}
}

func runSweep(t *testing.T, plan *Plan, out string, shard Shard) (*Report, *counter) {
	t.Helper()
	return runScored(t, plan, out, shard, 0)
}

// runScored is runSweep with Options.ScoreSize.
func runScored(t *testing.T, plan *Plan, out string, shard Shard, scoreSize int) (*Report, *counter) {
	t.Helper()
	m, _ := testModel(t)
	var c counter
	rep, err := Run(context.Background(), m, plan, Options{Out: out, Shard: shard, Observer: c.observer(), ScoreSize: scoreSize})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Failed) > 0 {
		t.Fatal(rep.Failed)
	}
	return rep, &c
}

func readPNG(t *testing.T, path string) *image.RGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	rgba := image.NewRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			rgba.Set(x, y, img.At(x, y))
		}
	}
	return rgba
}

// TestSweep runs the tiny sweep, scoring its points, collects it, runs it again
// (nothing to do), and checks the sheet, the summary and the point files.
func TestSweep(t *testing.T) {
	plan := tinyPlan(t)
	out := t.TempDir()
	rep, c := runScored(t, plan, out, Shard{}, 16)
	if rep.Ran != 4 || rep.Skipped != 0 {
		t.Fatalf("first run: %+v, want 4 run", rep)
	}
	if diff := cmp.Diff([]int{1, 2, 3, 4}, c.points); diff != "" {
		t.Errorf("points run (-want +got):\n%s", diff)
	}
	if c.evaluations == 0 {
		t.Fatal("no evaluations counted")
	}
	// Four distinct keys, each with its three files.
	keys := map[string]bool{}
	for _, p := range plan.Points {
		keys[p.Key] = true
		for _, ext := range []string{".png", ".json", ".done"} {
			if _, err := os.Stat(pointPath(out, p.Key, ext)); err != nil {
				t.Error(err)
			}
		}
	}
	if len(keys) != 4 {
		t.Fatalf("%d distinct keys for 4 different points", len(keys))
	}

	// Resume: a second run finds every point finished and evaluates nothing.
	rep, c = runSweep(t, plan, out, Shard{})
	if rep.Ran != 0 || rep.Skipped != 4 || c.evaluations != 0 || len(c.points) != 0 {
		t.Errorf("second run: %+v, %d evaluations, points %v; want everything skipped", rep, c.evaluations, c.points)
	}

	col, err := Collect(plan, out, CollectOptions{Thumb: 256})
	if err != nil {
		t.Fatal(err)
	}
	if col.Finished != 4 || col.Total != 4 {
		t.Errorf("collected %+v", col)
	}
	checkSheet(t, plan, out)
	checkSummary(t, plan, out)
	g, err := os.ReadFile(filepath.Join(out, GIFFile))
	if err != nil || !bytes.HasPrefix(g, []byte("GIF89a")) {
		t.Errorf("no GIF: %v", err)
	}
}

// checkSheet checks the sheet's size, that each cell shows its point's image
// pixel for pixel (32x32 is under the thumbnail size, so unscaled), and that each
// label is the point's values drawn in the 7x13 font where the layout says.
func checkSheet(t *testing.T, plan *Plan, out string) {
	t.Helper()
	l := sheetLayout(plan, 256)
	sheet := readPNG(t, filepath.Join(out, SheetFile))
	if got := sheet.Bounds().Size(); got != image.Pt(l.Width, l.Height) {
		t.Errorf("sheet is %v, layout %dx%d", got, l.Width, l.Height)
	}
	// Two columns (style weight) by two rows (content layer), labels of 26
	// characters ("content-layer=block1_conv2") make a cell 182 wide; the header,
	// wrapped at 60 characters, makes the sheet 8+60*7+8 wide and takes two lines.
	if l.Columns != 2 || l.Rows != 2 || l.CellW != 26*7 || l.CellH != 32+4+2*15 {
		t.Errorf("layout %d columns, %d rows, cells %dx%d", l.Columns, l.Rows, l.CellW, l.CellH)
	}
	const gridTop = 8 + 2*15 + 8
	if l.Width != 8+60*7+8 || l.Height != gridTop+2*(32+4+30)+8+8 {
		t.Errorf("sheet %dx%d", l.Width, l.Height)
	}
	wantLabels := [][]string{
		{"style-weight=0.1", "content-layer=block1_conv2"},
		{"style-weight=0.1", "content-layer=block2_conv2"},
		{"style-weight=10", "content-layer=block1_conv2"},
		{"style-weight=10", "content-layer=block2_conv2"},
	}
	wantHeader := []textLine{
		{8, 8, "tiny | content=content style=style size=32x32 tv-weight=0.1"},
		{8, 23, "iterations=1 maxfun=1 seed=3"},
	}
	if diff := cmp.Diff(wantHeader, l.Header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	for i, c := range l.Cells {
		var got []string
		for _, lab := range c.Labels {
			got = append(got, lab.Text)
		}
		if diff := cmp.Diff(wantLabels[i], got); diff != "" {
			t.Errorf("cell %d labels (-want +got):\n%s", i, diff)
		}
		// Column from the first axis, row from the second.
		if col, row := (c.Box.Min.X-8)/(l.CellW+8), (c.Box.Min.Y-gridTop)/(l.CellH+8); col != i/2 || row != i%2 {
			t.Errorf("cell %d at column %d row %d", i, col, row)
		}
		img := readPNG(t, pointPath(out, plan.Points[i].Key, ".png"))
		if c.Image.Size() != img.Bounds().Size() {
			t.Fatalf("cell %d thumbnail %v, image %v", i, c.Image, img.Bounds())
		}
		for y := 0; y < c.Image.Dy(); y++ {
			for x := 0; x < c.Image.Dx(); x++ {
				if got, want := sheet.RGBAAt(c.Image.Min.X+x, c.Image.Min.Y+y), img.RGBAAt(x, y); got != want {
					t.Fatalf("cell %d pixel %d,%d: %v, image %v", i, x, y, got, want)
				}
			}
		}
		for _, lab := range c.Labels {
			checkText(t, sheet, lab)
		}
	}
	for _, h := range l.Header {
		checkText(t, sheet, h)
	}
}

// checkText draws t.Text alone on white and compares it with the sheet's pixels
// in the line's box, which must also hold some ink.
func checkText(t *testing.T, sheet *image.RGBA, line textLine) {
	t.Helper()
	face := basicfont.Face7x13
	box := image.Rect(line.X, line.Y, line.X+len(line.Text)*face.Advance, line.Y+face.Height)
	want := image.NewRGBA(box)
	for i := range want.Pix {
		want.Pix[i] = 255
	}
	d := font.Drawer{Dst: want, Src: image.Black, Face: face, Dot: fixed.P(line.X, line.Y+face.Ascent)}
	d.DrawString(line.Text)
	ink := 0
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			g := sheet.RGBAAt(x, y)
			if g != want.RGBAAt(x, y) {
				t.Fatalf("label %q differs at %d,%d: %v, want %v", line.Text, x, y, g, want.RGBAAt(x, y))
			}
			if g.R < 128 {
				ink++
			}
		}
	}
	if ink < len(strings.ReplaceAll(line.Text, " ", "")) {
		t.Errorf("label %q: only %d dark pixels", line.Text, ink)
	}
}

func checkSummary(t *testing.T, plan *Plan, out string) {
	t.Helper()
	f, err := os.Open(filepath.Join(out, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{"point", "key", "style-weight", "content-layer", "finished", "loss", "content_loss", "style_loss", "tv_loss", "evaluations", "seconds", "image",
		"score_size", "score_loss", "score_content_loss", "score_style_loss",
		"score_style_block1_conv2", "score_style_block2_conv2", "score_style_block3_conv3", "score_style_block4_conv3", "score_style_block5_conv3",
		"score_tv_loss", "score_ssim_content", "score_color_distance_style"}
	if len(rows) != 5 {
		t.Fatalf("%d rows, want a header and 4 points", len(rows))
	}
	if diff := cmp.Diff(wantHeader, rows[0]); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	for i, row := range rows[1:] {
		p := plan.Points[i]
		rec, _, err := readPoint(out, p.Key)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{strconv.Itoa(i + 1), p.Key, p.Values[0].Text, p.Values[1].Text, "true",
			strconv.FormatFloat(rec.Loss, 'g', -1, 64),
			strconv.FormatFloat(float64(rec.Content), 'g', -1, 32),
			strconv.FormatFloat(float64(rec.Style), 'g', -1, 32),
			strconv.FormatFloat(float64(rec.TV), 'g', -1, 32),
			strconv.Itoa(rec.Evaluations), row[10], "points/" + p.Key + ".png"}
		// The score at 16x16, as the record has it.
		sc := rec.Score
		if sc == nil || sc.Size != 16 || len(sc.StyleLayers) != 5 || sc.Loss <= 0 || sc.SSIM > 1 || sc.SSIM < -1 ||
			sc.ColorDistance < 0 || sc.ColorDistance > 1 {
			t.Fatalf("row %d: score %+v", i+1, sc)
		}
		f32 := func(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
		want = append(want, "16", f32(sc.Loss), f32(sc.ContentLoss), f32(sc.StyleLoss))
		for _, l := range sc.StyleLayers {
			want = append(want, f32(l.Loss))
		}
		want = append(want, f32(sc.TVLoss), strconv.FormatFloat(sc.SSIM, 'g', -1, 64), strconv.FormatFloat(sc.ColorDistance, 'g', -1, 64))
		if diff := cmp.Diff(want, row); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", i+1, diff)
		}
		// The terms are the model's: each weighted term is positive here, and the
		// loss the last call returned is their sum up to float32 rounding (the
		// sum of three float32s, measured within 1e-6 relative at 32x32).
		sum := float64(rec.Content) + float64(rec.Style) + float64(rec.TV)
		if rec.Content <= 0 || rec.Style <= 0 || rec.TV <= 0 || rec.Evaluations < 1 ||
			(rec.Loss-sum)/sum > 1e-6 || (sum-rec.Loss)/sum > 1e-6 {
			t.Errorf("row %d: record %+v", i+1, rec)
		}
		if s, err := strconv.ParseFloat(row[10], 64); err != nil || s <= 0 {
			t.Errorf("row %d: seconds %q", i+1, row[10])
		}
	}
}

// TestShards runs the tiny sweep as two shards into one folder: together they
// run exactly the points of one unsharded run, with the same results.
func TestShards(t *testing.T) {
	plan := tinyPlan(t)
	whole := t.TempDir()
	runSweep(t, plan, whole, Shard{})
	sharded := t.TempDir()
	var ran []string
	for i := 1; i <= 2; i++ {
		rep, c := runSweep(t, plan, sharded, Shard{i, 2})
		if rep.Ran != 2 {
			t.Errorf("shard %d/2 ran %d points, want 2", i, rep.Ran)
		}
		for _, idx := range c.points {
			ran = append(ran, plan.Points[idx-1].Key)
		}
		done, total, err := plan.Status(sharded)
		if err != nil || done != 2*i || total != 4 {
			t.Errorf("after shard %d/2: %d of %d finished (%v)", i, done, total, err)
		}
	}
	var all []string
	for _, p := range plan.Points {
		all = append(all, p.Key)
	}
	slices.Sort(all)
	slices.Sort(ran)
	if diff := cmp.Diff(all, ran); diff != "" {
		t.Errorf("shards ran (-want +got):\n%s", diff)
	}
	for _, p := range plan.Points {
		a, imgA, err := readPoint(whole, p.Key)
		if err != nil {
			t.Fatal(err)
		}
		b, imgB, err := readPoint(sharded, p.Key)
		if err != nil {
			t.Fatal(err)
		}
		// Seconds differ; everything else is the same to the bit.
		a.Seconds, b.Seconds = 0, 0
		for i := range a.Iterations {
			a.Iterations[i].Seconds, b.Iterations[i].Seconds = 0, 0
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("point %d: sharded record differs (-whole +sharded):\n%s", p.Index, diff)
		}
		if !bytes.Equal(imgA.Pix, imgB.Pix) {
			t.Errorf("point %d: sharded image differs", p.Index)
		}
	}
	// Shards of more parts than points: some shards are empty, none overlap.
	seen := map[string]int{}
	for i := 1; i <= 5; i++ {
		for _, p := range plan.Shard(Shard{i, 5}) {
			seen[p.Key]++
		}
	}
	if len(seen) != 4 {
		t.Errorf("5 shards cover %d of 4 points", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("point %s in %d shards", k, n)
		}
	}
}

// TestPartialPoint: a point whose image and record exist but whose marker does
// not (a run killed between the two) is run again; an interrupted point leaves no
// marker.
func TestPartialPoint(t *testing.T) {
	plan := tinyPlan(t)
	out := t.TempDir()
	runSweep(t, plan, out, Shard{})
	if err := os.Remove(pointPath(out, plan.Points[2].Key, ".done")); err != nil {
		t.Fatal(err)
	}
	rep, c := runSweep(t, plan, out, Shard{})
	if rep.Ran != 1 || rep.Skipped != 3 || c.evaluations == 0 || !slices.Equal(c.points, []int{3}) {
		t.Errorf("rerun after a lost marker: %+v, points %v, %d evaluations", rep, c.points, c.evaluations)
	}

	// Cancelled at its first evaluation, point 1 stops and is not marked.
	out = t.TempDir()
	m, _ := testModel(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs := Observer{Transfer: transfer.Observer{Evaluation: func(int, int, transfer.Terms, time.Duration) { cancel() }}}
	rep, err := Run(ctx, m, plan, Options{Out: out, Observer: obs})
	if !errors.Is(err, context.Canceled) || rep.Ran != 0 {
		t.Errorf("cancelled run: %+v, %v", rep, err)
	}
	if ok, _ := finished(out, plan.Points[0].Key); ok {
		t.Error("an interrupted point is marked finished")
	}
	if _, err := Collect(plan, out, CollectOptions{}); err == nil || !strings.Contains(err.Error(), "no finished points") {
		t.Errorf("collect with nothing finished: %v", err)
	}
}

// TestKeys: a key changes with any setting, either image's bytes or the model,
// and with nothing else (not the image's path, not the order of the axes).
func TestKeys(t *testing.T) {
	plan := tinyPlan(t)
	base := plan.Points[0]
	keyOf := func(change func(c *Config), modelID string) string {
		p := base
		p.Config.Settings.StyleLayers = slices.Clone(p.Config.Settings.StyleLayers)
		change(&p.Config)
		pl := &Plan{ModelID: modelID, hashes: plan.hashes}
		for _, path := range append([]string{p.Config.Content}, p.Config.Style...) {
			if _, ok := pl.hashes[path]; !ok {
				h, err := provenance.HashFile(path)
				if err != nil {
					t.Fatal(err)
				}
				pl.hashes[path] = h
			}
		}
		k, err := pl.key(&p)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	same := func(*Config) {}
	if k := keyOf(same, plan.ModelID); k != base.Key {
		t.Fatalf("key not reproducible: %s, then %s", base.Key, k)
	}
	// The same bytes under another name keep the key.
	copyPath := filepath.Join(t.TempDir(), "copy.png")
	data, err := os.ReadFile(base.Config.Content)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if k := keyOf(func(c *Config) { c.Content = copyPath }, plan.ModelID); k != base.Key {
		t.Errorf("copied content image changes the key")
	}
	for name, change := range map[string]func(*Config){
		"seed":   func(c *Config) { c.Settings.Seed++ },
		"maxfun": func(c *Config) { c.Settings.MaxFun++ },
		"graph": func(c *Config) {
			c.Settings.Graph = map[transfer.Graph]transfer.Graph{transfer.GraphFast: transfer.GraphRecipe, transfer.GraphRecipe: transfer.GraphFast}[c.Settings.Graph]
		},
		"style layers":  func(c *Config) { c.Settings.StyleLayers = c.Settings.StyleLayers[1:] },
		"style image":   func(c *Config) { c.Style = []string{c.Content} },
		"content image": func(c *Config) { c.Content = filepath.Join(testdata, "64x64_seed1", "out.png") },
	} {
		if k := keyOf(change, plan.ModelID); k == base.Key {
			t.Errorf("changing the %s keeps the key", name)
		}
	}
	if k := keyOf(same, "another model"); k == base.Key {
		t.Errorf("another model keeps the key")
	}
}
