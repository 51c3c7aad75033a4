// Package tfgraph loads TensorFlow SavedModels through the TensorFlow C API (by way of
// github.com/wamuir/graft) and runs their signatures on float32 tensors.
//
// It is the only package in neuralstyle that talks to TensorFlow. A Model owns a
// session and its C memory; Close releases it. Run checks every input against the
// signature before any C call, so a wrong name, shape or dtype is a Go error, and it
// moves tensor data with one memory copy each way (no reflection), which matters
// when a 512x512 image goes in and a gradient of the same size comes out thousands of
// times per run.
package tfgraph

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	tf "github.com/wamuir/graft/tensorflow"
	corepb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// Options configure the session a Model runs in. The zero value means TensorFlow's
// defaults.
type Options struct {
	// Tags select the MetaGraph to load; nil means {"serve"}.
	Tags []string
	// IntraOpThreads and InterOpThreads bound TensorFlow's thread pools; 0 lets
	// TensorFlow choose (one thread per core).
	IntraOpThreads, InterOpThreads int
	// VisibleGPUs is ConfigProto's gpu_options.visible_device_list: a comma-separated
	// list of GPU indices ("0", "1,2"); empty means all.
	VisibleGPUs string
	// GPUMemoryGrowth makes TensorFlow allocate GPU memory as needed instead of
	// taking nearly all of it at start.
	GPUMemoryGrowth bool
	// DisableGPU hides every GPU from the session, so it runs on the CPU.
	DisableGPU bool
	// Deterministic turns on TensorFlow's op determinism, so that a GPU
	// repeats its results bit for bit from run to run: deterministic cuDNN
	// algorithms and no atomic accumulation (an op without a deterministic
	// GPU kernel then fails instead of varying). TensorFlow reads it from the
	// environment variable TF_DETERMINISTIC_OPS once per process, the first
	// time an op asks, so Load sets that variable, and the setting holds for
	// the whole process: it must be given to the first Load. On the CPU
	// TensorFlow's kernels repeat their results at a fixed thread count
	// either way.
	Deterministic bool
}

// DeterminismEnv is the environment variable TensorFlow reads for op
// determinism (tensorflow/core/util/determinism.cc, OpDeterminismRequired).
const DeterminismEnv = "TF_DETERMINISTIC_OPS"

// requireDeterminism sets DeterminismEnv to 1 unless the environment already
// turns it on; a value that turns it off is an error, not overridden.
func requireDeterminism() error {
	v, ok := os.LookupEnv(DeterminismEnv)
	if !ok {
		return os.Setenv(DeterminismEnv, "1")
	}
	if on, err := strconv.ParseBool(v); err != nil || !on {
		return fmt.Errorf("deterministic ops requested, but the environment has %s=%q; unset it or set it to 1", DeterminismEnv, v)
	}
	return nil
}

// defaultTags returns the tags of a SavedModel written by tf.saved_model.save;
// a new slice each time, so no caller can change the default.
func defaultTags() []string { return []string{"serve"} }

// TensorSpec describes one input or output of a signature.
type TensorSpec struct {
	Name  string  `json:"name"`  // the signature's key for this tensor
	DType string  `json:"dtype"` // "float32", "int64", ...
	Shape []int64 `json:"shape"` // -1 for an unknown dimension; nil when the rank is unknown
}

// String formats the spec as name:dtype[d0,d1,...], with ? for unknown sizes.
func (s TensorSpec) String() string {
	return s.Name + ":" + s.DType + FormatShape(s.Shape)
}

// Signature is one callable function of a SavedModel.
type Signature struct {
	Name    string       `json:"name"`
	Inputs  []TensorSpec `json:"inputs"`  // sorted by name
	Outputs []TensorSpec `json:"outputs"` // sorted by name
}

// Device is a device that a session can place work on.
type Device struct {
	Name        string `json:"name"` // e.g. /job:localhost/replica:0/task:0/device:CPU:0
	Type        string `json:"type"` // CPU or GPU
	MemoryBytes int64  `json:"memory_bytes"`
}

// Model is a loaded SavedModel with its session. Load restores the variables; a
// signature's graph is imported the first time the signature is run (lazy.go), so
// a command pays only for the signatures it runs.
type Model struct {
	dir        string
	sess       *tf.Session
	graph      *tf.Graph
	signatures map[string]*signature

	importMu sync.Mutex // held while a signature's graph is imported
	imports  *importer

	mu     sync.Mutex
	closed bool
}

