// Package testmodels builds the SavedModels that neuralstyle's Go tests run: small
// ones written by the project's Python exporters from weights the tests make
// themselves (random, seeded). A model is built once into build/testmodels and
// reused by later test runs; `make clean` removes it.
//
// The Python environment comes from `make deps` (.venv at the repository root, or
// $NEURALSTYLE_PYTHON). Tests fail, not skip, when it is missing.
package testmodels

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// Root returns the repository root: the nearest folder above the working directory
// that holds go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("testmodels: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Python returns the interpreter of the project's environment.
func Python() (string, error) {
	if p := os.Getenv("NEURALSTYLE_PYTHON"); p != "" {
		return p, nil
	}
	root, err := Root()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, ".venv", "bin", "python")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("testmodels: no Python environment at %s: run make deps", p)
	}
	return p, nil
}

var mu sync.Mutex

// Build returns build/testmodels/name, running the Python command args (relative
// to the repository root, with OUT standing for the output folder) when the model
// is not there yet. It writes to a temporary folder and renames it into place, so
// an interrupted build or two test binaries building at once never leave a partial
// model behind.
func Build(name string, args ...string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	root, err := Root()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "build", "testmodels", name)
	if _, err := os.Stat(filepath.Join(dir, "saved_model.pb")); err == nil {
		return dir, nil
	}
	py, err := Python()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), name+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "model")
	cmdArgs := make([]string, len(args))
	for i, a := range args {
		if a == "OUT" {
			a = out
		}
		cmdArgs[i] = a
	}
	cmd := exec.Command(py, cmdArgs...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "TF_CPP_MIN_LOG_LEVEL=2")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("testmodels: build %s: %v\n%s", name, err, msg)
	}
	if err := os.Rename(out, dir); err != nil {
		// Another test binary may have finished the same model first.
		if _, statErr := os.Stat(filepath.Join(dir, "saved_model.pb")); statErr == nil {
			return dir, nil
		}
		return "", fmt.Errorf("testmodels: build %s: %v", name, err)
	}
	return dir, nil
}

// Tiny is the small model of scripts/vectors/make_tiny_model.py, with float32, int32 and
// int64 signatures for tfgraph's tests.
func Tiny() (string, error) {
	return Build("tiny", "scripts/vectors/make_tiny_model.py", "OUT")
}

// VGG16 is the style model (savedmodel/export.py) with the random VGG16 weights of
// seed 1, the weights scripts/testdata/transfer was made with.
func VGG16() (string, error) {
	return Build("vgg16-random-seed1", "-m", "savedmodel.export", "--out", "OUT", "--weights", "random", "--seed", "1")
}

// FastNets returns the feed-forward networks' SavedModel that make fastnets
// exports: $NEURALSTYLE_FASTNETS (make test sets it), else the checkout's
// build/fastnets/model when it exists; "" when there is none, and tests that
// need it skip.
func FastNets() string {
	if dir := os.Getenv("NEURALSTYLE_FASTNETS"); dir != "" {
		return dir
	}
	root, err := Root()
	if err != nil {
		return ""
	}
	dir := filepath.Join(root, "build", "fastnets", "model")
	if _, err := os.Stat(filepath.Join(dir, "saved_model.pb")); err != nil {
		return ""
	}
	return dir
}
