package tfgraph

// Verifying a SavedModel's variables without restoring them.
//
// The variables of a SavedModel are a TensorFlow tensor bundle: variables.index,
// a LevelDB-format table that maps each tensor's name to a BundleEntryProto
// (dtype, shape, which data shard, offset, size and CRC-32C of its bytes), and
// the data shards variables.data-SSSSS-of-NNNNN that hold the bytes
// (tensorflow/core/util/tensor_bundle/tensor_bundle.cc; the table format is
// LevelDB's doc/table_format.md, as tensorflow/core/lib/io/table.cc reads it).
// verifyCheckpoint reads the index and streams every tensor's bytes through
// CRC-32C, so a truncated or corrupt file is found as TensorFlow's restore would
// find it, without putting the weights in memory.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"

	tf "github.com/wamuir/graft/tensorflow"
	corepb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// LevelDB's table layout (table/format.h): a footer of two block handles padded
// to 40 bytes and an 8-byte magic number; each block followed by a type byte
// and the masked CRC-32C of the block and that byte.
const (
	tableMagic      = 0xdb4775248b80fb57
	tableFooterLen  = 48
	blockTrailerLen = 5
	noCompression   = 0
)

// maskDelta is crc32c::Mask's constant (tensorflow/core/lib/hash/crc32c.h):
// TensorFlow and LevelDB store a checksum rotated and offset, so that the CRC of
// data holding CRCs stays well distributed.
const maskDelta = 0xa282ead8

func maskCRC(c uint32) uint32 { return (c>>15 | c<<17) + maskDelta }

// bundleTensor is one entry of a bundle's index: a tensor's name and where its
// bytes are.
type bundleTensor struct {
	name  string
	entry *corepb.BundleEntryProto
}

// verifyCheckpoint checks the tensor bundle at prefix (dir/variables/variables):
// the index's block checksums and entries, that every data shard is there, and
// each tensor's bytes against its CRC-32C. Paths in errors are relative to dir.
func verifyCheckpoint(dir, prefix string) error {
	rel := func(p string) string {
		if r, err := filepath.Rel(dir, p); err == nil {
			return r
		}
		return p
	}
	indexPath := prefix + ".index"
	shards, tensors, err := readBundleIndex(indexPath)
	if err != nil {
		return fmt.Errorf("%s: %w", rel(indexPath), err)
	}
	buf := make([]byte, 64<<10) // the bytes are streamed, never held: memory stays flat
	for shard := range shards {
		path := fmt.Sprintf("%s.data-%05d-of-%05d", prefix, shard, shards)
		var inShard []bundleTensor
		for _, t := range tensors {
			if int(t.entry.GetShardId()) == shard {
				inShard = append(inShard, t)
			}
		}
		if err := verifyShard(path, inShard, buf); err != nil {
			return fmt.Errorf("%s: %w", rel(path), err)
		}
	}
	return nil
}

