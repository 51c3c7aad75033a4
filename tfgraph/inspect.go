package tfgraph

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	tf "github.com/wamuir/graft/tensorflow"
	corepb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
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
	opts, meta, config, err := openModel(dir, opts, false, "inspect")
	if err != nil {
		return nil, err
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

// scanSavedModel reads saved_model.pb's MetaGraphs as parseSavedModel does but
// without their graphs: each GraphDef's bytes (17 MB of the style model's 17.2)
// are skipped as they stream past rather than held, so what a caller that runs
// nothing keeps in memory is the signatures and the rest of the MetaGraphDef.
func scanSavedModel(path string) ([]*metaGraph, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := &fieldReader{r: bufio.NewReader(f)}
	var out []*metaGraph
	for {
		num, typ, _, size, err := r.next(st.Size())
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if num != fieldSavedModelMetaGraphs || typ != protowire.BytesType {
			if err := r.skip(size); err != nil {
				return nil, err
			}
			continue
		}
		mg, err := scanMetaGraph(r, size)
		if err != nil {
			return nil, err
		}
		out = append(out, mg)
	}
}

// scanMetaGraph reads the size bytes of a MetaGraphDef from r, decoding every
// field but graph_def, which it skips.
func scanMetaGraph(r *fieldReader, size int64) (*metaGraph, error) {
	var rest []byte
	end := r.n + size
	for r.n < end {
		num, typ, head, n, err := r.next(end - r.n)
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
		if num == fieldMetaGraphGraphDef && typ == protowire.BytesType {
			err = r.skip(n)
		} else {
			rest = append(rest, head...)
			rest, err = r.read(rest, n)
		}
		if err != nil {
			return nil, err
		}
	}
	if r.n != end {
		return nil, fmt.Errorf("a MetaGraphDef's last field runs %d bytes past its end", r.n-end)
	}
	mg := &metaGraph{def: &corepb.MetaGraphDef{}, graph: newGraphIndex()}
	if err := proto.Unmarshal(rest, mg.def); err != nil {
		return nil, err
	}
	return mg, nil
}

// fieldReader reads a protocol buffer's fields from a stream, counting the
// bytes it has consumed.
type fieldReader struct {
	r *bufio.Reader
	n int64
}

func (f *fieldReader) ReadByte() (byte, error) {
	b, err := f.r.ReadByte()
	if err == nil {
		f.n++
	}
	return b, err
}

// next reads a field's tag, and its value when that is a varint: head is both
// as encoded, and size the bytes of value that follow (a length-delimited
// field's contents or a fixed-width value), at most limit. It returns io.EOF
// at the end of the stream between fields.
func (f *fieldReader) next(limit int64) (num protowire.Number, typ protowire.Type, head []byte, size int64, err error) {
	tag, err := binary.ReadUvarint(f)
	if err != nil {
		return 0, 0, nil, 0, err
	}
	num, typ = protowire.DecodeTag(tag)
	head = protowire.AppendVarint(nil, tag)
	switch typ {
	case protowire.VarintType, protowire.BytesType:
		v, err := binary.ReadUvarint(f)
		if err != nil {
			return 0, 0, nil, 0, errors.Join(err, io.ErrUnexpectedEOF)
		}
		head = protowire.AppendVarint(head, v)
		if typ == protowire.BytesType {
			if v > uint64(limit) {
				return 0, 0, nil, 0, fmt.Errorf("field %d: %d bytes long, past the end of what holds it", num, v)
			}
			size = int64(v)
		}
	case protowire.Fixed32Type:
		size = 4
	case protowire.Fixed64Type:
		size = 8
	default:
		return 0, 0, nil, 0, fmt.Errorf("field %d: wire type %d (a group) is not read here", num, typ)
	}
	return num, typ, head, size, nil
}

// skip passes over n bytes.
func (f *fieldReader) skip(n int64) error {
	for n > 0 {
		step := int(min(n, 1<<20))
		d, err := f.r.Discard(step)
		f.n += int64(d)
		n -= int64(d)
		if err != nil {
			return errors.Join(err, io.ErrUnexpectedEOF)
		}
	}
	return nil
}

// read appends n bytes to dst.
func (f *fieldReader) read(dst []byte, n int64) ([]byte, error) {
	start := len(dst)
	dst = slices.Grow(dst, int(n))[:start+int(n)]
	k, err := io.ReadFull(f.r, dst[start:])
	f.n += int64(k)
	return dst, err
}
