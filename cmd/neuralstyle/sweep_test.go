package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
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
// before it does not, and neither does a finish run early. A task cutting the
// points another way is refused. Once both shards are done, finish writes the
// files a run on one machine writes: the same bytes, the summary's seconds
// aside.
func TestSweepShards(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "sweep")
	args := func(out string, extra ...string) []string {
		return sweepArgs(t, out, append([]string{"--content-layer", "block1_conv2"}, extra...)...)
	}
	code, stdout, stderr := neuralstyle(args(out, "--shard", "2/2")...)
	if code != 0 || !strings.Contains(stdout, "sweep: 2 points, shard 2/2 has 1; 0 finished before, 1 to run") ||
		!strings.Contains(stdout, "sweep: 1 of 2 points finished;") {
		t.Fatalf("shard 2/2: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "sheet.png")); err == nil {
		t.Error("a sheet before every point is finished")
	}
	finish := func() []string { return append([]string{"sweep", "finish"}, args(out)[1:]...) }
	code, stdout, stderr = neuralstyle(finish()...)
	if code != exitFailure || !strings.Contains(stderr, "1 of 2 points in "+out+" are not finished:\n  point ") ||
		!strings.Contains(stderr, ", shard 1/2\n") || !strings.Contains(stderr, "nothing was written") {
		t.Errorf("early finish: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "sheet.png")); err == nil {
		t.Error("an early finish wrote the sheet")
	}
	code, _, stderr = neuralstyle(args(out, "--shard", "1/3")...)
	if code != exitFailure || !strings.Contains(stderr, "is written by 2 shards") || !strings.Contains(stderr, "give the shard as i/2") {
		t.Errorf("a task of 3 shards in a folder of 2: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr = neuralstyle(args(out, "--shard", "1/2")...)
	if code != 0 || !strings.Contains(stdout, "from 2 of 2 points") {
		t.Fatalf("shard 1/2: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, f := range []string{"sheet.png", "sweep.gif", "summary.csv"} {
		os.Remove(filepath.Join(out, f))
	}
	code, stdout, stderr = neuralstyle(finish()...)
	if code != 0 || !strings.Contains(stdout, "sweep: wrote sheet.png, sweep.gif and summary.csv in "+out+" from 2 of 2 points\n") {
		t.Fatalf("finish: exit %d\n%s%s", code, stdout, stderr)
	}
	whole := filepath.Join(t.TempDir(), "whole")
	if code, stdout, stderr = neuralstyle(args(whole)...); code != 0 {
		t.Fatalf("whole run: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, f := range []string{"sheet.png", "sweep.gif", "summary.csv"} {
		a, errA := os.ReadFile(filepath.Join(whole, f))
		b, errB := os.ReadFile(filepath.Join(out, f))
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if f == "summary.csv" {
			a, b = dropColumn(t, a, "seconds"), dropColumn(t, b, "seconds")
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the shards' differs from the whole run's:\n%s\n%s", f, a, b)
		}
	}
}

// dropColumn removes a column from CSV data.
func dropColumn(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("CSV: %v", err)
	}
	col := slices.Index(rows[0], name)
	if col < 0 {
		t.Fatalf("CSV has no column %q: %q", name, rows[0])
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, r := range rows {
		w.Write(slices.Delete(r, col, col+1))
	}
	w.Flush()
	return b.Bytes()
}

// TestSweepShardAuto: --shard auto reads a Slurm array task's shard, and
// outside a scheduler says so. (Serial: it sets the environment.)
func TestSweepShardAuto(t *testing.T) {
	for _, k := range []string{"SLURM_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
		"SLURM_ARRAY_TASK_STEP", "SLURM_ARRAY_TASK_COUNT", "JOB_COMPLETION_INDEX", "NEURALSTYLE_SHARD"} {
		t.Setenv(k, "")
	}
	out := filepath.Join(t.TempDir(), "sweep")
	code, stdout, stderr := neuralstyle(sweepArgs(t, out, "--shard", "auto")...)
	if code != exitUsage || !strings.Contains(stderr, "no scheduler's shard in the environment") {
		t.Errorf("--shard auto outside a scheduler: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused sweep made its output folder")
	}
	for k, v := range map[string]string{"SLURM_JOB_ID": "9", "SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "0",
		"SLURM_ARRAY_TASK_MAX": "2", "SLURM_ARRAY_TASK_COUNT": "3"} {
		t.Setenv(k, v)
	}
	code, stdout, stderr = neuralstyle(sweepArgs(t, out, "--list", "--shard", "auto")...)
	if code != 0 || strings.Count(stdout, "/3  ") != 4 {
		t.Errorf("--list --shard auto in task 1 of a Slurm array of 3: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Setenv("SLURM_ARRAY_TASK_COUNT", "4")
	code, _, stderr = neuralstyle(sweepArgs(t, out, "--list", "--shard", "auto")...)
	if code != exitUsage || !strings.Contains(stderr, "not one range") {
		t.Errorf("an array of 4 task IDs 0-2: exit %d\n%s", code, stderr)
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
