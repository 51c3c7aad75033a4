package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
	"github.com/neuralstyle/neuralstyle/internal/video"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// frameFolder writes frames named name(i) for each i of numbers.
func frameFolder(t *testing.T, numbers ...int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "clip")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, i := range numbers {
		writeTestPhoto(t, filepath.Join(dir, "frame"+strconv.Itoa(i)+".png"), 40, 36, i)
	}
	return dir
}

// videoArgs is a video at 32x32, one iteration of at most two evaluations, on
// the random-weights VGG16 with one thread.
func videoArgs(t *testing.T, out string, extra ...string) []string {
	t.Helper()
	model, err := testmodels.VGG16()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"video", "--model", model, "--out", out, "--device", "cpu", "--threads", "1", "--inter-threads", "1",
		"--style", "../../scripts/testdata/transfer/style.png", "--size", "32", "--iterations", "1", "--maxfun", "2"}
	return append(args, extra...)
}

func readVideoRecord(t *testing.T, out string) video.Record {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, video.RecordFile))
	if err != nil {
		t.Fatal(err)
	}
	var rec video.Record
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestVideoFolder: frames 8, 9, 10 run in natural order, chained; a rerun does
// nothing; a frame removed (as an interrupt leaves it) is done again and comes
// out bit for bit as before, since it starts from the previous frame's PNG
// either way; other settings are refused.
func TestVideoFolder(t *testing.T) {
	t.Parallel()
	dir := frameFolder(t, 8, 9, 10)
	out := filepath.Join(t.TempDir(), "styled")
	code, stdout, stderr := neuralstyle(videoArgs(t, out, dir)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"video: 3 frames (chained); 0 finished before, 3 to run\n", "frame 3/3 done in ",
		"video: wrote " + filepath.Join(out, "video.gif")} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	var names []string
	for _, f := range readVideoRecord(t, out).Frames {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, " "); got != "frame8.png frame9.png frame10.png" {
		t.Errorf("frames in the order %s, want frame8 frame9 frame10", got)
	}
	if _, _, err := video.FFmpeg(); err == nil {
		if _, err := os.Stat(filepath.Join(out, "video.mp4")); err != nil {
			t.Errorf("ffmpeg installed but no MP4: %v", err)
		}
	}
	third := video.FramePath(out, 3)
	want, err := os.ReadFile(third)
	if err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr = neuralstyle(videoArgs(t, out, dir)...)
	if code != 0 || !strings.Contains(stdout, "3 finished before, 0 to run") || strings.Contains(stdout, "frame 1/3") {
		t.Errorf("rerun: exit %d\n%s%s", code, stdout, stderr)
	}

	if err := os.Remove(third); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = neuralstyle(videoArgs(t, out, dir)...)
	if code != 0 || !strings.Contains(stdout, "2 finished before, 1 to run") || strings.Contains(stdout, "frame 2/3") {
		t.Fatalf("resume: exit %d\n%s%s", code, stdout, stderr)
	}
	if got, err := os.ReadFile(third); err != nil || !bytes.Equal(got, want) {
		t.Errorf("resumed frame 3 differs from the uninterrupted run's (%v)", err)
	}

	code, _, stderr = neuralstyle(videoArgs(t, out, "--style-weight", "9", dir)...)
	if code != exitFailure || !strings.Contains(stderr, "holds frames made with --style-weight 5 (now 9); give another --out") {
		t.Errorf("other settings: exit %d\n%s", code, stderr)
	}
}

