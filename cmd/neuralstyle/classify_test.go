package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/imagenet"
	"github.com/neuralstyle/neuralstyle/internal/kernels"
	"github.com/neuralstyle/neuralstyle/internal/testmodels"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// classifierModel is savedmodel/classify.py's export with the random weights of
// seed 1 (built once into build/testmodels).
func classifierModel(t *testing.T) string {
	t.Helper()
	dir, err := testmodels.Build("vgg16-classifier-random-seed1",
		"-m", "savedmodel.classify", "--out", "OUT", "--weights", "random", "--seed", "1")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

const testImage = "testdata/chelsea.jpg"

func TestClassify(t *testing.T) {
	model := classifierModel(t)
	code, out, errOut := neuralstyle("classify", "--model", model, "--device", "cpu", "--json", "--top", "4",
		testImage, testImage)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []classification
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	// The image twice in one batch: the same classes, and probabilities equal to
	// float32 rounding. On an AVX-512 CPU they were bit for bit equal; on an AMD
	// Zen 3 (AVX2) the two rows of the batch differed by 2.7e-6 relative
	// (0.2043754 against 0.20437485), since oneDNN's kernels treat rows alike only
	// on some instruction sets. The tolerance is about four times that.
	const batchRowTolerance = 1e-5
	if len(got) != 2 || len(got[0].Predictions) != 4 || len(got[1].Predictions) != 4 {
		t.Fatalf("want 4 predictions for each of the image twice, got %+v", got)
	}
	for i, a := range got[0].Predictions {
		b := got[1].Predictions[i]
		if a.Index != b.Index || a.Rank != b.Rank || math.Abs(float64(a.Probability-b.Probability)) > batchRowTolerance*float64(a.Probability) {
			t.Errorf("prediction %d differs between the two copies of the image: %+v and %+v", i, a, b)
		}
	}
	classes := imagenet.Classes()
	var sum float32
	for i, p := range got[0].Predictions {
		c := classes[p.Index]
		if p.Rank != i+1 || p.ID != c.ID || p.Name != c.Name || !(p.Probability > 0 && p.Probability <= 1) {
			t.Errorf("prediction %d: %+v (class %+v)", i, p, c)
		}
		if i > 0 && p.Probability > got[0].Predictions[i-1].Probability {
			t.Errorf("prediction %d is more probable than the one before", i)
		}
		sum += p.Probability
	}
	if sum > 1.00001 {
		t.Errorf("top-4 probabilities sum to %v", sum)
	}
	code, text, _ := neuralstyle("classify", "--model", model, "--device", "cpu", testImage)
	top := got[0].Predictions[0]
	if code != 0 || !strings.HasPrefix(text, testImage+"\n  1  "+top.Name) || strings.Count(text, "\n") != 6 {
		t.Errorf("text output:\n%s", text)
	}
}

// TestClassifyMatchesKeras runs the predict signature on the synthetic input the
// exporter recorded Keras' top 5 for.
func TestClassifyMatchesKeras(t *testing.T) {
	model := classifierModel(t)
	if err := kernels.Record(t.Name(), false, "our graph against Keras' on the same float32 operations: measured bound"); err != nil {
		t.Error(err)
	}
	raw, err := os.ReadFile(filepath.Join(model, metadataFile))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Check struct {
			Input string
			Top5  [][2]float64
		}
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Check.Input != "x[0, i, j, c] = (i + 2j + 3c) mod 256 - 128" || len(meta.Check.Top5) != 5 {
		t.Fatalf("unexpected check record %+v", meta.Check)
	}
	x := tfgraph.NewTensor(1, 224, 224, 3)
	for i := range 224 {
		for j := range 224 {
			for c := range 3 {
				x.Data[(i*224+j)*3+c] = float32((i+2*j+3*c)%256 - 128)
			}
		}
	}
	m, err := tfgraph.Load(model, &tfgraph.Options{DisableGPU: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	out, err := m.Run("predict", map[string]*tfgraph.Tensor{"images": x})
	if err != nil {
		t.Fatal(err)
	}
	top, err := imagenet.TopK(out["probabilities"].Data, 5)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i, want := range meta.Check.Top5 {
		worst = max(worst, math.Abs(float64(top[i].Probability)-want[1]))
		// The same float32 operations in another graph (ours against Keras'):
		// measured identical on an AVX-512 CPU run alone, up to 1.3e-6 apart on
		// an AMD Zen 3 (AVX2), where the two graphs' kernels round differently,
		// and up to 7.7e-6 on an Intel Xeon with AMX when the whole package's
		// tests ran beside other sessions' work (oneDNN split the sums
		// differently; identical in 8 runs of this test alone). 1.5e-5 leaves
		// room for that.
		if top[i].Index != int(want[0]) || math.Abs(float64(top[i].Probability)-want[1]) > 1.5e-5 {
			t.Errorf("rank %d: %d %.7f, Keras %d %.7f", i+1, top[i].Index, top[i].Probability, int(want[0]), want[1])
		}
	}
	t.Logf("top-5 probabilities at most %.2g from Keras'", worst)
}

func TestFeatures(t *testing.T) {
	model := classifierModel(t)
	dir := t.TempDir()
	tests := []struct {
		args  []string
		shape []int64
	}{
		{nil, []int64{1, 14, 14, 512}}, // the article's block4_pool at 224x224
		{[]string{"--layer", "block3_conv1", "--width", "96", "--height", "64"}, []int64{1, 16, 24, 256}},
		{[]string{"--layer", "block1_conv1", "--size", "5"}, []int64{1, 5, 5, 64}},
		{[]string{"--layer", "block5_pool", "--size", "32"}, []int64{1, 1, 1, 512}},
	}
	for i, tt := range tests {
		out := filepath.Join(dir, fmt.Sprintf("f%d.npy", i))
		args := append([]string{"features", "--model", model, "--device", "cpu", "--out", out}, tt.args...)
		code, stdout, errOut := neuralstyle(append(args, testImage)...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", tt.args, code, errOut)
			continue
		}
		info, err := os.Stat(out)
		if err != nil {
			t.Error(err)
			continue
		}
		n := int64(4)
		for _, d := range tt.shape {
			n *= d
		}
		// The header is 128 bytes for every shape here (internal/npy checks its
		// layout against numpy.save).
		if info.Size() != 128+n || !strings.Contains(stdout, fmt.Sprintf("shape %v float32", tt.shape)) {
			t.Errorf("%v: %d bytes, want %d; output %q", tt.args, info.Size(), 128+n, stdout)
		}
	}
	// Without --out the file is named after the image and the layer.
	wd, _ := os.Getwd()
	img, _ := filepath.Abs(testImage)
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	if code, _, errOut := neuralstyle("features", "--model", model, "--device", "cpu", "--layer", "block1_pool", img); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "chelsea.block1_pool.npy")); err != nil {
		t.Error(err)
	}
}

func TestClassifyAndFeaturesErrors(t *testing.T) {
	model := classifierModel(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.jpg")
	os.WriteFile(garbage, []byte("not an image"), 0o644)
	truncated := filepath.Join(dir, "truncated.jpg")
	jpg, _ := os.ReadFile(testImage)
	os.WriteFile(truncated, jpg[:len(jpg)/3], 0o644)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"classify", "--model", model, testImage, filepath.Join(dir, "absent.jpg")}, exitFailure,
			"neuralstyle: imagefile: decode " + filepath.Join(dir, "absent.jpg") + ": open "},
		{[]string{"classify", "--model", model, garbage}, exitFailure,
			"neuralstyle: imagefile: decode " + garbage + ": not a recognised image format"},
		{[]string{"features", "--model", model, truncated}, exitFailure, "neuralstyle: imagefile: decode " + truncated},
		{[]string{"classify", "--model", model}, exitUsage, "neuralstyle: classify needs at least one IMAGE\n"},
		{[]string{"classify", "--model", model, "--top", "0", testImage}, exitUsage, "--top must be 1 to 1000, not 0"},
		{[]string{"classify", "--model", model, "--resample", "fancy", testImage}, exitUsage, `unknown resampling filter "fancy"`},
		{[]string{"classify", "--model", filepath.Join(dir, "nope"), testImage}, exitFailure, "no classifier model at"},
		{[]string{"classify", "--model", tinyModel, testImage}, exitFailure, "has no neuralstyle.json"},
		{[]string{"features", "--model", model, "--layer", "fc1", testImage}, exitUsage,
			`neuralstyle: --layer "fc1": the model has no such layer; it has block1_conv1, block1_conv2, block1_pool, `},
		{[]string{"features", "--model", model, "--layer", "block5_pool", "--size", "31", testImage}, exitUsage,
			"--layer block5_pool is after 5 poolings and needs an image of at least 32x32, not 31x31"},
		{[]string{"features", "--model", model, "--width", "64", testImage}, exitUsage, "--width and --height go together"},
		{[]string{"features", "--model", model, testImage, testImage}, exitUsage, "features takes one IMAGE, got 2 arguments"},
		{[]string{"features", "--model", model, "--out", filepath.Join(dir, "no", "such", "dir.npy"), testImage},
			exitFailure, "--out " + filepath.Join(dir, "no", "such", "dir.npy") + ": folder " + filepath.Join(dir, "no", "such") + " does not exist"},
	}
	for _, tt := range tests {
		code, out, errOut := neuralstyle(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) || out != "" || strings.Count(errOut, "\n") != 1 {
			t.Errorf("neuralstyle %v: exit %d, stderr %q, stdout %q; want exit %d and one line with %q",
				tt.args, code, errOut, out, tt.code, tt.want)
		}
	}
}