// signature is a Signature with its SignatureDef. Its graph tensors are found
// when it is first run (bound); the rest never changes after Load.
type signature struct {
	Signature
	def     *corepb.SignatureDef
	inputs  map[string]TensorSpec
	outputs map[string]TensorSpec
	bound   *binding // nil until the first run; guarded by Model.importMu
}

// binding is a signature's inputs and outputs in the graph, by name.
type binding struct {
	inputs, outputs map[string]tf.Output
}

// Names of the SavedModel's init op (tensorflow/cc/saved_model/constants.h).
const (
	initOpSignature = "__saved_model_init_op"
	mainOpKey       = "saved_model_main_op"
	legacyInitOpKey = "legacy_init_op"
)

// Load opens the SavedModel in dir. opts may be nil. It reads saved_model.pb
// itself, imports the nodes that restore the variables, restores them and runs
// the model's init op, as TensorFlow's loader does; each signature's nodes and
// functions follow when it is first run.
func Load(dir string, opts *Options) (*Model, error) {
	opts, meta, config, err := openModel(dir, opts, true, "load")
	if err != nil {
		return nil, err
	}
	if opts.Deterministic {
		if err := requireDeterminism(); err != nil {
			return nil, fmt.Errorf("tfgraph: load %s: %w", dir, err)
		}
	}
	m := &Model{dir: dir, graph: tf.NewGraph(), signatures: map[string]*signature{}}
	m.imports = &importer{index: meta.graph, graph: m.graph, functions: map[string]bool{}}
	for name, def := range meta.def.GetSignatureDef() {
		if strings.HasPrefix(name, "__") { // __saved_model_init_op is no callable signature
			continue
		}
		m.signatures[name] = newSignature(name, def)
	}
	restore, filename, err := restoreOp(dir, meta.def)
	if err != nil {
		return nil, fmt.Errorf("tfgraph: load %s: %w", dir, err)
	}
	initOp := initOpName(meta.def)
	var roots []string
	for _, r := range []string{restore, filename, initOp} {
		if r != "" {
			roots = append(roots, r)
		}
	}
	for _, a := range meta.def.GetAssetFileDef() {
		roots = append(roots, a.GetTensorInfo().GetName())
	}
	if err := m.imports.add(roots); err != nil {
		return nil, fmt.Errorf("tfgraph: load %s: %w", dir, err)
	}
	m.sess, err = tf.NewSession(m.graph, &tf.SessionOptions{Config: config})
	if err != nil {
		return nil, explainLoad(dir, err)
	}
	if err := m.restore(meta.def, restore, filename, initOp); err != nil {
		m.Close()
		return nil, explainLoad(dir, err)
	}
	if opts.VisibleGPUs != "" && !opts.DisableGPU {
		ds, err := m.Devices()
		if err == nil {
			err = checkGPUs(ds, opts.VisibleGPUs)
		}
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("tfgraph: load %s: %w", dir, err)
		}
	}
	return m, nil
}

// openModel reads dir's MetaGraph for the tags of opts (nil: the defaults),
// with its graph when withGraph, and the session config of opts; verb ("load",
// "inspect") names the caller in errors.
func openModel(dir string, opts *Options, withGraph bool, verb string) (*Options, *metaGraph, []byte, error) {
	if opts == nil {
		opts = &Options{}
	}
	tags := opts.Tags
	if tags == nil {
		tags = defaultTags()
	}
	meta, err := readMetaGraph(dir, tags, withGraph)
	if err != nil {
		return nil, nil, nil, err
	}
	config, err := sessionConfig(opts)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tfgraph: %s %s: %w", verb, dir, err)
	}
	return opts, meta, config, nil
}

// restoreOp returns the saver's restore op and filename tensor, or "" for both
// when the model has no variables to restore (as TensorFlow's loader, which
// restores nothing when variables/variables.index is absent).
func restoreOp(dir string, mg *corepb.MetaGraphDef) (op, filename string, err error) {
	sd := mg.GetSaverDef()
	if sd.GetRestoreOpName() == "" {
		return "", "", nil
	}
	if _, err := os.Stat(filepath.Join(dir, "variables", "variables.index")); err != nil {
		return "", "", nil
	}
	op, _, _, err = tensorNode(sd.GetRestoreOpName())
	return op, sd.GetFilenameTensorName(), err
}

