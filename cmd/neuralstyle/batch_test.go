package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
)

// writeTestPhoto writes a small PNG whose pixels depend on seed.
func writeTestPhoto(t *testing.T, path string, w, h, seed int) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x*7 + seed*40), uint8(y*5 + seed*13), uint8((x + y + seed) * 3), 255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}

// photoFolder writes n photos photo1.png ... into a new folder.
func photoFolder(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "photos")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		writeTestPhoto(t, filepath.Join(dir, "photo"+strconv.Itoa(i)+".png"), 40, 36, i)
	}
	return dir
}

// batchArgs is a batch at 32x32, one iteration of at most two evaluations, on
// the random-weights VGG16 with one thread.
func batchArgs(t *testing.T, out string, extra ...string) []string {
	t.Helper()
	model, err := testmodels.VGG16()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"batch", "--model", model, "--out", out, "--device", "cpu", "--threads", "1", "--inter-threads", "1",
		"--style", "../../scripts/testdata/transfer/style.png", "--size", "32", "--iterations", "1", "--maxfun", "2"}
	return append(args, extra...)
}

var ranPoints = regexp.MustCompile(`(?m)^point \d+/\d+ content=(\S+)`)

// ran lists the photos a run styled, by the labels of its progress lines.
func ran(stdout string) []string {
	var names []string
	for _, m := range ranPoints.FindAllStringSubmatch(stdout, -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return names
}

// TestBatchCorruptPhoto: a folder of three photos, one corrupt: the corrupt one
// is reported before the model loads, the two others are done under their own
// names, and the exit code is 1. A rerun does nothing again but report it.
func TestBatchCorruptPhoto(t *testing.T) {
	t.Parallel()
	dir := photoFolder(t, 2)
	if err := os.WriteFile(filepath.Join(dir, "broken.jpg"), []byte("\xff\xd8\xff\xe0 not really a JPEG"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a photo"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "styled")
	code, stdout, stderr := neuralstyle(batchArgs(t, out, dir)...)
	if code != exitFailure {
		t.Errorf("exit %d, want %d\n%s%s", code, exitFailure, stdout, stderr)
	}
	for _, want := range []string{"batch: 3 photos (1 unreadable, skipped); 1 other files in the folders left alone; 0 finished before, 2 to run\n",
		"batch: wrote sheet.png in " + out + " from 2 photos\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "skipped:") || !strings.Contains(stderr, "broken.jpg") ||
		!strings.Contains(stderr, "1 of 3 photos could not be read (the others were done)") {
		t.Errorf("stderr does not report broken.jpg:\n%s", stderr)
	}
	if got := ran(stdout); !slices.Equal(got, []string{"photo1", "photo2"}) {
		t.Errorf("styled %q, want photo1 and photo2", got)
	}
	for _, f := range []string{"photo1.png", "photo2.png", "sheet.png", "summary.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "broken.png")); err == nil {
		t.Error("broken.png written")
	}

	code, stdout, stderr = neuralstyle(batchArgs(t, out, dir)...)
	if code != exitFailure || !strings.Contains(stdout, "2 finished before, 0 to run") || len(ran(stdout)) > 0 {
		t.Errorf("rerun: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestBatchResume: what an interrupted batch leaves (a photo whose completion
// marker and copy were never written) is done again, and nothing else is.
func TestBatchResume(t *testing.T) {
	t.Parallel()
	dir := photoFolder(t, 3)
	out := filepath.Join(t.TempDir(), "styled")
	if code, stdout, stderr := neuralstyle(batchArgs(t, out, dir)...); code != 0 || len(ran(stdout)) != 3 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	markers, _ := filepath.Glob(filepath.Join(out, "points", "*.done"))
	if len(markers) != 3 {
		t.Fatalf("%d markers, want 3", len(markers))
	}
	// Undo photo2's end: the state after an interrupt during its transfer.
	var cut string
	for _, m := range markers {
		key := strings.TrimSuffix(filepath.Base(m), ".done")
		data, err := os.ReadFile(filepath.Join(out, "points", key+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "photo2.png") {
			cut = key
		}
	}
	for _, f := range []string{filepath.Join(out, "points", cut+".done"), filepath.Join(out, "points", cut+".json"), filepath.Join(out, "photo2.png")} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	before := modTimes(t, out)
	code, stdout, stderr := neuralstyle(batchArgs(t, out, dir)...)
	if code != 0 || !strings.Contains(stdout, "2 finished before, 1 to run") {
		t.Fatalf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
	if got := ran(stdout); !slices.Equal(got, []string{"photo2"}) {
		t.Errorf("resume styled %q, want photo2 alone", got)
	}
	after := modTimes(t, out)
	for _, f := range []string{"photo1.png", "photo3.png"} {
		if !after[f].Equal(before[f]) {
			t.Errorf("%s rewritten by the resumed run", f)
		}
	}
	if _, ok := after["photo2.png"]; !ok {
		t.Error("photo2.png not written by the resumed run")
	}
}

func modTimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	times := map[string]time.Time{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		times[e.Name()] = info.ModTime()
	}
	return times
}

// TestBatchShards: two shards styling into one folder do every photo once
// between them; the second writes the contact sheet.
func TestBatchShards(t *testing.T) {
	t.Parallel()
	dir := photoFolder(t, 3)
	out := filepath.Join(t.TempDir(), "styled")
	code, stdout1, stderr := neuralstyle(batchArgs(t, out, "--shard", "1/2", dir)...)
	if code != 0 || strings.Contains(stdout1, "sheet.png") {
		t.Fatalf("shard 1/2: exit %d\n%s%s", code, stdout1, stderr)
	}
	finish := append([]string{"batch", "finish"}, batchArgs(t, out, dir)[1:]...)
	code, stdout, stderr := neuralstyle(finish...)
	if code != exitFailure || !strings.Contains(stderr, "not finished:\n  point ") || !strings.Contains(stderr, ", shard 2/2") {
		t.Errorf("early batch finish: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout2, stderr := neuralstyle(batchArgs(t, out, "--shard", "2/2", dir)...)
	if code != 0 || !strings.Contains(stdout2, "wrote sheet.png") {
		t.Fatalf("shard 2/2: exit %d\n%s%s", code, stdout2, stderr)
	}
	os.Remove(filepath.Join(out, "photo1.png"))
	code, stdout, stderr = neuralstyle(finish...)
	if _, err := os.Stat(filepath.Join(out, "photo1.png")); code != 0 || err != nil || !strings.Contains(stdout, "batch: wrote sheet.png in "+out+" from 3 photos") {
		t.Errorf("batch finish: exit %d, photo1.png: %v\n%s%s", code, err, stdout, stderr)
	}
	one, two := ran(stdout1), ran(stdout2)
	all := append(slices.Clone(one), two...)
	slices.Sort(all)
	if len(one) == 0 || len(two) == 0 || !slices.Equal(all, []string{"photo1", "photo2", "photo3"}) {
		t.Errorf("shard 1/2 styled %q, 2/2 %q: want a partition of photo1..3", one, two)
	}
}

func TestBatchErrors(t *testing.T) {
	dir := photoFolder(t, 1)
	other := filepath.Join(t.TempDir(), "photo1.png")
	writeTestPhoto(t, other, 20, 20, 0)
	sheet := filepath.Join(t.TempDir(), "sheet.jpg")
	writeTestPhoto(t, sheet, 20, 20, 0)
	blocked := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "styled")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{batchArgs(t, out), exitUsage, "give the photos, or a folder of them"},
		{[]string{"batch", "--style", "x.png", dir}, exitUsage, "--out: give the output folder"},
		{batchArgs(t, out, dir, other), exitUsage, "would both write " + filepath.Join(out, "photo1.png")},
		{batchArgs(t, out, sheet), exitUsage, "would overwrite the batch's sheet.png"},
		{batchArgs(t, dir, filepath.Join(dir, "photo1.png")), exitUsage, "would replace it; give another --out"},
		{batchArgs(t, filepath.Join(blocked, "sub"), dir), exitFailure, "--out " + filepath.Join(blocked, "sub")},
		{batchArgs(t, out, "--shard", "3/2", dir), exitUsage, "--shard"},
		{batchArgs(t, out, "--style-weight", "-1", dir), exitUsage, "--style-weight"},
		{append(batchArgs(t, out), "--content", "x.png", dir), exitUsage, "flag provided but not defined: -content"},
		// Several styles are read one by one, and their masks, before the model loads.
		{batchArgs(t, out, "--graph", "fast", "--style", twoStyles, "--style-mask", maskPair(t), dir), exitFailure, "not-an-image.png"},
	} {
		code, stdout, stderr := neuralstyle(c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, want %d and %q\n%s%s", c.args[len(c.args)-1], code, c.code, c.want, stdout, stderr)
		}
	}
}

// twoStyles are two style images for --style.
const twoStyles = "../../scripts/testdata/transfer/style.png,../../scripts/testdata/transfer/64x64_seed1/out.png"

// maskPair is a --style-mask list of a good mask and a file that is not an image.
func maskPair(t *testing.T) string {
	t.Helper()
	bad := filepath.Join(t.TempDir(), "not-an-image.png")
	if err := os.WriteFile(bad, []byte("text"), 0o644); err != nil {
		t.Fatal(err)
	}
	return "../../scripts/testdata/transfer/content.png," + bad
}
