package tfgraph

import (
	"errors"
	"fmt"
	"strings"
)

// ErrOutOfMemory marks a TensorFlow allocation that failed: a smaller image or a
// machine with more memory is the remedy, not a bug report.
var ErrOutOfMemory = errors.New("out of memory")

// ErrNoModel marks a model directory that does not exist, so that a front end
// can say how its people get one.
var ErrNoModel = errors.New("no such directory")

// ErrDamagedVariables marks a SavedModel whose variables/ files TensorFlow could
// not restore (truncated, corrupt, or from another export).
var ErrDamagedVariables = errors.New("the model's variables are damaged: export it again")

// restoreFailures are what TensorFlow says when a variables/ file is truncated
// or corrupt; it adds the RestoreV2 node it was running. Measured with a copy of
// the test model whose data shard was cut in half (the first), overwritten in
// the middle (the second), whose string tensor's lengths were overwritten (the
// third: TestInspectDamagedVariables) and whose index was cut short (the fourth).
var restoreFailures = []string{
	"Read less bytes than requested",
	"Checksum does not match",
	"length checksum does not match",
	"too short to be an sstable",
	"Data loss",
	"DATA_LOSS",
}

// explainLoad rewrites an error of TensorFlow's LoadSavedModel.
func explainLoad(dir string, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "RestoreV2") || strings.Contains(msg, "TensorBundle") {
		for _, f := range restoreFailures {
			if strings.Contains(msg, f) {
				return fmt.Errorf("tfgraph: load %s: %w (TensorFlow: %s)", dir, ErrDamagedVariables, firstLine(msg))
			}
		}
	}
	if isOOM(msg) {
		return fmt.Errorf("tfgraph: load %s: %w (TensorFlow: %s)", dir, ErrOutOfMemory, firstLine(msg))
	}
	return fmt.Errorf("tfgraph: load %s: %s", dir, firstLine(msg))
}

// explainRun rewrites an error of a session run.
func explainRun(signature string, err error) error {
	msg := err.Error()
	if isOOM(msg) {
		return fmt.Errorf("tfgraph: run %q: %w: TensorFlow could not allocate memory (%s); try a smaller image",
			signature, ErrOutOfMemory, firstLine(msg))
	}
	return fmt.Errorf("tfgraph: run %q: %s", signature, firstLine(msg))
}

// isOOM recognises TensorFlow's RESOURCE_EXHAUSTED allocation failures ("OOM
// when allocating tensor with shape ...", and the GPU allocator's wording).
func isOOM(msg string) bool {
	for _, s := range []string{"OOM when allocating", "Out of memory", "out of memory", "failed to allocate", "ResourceExhausted", "RESOURCE_EXHAUSTED"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
