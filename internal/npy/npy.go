// Package npy writes float32 arrays as NumPy .npy files (format version 1.0), the
// way numpy.save writes them: the magic string, the version, a little-endian
// header length, a Python dict literal describing the array, padded with spaces
// and a newline so the data starts at a multiple of 64 bytes, then the values as
// little-endian float32 in C (row-major) order. numpy.load reads them back.
package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const magic = "\x93NUMPY"

// align is the boundary numpy.save pads the header to.
const align = 64

// Header returns the bytes that precede the data of an array of the given shape.
func Header(shape []int64) ([]byte, error) {
	dims := make([]string, len(shape))
	for i, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("npy: shape %v has a negative dimension", shape)
		}
		dims[i] = strconv.FormatInt(d, 10)
	}
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(shape) == 1 {
		tuple = "(" + dims[0] + ",)" // Python's one-element tuple
	}
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': " + tuple + ", }"
	// magic (6) + version (2) + length (2) + dict + padding + '\n'
	total := 10 + len(dict) + 1
	pad := (align - total%align) % align
	if n := len(dict) + pad + 1; n > math.MaxUint16 {
		return nil, fmt.Errorf("npy: shape %v makes a header too long for format 1.0", shape)
	}
	h := make([]byte, 0, total+pad)
	h = append(h, magic...)
	h = append(h, 1, 0)
	h = binary.LittleEndian.AppendUint16(h, uint16(len(dict)+pad+1))
	h = append(h, dict...)
	h = append(h, strings.Repeat(" ", pad)...)
	return append(h, '\n'), nil
}

// Write writes data, an array of the given shape, to w.
func Write(w io.Writer, shape []int64, data []float32) error {
	h, err := check(shape, data)
	if err != nil {
		return err
	}
	return write(w, h, data)
}

// check validates the array and returns its header.
func check(shape []int64, data []float32) ([]byte, error) {
	h, err := Header(shape)
	if err != nil {
		return nil, err
	}
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	if n != int64(len(data)) {
		return nil, fmt.Errorf("npy: shape %v needs %d values, got %d", shape, n, len(data))
	}
	return h, nil
}

func write(w io.Writer, h []byte, data []float32) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	if _, err := bw.Write(h); err != nil {
		return err
	}
	var b [4]byte
	for _, v := range data {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		if _, err := bw.Write(b[:]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// WriteFile writes the array to path through a temporary file in the same folder
// that is renamed into place, so a failed write leaves no partial file.
func WriteFile(path string, shape []int64, data []float32) (err error) {
	h, err := check(shape, data)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f, h, data); err != nil {
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	return nil
}
