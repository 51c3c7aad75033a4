package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
)

// TestScoreChecksFirst: bad arguments, images and model folders fail with
// their own message before any model loads (the tiny model, which has no
// score signature, would fail later with another).
func TestScoreChecksFirst(t *testing.T) {
	img := "testdata/chelsea.jpg"
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no output", []string{"--content", img, "--style", img}, 2, "one OUTPUT image, the transfer's result, got 0"},
		// Without --content, OUTPUT was read as a command ("no command"), and
		// without OUTPUT too it exited 1 (issue 28).
		{"no content", []string{"--style", img, "out.png"}, 2, "score needs --content: the transfer's content and style images"},
		{"no content nor output", []string{"--style", img}, 2, "score needs --content"},
		{"no images", []string{"out.png"}, 2, "score needs --content and --style"},
		{"size too small", []string{"--size", "8", "--content", img, "--style", img, img}, 2, "--size 8: want 16 to 2048"},
		{"missing output", []string{"--content", img, "--style", img, "missing.png"}, 1, "missing.png"},
		{"missing style", []string{"--content", img, "--style", "nostyle.jpg", img}, 1, "nostyle.jpg"},
		{"no model", []string{"--model", t.TempDir(), "--content", img, "--style", img, img}, 1, "no style model at"},
		{"not a style model", []string{"--model", tinyModel, "--device", "cpu", "--content", img, "--style", img, img}, 1,
			"has no notebook_recipe signature"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := neuralstyle(append([]string{"score"}, c.args...)...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, c.code, c.want)
			}
		})
	}
}

// TestScore scores the content image as its own output with the random
// VGG16 test model: SSIM 1 and content loss 0, as JSON.
func TestScore(t *testing.T) {
	t.Parallel()
	dir, err := testmodels.VGG16()
	if err != nil {
		t.Fatal(err)
	}
	content, style := "../../scripts/testdata/transfer/content.png", "../../scripts/testdata/transfer/style.png"
	code, out, errOut := neuralstyle("score", "--model", dir, "--device", "cpu", "--threads", "1", "--size", "32",
		"--content", content, "--style", style, content)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Output      string  `json:"output"`
		Size        int     `json:"size"`
		ContentLoss float32 `json:"content_loss"`
		StyleLoss   float32 `json:"style_loss"`
		SSIM        float64 `json:"ssim_content"`
		Color       float64 `json:"color_distance_style"`
		StyleLayers []struct {
			Layer string  `json:"layer"`
			Loss  float32 `json:"loss"`
		} `json:"style_layers"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if r.Output != content || r.Size != 32 || r.ContentLoss != 0 || r.SSIM != 1 || r.StyleLoss <= 0 ||
		r.Color <= 0 || len(r.StyleLayers) != 5 {
		t.Errorf("score %+v", r)
	}
}
