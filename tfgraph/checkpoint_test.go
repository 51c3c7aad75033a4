package tfgraph

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// variablesFile names the files of a SavedModel's tensor bundle.
func variablesFile(dir, name string) string { return filepath.Join(dir, "variables", name) }

const (
	indexName = "variables.index"
	dataName  = "variables.data-00000-of-00001"
)

// TestInspectAgreesWithLoad: for the tiny model and the random-weights style
// model, Inspect finds the signatures Load does, and devices that include the
// CPU, without an error from the check of their variables.
func TestInspectAgreesWithLoad(t *testing.T) {
	for _, dir := range []string{tinyModel, vggModelDir(t)} {
		got, err := Inspect(dir, &Options{DisableGPU: true})
		if err != nil {
			t.Fatalf("Inspect(%s): %v", dir, err)
		}
		m, err := Load(dir, &Options{DisableGPU: true})
		if err != nil {
			t.Fatal(err)
		}
		want := m.Signatures()
		devices, err := m.Devices()
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got.Signatures); diff != "" {
			t.Errorf("%s: Inspect's signatures differ from Load's (-load +inspect):\n%s", dir, diff)
		}
		if diff := cmp.Diff(devices, got.Devices); diff != "" {
			t.Errorf("%s: Inspect's devices differ from Load's (-load +inspect):\n%s", dir, diff)
		}
	}
}

// TestVerifyCheckpointEveryTensor: every tensor of the style model's bundle
// (26 float32 weights and the string tensor of the object graph) passes, and
// a byte flipped in the middle of any one of them is caught, naming it.
func TestVerifyCheckpointEveryTensor(t *testing.T) {
	src := vggModelDir(t)
	dir := t.TempDir()
	copyFile(t, variablesFile(src, indexName), variablesFile(dir, indexName))
	copyFile(t, variablesFile(src, dataName), variablesFile(dir, dataName))
	prefix := variablesFile(dir, "variables")
	if err := verifyCheckpoint(dir, prefix); err != nil {
		t.Fatalf("the style model's own variables: %v", err)
	}
	_, tensors, err := readBundleIndex(prefix + ".index")
	if err != nil {
		t.Fatal(err)
	}
	if len(tensors) != 27 {
		t.Errorf("%d tensors in the style model's bundle, want 27 (VGG16's 13 kernels and 13 biases, and the object graph)", len(tensors))
	}
	data := prefix + ".data-00000-of-00001"
	for _, tensor := range tensors {
		at := tensor.entry.GetOffset() + tensor.entry.GetSize()/2
		flipByte(t, data, at)
		err := verifyCheckpoint(dir, prefix)
		flipByte(t, data, at)
		want := `variables/variables.data-00000-of-00001: tensor "` + tensor.name + `"`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("byte %d flipped (in %s): got %v, want an error with %q", at, tensor.name, err, want)
		}
	}
}

