package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// dirNames lists a folder, to catch temporary files left behind.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestWrite: a failing writer leaves the old file intact and no
// temporary file; a successful one replaces the file and keeps its mode.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.png")
	if err := os.WriteFile(p, []byte("old content"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk on fire")
	err := Write(p, func(w io.Writer) error {
		w.Write(bytes.Repeat([]byte("x"), 100000)) // more than the buffer: reaches the file
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), p) {
		t.Errorf("error %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old content" {
		t.Errorf("old file changed to %q", b[:min(20, len(b))])
	}
	if got := dirNames(t, dir); !cmp.Equal(got, []string{"out.png"}) {
		t.Errorf("folder holds %v after a failed write", got)
	}
	if err := Write(p, func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" || st.Mode().Perm() != 0o600 {
		t.Errorf("after replacing: %q, mode %v", b, st.Mode().Perm())
	}
	fresh := filepath.Join(dir, "fresh.png")
	if err := Write(fresh, func(w io.Writer) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("new file: %v, %v", st.Mode().Perm(), err)
	}
	// Failures before any data: a missing folder, a folder in the way.
	if err := Write(filepath.Join(dir, "missing", "a.png"), func(io.Writer) error { return nil }); err == nil {
		t.Error("wrote into a missing folder")
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(dir, "sub.png"), func(io.Writer) error { return nil }); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("over a folder: %v", err)
	}
	if got := dirNames(t, dir); !cmp.Equal(got, []string{"fresh.png", "out.png", "sub.png"}) {
		t.Errorf("folder holds %v", got)
	}
}