// initOpName returns the node of the model's init op, or "": the init
// signature's output (TF2), else the main op or legacy init op collection.
func initOpName(mg *corepb.MetaGraphDef) string {
	if def, ok := mg.GetSignatureDef()[initOpSignature]; ok {
		if out, ok := def.GetOutputs()[initOpSignature]; ok {
			return out.GetName()
		}
	}
	for _, key := range []string{mainOpKey, legacyInitOpKey} {
		if ops := mg.GetCollectionDef()[key].GetNodeList().GetValue(); len(ops) == 1 {
			return ops[0]
		}
	}
	return ""
}

// restore runs the restore op on dir's variables and then the init op, feeding
// it the asset files' paths.
func (m *Model) restore(mg *corepb.MetaGraphDef, restore, filename, initOp string) error {
	if restore != "" {
		path, err := tf.NewTensor(filepath.Join(m.dir, "variables", "variables"))
		if err != nil {
			return err
		}
		in, err := graphOutput(m.graph, filename)
		if err != nil {
			return err
		}
		if _, err := m.sess.Run(map[tf.Output]*tf.Tensor{in: path}, nil, []*tf.Operation{m.graph.Operation(restore)}); err != nil {
			return err
		}
	}
	if initOp == "" {
		return nil
	}
	feeds := map[tf.Output]*tf.Tensor{}
	for _, a := range mg.GetAssetFileDef() {
		path, err := tf.NewTensor(filepath.Join(m.dir, "assets", a.GetFilename()))
		if err != nil {
			return err
		}
		in, err := graphOutput(m.graph, a.GetTensorInfo().GetName())
		if err != nil {
			return err
		}
		feeds[in] = path
	}
	node, _, _, err := tensorNode(initOp)
	if err != nil {
		return err
	}
	_, err = m.sess.Run(feeds, nil, []*tf.Operation{m.graph.Operation(node)})
	return err
}

// checkGPUs fails when a session's devices ds have fewer GPUs than the indices
// asked for: TensorFlow without a usable GPU ignores the list and runs on the CPU
// without a word, which a user who named a GPU did not ask for.
func checkGPUs(ds []Device, visible string) error {
	var names []string
	gpus := 0
	for _, d := range ds {
		names = append(names, d.Name[strings.LastIndex(d.Name, "device:")+len("device:"):])
		if d.Type == "GPU" {
			gpus++
		}
	}
	if asked := len(strings.Split(visible, ",")); gpus < asked {
		return fmt.Errorf("GPU %s asked for, but TensorFlow sees %d GPU(s); its devices: %s (run on the CPU with device cpu)",
			visible, gpus, strings.Join(names, ", "))
	}
	return nil
}

// readMetaGraph reads the SavedModel's protocol buffer itself (the C API does not
// expose it in full), so a directory that is not a SavedModel, or lacks the tags,
// is reported before TensorFlow is asked to load anything. Without withGraph the
// MetaGraph's graph is skipped as it is read (its index is empty), for callers
// that run nothing.
func readMetaGraph(dir string, tags []string, withGraph bool) (*metaGraph, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("tfgraph: load %s: %w", dir, ErrNoModel)
		}
		return nil, fmt.Errorf("tfgraph: load %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("tfgraph: load %s: not a directory (a SavedModel is a directory with saved_model.pb)", dir)
	}
	pb := filepath.Join(dir, "saved_model.pb")
	var metaGraphs []*metaGraph
	if withGraph {
		var raw []byte
		if raw, err = os.ReadFile(pb); err == nil {
			metaGraphs, err = parseSavedModel(raw)
		}
	} else {
		metaGraphs, err = scanSavedModel(pb)
	}
	var pathErr *fs.PathError
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("tfgraph: load %s: not a SavedModel: no saved_model.pb in it", dir)
	} else if errors.As(err, &pathErr) {
		return nil, fmt.Errorf("tfgraph: load %s: %w", dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("tfgraph: load %s: saved_model.pb is not a SavedModel protocol buffer: %v", dir, err)
	}
	var known []string
	for _, mg := range metaGraphs {
		have := mg.def.GetMetaInfoDef().GetTags()
		if sameSet(have, tags) {
			if err := checkVariables(dir, mg.def); err != nil {
				return nil, err
			}
			mg.def.ObjectGraphDef = nil // read by checkVariables only
			return mg, nil
		}
		known = append(known, "{"+strings.Join(have, ",")+"}")
	}
	if len(known) == 0 {
		return nil, fmt.Errorf("tfgraph: load %s: saved_model.pb holds no MetaGraph", dir)
	}
	return nil, fmt.Errorf("tfgraph: load %s: no MetaGraph with tags {%s}; it has %s",
		dir, strings.Join(tags, ","), strings.Join(known, " "))
}

