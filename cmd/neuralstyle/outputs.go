package main

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

// outputSet is the files a command writes. Every target is checked before any model
// loads (check), everything is written to temporary files beside its target as the
// run goes (stage), and the temporary files are renamed into place together only
// when all are written (commit), so a failed run, a full disk or a second Ctrl-C
// never replaces an existing file with worse or partial work.
type outputSet struct {
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

// namedPath is a file named by a flag.
type namedPath struct{ flag, path string }

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
	flag, tmp, path string
}

// input records a file the command reads, which no output may be.
func (s *outputSet) input(flag, path string) {
	if path != "" {
		s.inputs = append(s.inputs, namedPath{flag, path})
	}
}

// file adds an output file; exts, when given, are the extensions it may have.
func (s *outputSet) file(flag, path string, exts ...string) {
	if path != "" {
		s.targets = append(s.targets, &outputTarget{namedPath: namedPath{flag, path}, exts: exts})
	}
}

// folder adds an output folder, created by check when missing, which receives
// files whose names match pattern (filepath.Match).
func (s *outputSet) folder(flag, path, pattern string) {
	if path != "" {
		s.targets = append(s.targets, &outputTarget{namedPath: namedPath{flag, path}, folder: true, pattern: pattern})
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

// check verifies every target before the work: a file target is absent or a
// regular file, with a writable folder (a temporary file is created and removed
// there); a folder target is a folder or can be made one; no target is an input
// or another target. Errors name the flag.
func (s *outputSet) check() error {
	// Names first, before check creates any folder.
	for i, t := range s.targets {
		t.resolved = resolve(t.path)
		for _, in := range s.inputs {
			if samePath(t.resolved, in.path) {
				return usagef("%s %s is the same file as %s %s: writing it would destroy the input; give another name",
					t.flag, t.path, in.flag, in.path)
			}
		}
		for _, u := range s.targets[:i] {
			if samePath(t.resolved, u.resolved) {
				return usagef("%s %s is the same file as %s %s: give each output its own name", t.flag, t.path, u.flag, u.path)
			}
			if u.receives(t.resolved) || t.receives(u.resolved) {
				return usagef("%s %s and %s %s: the folder receives a file of that name; give another name", u.flag, u.path, t.flag, t.path)
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
			return usagef("%s %s: cannot write %q files; use %s", t.flag, t.path, ext, strings.Join(t.exts, " or "))
		}
	}
	if t.folder {
		return t.checkFolder()
	}
	st, err := os.Stat(t.path)
	switch {
	case err == nil && st.IsDir():
		return usagef("%s %s is a folder; give a file name", t.flag, t.path)
	case err == nil && !st.Mode().IsRegular():
		return usagef("%s %s is not a regular file (%s); give a file name", t.flag, t.path, fileKind(st.Mode()))
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s %s: %v", t.flag, t.path, pathless(err))
	}
	dir := filepath.Dir(t.path)
	if err := writableFolder(dir); err != nil {
		return fmt.Errorf("%s %s: %v", t.flag, t.path, err)
	}
	return nil
}

func (t *outputTarget) checkFolder() error {
	st, err := os.Stat(t.path)
	switch {
	case err == nil && !st.IsDir():
		return usagef("%s %s is a file, not a folder; give a folder", t.flag, t.path)
	case errors.Is(err, os.ErrNotExist):
		parent := filepath.Dir(filepath.Clean(t.path))
		if pst, perr := os.Stat(parent); perr != nil || !pst.IsDir() {
			return fmt.Errorf("%s %s: folder %s does not exist", t.flag, t.path, parent)
		}
		if err := os.Mkdir(t.path, 0o755); err != nil {
			return fmt.Errorf("%s %s: cannot create the folder: %v", t.flag, t.path, pathless(err))
		}
	case err != nil:
		return fmt.Errorf("%s %s: %v", t.flag, t.path, pathless(err))
	}
	if err := writableFolder(t.path); err != nil {
		return fmt.Errorf("%s %s: %v", t.flag, t.path, err)
	}
	return nil
}

// writableFolder checks that dir exists and that a file can be created in it.
func writableFolder(dir string) error {
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

// samePath reports whether a and b name one file: by identity when both exist
// (hard links, bind mounts), by resolved name otherwise.
func samePath(a, b string) bool {
	sa, ea := os.Stat(a)
	sb, eb := os.Stat(b)
	if ea == nil && eb == nil {
		return os.SameFile(sa, sb)
	}
	return resolve(a) == resolve(b)
}

// target returns the target of flag.
func (s *outputSet) target(flag string) *outputTarget {
	for _, t := range s.targets {
		if t.flag == flag {
			return t
		}
	}
	panic("outputs: no target " + flag)
}

// stage writes the output of flag (for a folder target: the file name inside it)
// through write into a temporary file beside its place, flushed to disk. It
// becomes the output at commit.
func (s *outputSet) stage(flag, name string, write func(io.Writer) error) error {
	t := s.target(flag)
	path := t.resolved
	if t.folder {
		path = filepath.Join(t.resolved, name)
	}
	s.mu.Lock()
	if s.state != staging {
		s.mu.Unlock()
		return fmt.Errorf("%s %s: outputs already written or discarded", flag, path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("%s: write %s: %v", flag, path, pathless(err))
	}
	// Registered before any byte is written, so that discard (a second
	// interrupt) removes it whatever happens next.
	s.staged = append(s.staged, stagedFile{flag: flag, tmp: f.Name(), path: path})
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
		return fmt.Errorf("%s: write %s: %v", flag, path, pathless(err))
	}
	return nil
}

// commit renames every staged file into place, keeping the mode of a file it
// replaces. The renames are in one folder each and take microseconds; should one
// fail, the rest are discarded and the error says which outputs were replaced.
// It holds the lock throughout, so a second interrupt waits for it to finish.
func (s *outputSet) commit() error {
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
			return fmt.Errorf("%s: write %s: %v; outputs written before it: %s", f.flag, f.path, pathless(err), written)
		}
		s.committed = append(s.committed, f.path)
	}
	return nil
}

// discard removes every staged file; existing outputs stay as they were. It
// returns what happened, for a message: when a commit came first, what it wrote.
func (s *outputSet) discard() string {
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

// paths lists the committed outputs for messages.
func (s *outputSet) paths() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.committed, ", ")
}

// checkSweepOut checks sweep's --out folder: a folder or absent; when the sweep
// will write (write), it is created if missing and must be writable.
func checkSweepOut(dir string, write bool) error {
	if dir == "" {
		return nil
	}
	if !write {
		if st, err := os.Stat(dir); err == nil && !st.IsDir() {
			return usagef("--out %s is a file, not a folder; give the sweep's folder", dir)
		}
		return nil
	}
	outs := &outputSet{}
	outs.folder("--out", dir, "*")
	return outs.check()
}
