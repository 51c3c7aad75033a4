package tfgraph

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	tf "github.com/wamuir/graft/tensorflow"
)

// Inspection is what Inspect finds in a SavedModel.
type Inspection struct {
	Signatures []Signature // sorted by name, as Model.Signatures lists them
	Devices    []Device    // what a session with the same Options sees
}

// Inspect reads the SavedModel in dir without making it runnable: its
// signatures, the devices a session with opts sees (opts may be nil; the
// session holds an empty graph), and a check of its variables. The variables
// are not restored into TensorFlow, which would hold a copy of every weight
// (58 MB for VGG16); each tensor's bytes are read from the data shards and
// checked against the checksum in variables.index instead, as TensorFlow's
// restore checks them, so a truncated or corrupt file is an error wrapping
// ErrDamagedVariables that names the file and the tensor. Nothing is run, so
// opts.Deterministic does not matter here.
func Inspect(dir string, opts *Options) (*Inspection, error) {
	if opts == nil {
		opts = &Options{}
	}
	tags := opts.Tags
	if tags == nil {
		tags = defaultTags()
	}
	meta, err := readMetaGraph(dir, tags)
	if err != nil {
		return nil, err
	}
	config, err := sessionConfig(opts)
	if err != nil {
		return nil, fmt.Errorf("tfgraph: inspect %s: %w", dir, err)
	}
	in := &Inspection{}
	for name, def := range meta.def.GetSignatureDef() {
		if !strings.HasPrefix(name, "__") { // as Load: the init op is no callable signature
			in.Signatures = append(in.Signatures, newSignature(name, def).Signature)
		}
	}
	sort.Slice(in.Signatures, func(i, j int) bool { return in.Signatures[i].Name < in.Signatures[j].Name })
	// Load restores exactly when restoreOp finds something to restore.
	if restore, _, err := restoreOp(dir, meta.def); err != nil {
		return nil, fmt.Errorf("tfgraph: inspect %s: %w", dir, err)
	} else if restore != "" {
		if err := verifyCheckpoint(dir, filepath.Join(dir, "variables", "variables")); err != nil {
			return nil, fmt.Errorf("tfgraph: inspect %s: %w (%v)", dir, ErrDamagedVariables, err)
		}
	}
	sess, err := tf.NewSession(tf.NewGraph(), &tf.SessionOptions{Config: config})
	if err != nil {
		return nil, fmt.Errorf("tfgraph: inspect %s: %v", dir, firstLine(err.Error()))
	}
	defer sess.Close()
	if in.Devices, err = listDevices(sess); err != nil {
		return nil, err
	}
	if opts.VisibleGPUs != "" && !opts.DisableGPU {
		if err := checkGPUs(in.Devices, opts.VisibleGPUs); err != nil {
			return nil, fmt.Errorf("tfgraph: inspect %s: %w", dir, err)
		}
	}
	return in, nil
}