// checkVariables reports a SavedModel whose graph has variables but whose
// variables/ folder is gone (a partial copy): TensorFlow would load it and fail
// only at the first run, on an uninitialised variable.
func checkVariables(dir string, mg *corepb.MetaGraphDef) error {
	hasVariables := false
	for _, n := range mg.GetObjectGraphDef().GetNodes() {
		if n.GetVariable() != nil {
			hasVariables = true
			break
		}
	}
	if !hasVariables {
		return nil
	}
	index := filepath.Join(dir, "variables", "variables.index")
	if _, err := os.Stat(index); err != nil {
		return fmt.Errorf("tfgraph: load %s: incomplete SavedModel: its graph has variables but %s is missing",
			dir, filepath.Join("variables", "variables.index"))
	}
	return nil
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func sessionConfig(o *Options) ([]byte, error) {
	if o.IntraOpThreads < 0 || o.InterOpThreads < 0 {
		return nil, fmt.Errorf("thread counts must be 0 (TensorFlow's default) or positive, not intra=%d inter=%d",
			o.IntraOpThreads, o.InterOpThreads)
	}
	for _, f := range strings.Split(o.VisibleGPUs, ",") {
		if o.VisibleGPUs == "" {
			break
		}
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err != nil || n < 0 {
			return nil, fmt.Errorf("visible GPUs %q: want a comma-separated list of GPU indices such as 0 or 0,1", o.VisibleGPUs)
		}
	}
	cfg := &corepb.ConfigProto{
		IntraOpParallelismThreads: int32(o.IntraOpThreads),
		InterOpParallelismThreads: int32(o.InterOpThreads),
		GpuOptions: &corepb.GPUOptions{
			AllowGrowth:       o.GPUMemoryGrowth,
			VisibleDeviceList: o.VisibleGPUs,
		},
	}
	if o.DisableGPU {
		cfg.DeviceCount = map[string]int32{"GPU": 0}
	}
	return proto.Marshal(cfg)
}

// newSignature reads a signature's specs from its SignatureDef.
func newSignature(name string, def *corepb.SignatureDef) *signature {
	sig := &signature{
		Signature: Signature{Name: name},
		def:       def,
		inputs:    map[string]TensorSpec{},
		outputs:   map[string]TensorSpec{},
	}
	spec := func(key string, info *corepb.TensorInfo) TensorSpec {
		spec := TensorSpec{Name: key, DType: dtypeName(tf.DataType(info.GetDtype()))}
		if ts := info.GetTensorShape(); !ts.GetUnknownRank() {
			spec.Shape = make([]int64, len(ts.GetDim()))
			for i, d := range ts.GetDim() {
				spec.Shape[i] = d.GetSize()
			}
		}
		return spec
	}
	for key, info := range def.GetInputs() {
		sig.inputs[key] = spec(key, info)
		sig.Inputs = append(sig.Inputs, sig.inputs[key])
	}
	for key, info := range def.GetOutputs() {
		sig.outputs[key] = spec(key, info)
		sig.Outputs = append(sig.Outputs, sig.outputs[key])
	}
	byName := func(s []TensorSpec) { sort.Slice(s, func(i, j int) bool { return s[i].Name < s[j].Name }) }
	byName(sig.Inputs)
	byName(sig.Outputs)
	return sig
}

// bind imports the nodes and functions the signature runs, unless an earlier
// run did, and returns its tensors in the graph.
func (m *Model) bind(sig *signature) (*binding, error) {
	m.importMu.Lock()
	defer m.importMu.Unlock()
	if sig.bound != nil {
		return sig.bound, nil
	}
	var roots []string
	for _, key := range slices.Sorted(maps.Keys(sig.def.GetOutputs())) {
		roots = append(roots, sig.def.GetOutputs()[key].GetName())
	}
	for _, key := range slices.Sorted(maps.Keys(sig.def.GetInputs())) {
		roots = append(roots, sig.def.GetInputs()[key].GetName())
	}
	if err := m.imports.add(roots); err != nil {
		return nil, fmt.Errorf("signature %q: %w", sig.Name, err)
	}
	b := &binding{inputs: map[string]tf.Output{}, outputs: map[string]tf.Output{}}
	for _, part := range []struct {
		infos map[string]*corepb.TensorInfo
		into  map[string]tf.Output
	}{{sig.def.GetInputs(), b.inputs}, {sig.def.GetOutputs(), b.outputs}} {
		for key, info := range part.infos {
			out, err := graphOutput(m.graph, info.GetName())
			if err != nil {
				return nil, fmt.Errorf("signature %q, tensor %q: %w", sig.Name, key, err)
			}
			part.into[key] = out
		}
	}
	sig.bound = b
	return b, nil
}

// graphOutput finds "op:index" (or "op", index 0) in the graph.
func graphOutput(g *tf.Graph, name string) (tf.Output, error) {
	op, idx := name, 0
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		n, err := strconv.Atoi(name[i+1:])
		if err != nil {
			return tf.Output{}, fmt.Errorf("malformed tensor name %q", name)
		}
		op, idx = name[:i], n
	}
	o := g.Operation(op)
	if o == nil {
		return tf.Output{}, fmt.Errorf("graph has no operation %q", op)
	}
	if idx < 0 || idx >= o.NumOutputs() {
		return tf.Output{}, fmt.Errorf("operation %q has %d outputs, not %d", op, o.NumOutputs(), idx+1)
	}
	return o.Output(idx), nil
}

