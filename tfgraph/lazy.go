package tfgraph

// Loading a signature when it is first run.
//
// A SavedModel written by tf.saved_model.save keeps each signature's graph in a
// function of the MetaGraph's function library, called by one node of the main
// graph. neuralstyle's style model has about twenty signatures, each with its
// own VGG16 and gradient: 4,708 functions, 17 MB. TensorFlow's own loader imports
// and copies all of them, whichever the command runs. Load here imports only the
// nodes that restore the variables; a signature's nodes, and the functions they
// reach, are imported into the graph the first time it is run (the session
// takes them in before that run, as TensorFlow's C API does for any graph that
// grows). The function library is indexed, not decoded: a function's protocol
// buffer is decoded only when a signature needs it.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	tf "github.com/wamuir/graft/tensorflow"
	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	funcpb "github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	corepb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Field numbers of the protocol buffers read here (tensorflow/core/protobuf/
// saved_model.proto, meta_graph.proto; core/framework/graph.proto, function.proto,
// op_def.proto).
const (
	fieldSavedModelMetaGraphs = 2 // SavedModel.meta_graphs
	fieldMetaGraphGraphDef    = 2 // MetaGraphDef.graph_def
	fieldGraphNode            = 1 // GraphDef.node
	fieldGraphLibrary         = 2 // GraphDef.library
	fieldGraphVersions        = 4 // GraphDef.versions
	fieldLibraryFunction      = 1 // FunctionDefLibrary.function
	fieldLibraryGradient      = 2 // FunctionDefLibrary.gradient
	fieldFunctionSignature    = 1 // FunctionDef.signature
	fieldOpDefName            = 1 // OpDef.name
)

// metaGraph is one MetaGraphDef of saved_model.pb: everything but its graph
// decoded, the graph indexed.
type metaGraph struct {
	def   *corepb.MetaGraphDef // graph_def left out
	graph *graphIndex
}

// graphIndex is a GraphDef whose nodes are decoded and whose functions are kept
// as their encoded bytes, by name.
type graphIndex struct {
	nodes     map[string]*nodepb.NodeDef
	order     []string // node names in the GraphDef's order
	versions  []byte   // the encoded VersionDef
	functions map[string][]byte
	gradients map[string]*funcpb.GradientDef // by the function they differentiate
}

// fields calls fn with each field of an encoded message: its number, wire type,
// and its value's bytes (for a length-delimited field, the contents).
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, value []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return protowire.ParseError(m)
		}
		value := b[:m]
		if typ == protowire.BytesType {
			v, k := protowire.ConsumeBytes(value)
			if k < 0 {
				return protowire.ParseError(k)
			}
			value = v
		}
		if err := fn(num, typ, value); err != nil {
			return err
		}
		b = b[m:]
	}
	return nil
}

// appendField appends a length-delimited field.
func appendField(b []byte, num protowire.Number, value []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, value)
}

// parseSavedModel reads saved_model.pb's MetaGraphs without decoding their
// function libraries.
func parseSavedModel(raw []byte) ([]*metaGraph, error) {
	var out []*metaGraph
	err := fields(raw, func(num protowire.Number, typ protowire.Type, value []byte) error {
		if num != fieldSavedModelMetaGraphs {
			return nil
		}
		if typ != protowire.BytesType {
			return fmt.Errorf("meta_graphs is not a message")
		}
		mg, err := parseMetaGraph(value)
		if err != nil {
			return err
		}
		out = append(out, mg)
		return nil
	})
	return out, err
}

func parseMetaGraph(raw []byte) (*metaGraph, error) {
	// Every field but the graph is kept encoded as it was and decoded at once.
	var rest, graph []byte
	haveGraph := false
	for b := raw; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		if num == fieldMetaGraphGraphDef && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b[n : n+m])
			graph = append(graph, v...) // a message field given twice merges
			haveGraph = true
		} else {
			rest = append(rest, b[:n+m]...)
		}
		b = b[n+m:]
	}
	mg := &metaGraph{def: &corepb.MetaGraphDef{}, graph: newGraphIndex()}
	if err := proto.Unmarshal(rest, mg.def); err != nil {
		return nil, err
	}
	if haveGraph {
		if err := mg.graph.read(graph); err != nil {
			return nil, err
		}
	}
	return mg, nil
}

