// Package outputs writes the files of one run together or not at all: every
// target is checked before the work (a writable folder, an allowed extension, not
// one of the inputs nor another target), files are staged beside their targets as
// the run goes, and renamed into place together at the end. A failed run, a full
// disk or a second interrupt never replaces an existing file with worse or
// partial work. atomicfile writes one file at a time; a Set is the commit of many.
package outputs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Set is the files a command writes. Every target is checked before any model
// loads (Check), everything is written to temporary files beside its target as the
// run goes (Stage), and the temporary files are renamed into place together only
// when all are written (Commit), so a failed run, a full disk or a second Ctrl-C
// never replaces an existing file with worse or partial work.
type Set struct {
	inputs  []namedPath
	targets []*outputTarget

	mu        sync.Mutex
	staged    []stagedFile
	state     outputState
	committed []string // targets renamed into place, in order
}

type outputState int

const (
	staging outputState = iota
	done                // committed or discarded
)

// namedPath is a file and the label messages name it by (a flag, a form field).
type namedPath struct{ label, path string }

// outputTarget is one output: a file, or a folder that receives files.
type outputTarget struct {
	namedPath
	exts   []string // allowed extensions of a file; none means any
	folder bool
	// pattern matches the names a folder target receives.
	pattern string
	// resolved is the absolute path with symbolic links in its existing part
	// resolved: where the data really goes.
	resolved string
}

// stagedFile is a written temporary file and the path it becomes.
type stagedFile struct {
	label, tmp, path string
}

// Input records a file the command reads, which no output may be.
func (s *Set) Input(label, path string) {
	if path != "" {
		s.inputs = append(s.inputs, namedPath{label, path})
	}
}

// File adds an output file; exts, when given, are the extensions it may have.
func (s *Set) File(label, path string, exts ...string) {
	if path != "" {
		s.targets = append(s.targets, &outputTarget{namedPath: namedPath{label, path}, exts: exts})
	}
}

// Folder adds an output folder, created by Check when missing, which receives
// files whose names match pattern (filepath.Match).
func (s *Set) Folder(label, path, pattern string) {
	if path != "" {
		s.targets = append(s.targets, &outputTarget{namedPath: namedPath{label, path}, folder: true, pattern: pattern})
	}
}

// receives reports whether t is a folder that will write the file path.
func (t *outputTarget) receives(path string) bool {
	if !t.folder || filepath.Dir(path) != t.resolved {
		return false
	}
	ok, _ := filepath.Match(t.pattern, filepath.Base(path))
	return ok
}

// Check verifies every target before the work: a file target is absent or a
// regular file, with a writable folder (a temporary file is created and removed
// there); a folder target is a folder or can be made one; no target is an input
// or another target. Errors name the label; a *NameError is a name to change.
func (s *Set) Check() error {
	// Names first, before Check creates any folder.
	for i, t := range s.targets {
		t.resolved = resolve(t.path)
		for _, in := range s.inputs {
			if SamePath(t.resolved, in.path) {
				return namef("%s %s is the same file as %s %s: writing it would destroy the input; give another name",
					t.label, t.path, in.label, in.path)
			}
		}
		for _, u := range s.targets[:i] {
			if SamePath(t.resolved, u.resolved) {
				return namef("%s %s is the same file as %s %s: give each output its own name", t.label, t.path, u.label, u.path)
			}
			if u.receives(t.resolved) || t.receives(u.resolved) {
				return namef("%s %s and %s %s: the folder receives a file of that name; give another name", u.label, u.path, t.label, t.path)
			}
		}
	}
	for _, t := range s.targets {
		if err := t.check(); err != nil {
			return err
		}
	}
	return nil
}

func (t *outputTarget) check() error {
	if len(t.exts) > 0 {
		ext := strings.ToLower(filepath.Ext(t.path))
		if !slices.Contains(t.exts, ext) {
			return namef("%s %s: cannot write %q files; use %s", t.label, t.path, ext, strings.Join(t.exts, " or "))
		}
	}
	if t.folder {
		return t.checkFolder()
	}
	st, err := os.Stat(t.path)
	switch {
	case err == nil && st.IsDir():
		return namef("%s %s is a folder; give a file name", t.label, t.path)
	case err == nil && !st.Mode().IsRegular():
		return namef("%s %s is not a regular file (%s); give a file name", t.label, t.path, fileKind(st.Mode()))
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s %s: %v", t.label, t.path, pathless(err))
	}
	dir := filepath.Dir(t.path)
	if err := WritableFolder(dir); err != nil {
		return fmt.Errorf("%s %s: %v", t.label, t.path, err)
	}
	return nil
}

