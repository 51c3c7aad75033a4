// Package train trains a feed-forward style network (Johnson, Alahi and Fei-Fei
// 2016) for one painting from a folder of photos, driving the training graph
// that savedmodel/train.py exports: Go picks the crops, calls one train_step per
// step, writes checkpoints and previews, and resumes exactly where a checkpoint
// left off. A trained network is a folder that Open runs.
package train

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/neuralstyle/neuralstyle/internal/provenance"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// GraphFormat is the version of savedmodel/train.py's export this package runs.
const GraphFormat = "neuralstyle-fastnet-train/1"

// MakeHint ends every message about a missing or wrong training graph.
const MakeHint = "export one with python -m savedmodel.train --out DIR (make train-model)"

const metadataFile = "neuralstyle.json"

// StyleLayers are the layers whose Gram matrices the loss compares, in the
// order of the train_step signature's gram_<layer> inputs.
var StyleLayers = []string{"block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3", "block5_conv3"}

// Meta is what savedmodel/train.py records in neuralstyle.json.
type Meta struct {
	Kind       string `json:"kind"`
	Format     string `json:"format"`
	Network    string `json:"network"`
	Width      int    `json:"width"`
	Parameters int    `json:"parameters"`
	StateSize  int    `json:"state_size"`
	Seed       uint64 `json:"seed"`
	MinSide    int    `json:"min_side"`
	Notebook   struct {
		ContentWeight float64 `json:"content_weight"`
		StyleWeight   float64 `json:"style_weight"`
		TVWeight      float64 `json:"tv_weight"`
	} `json:"notebook"`
	Weights struct {
		Source string `json:"source"`
		SHA256 string `json:"sha256"`
	} `json:"weights"`
}

// ReadMeta reads and checks dir's record without loading TensorFlow, so a
// missing or wrong graph is reported before any work.
func ReadMeta(dir string) (Meta, error) {
	var m Meta
	if err := provenance.ReadMetadata(dir, "training graph", MakeHint, &m); err != nil {
		return m, err
	}
	if m.Kind != "fastnet-train" || m.Format != GraphFormat {
		return m, fmt.Errorf("%s is not a training graph of format %s (kind %q, format %q): %s", dir, GraphFormat, m.Kind, m.Format, MakeHint)
	}
	if m.Parameters < 1 || m.StateSize != 3*m.Parameters+3 {
		return m, fmt.Errorf("%s: %s records %d parameters and a state of %d numbers; want 3 x parameters + 3: %s",
			dir, metadataFile, m.Parameters, m.StateSize, MakeHint)
	}
	if _, err := os.Stat(filepath.Join(dir, "saved_model.pb")); err != nil {
		return m, fmt.Errorf("%s: no saved_model.pb: %s", dir, MakeHint)
	}
	return m, nil
}

// Network is a loaded training graph: the transformation network, its Adam
// state, and VGG16's loss.
type Network struct {
	tf   *tfgraph.Model
	Meta Meta
}

var signatures = []string{"init", "train_step", "train_step_bf16", "evaluate", "stylize", "style_grams", "get_state", "set_state"}

// Load opens the training graph in dir; opts may be nil.
func Load(dir string, opts *tfgraph.Options) (*Network, error) {
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
	return &Network{tf: m, Meta: meta}, nil
}

// Close releases the session.
func (n *Network) Close() error { return n.tf.Close() }

// MaxSeed is the largest seed Init takes: it crosses the signature as a
// float32, which holds integers exactly up to 2^24.
const MaxSeed = 1<<24 - 1

// Init gives the network fresh parameters drawn with seed and resets Adam.
func (n *Network) Init(seed uint64) error {
	if seed > MaxSeed {
		return fmt.Errorf("train: seed must be at most %d, not %d", MaxSeed, seed)
	}
	if _, err := n.tf.Run("init", map[string]*tfgraph.Tensor{"seed": tfgraph.Scalar(float32(seed))}); err != nil {
		return fmt.Errorf("train: init: %w", err)
	}
	return nil
}

// Grams are the painting's Gram matrices at the style layers, in StyleLayers' order.
type Grams []*tfgraph.Tensor

// StyleGrams computes the painting's Gram targets. The loss compares them with
// crops of the same size, as the notebook resizes the painting to the photo's
// size, so painting should have the crops' size.
func (n *Network) StyleGrams(painting *preprocess.Image) (Grams, error) {
	out, err := n.tf.Run("style_grams", map[string]*tfgraph.Tensor{"image": ImageTensor(painting)})
	if err != nil {
		return nil, fmt.Errorf("train: style_grams: %w", err)
	}
	g := make(Grams, len(StyleLayers))
	for i, l := range StyleLayers {
		if g[i] = out["gram_"+l]; g[i] == nil {
			return nil, fmt.Errorf("train: style_grams returned no gram_%s", l)
		}
	}
	return g, nil
}

// Weights are the loss's weights: the notebook's are 0.025, 5 and 1.
type Weights struct{ Content, Style, TV float32 }

