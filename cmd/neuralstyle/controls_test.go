package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestControlErrors: bad control flags fail with a usage error naming the problem,
// before any model loads (the model directory does not exist).
func TestControlErrors(t *testing.T) {
	img := filepath.Join("..", "..", "scripts", "examples", "wave.jpg")
	two := img + "," + img
	notImage := filepath.Join(t.TempDir(), "mask.png")
	if err := os.WriteFile(notImage, []byte("not a picture"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.png")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--style", two, "--style-blend", "1,2,3"}, "--style-blend: 3 weights for 2 style images"},
		{[]string{"--style", two, "--style-blend", "1,-1"}, "--style-blend: weight -1: want a finite number >= 0"},
		{[]string{"--style", two, "--style-blend", "0,0"}, "--style-blend: all weights are zero"},
		{[]string{"--style", two, "--style-blend", "1,x"}, `"x" is not a number`},
		{[]string{"--style", two, "--style-mask", img}, "--style-mask: 1 masks for 2 style images"},
		{[]string{"--style", two, "--style-mask", img + "," + notImage}, "mask.png"},
		{[]string{"--style", img + "," + notImage}, "mask.png"},
		{[]string{"--style", img, "--style-scale", "0.01"}, "smaller than the model's 16x16"},
		{[]string{"--style", img, "--style-scale", "100"}, "more than 67108864 pixels"},
		{[]string{"--style", img, "--init", "image"}, "--init image needs a starting image file"},
		{[]string{"--style", img, "--init-image", img}, "use --init image"},
		{[]string{"--style", img, "--init", "image", "--init-image", notImage}, "mask.png"},
		{[]string{"--style", img, "--optimizer", "adam", "--learning-rate", "0"}, "--learning-rate: 0: want a finite number > 0"},
		{[]string{"--style", img, "--pooling", "min"}, `--pooling "min"`},
		{[]string{"--style", img, "--color-transfer", "sepia"}, `--color-transfer "sepia"`},
		{[]string{"--style", two, "--graph", "recipe"}, "use the fast graph"},
	} {
		args := append([]string{"transfer", "--model", "/nonexistent/model", "--content", img, "--out", out}, tc.args...)
		code, _, errOut := neuralstyle(args...)
		if code == 0 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "nonexistent") {
			t.Errorf("%v: exit %d, stderr %q; want an error containing %q before the model loads", tc.args, code, errOut, tc.want)
		}
	}
}
