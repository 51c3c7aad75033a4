package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
)

// sweepArgs is a 2x2 sweep by flags at 32x32, one iteration of one L-BFGS-B step,
// on the random-weights VGG16 with one thread.
func sweepArgs(t *testing.T, out string, extra ...string) []string {
	t.Helper()
	model, err := testmodels.VGG16()
	if err != nil {
		t.Fatal(err)
	}
	data := "../../scripts/testdata/transfer/"
	args := []string{"sweep", "--model", model, "--out", out, "--device", "cpu", "--threads", "1", "--inter-threads", "1",
		"--content", data + "content.png", "--style", data + "style.png", "--size", "32", "--iterations", "1", "--maxfun", "1",
		"--style-weight", "0.1,10", "--content-layer", "block1_conv2,block2_conv2"}
	return append(args, extra...)
}

func TestSweepCommand(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "sweep")
	code, stdout, stderr := neuralstyle(sweepArgs(t, out)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"sweep: 4 points; 0 finished before, 4 to run\n",
		"point 1/4 style-weight=0.1 content-layer=block1_conv2  [1 of 4 to run, key ",
		"point 4/4 style-weight=10 content-layer=block2_conv2  [4 of 4 to run, key ",
		"  iteration 0: loss ",
		"evaluations; 3 left\n",
		"evaluations; 0 left\n",
		"sweep: wrote sheet.png, sweep.gif and summary.csv in " + out + " from 4 of 4 points\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	for _, f := range []string{"sheet.png", "sweep.gif", "summary.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if done, _ := filepath.Glob(filepath.Join(out, "points", "*.done")); len(done) != 4 {
		t.Errorf("%d completion markers, want 4", len(done))
	}

	// A rerun runs nothing (and loads no model).
	code, stdout, stderr = neuralstyle(sweepArgs(t, out)...)
	if code != 0 || !strings.Contains(stdout, "4 finished before, 0 to run") || strings.Contains(stdout, "point ") {
		t.Errorf("rerun: exit %d\n%s%s", code, stdout, stderr)
	}

	code, stdout, _ = neuralstyle(sweepArgs(t, out, "--list", "--shard", "1/2")...)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(lines) != 5 || !strings.HasPrefix(lines[0], "POINT  KEY") ||
		strings.Count(stdout, "1/2    finished") != 2 || strings.Count(stdout, "2/2    finished") != 2 {
		t.Errorf("--list: exit %d\n%s", code, stdout)
	}
}

// The shard that finishes the sweep's last point writes the sheet; the one
// before it does not.
func TestSweepShards(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "sweep")
	args := func(shard string) []string {
		return sweepArgs(t, out, "--shard", shard, "--content-layer", "block1_conv2")
	}
	code, stdout, stderr := neuralstyle(args("2/2")...)
	if code != 0 || !strings.Contains(stdout, "sweep: 2 points, shard 2/2 has 1; 0 finished before, 1 to run") ||
		!strings.Contains(stdout, "sweep: 1 of 2 points finished;") {
		t.Fatalf("shard 2/2: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "sheet.png")); err == nil {
		t.Error("a sheet before every point is finished")
	}
	code, stdout, stderr = neuralstyle(args("1/2")...)
	if code != 0 || !strings.Contains(stdout, "from 2 of 2 points") {
		t.Fatalf("shard 1/2: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestSweepCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"settings": {"size": 32}, "axes": [{"param": "style-weight", "values": []}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{bad}, "sweep: " + bad + ": axis 1 (style-weight): no values"},
		{[]string{bad, "--quiet"}, "flags go before the sweep file"},
		{[]string{"--tv-weight", "0.1,-1"}, "--tv-weight: tv-weight: -1: want a finite number >= 0"},
		{[]string{"--content-layer", "block2_conv2,block6_conv1"}, `unknown layer "block6_conv1"`},
		{[]string{"--size", "8", "--content-layer", "block4_conv2"}, "point 1 (style-weight=0.1): size 8x8 is too small"},
		{[]string{"--shard", "0/2"}, `--shard "0/2": want i/n`},
		{[]string{"--collect", "--list"}, "give one"},
	} {
		code, _, stderr := neuralstyle(sweepArgs(t, out, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a rejected sweep made its output folder")
	}
}

// TestSweepSeveralStylesFlags: by flags, --style lists several styles with ','
// and separates points with ';' (a trailing ';' makes one point of several);
// --style-blend and --style-mask sweep lists separated by ';'. --list shows the
// points without running them.
func TestSweepSeveralStylesFlags(t *testing.T) {
	data := "../../scripts/testdata/transfer/"
	model, err := testmodels.VGG16()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"left.png", "right.png"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("masks are read as a point runs"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	two := data + "style.png," + data + "64x64_seed1/out.png"
	masks := filepath.Join(dir, "left.png") + "," + filepath.Join(dir, "right.png")
	for _, tc := range []struct {
		args   []string
		points []string // the points' values, as --list shows them
	}{
		{[]string{"--style", two}, []string{"style=style", "style=out"}},
		{[]string{"--style", two + ";" + data + "style.png", "--style-weight", "1,2"},
			[]string{"style=style+out style-weight=1", "style=style+out style-weight=2", "style=style style-weight=1", "style=style style-weight=2"}},
		{[]string{"--style", two + ";", "--style-blend", "1,0;0.5,0.5"}, []string{"style-blend=1,0", "style-blend=0.5,0.5"}},
		{[]string{"--style", two + ";", "--style-mask", masks}, []string{"-"}}, // no axis: no values after the status
	} {
		code, stdout, stderr := neuralstyle(append([]string{"sweep", "--list", "--model", model, "--content", data + "content.png",
			"--size", "32", "--graph", "fast"}, tc.args...)...)
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if code != 0 || len(lines) != 1+len(tc.points) {
			t.Errorf("%v: exit %d\n%s%s", tc.args, code, stdout, stderr)
			continue
		}
		for i, want := range tc.points {
			if !strings.HasSuffix(strings.TrimSpace(lines[1+i]), " "+want) {
				t.Errorf("%v: point %d is %q, want values %q", tc.args, i+1, lines[1+i], want)
			}
		}
	}
	// A blend of two weights does not fit points of one style each.
	code, stdout, stderr := neuralstyle("sweep", "--list", "--model", model, "--content", data+"content.png", "--graph", "fast",
		"--style", two, "--style-blend", "1,0")
	if code != exitUsage || !strings.Contains(stderr, "point 1 (style=style): style-blend: 2 weights for 1 style images") {
		t.Errorf("a blend for points of one style: exit %d\n%s%s", code, stdout, stderr)
	}
}