// Losses are a batch's mean loss and its terms, weighted.
type Losses struct {
	Loss    float32 `json:"loss"`
	Content float32 `json:"content_loss"`
	Style   float32 `json:"style_loss"`
	TV      float32 `json:"tv_loss"`
}

func (n *Network) lossInputs(images *tfgraph.Tensor, g Grams, w Weights) map[string]*tfgraph.Tensor {
	in := map[string]*tfgraph.Tensor{
		"images":         images,
		"content_weight": tfgraph.Scalar(w.Content),
		"style_weight":   tfgraph.Scalar(w.Style),
		"tv_weight":      tfgraph.Scalar(w.TV),
	}
	for i, l := range StyleLayers {
		in["gram_"+l] = g[i]
	}
	return in
}

func losses(out map[string]*tfgraph.Tensor, sig string) (Losses, error) {
	var v [4]float32
	for i, name := range []string{"loss", "content_loss", "style_loss", "tv_loss"} {
		t := out[name]
		if t == nil || len(t.Data) != 1 {
			return Losses{}, fmt.Errorf("train: %s returned no scalar %s", sig, name)
		}
		v[i] = t.Data[0]
	}
	l := Losses{v[0], v[1], v[2], v[3]}
	if math.IsNaN(float64(l.Loss)) || math.IsInf(float64(l.Loss), 0) {
		return l, fmt.Errorf("train: %s: the loss is %v (try a lower learning rate)", sig, l.Loss)
	}
	return l, nil
}

// Step runs one Adam step on images (B, H, W, 3) in 0..1 and returns the
// batch's losses before the step; bf16 runs VGG16's convolutions in bfloat16.
func (n *Network) Step(images *tfgraph.Tensor, g Grams, w Weights, lr float32, bf16 bool) (Losses, error) {
	in := n.lossInputs(images, g, w)
	in["learning_rate"] = tfgraph.Scalar(lr)
	sig := "train_step"
	if bf16 {
		sig = "train_step_bf16"
	}
	out, err := n.tf.Run(sig, in)
	if err != nil {
		return Losses{}, fmt.Errorf("train: %s: %w", sig, err)
	}
	return losses(out, sig)
}

// Evaluate returns the batch's losses without training.
func (n *Network) Evaluate(images *tfgraph.Tensor, g Grams, w Weights) (Losses, error) {
	out, err := n.tf.Run("evaluate", n.lossInputs(images, g, w))
	if err != nil {
		return Losses{}, fmt.Errorf("train: evaluate: %w", err)
	}
	return losses(out, "evaluate")
}

// Stylize runs the network on img at its own size (at least 8 pixels a side).
func (n *Network) Stylize(img *preprocess.Image) (*preprocess.Image, error) {
	out, err := n.tf.Run("stylize", map[string]*tfgraph.Tensor{"image": ImageTensor(img)})
	if err != nil {
		return nil, fmt.Errorf("train: stylize: %w", err)
	}
	t := out["stylized"]
	if t == nil || len(t.Shape) != 4 || t.Shape[0] != 1 || t.Shape[1] != int64(img.Height) || t.Shape[2] != int64(img.Width) || t.Shape[3] != 3 {
		return nil, fmt.Errorf("train: stylize returned no [1,%d,%d,3] image", img.Height, img.Width)
	}
	res := preprocess.NewImage(img.Width, img.Height)
	for i, v := range t.Data {
		res.Pix[i] = uint8(math.Round(float64(min(max(v, 0), 1)) * 255))
	}
	return res, nil
}

// State returns every variable but VGG16's: the parameters, Adam's moments,
// its beta powers and the step count, flat.
func (n *Network) State() ([]float32, error) {
	out, err := n.tf.Run("get_state", map[string]*tfgraph.Tensor{})
	if err != nil {
		return nil, fmt.Errorf("train: get_state: %w", err)
	}
	t := out["state"]
	if t == nil || len(t.Data) != n.Meta.StateSize {
		return nil, fmt.Errorf("train: get_state returned no state of %d numbers", n.Meta.StateSize)
	}
	return t.Data, nil
}

// SetState sets every variable State returns and reports the step count it holds.
func (n *Network) SetState(state []float32) (int, error) {
	if len(state) != n.Meta.StateSize {
		return 0, fmt.Errorf("train: a state of %d numbers for a network whose state has %d", len(state), n.Meta.StateSize)
	}
	t := tfgraph.NewTensor(int64(len(state)))
	copy(t.Data, state)
	out, err := n.tf.Run("set_state", map[string]*tfgraph.Tensor{"state": t})
	if err != nil {
		return 0, fmt.Errorf("train: set_state: %w", err)
	}
	s := out["step"]
	if s == nil || len(s.Data) != 1 {
		return 0, errors.New("train: set_state returned no step")
	}
	return int(s.Data[0]), nil
}

// ImageTensor is [1, h, w, 3] RGB in 0..1, the graph's image input.
func ImageTensor(img *preprocess.Image) *tfgraph.Tensor {
	t := tfgraph.NewTensor(1, int64(img.Height), int64(img.Width), 3)
	for i, v := range img.Pix {
		t.Data[i] = float32(v) / 255
	}
	return t
}