// Dir returns the directory the model was loaded from.
func (m *Model) Dir() string { return m.dir }

// Signatures lists the model's signatures, sorted by name.
func (m *Model) Signatures() []Signature {
	out := make([]Signature, 0, len(m.signatures))
	for _, s := range m.signatures {
		out = append(out, s.Signature)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Signature returns the named signature; the error lists the known ones.
func (m *Model) Signature(name string) (Signature, error) {
	s, err := m.lookup(name)
	if err != nil {
		return Signature{}, err
	}
	return s.Signature, nil
}

// Require checks that the model has every signature of names, so that a
// model of the wrong kind or version is refused when it loads rather than at
// its first run; the error names the first one missing.
func (m *Model) Require(names ...string) error {
	for _, n := range names {
		if _, err := m.lookup(n); err != nil {
			return err
		}
	}
	return nil
}

func (m *Model) lookup(name string) (*signature, error) {
	s, ok := m.signatures[name]
	if !ok {
		return nil, fmt.Errorf("tfgraph: %s has no signature %q; it has %s", m.dir, name, m.signatureNames())
	}
	return s, nil
}

func (m *Model) signatureNames() string {
	var names []string
	for _, s := range m.Signatures() {
		names = append(names, strconv.Quote(s.Name))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Devices lists the devices the session sees.
func (m *Model) Devices() ([]Device, error) {
	if err := m.checkOpen(); err != nil {
		return nil, err
	}
	return listDevices(m.sess)
}

func listDevices(sess *tf.Session) ([]Device, error) {
	ds, err := sess.ListDevices()
	if err != nil {
		return nil, fmt.Errorf("tfgraph: list devices: %v", err)
	}
	out := make([]Device, len(ds))
	for i, d := range ds {
		out[i] = Device{Name: d.Name, Type: d.Type, MemoryBytes: d.MemoryLimitBytes}
	}
	return out, nil
}

// Close ends the session and releases its C memory. It is safe to call twice.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	if m.sess == nil {
		return nil
	}
	if err := m.sess.Close(); err != nil {
		return fmt.Errorf("tfgraph: close %s: %v", m.dir, err)
	}
	return nil
}

func (m *Model) checkOpen() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("tfgraph: %s: model is closed", m.dir)
	}
	return nil
}

// Version returns the version of the TensorFlow library in use.
func Version() string { return tf.Version() }

func dtypeName(dt tf.DataType) string {
	switch dt {
	case tf.Float:
		return "float32"
	case tf.Double:
		return "float64"
	case tf.Half:
		return "float16"
	case tf.Bfloat16:
		return "bfloat16"
	case tf.Int8:
		return "int8"
	case tf.Int16:
		return "int16"
	case tf.Int32:
		return "int32"
	case tf.Int64:
		return "int64"
	case tf.Uint8:
		return "uint8"
	case tf.Uint16:
		return "uint16"
	case tf.Bool:
		return "bool"
	case tf.String:
		return "string"
	}
	return fmt.Sprintf("dtype(%d)", int(dt))
}

// FormatShape writes a signature's tensor shape as [d0,d1,...], with ? for
// a dimension of any size and [unknown rank] for a shape of any rank (nil).
func FormatShape(shape []int64) string {
	if shape == nil {
		return "[unknown rank]"
	}
	parts := make([]string, len(shape))
	for i, d := range shape {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = strconv.FormatInt(d, 10)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}
