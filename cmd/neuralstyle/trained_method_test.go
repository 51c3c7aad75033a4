package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/video"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// tinyTrainedNet trains a tiny network (the width-8 graph, two steps of two
// 32-pixel crops: a few seconds) and returns its folder; what it paints does
// not matter here, only that batch and video paint as stylize --net does.
func tinyTrainedNet(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	photos := filepath.Join(tmp, "photos")
	writePhotos(t, photos, 3, 40, 40)
	style := filepath.Join(tmp, "style.png")
	if err := imagefile.WritePNG(style, noisePhoto(40, 40, 9)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "net")
	code, stdout, stderr := runCmd("train", "--model", trainGraph(t), "--style", style, "--images", photos, "--out", out,
		"--crop", "32", "--batch", "2", "--steps", "2", "--threads", "1", "--inter-threads", "1", "--device", "cpu")
	if code != 0 {
		t.Fatalf("train: exit %d\n%s%s", code, stdout, stderr)
	}
	return out
}

// stylizeNet is stylize --net's picture of photo at size, the reference
// batch's and video's pictures must equal (they resize with stylize's filter,
// Lanczos, given: their own default is the notebook's).
func stylizeNet(t *testing.T, net, photo, size string, extra ...string) *preprocess.Image {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ref.png")
	args := append([]string{"stylize", "--net", net, "--content", photo, "--out", out, "--size", size, "--device", "cpu", "--threads", "1"}, extra...)
	if code, stdout, stderr := runCmd(args...); code != 0 {
		t.Fatalf("stylize --net: exit %d\n%s%s", code, stdout, stderr)
	}
	img, err := imagefile.ReadFile(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// samePicture reports whether the PNG file path holds want's pixels.
func samePicture(path string, want *preprocess.Image) bool {
	got, err := imagefile.ReadFile(path, nil)
	return err == nil && got.Width == want.Width && got.Height == want.Height && bytes.Equal(got.Pix, want.Pix)
}

// TestMethodTrainedNet: batch and video --method stylize --net DIR paint every
// photo and frame with a network of neuralstyle train, each file the same
// bytes as stylize --net's picture of it (with --strength and
// --original-colors too); video records the network and holds; the settings
// that do not apply are refused before any model loads.
func TestMethodTrainedNet(t *testing.T) {
	net := tinyTrainedNet(t)
	clip := frameFolder(t, 1, 2, 3)
	frame := func(i int) string { return filepath.Join(clip, "frame"+string(rune('0'+i))+".png") }
	base := t.TempDir()

	out := filepath.Join(base, "batch")
	args := []string{"batch", "--method", "stylize", "--net", net, "--out", out, "--size", "48x40", "--resample", "lanczos", "--strength", "0.5",
		"--original-colors", "--device", "cpu", "--threads", "1"}
	code, stdout, stderr := runCmd(append(args, clip)...)
	if code != 0 || !strings.Contains(stdout, "3 photos with the trained network") || !strings.Contains(stdout, "3 painted, 0 there before") {
		t.Fatalf("batch --net: exit %d\n%s%s", code, stdout, stderr)
	}
	want := stylizeNet(t, net, frame(2), "48x40", "--strength", "0.5", "--original-colors")
	if !samePicture(filepath.Join(out, "frame2.png"), want) {
		t.Error("batch's frame2.png differs from stylize --net's picture")
	}
	if code, stdout, _ = runCmd(append(args, clip)...); code != 0 || !strings.Contains(stdout, "0 painted, 3 there before") {
		t.Errorf("batch rerun: exit %d, %q", code, stdout)
	}

	vout := filepath.Join(base, "video")
	vargs := []string{"video", "--method", "stylize", "--net", net, "--out", vout, "--size", "48x40", "--resample", "lanczos",
		"--device", "cpu", "--threads", "1"}
	if code, stdout, stderr = runCmd(append(vargs, clip)...); code != 0 || !strings.Contains(stdout, "3 frames with the trained network") {
		t.Fatalf("video --net: exit %d\n%s%s", code, stdout, stderr)
	}
	for i := 1; i <= 3; i++ {
		if !samePicture(video.FramePath(vout, i), stylizeNet(t, net, frame(i), "48x40")) {
			t.Errorf("video's frame %d differs from stylize --net's picture", i)
		}
	}
	if _, err := os.Stat(filepath.Join(vout, "video.gif")); err != nil {
		t.Errorf("no clip written: %v", err)
	}
	if rec := readVideoRecord(t, vout); rec.Settings["method"] != "stylize" || rec.Settings["net"] != net {
		t.Errorf("record settings %v; want method stylize, net %s", rec.Settings, net)
	}
	if code, _, stderr = runCmd(append(vargs, "--hold", "1", clip)...); code == 0 || !strings.Contains(stderr, "hold") {
		t.Errorf("rerun with another hold: exit %d, %s", code, stderr)
	}
	// Hold 1: the second frame is the first with its top-left corner
	// changed; where it did not change (the mask: away from the corner) its
	// picture is the first frame's, which stylize --net's picture of it alone
	// is not (the instance norms see the whole frame).
	still := filepath.Join(base, "still")
	os.Mkdir(still, 0o755)
	img, err := imagefile.ReadFile(frame(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	imagefile.WritePNG(filepath.Join(still, "f1.png"), img)
	for y := range 10 {
		for x := range 10 {
			copy(img.Pix[3*(y*img.Width+x):], []uint8{255, 255, 255})
		}
	}
	imagefile.WritePNG(filepath.Join(still, "f2.png"), img)
	hout := filepath.Join(base, "hold")
	if code, stdout, stderr = runCmd("video", "--method", "stylize", "--net", net, "--out", hout, "--hold", "1",
		"--device", "cpu", "--threads", "1", still); code != 0 {
		t.Fatalf("video --hold 1: exit %d\n%s%s", code, stdout, stderr)
	}
	first, _ := imagefile.ReadFile(video.FramePath(hout, 1), nil)
	second, _ := imagefile.ReadFile(video.FramePath(hout, 2), nil)
	alone := stylizeNet(t, net, filepath.Join(still, "f2.png"), "40x36")
	corner := 3 * (35*40 + 39) // the bottom-right pixel, far from the change
	if first == nil || second == nil || alone.Pix[corner] == first.Pix[corner] {
		t.Fatalf("hold: frames %v %v; the second frame alone paints the still corner as the first (%d): the test cannot show hold", first, second, alone.Pix[corner])
	}
	if second.Pix[corner] != first.Pix[corner] {
		t.Errorf("hold 1: the still corner is %d, want the first frame's %d (alone: %d)", second.Pix[corner], first.Pix[corner], alone.Pix[corner])
	}

	noNet := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"batch", "--method", "stylize", "--net", net, "--styles", "3"}, "leave out --styles"},
		{[]string{"video", "--method", "stylize", "--net", net, "--smoothing", "0.5"}, "--smoothing: smooths the 26-style network's"},
		{[]string{"video", "--method", "stylize", "--net", "arbitrary"}, "the arbitrary network does not take batches or clips"},
		{[]string{"batch", "--net", net, "--style", "../../scripts/examples/wave.jpg"}, "give --method stylize"},
		{[]string{"video", "--method", "stylize", "--net", noNet}, "the folder of a network neuralstyle train wrote"},
	} {
		dst := filepath.Join(t.TempDir(), "out")
		args := append(append(c.args, "--out", dst), clip)
		code, _, stderr := runCmd(args...)
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %q", c.args, code, stderr, c.want)
		}
		if pngs, _ := filepath.Glob(filepath.Join(dst, "*", "*.png")); len(pngs) > 0 {
			t.Errorf("%v: wrote %s", c.args, pngs)
		}
		if pngs, _ := filepath.Glob(filepath.Join(dst, "*.png")); len(pngs) > 0 {
			t.Errorf("%v: wrote %s", c.args, pngs)
		}
	}
}