func (t *outputTarget) checkFolder() error {
	st, err := os.Stat(t.path)
	switch {
	case err == nil && !st.IsDir():
		return namef("%s %s is a file, not a folder; give a folder", t.label, t.path)
	case errors.Is(err, os.ErrNotExist):
		parent := filepath.Dir(filepath.Clean(t.path))
		if pst, perr := os.Stat(parent); perr != nil || !pst.IsDir() {
			return fmt.Errorf("%s %s: folder %s does not exist", t.label, t.path, parent)
		}
		if err := os.Mkdir(t.path, 0o755); err != nil {
			return fmt.Errorf("%s %s: cannot create the folder: %v", t.label, t.path, pathless(err))
		}
	case err != nil:
		return fmt.Errorf("%s %s: %v", t.label, t.path, pathless(err))
	}
	if err := WritableFolder(t.path); err != nil {
		return fmt.Errorf("%s %s: %v", t.label, t.path, err)
	}
	return nil
}

// WritableFolder checks that dir exists and that a file can be created in it.
func WritableFolder(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("folder %s does not exist", dir)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	f, err := os.CreateTemp(dir, ".neuralstyle-check-*")
	if err != nil {
		return fmt.Errorf("cannot write in folder %s: %v", dir, pathless(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// pathless drops the path an *os.PathError repeats, since messages name it already.
func pathless(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// resolve returns path made absolute, with symbolic links resolved in its
// longest existing prefix, so that two names of one place compare equal.
func resolve(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	rest := ""
	for p := abs; ; p = filepath.Dir(p) {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return filepath.Join(r, rest)
		}
		if p == filepath.Dir(p) {
			return abs
		}
		rest = filepath.Join(filepath.Base(p), rest)
	}
}

// SamePath reports whether a and b name one file: by identity when both exist
// (hard links, bind mounts), by resolved name otherwise.
func SamePath(a, b string) bool {
	sa, ea := os.Stat(a)
	sb, eb := os.Stat(b)
	if ea == nil && eb == nil {
		return os.SameFile(sa, sb)
	}
	return resolve(a) == resolve(b)
}

// target returns the target of label.
func (s *Set) target(label string) *outputTarget {
	for _, t := range s.targets {
		if t.label == label {
			return t
		}
	}
	panic("outputs: no target " + label)
}

// Stage writes the output of label (for a folder target: the file name inside it)
// through write into a temporary file beside its place, flushed to disk. It
// becomes the output at Commit.
func (s *Set) Stage(label, name string, write func(io.Writer) error) error {
	t := s.target(label)
	path := t.resolved
	if t.folder {
		path = filepath.Join(t.resolved, name)
	}
	s.mu.Lock()
	if s.state != staging {
		s.mu.Unlock()
		return fmt.Errorf("%s %s: outputs already written or discarded", label, path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("%s: write %s: %v", label, path, pathless(err))
	}
	// Registered before any byte is written, so that Discard (a second
	// interrupt) removes it whatever happens next.
	s.staged = append(s.staged, stagedFile{label: label, tmp: f.Name(), path: path})
	s.mu.Unlock()

	bw := bufio.NewWriterSize(f, 1<<16)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: write %s: %v", label, path, pathless(err))
	}
	return nil
}

// Commit renames every staged file into place, keeping the mode of a file it
// replaces. The renames are in one folder each and take microseconds; should one
// fail, the rest are discarded and the error says which outputs were replaced.
// It holds the lock throughout, so a second interrupt waits for it to finish.
func (s *Set) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != staging {
		return errors.New("outputs already written or discarded")
	}
	s.state = done
	for i, f := range s.staged {
		mode := os.FileMode(0o644)
		if st, err := os.Stat(f.path); err == nil {
			mode = st.Mode().Perm()
		}
		err := os.Chmod(f.tmp, mode)
		if err == nil {
			err = os.Rename(f.tmp, f.path)
		}
		if err != nil {
			for _, g := range s.staged[i:] {
				os.Remove(g.tmp)
			}
			written := "none"
			if len(s.committed) > 0 {
				written = strings.Join(s.committed, ", ")
			}
			return fmt.Errorf("%s: write %s: %v; outputs written before it: %s", f.label, f.path, pathless(err), written)
		}
		s.committed = append(s.committed, f.path)
	}
	return nil
}

// Discard removes every staged file; existing outputs stay as they were. It
// returns what happened, for a message: when a commit came first, what it wrote.
func (s *Set) Discard() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == done && len(s.committed) > 0 {
		return "the outputs were already written: " + strings.Join(s.committed, ", ")
	}
	for _, f := range s.staged {
		os.Remove(f.tmp)
	}
	s.staged = nil
	s.state = done
	return "wrote nothing; existing files are as they were"
}

// Paths lists the committed outputs for messages.
func (s *Set) Paths() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.committed, ", ")
}

// A NameError is a target named so that it cannot be written (a clash with an
// input or another target, an extension that cannot be written, a folder where
// a file is wanted): the person must give another name. Other errors of Check
// are the machine's (a folder that does not exist or cannot be written).
type NameError struct{ Err error }

func (e *NameError) Error() string { return e.Err.Error() }
func (e *NameError) Unwrap() error { return e.Err }

func namef(format string, args ...any) error { return &NameError{fmt.Errorf(format, args...)} }
