// Package fastnet runs the pretrained feed-forward style networks that
// savedmodel/fastnets.py rebuilds in TensorFlow (make fastnets): Dumoulin et
// al.'s 26-style network and Ghiasi et al.'s arbitrary-style predictor and
// transformer. A photo is stylised in one forward pass instead of an
// optimisation, at any size.
package fastnet

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/neuralstyle/neuralstyle/internal/provenance"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/tfgraph"
	"golang.org/x/sys/cpu"
)

// NumStyles is how many styles the 26-style network learned; StyleVector is the
// length of the arbitrary network's style vector, StyleSize the side of the
// square style image its predictor takes.
const (
	NumStyles   = 26
	StyleVector = 100
	StyleSize   = 256
)

// DefaultDir is where make fastnets writes the model.
const DefaultDir = "build/fastnets/model"

// MakeHint is how to get the model, which every message about a missing or
// damaged one ends with.
const MakeHint = "build it with make fastnets (downloads 2.9 MB, converts in under a minute), or pass --fastnets DIR"

// metadataFile is the exporter's record beside the SavedModel.
const metadataFile = provenance.MetadataFile

// Meta is what savedmodel/fastnets.py records in neuralstyle.json.
type Meta struct {
	Kind        string `json:"kind"`
	NumStyles   int    `json:"num_styles"`
	StyleVector int    `json:"style_vector"`
	StyleSize   int    `json:"style_size"`
	Weights     struct {
		Package     string `json:"package"`
		WheelSHA256 string `json:"wheel_sha256"`
		License     string `json:"license"`
	} `json:"weights"`
	// Moments are the 26-style network's instance-norm statistics in the
	// order its tile signature takes them (exports before tiles have none).
	Moments []Moment `json:"multistyle_moments"`
	// ArbitraryMoments are the arbitrary transformer's, for its tile
	// signature.
	ArbitraryMoments []Moment `json:"arbitrary_moments"`
}

// ReadMeta reads and checks dir's record without loading TensorFlow, so a
// missing or wrong model is reported before any work.
func ReadMeta(dir string) (Meta, error) {
	var m Meta
	if err := provenance.ReadMetadata(dir, "feed-forward model", MakeHint, &m); err != nil {
		return m, err
	}
	if m.Kind != "fastnets" || m.NumStyles != NumStyles || m.StyleVector != StyleVector || m.StyleSize != StyleSize {
		return m, fmt.Errorf("%s is not the feed-forward networks' export (kind %q, %d styles, vector %d, style size %d): %s",
			dir, m.Kind, m.NumStyles, m.StyleVector, m.StyleSize, MakeHint)
	}
	if _, err := os.Stat(filepath.Join(dir, "saved_model.pb")); err != nil {
		return m, fmt.Errorf("%s: no saved_model.pb: %s", dir, MakeHint)
	}
	return m, nil
}

// Model is the loaded export with its three signatures.
type Model struct {
	tf   *tfgraph.Model
	Meta Meta
	// multistyle is the 26-style network's signature: sigMultistyle, or
	// sigMultistyleBF16 after SetPrecision(BF16).
	multistyle string
}

// The 26-style network's whole-image signatures: float32 throughout, and its
// convolutions in bfloat16 (exports since issue 25's speed work).
const (
	sigMultistyle     = "multistyle"
	sigMultistyleBF16 = "multistyle_bf16"
)

// Precision is the arithmetic of the 26-style network's convolutions when it
// paints a whole image (Multistyle, and a clip's frames without smoothing;
// tiles and smoothed statistics stay float32).
type Precision int

const (
	// FP32 is float32 throughout, within 4e-5 of ONNX Runtime on the original.
	FP32 Precision = iota
	// BF16 runs the convolutions in bfloat16, the norms in float32: faster on
	// a CPU with AVX512-BF16 or AMX (docs/feedforward.md, Speed), pixels up to
	// a few levels of 255 apart from FP32's.
	BF16
)

