package train

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/neuralstyle/neuralstyle/atomicfile"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// A trained network is a folder (neuralstyle train --out) of:
const (
	NetFile        = "net.json"        // NetRecord
	GraphDir       = "model"           // a copy of the training graph
	CheckpointFile = "checkpoint.nsck" // the latest checkpoint, whose parameters the network runs with
)

// NetKind is NetRecord's kind.
const NetKind = "fastnet-trained"

// NetRecord describes a trained network's folder.
type NetRecord struct {
	Kind     string   `json:"kind"`
	Network  string   `json:"network"`
	Width    int      `json:"width"`
	Style    Source   `json:"style"`
	Photos   Source   `json:"photos"`
	Settings Settings `json:"settings"`
	Step     int      `json:"step"` // of the checkpoint when this record was written
	Graph    string   `json:"graph"`
}

// IsNet reports whether dir looks like a trained network's folder (has NetFile).
func IsNet(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, NetFile))
	return err == nil && st.Mode().IsRegular()
}

// ReadNet reads dir's NetRecord.
func ReadNet(dir string) (NetRecord, error) {
	var r NetRecord
	raw, err := os.ReadFile(filepath.Join(dir, NetFile))
	if err != nil {
		return r, fmt.Errorf("trained network: %w", err)
	}
	if err := json.Unmarshal(raw, &r); err != nil || r.Kind != NetKind {
		return r, fmt.Errorf("%s is not a trained network's record (neuralstyle train writes it)", filepath.Join(dir, NetFile))
	}
	return r, nil
}

// WriteNet writes dir's NetRecord atomically.
func WriteNet(dir string, r NetRecord) error {
	r.Kind = NetKind
	return atomicfile.Write(filepath.Join(dir, NetFile), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	})
}

// CheckNet checks a trained network's folder without loading TensorFlow: its
// record, its graph's record and its checkpoint, which must fit the graph.
func CheckNet(dir string) (NetRecord, *Checkpoint, error) {
	r, err := ReadNet(dir)
	if err != nil {
		return r, nil, err
	}
	meta, err := ReadMeta(filepath.Join(dir, GraphDir))
	if err != nil {
		return r, nil, err
	}
	c, err := ReadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		return r, nil, err
	}
	if err := c.Check(meta); err != nil {
		return r, nil, err
	}
	return r, c, nil
}

// OpenNet loads a trained network's folder with its checkpoint's parameters.
func OpenNet(dir string, opts *tfgraph.Options) (*Network, NetRecord, error) {
	r, c, err := CheckNet(dir)
	if err != nil {
		return nil, r, err
	}
	n, err := Load(filepath.Join(dir, GraphDir), opts)
	if err != nil {
		return nil, r, err
	}
	if _, err := n.SetState(c.State); err != nil {
		n.Close()
		return nil, r, err
	}
	return n, r, nil
}

// CopyGraph puts a copy of the training graph src at dst (which must not
// exist): hard links where the file system allows, copies otherwise. It goes
// to a temporary folder beside dst first, so dst is either whole or absent.
func CopyGraph(src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("train: copy the graph: %s exists", dst)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-")
	if err != nil {
		return fmt.Errorf("train: copy the graph: %w", err)
	}
	defer os.RemoveAll(tmp)
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(tmp, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", path)
		}
		if os.Link(path, to) == nil {
			return nil
		}
		return copyFile(path, to)
	})
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		return fmt.Errorf("train: copy the graph %s to %s: %w", src, dst, err)
	}
	return nil
}

func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = io.Copy(out, in)
	return err
}