func newGraphIndex() *graphIndex {
	return &graphIndex{nodes: map[string]*nodepb.NodeDef{}, functions: map[string][]byte{}, gradients: map[string]*funcpb.GradientDef{}}
}

// read indexes an encoded GraphDef.
func (g *graphIndex) read(raw []byte) error {
	return fields(raw, func(num protowire.Number, typ protowire.Type, value []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fieldGraphNode:
			n := &nodepb.NodeDef{}
			if err := proto.Unmarshal(value, n); err != nil {
				return err
			}
			if _, dup := g.nodes[n.GetName()]; dup {
				return fmt.Errorf("graph has two nodes named %q", n.GetName())
			}
			g.nodes[n.GetName()] = n
			g.order = append(g.order, n.GetName())
		case fieldGraphVersions:
			g.versions = append(g.versions, value...)
		case fieldGraphLibrary:
			return g.indexLibrary(value)
		}
		return nil
	})
}

func (g *graphIndex) indexLibrary(raw []byte) error {
	return fields(raw, func(num protowire.Number, typ protowire.Type, value []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case fieldLibraryFunction:
			name, err := functionName(value)
			if err != nil {
				return err
			}
			g.functions[name] = value
		case fieldLibraryGradient:
			gd := &funcpb.GradientDef{}
			if err := proto.Unmarshal(value, gd); err != nil {
				return err
			}
			g.gradients[gd.GetFunctionName()] = gd
		}
		return nil
	})
}

// functionName reads FunctionDef.signature.name without decoding the rest.
func functionName(fn []byte) (string, error) {
	var name string
	err := fields(fn, func(num protowire.Number, typ protowire.Type, value []byte) error {
		if num != fieldFunctionSignature || typ != protowire.BytesType {
			return nil
		}
		return fields(value, func(num protowire.Number, typ protowire.Type, value []byte) error {
			if num == fieldOpDefName && typ == protowire.BytesType {
				name = string(value)
			}
			return nil
		})
	})
	if err == nil && name == "" {
		err = fmt.Errorf("a function of the library has no name")
	}
	return name, err
}

// tensorNode splits a tensor or input name ("op:1", "op", "^op") into the node
// name, the output index and whether it is a control input.
func tensorNode(name string) (node string, index int, control bool, err error) {
	if strings.HasPrefix(name, "^") {
		return name[1:], 0, true, nil
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		n, err := strconv.Atoi(name[i+1:])
		if err != nil {
			return "", 0, false, fmt.Errorf("malformed tensor name %q", name)
		}
		return name[:i], n, false, nil
	}
	return name, 0, false, nil
}

// importer adds parts of a graphIndex to a tf.Graph, each node and function once.
type importer struct {
	index     *graphIndex
	graph     *tf.Graph
	functions map[string]bool // imported into graph
}