// HasBF16 reports whether this CPU has native bfloat16 arithmetic
// (AVX512-BF16 or AMX-BF16), where BF16 is faster than FP32.
func HasBF16() bool { return cpu.X86.HasAVX512BF16 || cpu.X86.HasAMXBF16 }

// SetPrecision picks the arithmetic of Multistyle; BF16 needs an export with
// the multistyle_bf16 signature.
func (m *Model) SetPrecision(p Precision) error {
	switch p {
	case FP32:
		m.multistyle = sigMultistyle
	case BF16:
		if err := m.tf.Require(sigMultistyleBF16); err != nil {
			return fmt.Errorf("bf16: %w (an export from before it; rebuild with make fastnets)", err)
		}
		m.multistyle = sigMultistyleBF16
	default:
		return fmt.Errorf("fastnet: precision %d, want FP32 or BF16", p)
	}
	return nil
}

// Signatures the export must have.
var signatures = []string{sigMultistyle, "style_vector", "arbitrary"}

// Load opens the export in dir; opts may be nil.
func Load(dir string, opts *tfgraph.Options) (*Model, error) {
	meta, err := ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	m, err := tfgraph.Load(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, MakeHint)
	}
	if err := m.Require(signatures...); err != nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w (%s)", dir, err, MakeHint)
	}
	return &Model{tf: m, Meta: meta, multistyle: sigMultistyle}, nil
}

// Close releases the session.
func (m *Model) Close() error { return m.tf.Close() }

// toTensor makes the networks' input: [1,h,w,3] RGB in 0..1.
func toTensor(img *preprocess.Image) *tfgraph.Tensor {
	t := tfgraph.NewTensor(1, int64(img.Height), int64(img.Width), 3)
	for i, v := range img.Pix {
		t.Data[i] = float32(v) / 255
	}
	return t
}

// fromTensor turns [1,h,w,3] in 0..1 back into 8-bit pixels, rounding.
func fromTensor(t *tfgraph.Tensor) (*preprocess.Image, error) {
	if len(t.Shape) != 4 || t.Shape[0] != 1 || t.Shape[3] != 3 {
		return nil, fmt.Errorf("fastnet: output of shape %v, want [1,h,w,3]", t.Shape)
	}
	img := preprocess.NewImage(int(t.Shape[2]), int(t.Shape[1]))
	for i, v := range t.Data {
		img.Pix[i] = uint8(math.Round(float64(min(max(v, 0), 1)) * 255))
	}
	return img, nil
}

// Styles are the 26-style network's weights, summing to 1.
type Styles [NumStyles]float32

// ParseStyles reads "7" (one style) or a blend such as "3:0.5,12:0.5"; a style
// given without a weight has weight 1, and the weights are scaled to sum to 1.
func ParseStyles(text string) (Styles, error) {
	var s Styles
	parts := strings.Split(text, ",")
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return s, fmt.Errorf("%q: empty entry; write a style number 0-%d, or blends such as 3:0.5,12:0.5", text, NumStyles-1)
		}
		num, weight, hasWeight := strings.Cut(p, ":")
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if err != nil || n < 0 || n >= NumStyles {
			return s, fmt.Errorf("%q: style %q: want a number from 0 to %d", text, num, NumStyles-1)
		}
		w := 1.0
		if hasWeight {
			w, err = strconv.ParseFloat(strings.TrimSpace(weight), 64)
			if err != nil || w < 0 || math.IsInf(w, 0) || math.IsNaN(w) {
				return s, fmt.Errorf("%q: weight %q of style %d: want a number of at least 0", text, weight, n)
			}
		}
		s[n] += float32(w)
	}
	var sum float64
	for _, w := range s {
		sum += float64(w)
	}
	if sum <= 0 {
		return s, fmt.Errorf("%q: the weights sum to zero; give at least one a positive weight", text)
	}
	for i := range s {
		s[i] = float32(float64(s[i]) / sum)
	}
	return s, nil
}

