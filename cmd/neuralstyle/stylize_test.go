package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/testmodels"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// fastnetsModel is make fastnets' export, which make test builds and passes as
// NEURALSTYLE_FASTNETS; a plain go test without it skips the tests that run it.
func fastnetsModel(t *testing.T) string {
	t.Helper()
	dir := testmodels.FastNets()
	if dir == "" {
		t.Skip("no feed-forward model: run make fastnets (make test does)")
	}
	return dir
}

// writePhoto writes a small test photo: a gradient with a square, PNG.
func writePhoto(t *testing.T, path string, w, h int) {
	t.Helper()
	img := preprocess.NewImage(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p := 3 * (y*w + x)
			img.Pix[p], img.Pix[p+1], img.Pix[p+2] = uint8(255*x/w), uint8(255*y/h), 90
			if x > w/4 && x < w/2 && y > h/4 && y < h/2 {
				img.Pix[p], img.Pix[p+1], img.Pix[p+2] = 250, 250, 250
			}
		}
	}
	if err := imagefile.WritePNG(path, img); err != nil {
		t.Fatal(err)
	}
}

// TestStylizeErrors: every bad command line fails before any model loads and
// leaves an existing output as it was.
func TestStylizeErrors(t *testing.T) {
	dir := t.TempDir()
	photo, out, broken := filepath.Join(dir, "photo.png"), filepath.Join(dir, "out.png"), filepath.Join(dir, "broken.jpg")
	writePhoto(t, photo, 40, 30)
	os.WriteFile(out, []byte("keep"), 0o644)
	os.WriteFile(broken, []byte("not a picture"), 0o644)
	absent := filepath.Join(dir, "no-model")
	// The model, where there is one (NEURALSTYLE_FASTNETS, or make fastnets'):
	// without it, the cases that must get past the model check are left out.
	model := testmodels.FastNets()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--out", out, "--styles", "7"}, 2, "--content: not given"},
		{[]string{"--content", photo, "--styles", "7"}, 2, "out: not given"},
		{[]string{"--content", photo, "--out", out}, 2, "net 26 needs styles"},
		{[]string{"--content", photo, "--out", out, "--styles", "26"}, 2, "from 0 to 25"},
		{[]string{"--content", photo, "--out", out, "--styles", "3:0,4:0"}, 2, "sum to zero"},
		{[]string{"--content", photo, "--out", out, "--styles", "3:half"}, 2, "weight"},
		{[]string{"--content", photo, "--out", out, "--styles", "3", "--style", photo}, 2, "net arbitrary takes a style image"},
		{[]string{"--content", photo, "--out", out, "--net", "arbitrary"}, 2, "needs a style image"},
		{[]string{"--content", photo, "--out", out, "--net", "9"}, 2, "want 26 or arbitrary"},
		{[]string{"--content", photo, "--out", out, "--style", photo + "," + photo}, 2, "one painting"},
		{[]string{"--content", photo, "--out", out, "--styles", "3", "--strength", "1.5"}, 2, "--strength"},
		{[]string{"--content", photo, "--out", out, "--styles", "3", "--size", "0x5"}, 2, "--size"},
		{[]string{"--content", photo, "--out", out, "--styles", "3", "--size", "64", "--long-side", "64"}, 2, "not both"},
		{[]string{"--content", photo, "--out", out, "--sheet", "--styles", "3"}, 2, "leave styles out"},
		{[]string{"--content", photo, "--out", filepath.Join(dir, "out.bmp"), "--styles", "3"}, 2, ".bmp"},
		{[]string{"--content", photo, "--out", photo, "--styles", "3"}, 2, "same file"},
		{[]string{"--content", photo, "--out", out, "--styles", "3", "--fastnets", absent}, 1, "make fastnets"},
		{[]string{"--content", filepath.Join(dir, "absent.jpg"), "--out", out, "--styles", "3", "--fastnets", model}, 1, "absent.jpg"},
		{[]string{"--content", photo, "--out", out, "--style", broken, "--fastnets", model}, 1, "--style"},
	} {
		if c.code == 1 && model == "" && !slices.Contains(c.args, absent) {
			continue // needs a model to get past the model check
		}
		code, _, stderr := neuralstyle(append([]string{"stylize"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
		if b, _ := os.ReadFile(out); string(b) != "keep" {
			t.Fatalf("%v replaced the existing output", c.args)
		}
	}
}

// TestStylize runs both networks and the sheet on a small photo with the real
// model: sizes as asked, strength 0 gives the photo back, a blend differs from
// either style alone.
func TestStylize(t *testing.T) {
	model := fastnetsModel(t)
	t.Parallel() // about 15 s, most of it TensorFlow's first run of each graph
	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.png")
	writePhoto(t, photo, 50, 37)
	run := func(name string, args ...string) *preprocess.Image {
		t.Helper()
		out := filepath.Join(dir, name)
		args = append([]string{"stylize", "--content", photo, "--out", out, "--fastnets", model, "--threads", "1", "--json"}, args...)
		code, stdout, stderr := neuralstyle(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var rec stylizeRecord
		if err := json.Unmarshal([]byte(stdout), &rec); err != nil || rec.Out != out {
			t.Fatalf("record %q: %v", stdout, err)
		}
		img, err := imagefile.ReadFile(out, nil)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	orig, _ := imagefile.ReadFile(photo, nil)
	s3 := run("s3.png", "--styles", "3")
	s12 := run("s12.png", "--styles", "12")
	blend := run("blend.png", "--styles", "3:0.5,12:0.5")
	if s3.Width != 50 || s3.Height != 37 {
		t.Fatalf("own size: %dx%d", s3.Width, s3.Height)
	}
	if meanDiff(s3, orig) < 10 || meanDiff(s3, s12) < 5 || meanDiff(blend, s3) < 1 || meanDiff(blend, s12) < 1 {
		t.Errorf("styles not applied: photo %.1f, 3 vs 12 %.1f, blend %.1f %.1f",
			meanDiff(s3, orig), meanDiff(s3, s12), meanDiff(blend, s3), meanDiff(blend, s12))
	}
	// bf16's convolutions: the picture a little off fp32's (TestBF16 in
	// internal/fastnet bounds it), fp32 named explicitly the default's.
	if d := meanDiff(run("bf16.png", "--styles", "3", "--precision", "bf16"), s3); d == 0 || d > 2 {
		t.Errorf("--precision bf16 differs from fp32 by %.2f of 255 on average, want above 0 and at most 2", d)
	}
	if d := meanDiff(run("fp32.png", "--styles", "3", "--precision", "fp32"), s3); d != 0 {
		t.Errorf("--precision fp32 differs from the default by %.2f", d)
	}
	if d := meanDiff(run("zero.png", "--styles", "3", "--strength", "0"), orig); d != 0 {
		t.Errorf("strength 0 differs from the photo by %.2f", d)
	}
	if img := run("long.png", "--styles", "3", "--long-side", "64"); img.Width != 64 || img.Height != 47 {
		t.Errorf("--long-side 64: %dx%d", img.Width, img.Height)
	}
	if img := run("arb.png", "--style", photo, "--size", "48x40"); img.Width != 48 || img.Height != 40 {
		t.Errorf("arbitrary --size 48x40: %dx%d", img.Width, img.Height)
	}
	sheet := run("sheet.png", "--sheet", "--long-side", "32")
	if sheet.Width != 6+7*(32+6) || sheet.Height != 6+4*(24+16+6) {
		t.Errorf("sheet %dx%d", sheet.Width, sheet.Height)
	}
}

func TestStylizePrecision(t *testing.T) {
	for _, c := range []struct {
		p       transfer.Precision
		hasBF16 bool
		want    fastnet.Precision
		why     string
	}{
		{transfer.PrecisionFP32, true, fastnet.FP32, ""},
		{transfer.PrecisionBF16, false, fastnet.BF16, ""},
		{transfer.PrecisionAuto, true, fastnet.BF16, "auto: bf16"},
		{transfer.PrecisionAuto, false, fastnet.FP32, "auto: fp32"},
	} {
		got, why := stylizePrecision(c.p, c.hasBF16)
		if got != c.want || !strings.Contains(why, c.why) || (c.why == "") != (why == "") {
			t.Errorf("%s, bf16 CPU %v: %v %q, want %v and a line with %q", c.p, c.hasBF16, got, why, c.want, c.why)
		}
	}
}

func meanDiff(a, b *preprocess.Image) float64 {
	if len(a.Pix) != len(b.Pix) {
		return 255
	}
	var s float64
	for i := range a.Pix {
		d := float64(a.Pix[i]) - float64(b.Pix[i])
		if d < 0 {
			d = -d
		}
		s += d
	}
	return s / float64(len(a.Pix))
}

// TestStylizeEnv: a setting read from the environment is named by its variable
// when bad, and every problem of a command line is reported at once.
func TestStylizeEnv(t *testing.T) {
	t.Setenv("NEURALSTYLE_STYLES", "31")
	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.png")
	writePhoto(t, photo, 20, 20)
	code, _, stderr := neuralstyle("stylize", "--content", photo, "--out", filepath.Join(dir, "o.png"), "--strength", "-1")
	if code != 2 || !strings.Contains(stderr, "NEURALSTYLE_STYLES=31: styles") || !strings.Contains(stderr, "--strength") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestStylizeTiles: --tile paints in tiles with the whole photo's statistics,
// for both networks, says so, and gives the whole photo's picture within the
// bounds their fastnet tests measured (TestTiledMatchesWhole: 1 of 255 for the
// 26 styles; TestArbitraryTiledMatchesWhole: exact for the arbitrary
// network); a bad --tile fails before any work.
func TestStylizeTiles(t *testing.T) {
	model := fastnetsModel(t)
	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.png")
	writePhoto(t, photo, 150, 90)
	for _, tt := range []struct {
		name  string
		style []string // the network's arguments
		says  []string // what a tiled run says
		bound int      // of 255
	}{
		{"26 styles", []string{"--styles", "5"}, []string{"in tiles of 64 plus a 64-pixel halo"}, 1},
		{"arbitrary", []string{"--style", "../../scripts/examples/wave.jpg"},
			[]string{"in tiles of 64 plus a 56-pixel halo: 27 passes", "one mean a pass"}, 0},
	} {
		paint := func(name, tile string) (*preprocess.Image, string) {
			out := filepath.Join(dir, name)
			args := append([]string{"stylize", "--content", photo, "--out", out, "--fastnets", model, "--threads", "1", "--tile", tile}, tt.style...)
			code, _, stderr := neuralstyle(args...)
			if code != 0 {
				t.Fatalf("%s, --tile %s: exit %d: %s", tt.name, tile, code, stderr)
			}
			img, err := imagefile.ReadFile(out, nil)
			if err != nil {
				t.Fatal(err)
			}
			return img, stderr
		}
		whole, said := paint(tt.name+" whole.png", "0")
		if strings.Contains(said, "tiles") {
			t.Errorf("%s: --tile 0 said %q", tt.name, said)
		}
		tiled, said := paint(tt.name+" tiled.png", "64")
		for _, want := range tt.says {
			if !strings.Contains(said, want) {
				t.Errorf("%s: --tile 64 said %q, want %q in it", tt.name, said, want)
			}
		}
		worst := 0
		for i := range whole.Pix {
			d := int(whole.Pix[i]) - int(tiled.Pix[i])
			worst = max(worst, d, -d)
		}
		if worst > tt.bound {
			t.Errorf("%s: tiles differ from the whole photo by %d of 255 (bound %d)", tt.name, worst, tt.bound)
		}
	}
	for _, bad := range []string{"30", "-4", "x"} {
		code, _, stderr := neuralstyle("stylize", "--content", photo, "--out", filepath.Join(dir, "bad.png"), "--styles", "5",
			"--fastnets", model, "--tile", bad)
		if code != 2 || !strings.Contains(stderr, "--tile") {
			t.Errorf("--tile %s: exit %d, %q", bad, code, stderr)
		}
	}
}

// TestStylizeAutoTiles: --tile auto paints the whole photo while its
// network's estimated peak is at most the 26-style network's at 2048x2048 and the memory available, else
// tiles of 1024 with the network's halo; a number or 0 is taken as given.
func TestStylizeAutoTiles(t *testing.T) {
	const plenty, little = 1 << 40, 1 << 30
	for _, c := range []struct {
		arbitrary bool
		tile      int
		side      int
		available uint64
		want      fastnet.Tiles // Size 0: the whole photo
	}{
		{false, -1, 2048, plenty, fastnet.Tiles{}},
		{false, -1, 2100, plenty, fastnet.Tiles{Size: 1024, Halo: fastnet.DefaultHalo}},
		{false, -1, 1024, little, fastnet.Tiles{}},
		{false, -1, 1500, little, fastnet.Tiles{Size: 1024, Halo: fastnet.DefaultHalo}},
		{true, -1, 1024, plenty, fastnet.Tiles{}},
		{true, -1, 2800, plenty, fastnet.Tiles{}},
		{true, -1, 2900, plenty, fastnet.Tiles{Size: 1024, Halo: fastnet.ArbitraryHalo}},
		{true, 0, 8192, little, fastnet.Tiles{}},
		{true, 512, 600, plenty, fastnet.Tiles{Size: 512, Halo: fastnet.ArbitraryHalo}},
		{false, 512, 500, plenty, fastnet.Tiles{}},
	} {
		j := &stylizeJob{arbitrary: c.arbitrary, tile: c.tile}
		got, ok := j.tiles(c.side, c.side, c.available)
		if ok != (c.want.Size != 0) || got.Size != c.want.Size || got.Halo != c.want.Halo {
			t.Errorf("arbitrary %v, --tile %d, %dx%d, %d bytes available: %+v (tiled %v), want %+v",
				c.arbitrary, c.tile, c.side, c.side, c.available, got, ok, c.want)
		}
	}
}