// TestVideoIndependent: independent frames start from noise each, so the
// second frame differs from the chained run's.
func TestVideoIndependent(t *testing.T) {
	t.Parallel()
	dir := frameFolder(t, 1, 2)
	chained, independent := filepath.Join(t.TempDir(), "chained"), filepath.Join(t.TempDir(), "independent")
	for _, run := range [][]string{videoArgs(t, chained, dir), videoArgs(t, independent, "--mode", "independent", dir)} {
		if code, stdout, stderr := neuralstyle(run...); code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
	}
	read := func(out string, i int) []byte {
		data, err := os.ReadFile(video.FramePath(out, i))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if !bytes.Equal(read(chained, 1), read(independent, 1)) {
		t.Error("frame 1 differs between modes; both start from --init")
	}
	if bytes.Equal(read(chained, 2), read(independent, 2)) {
		t.Error("frame 2 is the same in both modes; chained should start from frame 1's result")
	}
}

// TestVideoShards: independent frames cut into two shards into one folder;
// a finish before the second is refused naming its frames; the second writes
// the GIF, byte for byte a one-machine run's, and so does finish.
func TestVideoShards(t *testing.T) {
	t.Parallel()
	dir := frameFolder(t, 1, 2, 3)
	out, whole := filepath.Join(t.TempDir(), "sharded"), filepath.Join(t.TempDir(), "whole")
	args := func(out string, extra ...string) []string {
		return videoArgs(t, out, append(append([]string{"--mode", "independent"}, extra...), dir)...)
	}
	code, stdout, stderr := neuralstyle(args(out, "--shard", "1/2")...)
	if code != 0 || !strings.Contains(stdout, "video: 3 frames (independent), shard 1/2 has 2; 0 finished before, 2 to run\n") ||
		!strings.Contains(stdout, "video: 2 of 3 frames finished;") {
		t.Fatalf("shard 1/2: exit %d\n%s%s", code, stdout, stderr)
	}
	finish := append([]string{"video", "finish"}, args(out)[1:]...)
	code, stdout, stderr = neuralstyle(finish...)
	if code != exitFailure || !strings.Contains(stderr, "1 of 3 frames in "+out+" are not styled:\n  frame 2 (frame2.png), shard 2/2\n") {
		t.Errorf("early finish: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "video.gif")); err == nil {
		t.Error("an early finish wrote the GIF")
	}
	code, stdout, stderr = neuralstyle(args(out, "--shard", "2/2")...)
	if code != 0 || !strings.Contains(stdout, "shard 2/2 has 1; 0 finished before, 1 to run") || !strings.Contains(stdout, "video: wrote ") {
		t.Fatalf("shard 2/2: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr = neuralstyle(args(whole)...); code != 0 {
		t.Fatalf("whole: exit %d\n%s%s", code, stdout, stderr)
	}
	os.Remove(filepath.Join(out, "video.gif"))
	if code, stdout, stderr = neuralstyle(finish...); code != 0 || !strings.Contains(stdout, "video: wrote ") {
		t.Fatalf("finish: exit %d\n%s%s", code, stdout, stderr)
	}
	a, errA := os.ReadFile(filepath.Join(whole, "video.gif"))
	b, errB := os.ReadFile(filepath.Join(out, "video.gif"))
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("video.gif: the shards' differs from one machine's (%v, %v)", errA, errB)
	}
}

func TestVideoErrors(t *testing.T) {
	gappy := frameFolder(t, 1, 2, 4, 8)
	empty := t.TempDir()
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	if err := os.WriteFile(clip, []byte("not a video"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "styled")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{videoArgs(t, out, gappy), exitUsage, "frame 3 is missing (between frame2.png and frame4.png)\n" +
			"input " + gappy + ": frames 5 to 7 are missing (between frame4.png and frame8.png)\n(fill the gaps, or --allow-gaps"},
		{videoArgs(t, out, empty), exitUsage, "no image files"},
		{videoArgs(t, out), exitUsage, "video takes one input"},
		{videoArgs(t, out, "--mode", "wobbly", gappy), exitUsage, `--mode "wobbly": want chained or independent`},
		{videoArgs(t, out, "--mode", "independent", "--next-iterations", "2", gappy), exitUsage, "--next-iterations: only chained mode"},
		{videoArgs(t, out, filepath.Join(empty, "none")), exitFailure, "input " + filepath.Join(empty, "none") + ": no such file"},
		{videoArgs(t, out, "--shard", "1/2", gappy), exitUsage, "--shard 1/2: chained mode starts each frame from the previous frame's result"},
		{videoArgs(t, out, "--mode", "independent", "--temporal-weight", "1", "--shard", "1/2", gappy), exitUsage, "the temporal term"},
		{videoArgs(t, out, "--mode", "independent", "--shard", "1/2", clip), exitUsage, "shards style a folder of frames"},
		{append([]string{"video", "finish"}, videoArgs(t, out, gappy)[1:]...), exitUsage, "video finish: chained mode"},
		{videoArgs(t, out, "--graph", "fast", "--style", twoStyles, "--style-mask", maskPair(t), "--allow-gaps", gappy), exitFailure, "not-an-image.png"},
	} {
		code, stdout, stderr := neuralstyle(c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, want %d and %q\n%s%s", c.args, code, c.code, c.want, stdout, stderr)
		}
	}

	// Without ffmpeg, a file input is refused naming Debian's package; a
	// folder needs no ffmpeg.
	t.Setenv("PATH", t.TempDir())
	code, _, stderr := neuralstyle(videoArgs(t, out, clip)...)
	if code != exitFailure || !strings.Contains(stderr, "ffmpeg is not installed") || !strings.Contains(stderr, "apt-get install ffmpeg") {
		t.Errorf("no ffmpeg: exit %d\n%s", code, stderr)
	}
}

// TestVideoClip: a clip made by ffmpeg from four frames is read back into four
// frames and styled, and the MP4 written. Skipped without ffmpeg (make
// test-sysdeps installs it).
func TestVideoClip(t *testing.T) {
	t.Parallel()
	if _, _, err := video.FFmpeg(); err != nil {
		t.Skip(err)
	}
	src := filepath.Join(t.TempDir(), "frames")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		writeTestPhoto(t, filepath.Join(src, fmt.Sprintf("frame_%06d.png", i)), 40, 36, i)
	}
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	if err := video.EncodeMP4(context.Background(), src, 12, clip); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "styled")
	code, stdout, stderr := neuralstyle(videoArgs(t, out, clip)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"video: 4 frames (chained); 0 finished before, 4 to run", "(4 frames at 12 fps)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	probe, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", filepath.Join(out, "video.mp4")).Output()
	if err != nil || strings.TrimSpace(string(probe)) != "4" {
		t.Errorf("video.mp4: ffprobe counts %q frames (%v), want 4", probe, err)
	}
}