// Multistyle stylises img with the 26-style network at img's own size.
func (m *Model) Multistyle(img *preprocess.Image, s Styles) (*preprocess.Image, error) {
	w := tfgraph.NewTensor(NumStyles)
	copy(w.Data, s[:])
	out, err := m.tf.Run(m.multistyle, map[string]*tfgraph.Tensor{"image": toTensor(img), "style_weights": w})
	if err != nil {
		return nil, err
	}
	return fromTensor(out["stylized"])
}

// StyleVector is the predictor's style vector of a painting: its centre square,
// resized to StyleSize with filter f.
func (m *Model) StyleVector(painting *preprocess.Image, f resample.Filter) ([]float32, error) {
	side := min(painting.Width, painting.Height)
	sq := crop(painting, (painting.Width-side)/2, (painting.Height-side)/2, side, side)
	sq, err := resample.Resize(sq, StyleSize, StyleSize, f)
	if err != nil {
		return nil, err
	}
	out, err := m.tf.Run("style_vector", map[string]*tfgraph.Tensor{"style_image": toTensor(sq)})
	if err != nil {
		return nil, err
	}
	return out["style"].Data, nil
}

// Arbitrary stylises img with the arbitrary network and a style vector, at
// img's own size.
func (m *Model) Arbitrary(img *preprocess.Image, style []float32) (*preprocess.Image, error) {
	if len(style) != StyleVector {
		return nil, fmt.Errorf("fastnet: style vector of %d numbers, want %d", len(style), StyleVector)
	}
	v := tfgraph.NewTensor(1, StyleVector)
	copy(v.Data, style)
	out, err := m.tf.Run("arbitrary", map[string]*tfgraph.Tensor{"image": toTensor(img), "style": v})
	if err != nil {
		return nil, err
	}
	return fromTensor(out["stylized"])
}

// Stylize paints content with the arbitrary network in the manner of
// painting (its style vector: StyleVector with f), at content's size, at full
// strength: the start of transfer's --init stylized (transfer.Stylizer).
func (m *Model) Stylize(content, painting *preprocess.Image, f resample.Filter) (*preprocess.Image, error) {
	vec, err := m.StyleVector(painting, f)
	if err != nil {
		return nil, err
	}
	return m.Arbitrary(content, vec)
}

// crop returns the w x h rectangle of img at (x, y).
func crop(img *preprocess.Image, x, y, w, h int) *preprocess.Image {
	out := preprocess.NewImage(w, h)
	for r := 0; r < h; r++ {
		copy(out.Pix[3*r*w:3*(r+1)*w], img.Pix[3*((y+r)*img.Width+x):])
	}
	return out
}

// Blend mixes two images of one size: strength 0 gives photo, 1 stylized.
func Blend(photo, stylized *preprocess.Image, strength float64) (*preprocess.Image, error) {
	if photo.Width != stylized.Width || photo.Height != stylized.Height {
		return nil, fmt.Errorf("fastnet: blend of %dx%d and %dx%d", photo.Width, photo.Height, stylized.Width, stylized.Height)
	}
	out := preprocess.NewImage(photo.Width, photo.Height)
	for i := range out.Pix {
		v := (1-strength)*float64(photo.Pix[i]) + strength*float64(stylized.Pix[i])
		out.Pix[i] = uint8(math.Round(v))
	}
	return out, nil
}

// MixVectors interpolates style vectors as Ghiasi et al. do to weaken a style:
// strength 0 is the photo's own style vector, 1 the painting's.
func MixVectors(own, painting []float32, strength float64) []float32 {
	out := make([]float32, len(painting))
	for i := range out {
		out[i] = float32((1-strength)*float64(own[i]) + strength*float64(painting[i]))
	}
	return out
}
