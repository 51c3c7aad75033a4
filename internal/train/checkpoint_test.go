package train

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func testCheckpoint() *Checkpoint {
	return &Checkpoint{
		Header: Header{GraphFormat: GraphFormat, Network: "johnson2016-instancenorm", Width: 1, StateSize: 6, Step: 3,
			Settings: DefaultSettings(), Style: Source{Path: "p.jpg", SHA256: "ab"}, Photos: Source{Path: "d", Count: 2, SHA256: "cd"}},
		State: []float32{1, -2, 3.5, 0, float32(1e-30), 7},
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ck")
	c := testCheckpoint()
	if err := WriteCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Format = CheckpointFormat
	if got.Header != c.Header || !slices.Equal(got.State, c.State) {
		t.Errorf("read back %+v, want %+v", got, c)
	}
}

// TestCheckpointDamaged: every kind of damage is reported as ErrCheckpoint,
// naming the file.
func TestCheckpointDamaged(t *testing.T) {
	var good bytes.Buffer
	if err := testCheckpoint().Encode(&good); err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(good.Bytes())
		b[i] ^= 1
		return b
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "does not start"},
		{"a PNG", []byte("\x89PNG\r\n\x1a\n...."), "does not start"},
		{"cut short", good.Bytes()[:good.Len()-10], "checksum"},
		{"a bit of the state flipped", flip(good.Len() - 40), "checksum"},
		{"a bit of the header flipped", flip(30), "checksum"},
		{"magic only", []byte("NSFASTNET-CKPT\n"), "cut short"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ck")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadCheckpoint(path)
			if !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("got %v, want ErrCheckpoint naming %s and saying %q", err, path, tc.want)
			}
		})
	}
	if _, err := ReadCheckpoint(filepath.Join(t.TempDir(), "none")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: got %v, want ErrNotExist", err)
	}
}

func TestCheckpointOtherVersion(t *testing.T) {
	c := testCheckpoint()
	var b bytes.Buffer
	if err := c.Encode(&b); err != nil {
		t.Fatal(err)
	}
	// Rewrite the header's format and the checksum, as a later version would write.
	data := bytes.Replace(b.Bytes(), []byte(CheckpointFormat), []byte("neuralstyle-fastnet-checkpoint/9"), 1)
	var re bytes.Buffer
	raw := data[:len(data)-32]
	re.Write(raw)
	sum := sha256.Sum256(raw)
	re.Write(sum[:])
	path := filepath.Join(t.TempDir(), "ck")
	if err := os.WriteFile(path, re.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCheckpoint(path); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "checkpoint/9") {
		t.Errorf("got %v, want a refusal naming the format", err)
	}
}

func TestCheckpointCheck(t *testing.T) {
	var m Meta
	m.Format, m.Network, m.Width, m.Parameters, m.StateSize = GraphFormat, "johnson2016-instancenorm", 1, 1, 6
	if err := testCheckpoint().Check(m); err != nil {
		t.Errorf("its own network: %v", err)
	}
	for _, edit := range []func(*Meta){
		func(m *Meta) { m.Width = 32 },
		func(m *Meta) { m.Network = "other" },
		func(m *Meta) { m.Format = "neuralstyle-fastnet-train/2" },
		func(m *Meta) { m.StateSize = 9 },
	} {
		mm := m
		edit(&mm)
		if err := testCheckpoint().Check(mm); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("against %+v: got %v, want ErrCheckpoint", mm, err)
		}
	}
}

// TestWriteCheckpointDiskFull: a write that fails part of the way leaves the
// previous checkpoint as it was, and no temporary file.
func TestWriteCheckpointDiskFull(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ck")
	first := testCheckpoint()
	if err := WriteCheckpoint(path, first); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	second := testCheckpoint()
	second.Step = 9
	for _, limit := range []int{0, 10, 100, len(before) - 1} {
		err := writeCheckpoint(path, second, func(w io.Writer) io.Writer { return &fullDisk{w, limit} })
		if !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("limit %d: got %v, want ENOSPC", limit, err)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Errorf("limit %d: the previous checkpoint changed", limit)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 1 {
			t.Errorf("limit %d: %d files in the folder, want 1", limit, len(entries))
		}
	}
}