// add imports the nodes that the named tensors or nodes need, and the functions
// those nodes call, which graph does not have yet.
func (im *importer) add(roots []string) error {
	var batch []string
	inBatch := map[string]bool{}
	var visit func(name string) error
	visit = func(name string) error {
		if inBatch[name] || im.graph.Operation(name) != nil {
			return nil
		}
		n, ok := im.index.nodes[name]
		if !ok {
			return fmt.Errorf("graph has no operation %q", name)
		}
		inBatch[name] = true
		for _, in := range n.GetInput() {
			node, _, _, err := tensorNode(in)
			if err != nil {
				return err
			}
			if err := visit(node); err != nil {
				return err
			}
		}
		batch = append(batch, name)
		return nil
	}
	for _, r := range roots {
		node, _, _, err := tensorNode(r)
		if err != nil {
			return err
		}
		if err := visit(node); err != nil {
			return err
		}
	}
	if len(batch) == 0 {
		return nil
	}
	// The GraphDef's own order, which the nodes' names were given in.
	pos := make(map[string]int, len(im.index.order))
	for i, name := range im.index.order {
		pos[name] = i
	}
	slices.SortFunc(batch, func(a, b string) int { return pos[a] - pos[b] })

	var def []byte
	opts := tf.GraphImportOptions{}
	mapped := map[string]bool{}
	var fnRoots []string
	for _, name := range batch {
		n := im.index.nodes[name]
		for _, in := range n.GetInput() {
			node, idx, control, _ := tensorNode(in)
			if inBatch[node] || mapped[in] {
				continue
			}
			op := im.graph.Operation(node)
			if control {
				return fmt.Errorf("node %q has a control input on %q, which an earlier signature imported; load the model whole", name, node)
			}
			if idx >= op.NumOutputs() {
				return fmt.Errorf("node %q reads output %d of %q, which has %d", name, idx, node, op.NumOutputs())
			}
			opts.AddInputMapping(node, idx, op.Output(idx))
			mapped[in] = true
		}
		fnRoots = append(fnRoots, attrFunctions(n.GetAttr())...)
		b, err := proto.Marshal(n)
		if err != nil {
			return err
		}
		def = appendField(def, fieldGraphNode, b)
	}
	lib, added, err := im.library(fnRoots)
	if err != nil {
		return err
	}
	if len(lib) > 0 {
		def = appendField(def, fieldGraphLibrary, lib)
	}
	if im.index.versions != nil {
		def = appendField(def, fieldGraphVersions, im.index.versions)
	}
	if err := im.graph.ImportWithOptions(def, opts); err != nil {
		return err
	}
	for _, name := range added {
		im.functions[name] = true
	}
	return nil
}

// library encodes the FunctionDefLibrary of the functions that roots name, those
// they call in turn and their registered gradients, less those already imported;
// it returns the names it encoded, which add marks imported once the graph has
// taken them.
func (im *importer) library(roots []string) ([]byte, []string, error) {
	var lib []byte
	var grads []*funcpb.GradientDef
	var added []string
	seen := map[string]bool{}
	queue := slices.Clone(roots)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if im.functions[name] || seen[name] {
			continue
		}
		raw, ok := im.index.functions[name]
		if !ok {
			// An op, not a function of the library (a func attr may name either).
			continue
		}
		seen[name] = true
		added = append(added, name)
		fn := &funcpb.FunctionDef{}
		if err := proto.Unmarshal(raw, fn); err != nil {
			return nil, nil, fmt.Errorf("function %q: %v", name, err)
		}
		queue = append(queue, attrFunctions(fn.GetAttr())...)
		for _, n := range fn.GetNodeDef() {
			queue = append(queue, n.GetOp())
			queue = append(queue, attrFunctions(n.GetAttr())...)
		}
		if gd, ok := im.index.gradients[name]; ok {
			grads = append(grads, gd)
			queue = append(queue, gd.GetGradientFunc())
		}
		lib = appendField(lib, fieldLibraryFunction, raw)
	}
	for _, gd := range grads {
		b, err := proto.Marshal(gd)
		if err != nil {
			return nil, nil, err
		}
		lib = appendField(lib, fieldLibraryGradient, b)
	}
	return lib, added, nil
}

// attrFunctions lists the functions attributes name (a call's f, a cond's
// branches, a loop's cond and body), at any depth.
func attrFunctions(attrs map[string]*attrpb.AttrValue) []string {
	var out []string
	var fromFunc func(f *attrpb.NameAttrList)
	fromValue := func(v *attrpb.AttrValue) {
		if f := v.GetFunc(); f != nil {
			fromFunc(f)
		}
		for _, f := range v.GetList().GetFunc() {
			fromFunc(f)
		}
	}
	fromFunc = func(f *attrpb.NameAttrList) {
		out = append(out, f.GetName())
		for _, k := range slices.Sorted(maps.Keys(f.GetAttr())) {
			fromValue(f.GetAttr()[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		fromValue(attrs[k])
	}
	return out
}
