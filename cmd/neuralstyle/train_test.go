package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
	"github.com/neuralstyle/neuralstyle/internal/train"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// trainGraph is the narrow training graph the tests run (as internal/train's tests).
func trainGraph(t *testing.T) string {
	t.Helper()
	dir, err := testmodels.Build("train-random-seed1-w8", "-m", "savedmodel.train", "--out", "OUT",
		"--weights", "random", "--seed", "1", "--width", "8")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// noisePhoto is a w x h image of seeded noise, blurred a little by averaging
// with a gradient so that it is not all high frequencies.
func noisePhoto(w, h int, seed uint64) *preprocess.Image {
	rng := rand.New(rand.NewPCG(seed, 2))
	img := preprocess.NewImage(w, h)
	for i := range img.Pix {
		p := i / 3
		img.Pix[i] = uint8((rng.IntN(256) + 255*(p%w)/w) / 2)
	}
	return img
}

func writePhotos(t *testing.T, dir string, n, w, h int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := filepath.Join(dir, "p"+string(rune('a'+i))+".png")
		if err := imagefile.WritePNG(name, noisePhoto(w+i, h, uint64(i))); err != nil {
			t.Fatal(err)
		}
	}
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(append([]string{"neuralstyle"}, args...), &o, &e)
	return code, o.String(), e.String()
}

