package outputs

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.png")
	if err := os.WriteFile(photo, []byte("input"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "frames")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		build func(*Set)
		want  string // "" for no error
		named bool   // a *NameError
	}{
		{"fresh file", func(s *Set) { s.File("--out", filepath.Join(dir, "new.png"), ".png") }, "", false},
		{"an input", func(s *Set) {
			s.Input("--content", photo)
			s.File("--out", photo)
		}, "is the same file as --content", true},
		{"two targets", func(s *Set) {
			s.File("--out", filepath.Join(dir, "a.png"))
			s.File("--gif", filepath.Join(dir, ".", "a.png"))
		}, "give each output its own name", true},
		{"folder receives the file", func(s *Set) {
			s.Folder("--frames", sub, "iteration_*.png")
			s.File("--out", filepath.Join(sub, "iteration_001.png"))
		}, "the folder receives a file of that name", true},
		{"extension", func(s *Set) { s.File("--out", filepath.Join(dir, "x.bmp"), ".png", ".jpg") }, `cannot write ".bmp" files; use .png or .jpg`, true},
		{"a folder as file", func(s *Set) { s.File("--out", sub) }, "is a folder; give a file name", true},
		{"a file as folder", func(s *Set) { s.Folder("--frames", photo, "*") }, "is a file, not a folder", true},
		{"missing folder", func(s *Set) { s.File("--out", filepath.Join(dir, "none", "x.png")) }, "does not exist", false},
		{"missing parent of a folder", func(s *Set) { s.Folder("--frames", filepath.Join(dir, "none", "f"), "*") }, "does not exist", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Set
			tc.build(&s)
			err := s.Check()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check: %v, want an error with %q", err, tc.want)
			}
			var ne *NameError
			if errors.As(err, &ne) != tc.named {
				t.Errorf("Check: %v: a NameError is %v, want %v", err, !tc.named, tc.named)
			}
		})
	}
}

func write(text string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, text); return err }
}

func TestCommitAndDiscard(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.txt")
	frames := filepath.Join(dir, "frames")
	if err := os.WriteFile(out, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	newSet := func() *Set {
		s := &Set{}
		s.File("--out", out)
		s.Folder("--frames", frames, "*.txt")
		if err := s.Check(); err != nil {
			t.Fatal(err)
		}
		return s
	}

	// Discarded: the old file stays, no temporary file is left.
	s := newSet()
	if err := s.Stage("--out", "", write("new")); err != nil {
		t.Fatal(err)
	}
	if got := s.Discard(); !strings.Contains(got, "wrote nothing") {
		t.Errorf("Discard = %q", got)
	}
	if b, _ := os.ReadFile(out); string(b) != "old" {
		t.Errorf("after Discard %s holds %q, want the old content", out, b)
	}
	if err := s.Stage("--out", "", write("late")); err == nil {
		t.Error("Stage after Discard: no error")
	}
	assertOnly(t, dir, "frames", "out.txt")

	// Committed: both written, the replaced file keeps its mode.
	s = newSet()
	if err := s.Stage("--out", "", write("new")); err != nil {
		t.Fatal(err)
	}
	if err := s.Stage("--frames", "1.txt", write("frame")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "old" {
		t.Errorf("before Commit %s holds %q, want the old content", out, b)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "new" {
		t.Errorf("%s holds %q, want new", out, b)
	}
	if b, _ := os.ReadFile(filepath.Join(frames, "1.txt")); string(b) != "frame" {
		t.Errorf("frame holds %q", b)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the replaced file's 0600", st.Mode().Perm())
	}
	if got := s.Discard(); !strings.Contains(got, "already written: "+out) {
		t.Errorf("Discard after Commit = %q", got)
	}
	if got := s.Paths(); got != out+", "+filepath.Join(frames, "1.txt") {
		t.Errorf("Paths = %q", got)
	}
	assertOnly(t, dir, "frames", "out.txt")
}

// assertOnly fails unless dir holds exactly names (no temporary files).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}
