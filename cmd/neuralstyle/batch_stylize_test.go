package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// TestBatchStylize: --method stylize paints each photo of a folder to
// DIR/NAME.png at the asked size, a rerun skips them, and the optimisation's
// style image is refused.
func TestBatchStylize(t *testing.T) {
	model := fastnetsModel(t)
	photos := frameFolder(t, 1, 2)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"batch", "--method", "stylize", "--styles", "3:1,9:1", "--fastnets", model, "--out", out, "--size", "48x40", "--threads", "1"}
	code, stdout, stderr := neuralstyle(append(args, photos)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "2 painted, 0 there before") {
		t.Errorf("stdout %q", stdout)
	}
	for _, name := range []string{"frame1.png", "frame2.png"} {
		img, err := imagefile.ReadFile(filepath.Join(out, name), nil)
		if err != nil {
			t.Fatal(err)
		}
		if img.Width != 48 || img.Height != 40 {
			t.Errorf("%s: %dx%d", name, img.Width, img.Height)
		}
	}
	if code, stdout, stderr = neuralstyle(append(args, photos)...); code != 0 || !strings.Contains(stdout, "0 painted, 2 there before") {
		t.Errorf("rerun: exit %d, %q %s", code, stdout, stderr)
	}
	// batch finish has nothing to finish for such a batch (it panicked on a nil plan).
	finish := append([]string{"batch", "finish"}, args[1:]...)
	if code, _, stderr = neuralstyle(append(finish, photos)...); code != 2 || !strings.Contains(stderr, "no shards and no sheet to finish") {
		t.Errorf("batch finish --method stylize: exit %d, %s", code, stderr)
	}
	bad := append(append([]string{}, args...), "--style", "../../scripts/examples/wave.jpg", photos)
	if code, _, stderr = neuralstyle(bad...); code != 2 || !strings.Contains(stderr, "--styles") {
		t.Errorf("--style: exit %d, %s", code, stderr)
	}
	if code, _, stderr = neuralstyle("batch", "--styles", "3", "--style", "../../scripts/examples/wave.jpg", "--out", out, photos); code == 0 ||
		!strings.Contains(stderr, "give --method stylize") {
		t.Errorf("--styles without --method stylize: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "sheet.png")); err == nil {
		t.Error("wrote a sheet")
	}
}