// TestTrainErrors: every bad input is reported before any model loads, naming
// the flag, and leaves --out as it was.
func TestTrainErrors(t *testing.T) {
	graph := trainGraph(t)
	tmp := t.TempDir()
	photos := filepath.Join(tmp, "photos")
	writePhotos(t, photos, 3, 40, 40)
	small := filepath.Join(tmp, "small")
	writePhotos(t, small, 2, 20, 40)
	empty := filepath.Join(tmp, "empty")
	os.Mkdir(empty, 0o755)
	style := filepath.Join(tmp, "style.png")
	imagefile.WritePNG(style, noisePhoto(40, 40, 9))
	badStyle := filepath.Join(tmp, "bad.jpg")
	os.WriteFile(badStyle, []byte("\xff\xd8\xff\xe0 not really a JPEG"), 0o644)
	full := filepath.Join(tmp, "full")
	os.Mkdir(full, 0o755)
	os.WriteFile(filepath.Join(full, "keep.txt"), []byte("mine"), 0o644)
	base := func(extra ...string) []string {
		return append([]string{"train", "--model", graph, "--crop", "32", "--steps", "2", "--device", "cpu"}, extra...)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no flags", []string{"train"}, exitUsage, "--style: not given"},
		{"bad crop", base("--style", style, "--images", photos, "--out", filepath.Join(tmp, "o1"), "--crop", "30"), exitUsage, "--crop: 30; want a multiple of 4"},
		{"bad steps", base("--style", style, "--images", photos, "--out", filepath.Join(tmp, "o1"), "--steps", "x"), exitUsage, "--steps: \"x\": want a whole number"},
		{"empty folder", base("--style", style, "--images", empty, "--out", filepath.Join(tmp, "o2")), exitFailure, "no usable photo in " + empty + ": it has no files"},
		{"missing folder", base("--style", style, "--images", filepath.Join(tmp, "none"), "--out", filepath.Join(tmp, "o3")), exitFailure, "--images: train: photos: open"},
		{"a file for a folder", base("--style", style, "--images", style, "--out", filepath.Join(tmp, "o4")), exitFailure, "not a directory"},
		{"photos smaller than the crop", base("--style", style, "--images", small, "--out", filepath.Join(tmp, "o5")), exitFailure, "20x40 is smaller than the 32x32 crop"},
		{"style that does not decode", base("--style", badStyle, "--images", photos, "--out", filepath.Join(tmp, "o6")), exitFailure, "--style: imagefile: decode " + badStyle},
		{"missing style", base("--style", filepath.Join(tmp, "none.jpg"), "--images", photos, "--out", filepath.Join(tmp, "o7")), exitFailure, "--style: stat"},
		{"out not empty", base("--style", style, "--images", photos, "--out", full), exitUsage, "exists and is not empty; pass --resume"},
		{"resume of nothing", base("--style", style, "--images", photos, "--out", filepath.Join(tmp, "o8"), "--resume"), exitUsage, "--resume: --out " + filepath.Join(tmp, "o8") + " does not exist"},
		{"resume of another folder", base("--style", style, "--images", photos, "--out", full, "--resume"), exitUsage, "is not a network train wrote"},
		{"missing graph", append(base("--style", style, "--images", photos, "--out", filepath.Join(tmp, "o9")), "--model", filepath.Join(tmp, "nograph")), exitFailure, "make train-model"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCmd(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
		})
	}
	for _, o := range []string{"o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8", "o9"} {
		if _, err := os.Stat(filepath.Join(tmp, o)); err == nil {
			t.Errorf("a failed run made %s", o)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(full, "keep.txt")); string(b) != "mine" {
		t.Error("a failed run touched a folder it refused")
	}
}

// TestTrainEndToEnd trains for 6 steps, resumes to 8, checks what --out holds,
// and runs the result under stylize --net; a checkpoint of another network
// then refuses to resume.
func TestTrainEndToEnd(t *testing.T) {
	graph := trainGraph(t)
	tmp := t.TempDir()
	photos := filepath.Join(tmp, "photos")
	writePhotos(t, photos, 6, 48, 40)
	os.WriteFile(filepath.Join(photos, "broken.jpg"), []byte("nope"), 0o644)
	style := filepath.Join(tmp, "style.png")
	imagefile.WritePNG(style, noisePhoto(50, 40, 9))
	out := filepath.Join(tmp, "nets", "mine")
	args := []string{"train", "--model", graph, "--style", style, "--images", photos, "--out", out, "--crop", "32", "--batch", "2",
		"--checkpoint-every", "3", "--preview-every", "3", "--threads", "1", "--inter-threads", "1", "--device", "cpu", "--progress", "1ns"}
	code, stdout, stderr := runCmd(append(args, "--steps", "6")...)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "skipped 1 of the files") || !strings.Contains(stderr, "step 6/6") || !strings.Contains(stdout, "stylize --net "+out) {
		t.Errorf("output %q %q: want the skipped file counted, progress and the hint", stdout, stderr)
	}
	for _, f := range []string{train.NetFile, train.CheckpointFile, trainLog, previewGIF, "model/saved_model.pb",
		"previews/step-000000.png", "previews/step-000003.png", "previews/step-000006.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("--out lacks %s: %v", f, err)
		}
	}
	logLines := func() []logRecord {
		raw, _ := os.ReadFile(filepath.Join(out, trainLog))
		var recs []logRecord
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			var r logRecord
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			recs = append(recs, r)
		}
		return recs
	}
	if recs := logLines(); len(recs) != 6 || recs[5].Step != 6 || len(recs[0].Photos) != 2 {
		t.Errorf("log: %+v; want 6 steps of 2 photos", recs)
	}
	for _, r := range logLines() {
		if r.Photos[0] == "pa.png" || r.Photos[1] == "pa.png" {
			t.Errorf("step %d trained on the held-out preview photo", r.Step)
		}
	}

	code, stdout, stderr = runCmd(append(args, "--steps", "8", "--resume")...)
	if code != 0 || !strings.Contains(stdout, "trained steps 6 to 8") {
		t.Fatalf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
	if recs := logLines(); len(recs) != 8 || recs[7].Step != 8 {
		t.Errorf("log after resuming: %d records; want 8", len(recs))
	}
	ck, err := train.ReadCheckpoint(filepath.Join(out, train.CheckpointFile))
	if err != nil || ck.Step != 8 {
		t.Fatalf("checkpoint after resuming: %v, step %d", err, ck.Step)
	}

	// Other settings or another painting do not resume, before any model loads.
	if code, _, stderr = runCmd(append(args, "--steps", "10", "--resume", "--batch", "3")...); code != exitUsage || !strings.Contains(stderr, "resume with the same settings") {
		t.Errorf("resume with another batch: exit %d, %q", code, stderr)
	}
	other := filepath.Join(tmp, "other.png")
	imagefile.WritePNG(other, noisePhoto(40, 40, 10))
	otherArgs := append([]string{}, args...)
	otherArgs[4] = other // --style
	if code, _, stderr = runCmd(append(otherArgs, "--steps", "10", "--resume")...); code != exitUsage || !strings.Contains(stderr, "is another") {
		t.Errorf("resume with another painting: exit %d, %q", code, stderr)
	}

	content := filepath.Join(tmp, "photo.png")
	imagefile.WritePNG(content, noisePhoto(45, 30, 3))
	res := filepath.Join(tmp, "out.png")
	code, stdout, stderr = runCmd("stylize", "--net", out, "--content", content, "--out", res, "--device", "cpu")
	if code != 0 {
		t.Fatalf("stylize --net: exit %d\n%s%s", code, stdout, stderr)
	}
	img, err := imagefile.ReadFile(res, nil)
	if err != nil || img.Width != 45 || img.Height != 30 {
		t.Errorf("stylize --net wrote %v (%v); want a 45x30 image", img, err)
	}
	if code, _, stderr = runCmd("stylize", "--net", out, "--content", content, "--out", res, "--styles", "3"); code != exitUsage || !strings.Contains(stderr, "leave out --styles") {
		t.Errorf("stylize --net DIR --styles: exit %d, %q", code, stderr)
	}

	// A checkpoint of another network (width 4's state size) does not resume.
	ck.Width, ck.StateSize = 4, 9
	ck.State = make([]float32, 9)
	if err := train.WriteCheckpoint(filepath.Join(out, train.CheckpointFile), ck); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCmd(append(args, "--steps", "10", "--resume")...)
	if code != exitFailure || !strings.Contains(stderr, "the checkpoint is of network johnson2016-instancenorm width 4") {
		t.Errorf("resume from another network's checkpoint: exit %d, %q", code, stderr)
	}
	if code, _, stderr = runCmd("stylize", "--net", out, "--content", content, "--out", res); code != exitFailure || !strings.Contains(stderr, "width 4") {
		t.Errorf("stylize with another network's checkpoint: exit %d, %q", code, stderr)
	}
}

