package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/video"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// TestVideoStylize: --method stylize paints every frame with the 26-style
// network at the asked size, records the method's settings so a rerun with
// others is refused, and resumes; smoothing changes the frames after the first
// but not the first (it has no frames before it).
func TestVideoStylize(t *testing.T) {
	model := fastnetsModel(t)
	clip := frameFolder(t, 1, 2, 3)
	base := t.TempDir()
	run := func(name string, extra ...string) (string, int, string) {
		out := filepath.Join(base, name)
		args := append([]string{"video", "--method", "stylize", "--styles", "7", "--fastnets", model, "--out", out,
			"--size", "48x40", "--threads", "1"}, extra...)
		code, _, stderr := neuralstyle(append(args, clip)...)
		return out, code, stderr
	}
	plain, code, stderr := run("plain")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for i := 1; i <= 3; i++ {
		img, err := imagefile.ReadFile(video.FramePath(plain, i), nil)
		if err != nil {
			t.Fatal(err)
		}
		if img.Width != 48 || img.Height != 40 {
			t.Errorf("frame %d: %dx%d, want 48x40", i, img.Width, img.Height)
		}
	}
	if _, err := os.Stat(filepath.Join(plain, "video.gif")); err != nil {
		t.Errorf("no clip written: %v", err)
	}
	if rec := readVideoRecord(t, plain); rec.Settings["method"] != "stylize" || rec.Settings["styles"] != "7" {
		t.Errorf("record settings %v", rec.Settings)
	}
	if _, code, stderr := run("plain", "--styles", "8"); code == 0 || !strings.Contains(stderr, "--styles 7 (now 8)") {
		t.Errorf("rerun with other styles: exit %d, %s", code, stderr)
	}
	// Resume: a frame removed is painted again, the same (smoothing 0: frames alone).
	want, _ := os.ReadFile(video.FramePath(plain, 2))
	os.Remove(video.FramePath(plain, 2))
	if _, code, stderr := run("plain"); code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	if got, _ := os.ReadFile(video.FramePath(plain, 2)); string(got) != string(want) {
		t.Error("frame 2 painted again differs")
	}
	smooth, code, stderr := run("smooth", "--smoothing", "0.9")
	if code != 0 {
		t.Fatalf("smoothing: exit %d: %s", code, stderr)
	}
	a1, _ := imagefile.ReadFile(video.FramePath(plain, 1), nil)
	b1, _ := imagefile.ReadFile(video.FramePath(smooth, 1), nil)
	a3, _ := imagefile.ReadFile(video.FramePath(plain, 3), nil)
	b3, _ := imagefile.ReadFile(video.FramePath(smooth, 3), nil)
	// The first frame: its own statistics given from outside, the same
	// picture within a level of rounding (measured 0).
	if d := maxDiff(a1, b1); d > 1 {
		t.Errorf("smoothed first frame differs by %d of 255", d)
	}
	if d := meanDiff(a3, b3); d == 0 {
		t.Error("smoothing left frame 3 as it was")
	}
}

func maxDiff(a, b *preprocess.Image) int {
	if len(a.Pix) != len(b.Pix) {
		return 255
	}
	worst := 0
	for i := range a.Pix {
		d := int(a.Pix[i]) - int(b.Pix[i])
		worst = max(worst, d, -d)
	}
	return worst
}

// TestVideoStylizeErrors: bad method settings fail before any model loads.
func TestVideoStylizeErrors(t *testing.T) {
	clip := frameFolder(t, 1, 2)
	out := filepath.Join(t.TempDir(), "out")
	absent := filepath.Join(t.TempDir(), "no-model")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--method", "paint", "--style", "../../scripts/examples/wave.jpg"}, "want optimize or stylize"},
		{[]string{"--method", "stylize"}, "--styles: --method stylize needs"},
		{[]string{"--method", "stylize", "--styles", "30"}, "from 0 to 25"},
		{[]string{"--method", "stylize", "--styles", "3", "--smoothing", "1"}, "0 to 0.99"},
		{[]string{"--method", "stylize", "--styles", "3", "--style", "../../scripts/examples/wave.jpg"}, "arbitrary network does not take clips"},
		{[]string{"--method", "stylize", "--styles", "3", "--fastnets", absent}, "make fastnets"},
		{[]string{"--styles", "3", "--style", "../../scripts/examples/wave.jpg", "--model", absent}, "give --method stylize"},
	} {
		args := append(append([]string{"video", "--out", out}, c.args...), clip)
		code, _, stderr := neuralstyle(args...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, code, stderr, c.want)
		}
		if _, err := os.Stat(filepath.Join(out, video.FramesDir)); err == nil {
			t.Fatalf("%v: wrote frames", c.args)
		}
	}
}