// readBundleIndex reads a bundle's index table: its header's shard count and its
// tensors in key order (partitioned tensors' full entries left out: their
// slices are entries of their own).
func readBundleIndex(path string) (shards int, tensors []bundleTensor, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, nil, err
	}
	var header *corepb.BundleHeaderProto
	err = tableEntries(raw, func(key, value []byte) error {
		if len(key) == 0 {
			header = &corepb.BundleHeaderProto{}
			if err := proto.Unmarshal(value, header); err != nil {
				return fmt.Errorf("header entry is not a BundleHeaderProto: %v", err)
			}
			return nil
		}
		entry := &corepb.BundleEntryProto{}
		if err := proto.Unmarshal(value, entry); err != nil {
			return fmt.Errorf("entry of tensor %q is not a BundleEntryProto: %v", key, err)
		}
		if len(entry.GetSlices()) == 0 {
			tensors = append(tensors, bundleTensor{name: string(key), entry: entry})
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	if header == nil {
		return 0, nil, errors.New("no header entry (not a TensorFlow checkpoint index)")
	}
	if header.GetEndianness() != corepb.BundleHeaderProto_LITTLE {
		return 0, nil, fmt.Errorf("written on a %v-endian machine; this reader takes little-endian bundles only", header.GetEndianness())
	}
	shards = int(header.GetNumShards())
	if shards < 1 {
		return 0, nil, fmt.Errorf("header gives %d data shards", shards)
	}
	for _, t := range tensors {
		e := t.entry
		if id := int(e.GetShardId()); id < 0 || id >= shards {
			return 0, nil, fmt.Errorf("tensor %q is in data shard %d of %d", t.name, id, shards)
		}
		if e.GetOffset() < 0 || e.GetSize() < 0 {
			return 0, nil, fmt.Errorf("tensor %q has offset %d and size %d", t.name, e.GetOffset(), e.GetSize())
		}
		if want, ok := podBytes(e); ok && want != e.GetSize() {
			return 0, nil, fmt.Errorf("tensor %q: %v of shape %v takes %d bytes, but its entry says %d",
				t.name, tf.DataType(e.GetDtype()), e.GetShape().GetDim(), want, e.GetSize())
		}
	}
	return shards, tensors, nil
}

// dtypeWidth is the bytes per element of the dtypes whose tensors TensorFlow
// writes as their memory (tensor_bundle.cc's WriteTensor).
var dtypeWidth = map[tf.DataType]int64{
	tf.Float: 4, tf.Double: 8, tf.Half: 2, tf.Bfloat16: 2,
	tf.Int8: 1, tf.Int16: 2, tf.Int32: 4, tf.Int64: 8,
	tf.Uint8: 1, tf.Uint16: 2, tf.Uint32: 4, tf.Uint64: 8,
	tf.Bool: 1, tf.Complex64: 8, tf.Complex128: 16,
}

// podBytes is the size in bytes of e's tensor where its dtype has a fixed
// width; ok is false for strings, variants and unknown dtypes.
func podBytes(e *corepb.BundleEntryProto) (n int64, ok bool) {
	width := dtypeWidth[tf.DataType(e.GetDtype())]
	if width == 0 || e.GetShape().GetUnknownRank() {
		return 0, false
	}
	n = width
	for _, d := range e.GetShape().GetDim() {
		if d.GetSize() < 0 {
			return 0, false
		}
		n *= d.GetSize()
	}
	return n, true
}

// verifyShard checks each tensor's bytes in the data shard at path.
func verifyShard(path string, tensors []bundleTensor, buf []byte) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("missing: the index names it as a data shard")
		}
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	crc := crc32.New(castagnoli)
	for _, t := range tensors {
		e := t.entry
		if end := e.GetOffset() + e.GetSize(); end > st.Size() {
			return fmt.Errorf("truncated: %d bytes, but tensor %q ends at byte %d", st.Size(), t.name, end)
		}
		crc.Reset()
		r := io.NewSectionReader(f, e.GetOffset(), e.GetSize())
		if tf.DataType(e.GetDtype()) == tf.String {
			err = stringTensorCRC(crc, r, e, buf)
		} else {
			_, err = io.CopyBuffer(crc, r, buf)
		}
		if err != nil {
			return fmt.Errorf("tensor %q: %w", t.name, err)
		}
		if got := maskCRC(crc.Sum32()); got != e.GetCrc32C() {
			return fmt.Errorf("tensor %q (bytes %d to %d): checksum %#08x, but the index records %#08x",
				t.name, e.GetOffset(), e.GetOffset()+e.GetSize(), got, e.GetCrc32C())
		}
	}
	return nil
}

// stringTensorCRC feeds crc a string tensor's bytes as TensorFlow checksums
// them (WriteStringTensor): the elements' lengths are stored as varints but
// checksummed as 4-byte little-endian integers (8 bytes past 4 GiB), then
// come the masked checksum of the lengths and the strings' bytes.
func stringTensorCRC(crc hash.Hash32, r *io.SectionReader, e *corepb.BundleEntryProto, buf []byte) error {
	elements := int64(1)
	for _, d := range e.GetShape().GetDim() {
		elements *= d.GetSize()
	}
	if e.GetShape().GetUnknownRank() || elements < 0 {
		return fmt.Errorf("string tensor of unknown shape %v", e.GetShape())
	}
	br := &byteReader{r: r}
	var total uint64
	var width [8]byte
	for range elements {
		n, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("string lengths: %w", errors.Join(err, io.ErrUnexpectedEOF))
		}
		total += n
		if n <= 0xffffffff {
			crc.Write(binary.LittleEndian.AppendUint32(width[:0], uint32(n)))
		} else {
			crc.Write(binary.LittleEndian.AppendUint64(width[:0], n))
		}
	}
	var stored [4]byte
	if _, err := io.ReadFull(br, stored[:]); err != nil {
		return fmt.Errorf("string lengths' checksum: %w", err)
	}
	if got, want := maskCRC(crc.Sum32()), binary.LittleEndian.Uint32(stored[:]); got != want {
		return fmt.Errorf("string lengths' checksum %#08x, but the shard records %#08x", got, want)
	}
	crc.Write(stored[:])
	if rest := e.GetSize() - br.n; rest < 0 || uint64(rest) != total {
		return fmt.Errorf("its strings take %d bytes, but the entry leaves %d for them", total, rest)
	}
	_, err := io.CopyBuffer(crc, r, buf)
	return err
}

// byteReader reads one byte at a time from r, counting them (for the varints
// of a string tensor's lengths, which are few).
type byteReader struct {
	r io.Reader
	n int64
}

func (b *byteReader) ReadByte() (byte, error) {
	var one [1]byte
	if _, err := io.ReadFull(b.r, one[:]); err != nil {
		return 0, err
	}
	b.n++
	return one[0], nil
}

