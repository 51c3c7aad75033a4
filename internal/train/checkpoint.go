package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/neuralstyle/neuralstyle/atomicfile"
)

// CheckpointFormat names the layout of a checkpoint file; a reader refuses any other.
const CheckpointFormat = "neuralstyle-fastnet-checkpoint/1"

// checkpointMagic opens every checkpoint file.
var checkpointMagic = []byte("NSFASTNET-CKPT\n")

// Checkpoint is a training run's state after Step steps: the network's
// variables with Adam's (State), what network they belong to, and what the run
// needs to go on exactly as it would have (its settings, the painting and the
// photos it draws from).
//
// On disk: checkpointMagic, the header's length (uint32, little-endian), the
// header as JSON, the state as little-endian float32, then the SHA-256 of
// everything before it. Go writes it, so a write goes through atomicfile: a
// checkpoint that fails half-way (a full disk) leaves the previous one whole.
type Checkpoint struct {
	Header
	State []float32
}

// Header is a checkpoint's description of itself.
type Header struct {
	Format      string   `json:"format"`       // CheckpointFormat
	GraphFormat string   `json:"graph_format"` // the training graph's format
	Network     string   `json:"network"`
	Width       int      `json:"width"`
	StateSize   int      `json:"state_size"`
	Step        int      `json:"step"`
	Settings    Settings `json:"settings"`
	Style       Source   `json:"style"`
	Photos      Source   `json:"photos"`
}

// Source identifies an input of a run: its path and a hash of its content (the
// painting's bytes; the photos' names, in order).
type Source struct {
	Path   string `json:"path"`
	Count  int    `json:"count,omitempty"`
	SHA256 string `json:"sha256"`
}

// maxHeader bounds the header a reader accepts, so a damaged length is not an allocation.
const maxHeader = 1 << 20

// Encode writes c in the checkpoint format.
func (c *Checkpoint) Encode(w io.Writer) error {
	if c.StateSize != len(c.State) {
		return fmt.Errorf("train: checkpoint header says %d numbers, state has %d", c.StateSize, len(c.State))
	}
	h := c.Header
	h.Format = CheckpointFormat
	head, err := json.Marshal(h)
	if err != nil {
		return err
	}
	sum := sha256.New()
	out := io.MultiWriter(w, sum)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(head)))
	buf := make([]byte, 0, len(checkpointMagic)+4+len(head)+4*len(c.State))
	buf = append(buf, checkpointMagic...)
	buf = append(buf, n[:]...)
	buf = append(buf, head...)
	for _, v := range c.State {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	if _, err := out.Write(buf); err != nil {
		return err
	}
	_, err = w.Write(sum.Sum(nil))
	return err
}

// WriteCheckpoint writes c to path atomically: path holds the previous
// checkpoint until the new one is complete on disk.
func WriteCheckpoint(path string, c *Checkpoint) error {
	return writeCheckpoint(path, c, nil)
}

// writeCheckpoint is WriteCheckpoint with the file's writer wrapped by wrap
// (when not nil), which tests use to fail part of the way, as a full disk does.
func writeCheckpoint(path string, c *Checkpoint, wrap func(io.Writer) io.Writer) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		if wrap != nil {
			w = wrap(w)
		}
		return c.Encode(w)
	})
	if err != nil {
		return fmt.Errorf("train: checkpoint at step %d: %w", c.Step, err)
	}
	return nil
}

// ErrCheckpoint is wrapped by every error about a damaged or foreign checkpoint file.
var ErrCheckpoint = errors.New("not a usable checkpoint")

// ReadCheckpoint reads and verifies the checkpoint at path: its format and
// checksum. Whether it fits a network is Check's question.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint: %w", err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("train: checkpoint %s: %w: %s", path, ErrCheckpoint, fmt.Sprintf(format, args...))
	}
	if !bytes.HasPrefix(raw, checkpointMagic) {
		return nil, bad("it does not start as a neuralstyle checkpoint does")
	}
	if len(raw) < len(checkpointMagic)+4+sha256.Size {
		return nil, bad("cut short (%d bytes)", len(raw))
	}
	body, sum := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, bad("its checksum does not match: the file is damaged or cut short")
	}
	rest := body[len(checkpointMagic):]
	n := binary.LittleEndian.Uint32(rest)
	rest = rest[4:]
	if n > maxHeader || int(n) > len(rest) {
		return nil, bad("header of %d bytes in a file of %d", n, len(raw))
	}
	c := &Checkpoint{}
	if err := json.Unmarshal(rest[:n], &c.Header); err != nil {
		return nil, bad("header: %v", err)
	}
	if c.Format != CheckpointFormat {
		return nil, bad("format %q; this version reads %s", c.Format, CheckpointFormat)
	}
	rest = rest[n:]
	if len(rest) != 4*c.StateSize {
		return nil, bad("%d bytes of state for the %d numbers its header names", len(rest), c.StateSize)
	}
	c.State = make([]float32, c.StateSize)
	for i := range c.State {
		c.State[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
	}
	return c, nil
}

// Check reports whether c was written for the network m describes.
func (c *Checkpoint) Check(m Meta) error {
	if c.GraphFormat != m.Format || c.Network != m.Network || c.Width != m.Width || c.StateSize != m.StateSize {
		return fmt.Errorf("train: %w: the checkpoint is of network %s width %d (%d numbers, graph %s); this graph is %s width %d (%d numbers, graph %s)",
			ErrCheckpoint, c.Network, c.Width, c.StateSize, c.GraphFormat, m.Network, m.Width, m.StateSize, m.Format)
	}
	return nil
}
