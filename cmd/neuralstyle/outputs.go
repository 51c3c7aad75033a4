package main

import (
	"errors"
	"os"

	"github.com/neuralstyle/neuralstyle/internal/outputs"
)

// checkOutputs checks a command's outputs before any model loads; a name the
// person must change is a usage error (exit code 2).
func checkOutputs(outs *outputs.Set) error {
	return nameError(outs.Check())
}

// nameError is err, a usage error when it is a name to change (*outputs.NameError).
func nameError(err error) error {
	var ne *outputs.NameError
	if errors.As(err, &ne) {
		return usageError{err}
	}
	return err
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
	outs := &outputs.Set{}
	outs.Folder("--out", dir, "*")
	return checkOutputs(outs)
}

// pathless drops the path an *os.PathError repeats, since messages name it already.
func pathless(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
