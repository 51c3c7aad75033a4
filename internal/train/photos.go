package train

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Photos are the usable photos of a folder, by name, and those left out.
type Photos struct {
	Dir     string
	Names   []string // sorted
	Skipped []Skipped
}

// Skipped is a file of the folder that is not used, and why.
type Skipped struct {
	Name, Reason string
}

// ScanPhotos lists dir's files (not its subfolders, nor names starting with a
// dot), decodes each as the crops will be decoded, and keeps those at least
// crop pixels a side. A file that does not decode, or a photo that is too
// small, is skipped and counted, not an error; a folder that cannot be read,
// or that has no usable photo, is.
func ScanPhotos(dir string, crop int) (*Photos, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("train: photos: %w", err)
	}
	p := &Photos{Dir: dir}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || e.IsDir() {
			continue
		}
		img, err := decodePhoto(filepath.Join(dir, name), crop)
		switch {
		case err != nil:
			p.Skipped = append(p.Skipped, Skipped{name, err.Error()})
		case img.Width < crop || img.Height < crop:
			p.Skipped = append(p.Skipped, Skipped{name, fmt.Sprintf("%dx%d is smaller than the %dx%d crop", img.Width, img.Height, crop, crop)})
		default:
			p.Names = append(p.Names, name)
		}
	}
	slices.Sort(p.Names)
	if len(p.Names) == 0 {
		why := "it has no files"
		if len(p.Skipped) > 0 {
			why = fmt.Sprintf("all %d files were skipped (first: %s: %s)", len(p.Skipped), p.Skipped[0].Name, p.Skipped[0].Reason)
		}
		return nil, fmt.Errorf("train: photos: no usable photo in %s: %s", dir, why)
	}
	return p, nil
}

// HoldOut removes name from the photos the crops come from (the preview's photo).
func (p *Photos) HoldOut(name string) {
	p.Names = slices.DeleteFunc(p.Names, func(n string) bool { return n == name })
}

// Source identifies the photos for a checkpoint: the folder, the count and a
// hash of the names in order, which fix what every step draws.
func (p *Photos) Source() Source {
	h := sha256.New()
	for _, n := range p.Names {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	return Source{Path: p.Dir, Count: len(p.Names), SHA256: hex.EncodeToString(h.Sum(nil))}
}

// decodePhoto decodes path as Pillow would with draft (JPEGs may come at 1/2,
// 1/4 or 1/8 size, never below crop a side), upright by its EXIF orientation.
func decodePhoto(path string, crop int) (*preprocess.Image, error) {
	return imagefile.ReadFile(path, &imagefile.DecodeOptions{ShrinkTo: crop})
}

// Batcher draws the crops of each step. What step s draws depends only on the
// seed, s and the photos, so a run resumed at step s draws what an
// uninterrupted one would have.
type Batcher struct {
	photos *Photos
	crop   int
	seed   uint64
	filter resample.Filter
}

// NewBatcher returns a Batcher of crop x crop crops from p.
func NewBatcher(p *Photos, crop int, seed uint64, f resample.Filter) *Batcher {
	return &Batcher{photos: p, crop: crop, seed: seed, filter: f}
}

// Fill puts step's crops into images (B, crop, crop, 3), in 0..1, and returns
// the photos they came from. Each crop is a photo scaled down so that its
// short side is the crop's (never up), then cut at a random place.
func (b *Batcher) Fill(step int, images *tfgraph.Tensor) ([]string, error) {
	n := int(images.Shape[0])
	c := b.crop
	if len(images.Shape) != 4 || images.Shape[1] != int64(c) || images.Shape[2] != int64(c) || images.Shape[3] != 3 {
		return nil, fmt.Errorf("train: batch tensor of shape %v, want [B,%d,%d,3]", images.Shape, c, c)
	}
	rng := rand.New(rand.NewPCG(b.seed, uint64(step)))
	names := make([]string, n)
	for k := range n {
		name := b.photos.Names[rng.IntN(len(b.photos.Names))]
		names[k] = name
		img, err := decodePhoto(filepath.Join(b.photos.Dir, name), c)
		if err != nil {
			return nil, fmt.Errorf("train: step %d: %w", step+1, err)
		}
		if img, err = ScaleToCrop(img, c, b.filter); err != nil {
			return nil, fmt.Errorf("train: step %d: %s: %w", step+1, name, err)
		}
		x, y := rng.IntN(img.Width-c+1), rng.IntN(img.Height-c+1)
		dst := images.Data[k*c*c*3 : (k+1)*c*c*3]
		for r := range c {
			row := img.Pix[3*((y+r)*img.Width+x) : 3*((y+r)*img.Width+x+c)]
			for i, v := range row {
				dst[3*r*c+i] = float32(v) / 255
			}
		}
	}
	return names, nil
}

// ScaleToCrop scales img down with f so that its short side is crop, keeping
// its aspect ratio; an image whose short side is crop already is returned as
// it is, and a smaller one is an error.
func ScaleToCrop(img *preprocess.Image, crop int, f resample.Filter) (*preprocess.Image, error) {
	short := min(img.Width, img.Height)
	if short < crop {
		return nil, fmt.Errorf("%dx%d is smaller than the %dx%d crop", img.Width, img.Height, crop, crop)
	}
	if short == crop {
		return img, nil
	}
	w, h := crop, crop
	if img.Width > img.Height {
		w = max(crop, int(float64(img.Width)*float64(crop)/float64(img.Height)+0.5))
	} else {
		h = max(crop, int(float64(img.Height)*float64(crop)/float64(img.Width)+0.5))
	}
	return resample.Resize(img, w, h, f)
}