// TestVideoTemporal: two identical input frames, so every pixel is held: with a
// temporal weight the second frame's result stays closer to the first's than
// without (chained, where the second continues from the first). The weight is
// in video.json, and a single transfer refuses it. 50 s on this shared two-core
// machine (three runs, each loading the model).
func TestVideoTemporal(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "clip")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		writeTestPhoto(t, filepath.Join(dir, fmt.Sprintf("frame%d.png", i)), 40, 36, 1)
	}
	change := func(weight string) float64 {
		t.Helper()
		out := filepath.Join(t.TempDir(), "w"+weight)
		code, stdout, stderr := neuralstyle(videoArgs(t, out, "--maxfun", "4", "--temporal-weight", weight, dir)...)
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		if on := weight != "0"; strings.Contains(stdout, "(temporal term ") != on {
			t.Errorf("weight %s: the temporal term reported %v, want %v:\n%s", weight, !on, on, stdout)
		}
		if got := readVideoRecord(t, out).Settings["temporal-weight"]; got != weight {
			t.Errorf("video.json: temporal-weight %q, want %q", got, weight)
		}
		var frames [2]*preprocess.Image
		for i := range frames {
			img, err := imagefile.ReadFile(video.FramePath(out, i+1), nil)
			if err != nil {
				t.Fatal(err)
			}
			frames[i] = img
		}
		sum := 0.0
		for i, v := range frames[0].Pix {
			sum += math.Abs(float64(v) - float64(frames[1].Pix[i]))
		}
		return sum / float64(len(frames[0].Pix))
	}
	// The random-weights model's loss is about 3e9 at 32x32, so the term needs a
	// weight to match: measured 1.255 without, 0.483 with (1e6 changes no 8-bit
	// pixel).
	without, with := change("0"), change("1e+09")
	t.Logf("mean change of the result between the frames: %.3f without, %.3f with the temporal term", without, with)
	if !(with < without/2) {
		t.Errorf("the second frame's result moved %.3f (of 255) from the first's with the temporal term, %.3f without: want under half", with, without)
	}

	code, _, stderr := neuralstyle("transfer", "--content", "x.png", "--style", "y.png", "--out", filepath.Join(t.TempDir(), "o.png"), "--temporal-weight", "1")
	if code != exitUsage || !strings.Contains(stderr, "temporal-weight: applies to the frames of a video") {
		t.Errorf("transfer --temporal-weight: exit %d\n%s", code, stderr)
	}
}