func (b *byteReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

// tableEntries calls fn with each key and value of the LevelDB table raw, in
// order, checking every block's checksum and that the keys increase.
func tableEntries(raw []byte, fn func(key, value []byte) error) error {
	if len(raw) < tableFooterLen {
		return fmt.Errorf("%d bytes: too short to be a table (its footer alone takes %d)", len(raw), tableFooterLen)
	}
	footer := raw[len(raw)-tableFooterLen:]
	if m := binary.LittleEndian.Uint64(footer[40:]); m != tableMagic {
		return fmt.Errorf("not a table: its last 8 bytes are %#016x, not the magic number %#016x", m, uint64(tableMagic))
	}
	meta, n := readBlockHandle(footer)
	if n < 0 {
		return errors.New("footer: malformed metaindex handle")
	}
	index, m := readBlockHandle(footer[n:])
	if m < 0 {
		return errors.New("footer: malformed index handle")
	}
	body := raw[:len(raw)-tableFooterLen]
	if _, err := tableBlock(body, meta, "metaindex block"); err != nil {
		return err
	}
	indexBlock, err := tableBlock(body, index, "index block")
	if err != nil {
		return err
	}
	var last []byte
	first := true
	return blockEntries(indexBlock, "index block", func(_, handle []byte) error {
		h, n := readBlockHandle(handle)
		if n < 0 || n != len(handle) {
			return errors.New("index block: malformed data block handle")
		}
		what := fmt.Sprintf("data block at byte %d", h.offset)
		data, err := tableBlock(body, h, what)
		if err != nil {
			return err
		}
		return blockEntries(data, what, func(key, value []byte) error {
			if !first && bytes.Compare(key, last) <= 0 {
				return fmt.Errorf("%s: key %q follows %q: keys out of order", what, key, last)
			}
			first = false
			last = append(last[:0], key...)
			return fn(key, value)
		})
	})
}

type blockHandle struct{ offset, size uint64 }

// readBlockHandle decodes a BlockHandle (two varints); n < 0 when malformed.
func readBlockHandle(b []byte) (h blockHandle, n int) {
	off, i := protowire.ConsumeVarint(b)
	if i < 0 {
		return h, -1
	}
	size, j := protowire.ConsumeVarint(b[i:])
	if j < 0 {
		return h, -1
	}
	return blockHandle{off, size}, i + j
}

// tableBlock returns the block at h in body after checking its trailer.
func tableBlock(body []byte, h blockHandle, what string) ([]byte, error) {
	if h.offset > uint64(len(body)) || h.size+blockTrailerLen > uint64(len(body))-h.offset {
		return nil, fmt.Errorf("%s: %d bytes at %d run past the table's end (%d bytes before its footer)", what, h.size, h.offset, len(body))
	}
	block := body[h.offset : h.offset+h.size+1] // with the type byte, which the checksum covers
	stored := binary.LittleEndian.Uint32(body[h.offset+h.size+1:])
	if got := maskCRC(crc32.Checksum(block, castagnoli)); got != stored {
		return nil, fmt.Errorf("%s: checksum %#08x, but its trailer records %#08x", what, got, stored)
	}
	if t := block[h.size]; t != noCompression {
		return nil, fmt.Errorf("%s: compressed (type %d; 1 is Snappy); TensorFlow writes checkpoint indexes uncompressed, and this reader takes no other", what, t)
	}
	return block[:h.size], nil
}

// blockEntries calls fn with each key and value of a table block: entries of
// three varints (bytes shared with the previous key, bytes not shared, value
// length), the key's new bytes and the value, then the restart offsets and
// their count as 4-byte integers.
func blockEntries(block []byte, what string, fn func(key, value []byte) error) error {
	if len(block) < 4 {
		return fmt.Errorf("%s: %d bytes, too short for its restart count", what, len(block))
	}
	restarts := uint64(binary.LittleEndian.Uint32(block[len(block)-4:]))
	if restarts*4+4 > uint64(len(block)) {
		return fmt.Errorf("%s: %d restart points do not fit in its %d bytes", what, restarts, len(block))
	}
	entries := block[:uint64(len(block))-4-restarts*4]
	var key []byte
	for pos := 0; pos < len(entries); {
		var v [3]uint64
		for i := range v {
			x, n := protowire.ConsumeVarint(entries[pos:])
			if n < 0 {
				return fmt.Errorf("%s: malformed entry at byte %d", what, pos)
			}
			v[i], pos = x, pos+n
		}
		shared, unshared, valueLen := v[0], v[1], v[2]
		if shared > uint64(len(key)) || unshared+valueLen > uint64(len(entries)-pos) {
			return fmt.Errorf("%s: entry at byte %d runs past the block's end", what, pos)
		}
		key = append(key[:shared], entries[pos:pos+int(unshared)]...)
		pos += int(unshared)
		value := entries[pos : pos+int(valueLen)]
		pos += int(valueLen)
		if err := fn(slices.Clip(key), value); err != nil {
			return err
		}
	}
	return nil
}