// TestInspectDamagedVariables damages a copy of the tiny model's variables in
// each way and wants Inspect to name the file (and the tensor, where one is
// damaged), as ErrDamagedVariables. TensorFlow's restore (Load) must refuse the
// same copy, so Inspect is no stricter than the restore it replaces; restore is
// what Load says (TensorFlow's words, measured here).
func TestInspectDamagedVariables(t *testing.T) {
	// The tiny model's bundle: bias (float32, bytes 0 to 4 of the data shard)
	// and _CHECKPOINTABLE_OBJECT_GRAPH (a string, bytes 4 to 356).
	tests := []struct {
		name    string
		damage  func(t *testing.T, dir string)
		want    []string
		damaged bool // errors.Is ErrDamagedVariables
		restore string
	}{
		{"data truncated", func(t *testing.T, dir string) { truncateHalf(t, variablesFile(dir, dataName)) },
			[]string{"variables/variables.data-00000-of-00001: truncated: 178 bytes", `"_CHECKPOINTABLE_OBJECT_GRAPH" ends at byte 356`}, true, "the model's variables are damaged"},
		{"float32 byte flipped", func(t *testing.T, dir string) { flipByte(t, variablesFile(dir, dataName), 1) },
			[]string{`variables/variables.data-00000-of-00001: tensor "bias/.ATTRIBUTES/VARIABLE_VALUE" (bytes 0 to 4): checksum`}, true, "the model's variables are damaged"},
		{"string length flipped", func(t *testing.T, dir string) { flipByte(t, variablesFile(dir, dataName), 4) },
			[]string{`variables/variables.data-00000-of-00001: tensor "_CHECKPOINTABLE_OBJECT_GRAPH"`}, true, "the model's variables are damaged"},
		{"string byte flipped", func(t *testing.T, dir string) { flipByte(t, variablesFile(dir, dataName), 200) },
			[]string{`variables/variables.data-00000-of-00001: tensor "_CHECKPOINTABLE_OBJECT_GRAPH" (bytes 4 to 356): checksum`}, true, "the model's variables are damaged"},
		{"data shard missing", func(t *testing.T, dir string) { must(t, os.Remove(variablesFile(dir, dataName))) },
			[]string{"variables/variables.data-00000-of-00001: missing"}, true, "variables.data-00000-of-00001; No such file or directory"},
		{"index byte flipped", func(t *testing.T, dir string) { flipByte(t, variablesFile(dir, indexName), 10) },
			[]string{"variables/variables.index: data block at byte 0: checksum"}, true, "block checksum mismatch"},
		{"index truncated", func(t *testing.T, dir string) { truncateHalf(t, variablesFile(dir, indexName)) },
			[]string{"variables/variables.index: not a table"}, true, "not an sstable (bad magic number)"},
		{"index compressed", compressIndexBlock,
			[]string{"variables/variables.index: index block: compressed (type 1; 1 is Snappy)"}, true, "corrupted compressed block contents"},
		// Caught before the check of the variables, by readMetaGraph's
		// checkVariables (as in Load): kept so that Inspect goes on saying it.
		{"index missing", func(t *testing.T, dir string) { must(t, os.Remove(variablesFile(dir, indexName))) },
			[]string{"variables/variables.index is missing"}, false, "variables/variables.index is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "m")
			must(t, os.CopyFS(dir, os.DirFS(tinyModel)))
			tt.damage(t, dir)
			_, err := Inspect(dir, &Options{DisableGPU: true})
			if err == nil {
				t.Fatal("Inspect found nothing wrong")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Inspect: %v\nwant it to say %q", err, w)
				}
			}
			if got := errors.Is(err, ErrDamagedVariables); got != tt.damaged {
				t.Errorf("errors.Is(%v, ErrDamagedVariables) = %v, want %v", err, got, tt.damaged)
			}
			m, err := Load(dir, &Options{DisableGPU: true})
			if err == nil {
				m.Close()
				t.Fatal("Load found nothing wrong")
			}
			if !strings.Contains(err.Error(), tt.restore) {
				t.Errorf("Load: %v\nwant it to say %q", err, tt.restore)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	must(t, err)
	must(t, os.MkdirAll(filepath.Dir(to), 0o755))
	must(t, os.WriteFile(to, b, 0o644))
}

func flipByte(t *testing.T, path string, at int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	must(t, err)
	defer f.Close()
	b := make([]byte, 1)
	_, err = f.ReadAt(b, at)
	must(t, err)
	b[0] ^= 0x20
	_, err = f.WriteAt(b, at)
	must(t, err)
}

func truncateHalf(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	must(t, err)
	must(t, os.Truncate(path, st.Size()/2))
}

// compressIndexBlock marks the index table's index block as Snappy-compressed,
// with a trailer checksum that matches, so only the compression is wrong.
func compressIndexBlock(t *testing.T, dir string) {
	path := variablesFile(dir, indexName)
	raw, err := os.ReadFile(path)
	must(t, err)
	footer := raw[len(raw)-tableFooterLen:]
	_, n := readBlockHandle(footer)
	h, _ := readBlockHandle(footer[n:])
	raw[h.offset+h.size] = 1
	binary.LittleEndian.PutUint32(raw[h.offset+h.size+1:], maskCRC(crc32.Checksum(raw[h.offset:h.offset+h.size+1], castagnoli)))
	must(t, os.WriteFile(path, raw, 0o644))
}

// BenchmarkVerifyCheckpoint times the check of the style model's 58 MB of
// variables that Inspect makes (from the page cache, after the first run):
// docs/speed.md records it against inspect's wall time.
func BenchmarkVerifyCheckpoint(b *testing.B) {
	dir := vggModelDir(b)
	prefix := variablesFile(dir, "variables")
	st, err := os.Stat(prefix + ".data-00000-of-00001")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for b.Loop() {
		if err := verifyCheckpoint(dir, prefix); err != nil {
			b.Fatal(err)
		}
	}
}
