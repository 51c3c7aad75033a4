package npy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
)

var shapes = [][]int64{{}, {0}, {1}, {5}, {2, 3}, {1, 14, 14, 512}, {2, 1, 3, 1}, {3, 0, 2}, {123456789, 0}}

// values fills an array so each element says where it is (and some are negative
// or not representable in fewer bits).
func values(n int64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)*0.37 - 1e3
	}
	return v
}

func size(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

// TestNumPy writes arrays with WriteFile and asks the project's NumPy to load
// them and to save the same arrays itself: the files must load with the right
// shape, dtype and values, and be byte for byte what numpy.save writes.
func TestNumPy(t *testing.T) {
	py, err := testmodels.Python()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var script strings.Builder
	script.WriteString("import numpy as np, sys\nbad = 0\n")
	for i, s := range shapes {
		path := filepath.Join(dir, fmt.Sprintf("a%d.npy", i))
		if err := WriteFile(path, s, values(size(s))); err != nil {
			t.Fatal(err)
		}
		pyShape := "("
		for _, d := range s {
			pyShape += fmt.Sprint(d) + ","
		}
		pyShape += ")"
		fmt.Fprintf(&script, `
a = np.load(%[1]q)
want = (np.arange(int(np.prod(%[2]s)), dtype=np.float32) * np.float32(0.37) - np.float32(1e3)).reshape(%[2]s)
if a.dtype != np.float32 or a.shape != %[2]s or not np.array_equal(a, want):
    print("a%[3]d: loaded", a.dtype, a.shape); bad = 1
np.save(%[4]q, want)
if open(%[1]q, "rb").read() != open(%[4]q, "rb").read():
    print("a%[3]d: bytes differ from numpy.save's"); bad = 1
`, path, pyShape, i, filepath.Join(dir, fmt.Sprintf("numpy%d.npy", i)))
	}
	script.WriteString("sys.exit(bad)\n")
	out, err := exec.Command(py, "-c", script.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy check: %v\n%s", err, out)
	}
}

func TestHeaderAlignment(t *testing.T) {
	for _, s := range shapes {
		h, err := Header(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(h)%64 != 0 || h[len(h)-1] != '\n' || !bytes.HasPrefix(h, []byte("\x93NUMPY\x01\x00")) {
			t.Errorf("shape %v: header %q", s, h)
		}
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		path  string
		shape []int64
		data  []float32
		want  string
	}{
		{filepath.Join(dir, "a.npy"), []int64{2, 2}, make([]float32, 3), "npy: shape [2 2] needs 4 values, got 3"},
		{filepath.Join(dir, "b.npy"), []int64{-1}, nil, "npy: shape [-1] has a negative dimension"},
		{filepath.Join(dir, "missing", "c.npy"), []int64{1}, []float32{1}, "no such file or directory"},
	}
	for _, tt := range tests {
		err := WriteFile(tt.path, tt.shape, tt.data)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("WriteFile(%s, %v) error %v, want %q", tt.path, tt.shape, err, tt.want)
		}
	}
	left, _ := os.ReadDir(dir)
	for _, e := range left {
		t.Errorf("a failed write left %s behind", e.Name())
	}
}

func ExampleWrite() {
	var b bytes.Buffer
	Write(&b, []int64{2}, []float32{1, 2})
	header := b.Bytes()[:b.Len()-8] // two float32 values follow the header
	fmt.Println(len(header), strings.TrimRight(string(header[10:]), " \n"))
	// Output:
	// 128 {'descr': '<f4', 'fortran_order': False, 'shape': (2,), }
}