// TestTrainSignal: Ctrl-C (SIGINT) ends a training with exit code 130 and a
// checkpoint that --resume takes.
func TestTrainSignal(t *testing.T) {
	graph := trainGraph(t)
	tmp := t.TempDir()
	photos := filepath.Join(tmp, "photos")
	writePhotos(t, photos, 4, 40, 40)
	style := filepath.Join(tmp, "style.png")
	imagefile.WritePNG(style, noisePhoto(40, 40, 9))
	out := filepath.Join(tmp, "net")
	cmd := exec.Command(os.Args[0], "train", "--model", graph, "--style", style, "--images", photos, "--out", out, "--crop", "32",
		"--batch", "1", "--steps", "100000000", "--checkpoint-every", "0", "--device", "cpu", "--progress", "0")
	cmd.Env = append(os.Environ(), "NEURALSTYLE_TEST_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stderr)
	first, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(first, "train: johnson2016-instancenorm width 8") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("first line %q, %v", first, err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	err = cmd.Wait()
	code := -1
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code != exitInterrupted || !strings.Contains(string(rest), "the checkpoint is saved: go on with --resume") {
		t.Fatalf("exit %d (%v), stderr %q; want exit %d and the checkpoint saved", code, err, rest, exitInterrupted)
	}
	if _, err := train.ReadCheckpoint(filepath.Join(out, train.CheckpointFile)); err != nil {
		t.Errorf("the checkpoint on Ctrl-C: %v", err)
	}
}