// TestFeaturesSignatureRange: an index outside the layers fails in the graph,
// not by silently running switch_case's last branch.
func TestFeaturesSignatureRange(t *testing.T) {
	m, err := tfgraph.Load(classifierModel(t), &tfgraph.Options{DisableGPU: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	x := tfgraph.NewTensor(1, 8, 8, 3)
	for _, layer := range []float32{-1, 18, 2.5} {
		_, err := m.Run("features", map[string]*tfgraph.Tensor{"images": x, "layer": tfgraph.Scalar(layer)})
		if err == nil || !strings.Contains(err.Error(), "layer must be an integer index in [0, 18)") {
			t.Errorf("layer %v: error %v", layer, err)
		}
	}
}

func TestMnistCommand(t *testing.T) {
	model, err := testmodels.Build("mnist-linear-seed1", "-m", "savedmodel.mnist", "--model", "linear", "--out", "OUT", "--seed", "1")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := neuralstyle("mnist", "--model", model, "--steps", "300", "--json", "--device", "cpu", "--progress", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res mnistResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	// 300 steps of the linear model: measured 0.9063-0.9090 over seeds 1-3; the
	// defaults other than --steps come from the model's neuralstyle.json.
	if res.Model != "linear" || res.Steps != 300 || res.Batch != 100 || res.LearningRate != 0.5 ||
		res.Total != 10000 || !(res.TestAccuracy > 0.85) || res.ArticleAccuracy != 0.9205 {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(errOut, "mnist linear: 300 steps of batch 100, sgd learning rate 0.5, seed 1, 55000 training images") {
		t.Errorf("stderr %q", errOut)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"mnist"}, exitUsage, "mnist needs --model: one of linear, nn-zero, nn, convnet"},
		{[]string{"mnist", "--model", "resnet"}, exitUsage, `--model "resnet": not one of linear, nn-zero, nn, convnet, nor a directory`},
		{[]string{"mnist", "--model", "linear", "--models", t.TempDir()}, exitFailure, "no MNIST model at"},
		{[]string{"mnist", "--model", model, "--batch", "0"}, exitUsage, "--batch must be 1 or more"},
		{[]string{"mnist", "--model", model, "--seed", "16777216"}, exitUsage, "--seed must be at most 16777215"},
		{[]string{"mnist", "--model", tinyModel}, exitFailure, "has no neuralstyle.json"},
		{[]string{"mnist", "--model", model, "--data", t.TempDir()}, exitFailure, "train-images-idx3-ubyte.gz: no such file"},
	} {
		code, _, errOut := neuralstyle(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("neuralstyle %v: exit %d, stderr %q; want exit %d with %q", tt.args, code, errOut, tt.code, tt.want)
		}
	}
}
