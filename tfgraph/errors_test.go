package tfgraph

import (
	"errors"
	"strings"
	"testing"
)

// TestExplain holds TensorFlow's messages (copied from runs: the truncated and
// overwritten variables of a copy of the test model, and the allocator's
// RESOURCE_EXHAUSTED wording) to the errors they become.
func TestExplain(t *testing.T) {
	restore := "\n\t [[{{function_node __inference__traced_restore_24723}}{{node RestoreV2}}]]"
	tests := []struct {
		err    error
		load   bool
		is     error
		prefix string
	}{
		{errors.New("Read less bytes than requested" + restore), true, ErrDamagedVariables,
			"tfgraph: load m: the model's variables are damaged: export it again (TensorFlow: Read less bytes than requested)"},
		{errors.New("TensorBundle at m/variables/variables shard 0 (6912 bytes): Checksum does not match: stored 1 vs. calculated on the restored bytes 2" + restore), true, ErrDamagedVariables,
			"tfgraph: load m: the model's variables are damaged"},
		{errors.New("file is too short to be an sstable" + restore), true, ErrDamagedVariables, "tfgraph: load m: the model's variables are damaged"},
		{errors.New("some other failure\nmore lines"), true, nil, "tfgraph: load m: some other failure"},
		{errors.New("OOM when allocating tensor with shape[1,9000,9000,64] and type float on /job:localhost/replica:0/task:0/device:CPU:0 by allocator cpu\n\t [[{{node conv}}]]"), false, ErrOutOfMemory,
			`tfgraph: run "features": out of memory: TensorFlow could not allocate memory (OOM when allocating tensor with shape[1,9000,9000,64]`},
		{errors.New("Invalid argument: bad shape\nmore"), false, nil, `tfgraph: run "features": Invalid argument: bad shape`},
	}
	for _, tt := range tests {
		var got error
		if tt.load {
			got = explainLoad("m", tt.err)
		} else {
			got = explainRun("features", tt.err)
		}
		if tt.is != nil && !errors.Is(got, tt.is) || !strings.HasPrefix(got.Error(), tt.prefix) || strings.Contains(got.Error(), "\n") {
			t.Errorf("%q became %q; want errors.Is %v and a line starting %q", tt.err, got, tt.is, tt.prefix)
		}
	}
}
