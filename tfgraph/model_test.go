package tfgraph

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
)

// tinyModel is the SavedModel of scripts/vectors/make_tiny_model.py.
var tinyModel string

func TestMain(m *testing.M) {
	var err error
	if tinyModel, err = testmodels.Tiny(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func loadTiny(t testing.TB, opts *Options) *Model {
	t.Helper()
	m, err := Load(tinyModel, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestSignatures(t *testing.T) {
	m := loadTiny(t, nil)
	want := []Signature{
		{Name: "affine",
			Inputs:  []TensorSpec{{"w", "float32", []int64{}}, {"x", "float32", []int64{-1, 3}}},
			Outputs: []TensorSpec{{"total", "float32", []int64{}}, {"y", "float32", []int64{-1, 3}}}},
		{Name: "counts",
			Inputs:  []TensorSpec{{"n", "int32", []int64{2}}},
			Outputs: []TensorSpec{{"f", "float32", []int64{2}}}},
		{Name: "fixed",
			Inputs:  []TensorSpec{{"m", "float32", []int64{2, 2}}},
			Outputs: []TensorSpec{{"t", "float32", []int64{2, 2}}}},
		{Name: "image",
			Inputs:  []TensorSpec{{"image", "float32", []int64{1, -1, -1, 3}}},
			Outputs: []TensorSpec{{"doubled", "float32", []int64{1, -1, -1, 3}}, {"mean", "float32", []int64{}}}},
		{Name: "integer",
			Inputs:  []TensorSpec{{"x", "float32", []int64{}}},
			Outputs: []TensorSpec{{"i", "int64", []int64{}}}},
	}
	if diff := cmp.Diff(want, m.Signatures()); diff != "" {
		t.Errorf("Signatures() mismatch (-want +got):\n%s", diff)
	}
	s, err := m.Signature("image")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Inputs[0].String(); got != "image:float32[1,?,?,3]" {
		t.Errorf("TensorSpec.String() = %q", got)
	}
}

func TestRun(t *testing.T) {
	m := loadTiny(t, &Options{IntraOpThreads: 1, InterOpThreads: 1, DisableGPU: true})
	tests := []struct {
		sig  string
		in   map[string]*Tensor
		want map[string]*Tensor
	}{
		{"affine",
			map[string]*Tensor{"x": {Shape: []int64{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}, "w": Scalar(2)},
			map[string]*Tensor{"y": {Shape: []int64{2, 3}, Data: []float32{3, 5, 7, 9, 11, 13}}, "total": Scalar(48)}},
		{"affine", // an empty batch is a valid shape
			map[string]*Tensor{"x": {Shape: []int64{0, 3}, Data: []float32{}}, "w": Scalar(2)},
			map[string]*Tensor{"y": {Shape: []int64{0, 3}, Data: []float32{}}, "total": Scalar(0)}},
		{"fixed",
			map[string]*Tensor{"m": {Shape: []int64{2, 2}, Data: []float32{1, 2, 3, 4}}},
			map[string]*Tensor{"t": {Shape: []int64{2, 2}, Data: []float32{1, 3, 2, 4}}}},
		{"image",
			map[string]*Tensor{"image": {Shape: []int64{1, 1, 2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}},
			map[string]*Tensor{"doubled": {Shape: []int64{1, 1, 2, 3}, Data: []float32{2, 4, 6, 8, 10, 12}}, "mean": Scalar(3.5)}},
	}
	for _, tt := range tests {
		got, err := m.Run(tt.sig, tt.in)
		if err != nil {
			t.Errorf("Run(%q): %v", tt.sig, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Run(%q) mismatch (-want +got):\n%s", tt.sig, diff)
		}
	}
}

// TestRunLarge moves a 512x512 image through the model many times: every value
// must come back exactly doubled, and the C tensors are freed as it goes.
func TestRunLarge(t *testing.T) {
	m := loadTiny(t, nil)
	img := NewTensor(1, 512, 512, 3)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Data {
		img.Data[i] = r.Float32()*255 - 128
	}
	for range 20 {
		out, err := m.Run("image", map[string]*Tensor{"image": img})
		if err != nil {
			t.Fatal(err)
		}
		d := out["doubled"]
		if !cmp.Equal(d.Shape, img.Shape) {
			t.Fatalf("doubled has shape %v", d.Shape)
		}
		for i, v := range d.Data {
			if v != 2*img.Data[i] {
				t.Fatalf("doubled[%d] = %v, want %v", i, v, 2*img.Data[i])
			}
		}
	}
	if !layoutOK() {
		t.Error("graft's Tensor layout changed: tensors are no longer freed deterministically")
	}
}

func TestRunErrors(t *testing.T) {
	m := loadTiny(t, nil)
	x := &Tensor{Shape: []int64{1, 3}, Data: []float32{1, 2, 3}}
	tests := []struct {
		name string
		sig  string
		in   map[string]*Tensor
		want string
	}{
		{"unknown signature", "nope", nil,
			`has no signature "nope"; it has "affine", "counts", "fixed", "image", "integer"`},
		{"missing input", "affine", map[string]*Tensor{"x": x},
			`missing input "w"; the signature takes w:float32[], x:float32[?,3]`},
		{"unexpected input", "affine", map[string]*Tensor{"x": x, "w": Scalar(1), "z": Scalar(1)},
			`unexpected input "z"`},
		{"wrong rank", "affine", map[string]*Tensor{"x": {Shape: []int64{3}, Data: []float32{1, 2, 3}}, "w": Scalar(1)},
			`input "x": shape [3] does not fit the signature's [?,3]`},
		{"wrong fixed dim", "fixed", map[string]*Tensor{"m": {Shape: []int64{1, 4}, Data: []float32{1, 2, 3, 4}}},
			`input "m": shape [1 4] does not fit the signature's [2,2]`},
		{"data length", "affine", map[string]*Tensor{"x": {Shape: []int64{2, 3}, Data: []float32{1}}, "w": Scalar(1)},
			`input "x": shape [2 3] needs 6 values, got 1`},
		{"negative dim", "affine", map[string]*Tensor{"x": {Shape: []int64{-1, 3}, Data: nil}, "w": Scalar(1)},
			`negative dimension`},
		{"nil tensor", "affine", map[string]*Tensor{"x": nil, "w": Scalar(1)},
			`input "x" is nil`},
		{"int input", "counts", map[string]*Tensor{"n": {Shape: []int64{2}, Data: []float32{1, 2}}},
			`input "n" has dtype int32; tfgraph feeds float32 only`},
		{"int output", "integer", map[string]*Tensor{"x": Scalar(1)},
			`output "i": dtype int64; tfgraph returns float32 only`},
	}
	for _, tt := range tests {
		_, err := m.Run(tt.sig, tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Run error = %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	corrupt := filepath.Join(dir, "corrupt")
	os.Mkdir(corrupt, 0o755)
	os.WriteFile(filepath.Join(corrupt, "saved_model.pb"), []byte("\xff\xff\xff not a protocol buffer"), 0o644)
	noVars := filepath.Join(dir, "novars")
	os.Mkdir(noVars, 0o755)
	pb, err := os.ReadFile(filepath.Join(tinyModel, "saved_model.pb"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(noVars, "saved_model.pb"), pb, 0o644)

	tests := []struct {
		name string
		dir  string
		opts *Options
		want string
	}{
		{"missing", filepath.Join(dir, "nope"), nil, "no such directory"},
		{"file", file, nil, "not a directory"},
		{"empty dir", empty, nil, "not a SavedModel: no saved_model.pb in it"},
		{"corrupt", corrupt, nil, "saved_model.pb is not a SavedModel protocol buffer"},
		{"tags", tinyModel, &Options{Tags: []string{"train"}}, "no MetaGraph with tags {train}; it has {serve}"},
		{"no variables", noVars, nil, "incomplete SavedModel: its graph has variables but variables/variables.index is missing"},
		{"gpus", tinyModel, &Options{VisibleGPUs: "zero"}, `visible GPUs "zero"`},
		{"threads", tinyModel, &Options{IntraOpThreads: -1}, "thread counts must be"},
	}
	for _, tt := range tests {
		m, err := Load(tt.dir, tt.opts)
		if err == nil {
			m.Close()
			t.Errorf("%s: Load succeeded", tt.name)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Load error = %q, want it to contain %q", tt.name, err, tt.want)
		}
		if missing := tt.name == "missing"; errors.Is(err, ErrNoModel) != missing {
			t.Errorf("%s: errors.Is(%v, ErrNoModel) = %v, want %v", tt.name, err, !missing, missing)
		}
	}
}

func TestClose(t *testing.T) {
	m := loadTiny(t, nil)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err := m.Run("fixed", map[string]*Tensor{"m": NewTensor(2, 2)})
	if err == nil || !strings.Contains(err.Error(), "model is closed") {
		t.Errorf("Run after Close: %v", err)
	}
	if _, err := m.Devices(); err == nil {
		t.Error("Devices after Close succeeded")
	}
}

func TestDevices(t *testing.T) {
	m := loadTiny(t, &Options{DisableGPU: true})
	ds, err := m.Devices()
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) == 0 || ds[0].Type != "CPU" || !strings.HasSuffix(ds[0].Name, "device:CPU:0") {
		t.Errorf("Devices() = %+v, want CPU:0 first", ds)
	}
	for _, d := range ds {
		if d.Type == "GPU" {
			t.Errorf("DisableGPU set, yet the session sees %+v", d)
		}
	}
}

func TestVersion(t *testing.T) {
	if v := Version(); !strings.HasPrefix(v, "2.18.") {
		t.Errorf("Version() = %q; the build pins TensorFlow 2.18 to match graft v0.10.0", v)
	}
}

// BenchmarkRun512 is one signature call with a 512x512x3 image in and out: the
// data movement a style-transfer evaluation adds around the model's own work.
func BenchmarkRun512(b *testing.B) {
	m := loadTiny(b, nil)
	img := NewTensor(1, 512, 512, 3)
	in := map[string]*Tensor{"image": img}
	b.SetBytes(int64(2 * 4 * len(img.Data)))
	for b.Loop() {
		if _, err := m.Run("image", in); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleModel_Run() {
	m, err := Load(tinyModel, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()
	out, err := m.Run("affine", map[string]*Tensor{
		"x": {Shape: []int64{1, 3}, Data: []float32{1, 2, 3}},
		"w": Scalar(10),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out["y"].Data, out["total"].Data[0])
	// Output: [11 21 31] 63
}

// TestDeterministic: Options.Deterministic sets TF_DETERMINISTIC_OPS for
// TensorFlow to read, and refuses an environment that turns it off. (Whether
// a GPU then repeats its results is untested: no GPU runs TensorFlow here.)
func TestDeterministic(t *testing.T) {
	t.Setenv(DeterminismEnv, "0")
	if _, err := Load(tinyModel, &Options{Deterministic: true}); err == nil || !strings.Contains(err.Error(), DeterminismEnv+`="0"`) {
		t.Errorf("Load with %s=0: error %v, want one naming the variable", DeterminismEnv, err)
	}
	os.Unsetenv(DeterminismEnv)
	m, err := Load(tinyModel, &Options{Deterministic: true, DisableGPU: true})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if v := os.Getenv(DeterminismEnv); v != "1" {
		t.Errorf("%s=%q after Load, want 1", DeterminismEnv, v)
	}
}
