package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
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
		{[]string{"--style", img, "--init", "image"}, "--init-image: init image needs a starting image file"},
		{[]string{"--style", img, "--init-image", img}, "choose init image"},
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

// TestInitStylizedErrors: --init stylized without the feed-forward model, or
// with several style images, fails naming the fix before any model loads (the
// style model's folder holds an empty saved_model.pb, which sweep and batch
// hash but TensorFlow cannot load), for transfer, batch and sweep, and writes
// no output.
func TestInitStylizedErrors(t *testing.T) {
	img := filepath.Join("..", "..", "scripts", "examples", "wave.jpg")
	dir := t.TempDir()
	out, absent := filepath.Join(dir, "out.png"), filepath.Join(dir, "no-fastnets")
	// A folder that passes the check made before loading (fastnet.ReadMeta).
	looksRight := filepath.Join(dir, "fastnets")
	os.Mkdir(looksRight, 0o755)
	os.WriteFile(filepath.Join(looksRight, "neuralstyle.json"), []byte(`{"kind":"fastnets","num_styles":26,"style_vector":100,"style_size":256}`), 0o644)
	os.WriteFile(filepath.Join(looksRight, "saved_model.pb"), nil, 0o644)
	notLoadable := filepath.Join(dir, "model")
	os.Mkdir(notLoadable, 0o755)
	os.WriteFile(filepath.Join(notLoadable, "saved_model.pb"), nil, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"transfer", "--content", img, "--style", img, "--out", out, "--init", "stylized", "--fastnets", absent}, "no feed-forward model at " + absent + ": build it with make fastnets"},
		{[]string{"transfer", "--content", img, "--style", img + "," + img, "--out", out, "--init", "stylized", "--fastnets", looksRight}, "init stylized: the feed-forward network paints in one style, and 2 style images are given"},
		{[]string{"batch", "--style", img, "--out", filepath.Join(dir, "batch"), "--init", "stylized", "--fastnets", absent, "--model", notLoadable, img}, "no feed-forward model at " + absent + ": build it with make fastnets"},
		{[]string{"sweep", "--content", img, "--style", img, "--out", filepath.Join(dir, "sweep"), "--init", "stylized", "--fastnets", absent}, "no feed-forward model at " + absent + ": build it with make fastnets"},
	} {
		args := tc.args
		if !slices.Contains(args, "--model") {
			args = append(slices.Clone(args), "--model", notLoadable)
		}
		code, _, errOut := neuralstyle(args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error containing %q before the model loads", tc.args, code, errOut, tc.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused run wrote its output")
	}
}

// TestTransferInitStylized runs transfer --init stylized with the real
// feed-forward model and the test VGG16: it runs, and its log gives each
// evaluation's loss beside its seconds, the iteration's loss among them (the
// point L-BFGS-B returned was evaluated).
func TestTransferInitStylized(t *testing.T) {
	fastnets := fastnetsModel(t)
	model, err := testmodels.VGG16()
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join("..", "..", "scripts", "examples", "wave.jpg")
	photo := filepath.Join("..", "..", "scripts", "examples", "grace_hopper.jpg")
	dir := t.TempDir()
	log := filepath.Join(dir, "log.jsonl")
	code, _, errOut := neuralstyle("transfer", "--model", model, "--fastnets", fastnets, "--content", photo, "--style", img,
		"--size", "40x32", "--iterations", "2", "--maxfun", "3", "--init", "stylized", "--threads", "1", "--quiet",
		"--out", filepath.Join(dir, "o.png"), "--log", log)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"init":"stylized"`) {
		t.Fatalf("log %q: want the settings with init stylized, then two iterations", data)
	}
	for _, l := range lines[1:] {
		var rec logLine
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		if len(rec.EvalLosses) != rec.Evaluations || len(rec.EvalSeconds) != rec.Evaluations ||
			!slices.Contains(rec.EvalLosses, float32(rec.Loss)) {
			t.Errorf("log line %s: want one loss and one time per evaluation, the iteration's loss among them", l)
		}
	}
}
