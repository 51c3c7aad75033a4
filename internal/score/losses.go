package score

import (
	"fmt"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// DefaultSize is the side of the square at which Compute measures, the
// notebook's 512x512.
const DefaultSize = 512

// Size limits: the model needs 16 pixels per side (block5_conv3 behind four
// pools), SSIM one 11x11 window; above MaxSize one evaluation of the batch
// of three images would need more memory than a score is worth.
const (
	MinSize = 16
	MaxSize = 2048
)

// The signature Compute runs: the notebook's own graph with its layers
// fixed (savedmodel/README.md), content, style and output in one batch.
const signature = "notebook_recipe"

// LayerLoss is one style layer's weighted term.
type LayerLoss struct {
	Layer string  `json:"layer"`
	Loss  float32 `json:"loss"`
}

// Score compares an output image with its content and style images. The
// losses are the notebook's weighted terms (content 0.025 on block2_conv2,
// style 5.0 spread over its five layers, total variation 1.0) in float32,
// with all three images resized to Size x Size as the notebook resizes
// (nearest neighbour) and preprocessed as it does; SSIM and ColorDistance
// are measured on the same resized images.
type Score struct {
	Size        int         `json:"size"`
	Loss        float32     `json:"loss"`
	ContentLoss float32     `json:"content_loss"`
	StyleLoss   float32     `json:"style_loss"`
	StyleLayers []LayerLoss `json:"style_layers"`
	TVLoss      float32     `json:"tv_loss"`
	// SSIM is the structural similarity of the output's luminance to the
	// content's: 1 for the same image.
	SSIM float64 `json:"ssim_content"`
	// ColorDistance is the Hellinger distance of the output's colour
	// histogram from the style's: 0 for the same colours, 1 for none shared.
	ColorDistance float64 `json:"color_distance_style"`
}

// CheckSize reports whether size is one Compute accepts.
func CheckSize(size int) error {
	if size < MinSize || size > MaxSize {
		return fmt.Errorf("score: size %d: must be %d to %d", size, MinSize, MaxSize)
	}
	return nil
}

// CheckModel reports whether m has the signature Compute runs.
func CheckModel(m *tfgraph.Model) error {
	if _, err := m.Signature(signature); err != nil {
		return fmt.Errorf("%s has no %s signature to score with (export the style model again: make model): %w", m.Dir(), signature, err)
	}
	return nil
}

// Compute scores output against content and style at size x size.
func Compute(m *tfgraph.Model, output, content, style *preprocess.Image, size int) (*Score, error) {
	if err := CheckSize(size); err != nil {
		return nil, err
	}
	s := transfer.Defaults()
	images := [3]*preprocess.Image{output, content, style}
	var tensors [3][]float32
	for i, name := range []string{"output", "content", "style"} {
		img, err := resample.Resize(images[i], size, size, s.Resample)
		if err != nil {
			return nil, fmt.Errorf("score: %s image: %w", name, err)
		}
		if tensors[i], err = vggtensor.Preprocess(img, s.Preprocess); err != nil {
			return nil, fmt.Errorf("score: %s image: %w", name, err)
		}
		images[i] = img
	}
	sc := &Score{Size: size}
	var err error
	if sc.SSIM, err = SSIM(images[0], images[1]); err != nil {
		return nil, err
	}
	if sc.ColorDistance, err = ColorDistance(images[0], images[2]); err != nil {
		return nil, err
	}

	shape := []int64{1, int64(size), int64(size), 3}
	cw := tfgraph.NewTensor(int64(len(transfer.Layers)))
	sw := tfgraph.NewTensor(int64(len(transfer.Layers)))
	cw.Data[layer(s.ContentLayer)] = float32(s.ContentWeight)
	for _, name := range s.StyleLayers {
		// The notebook's style_weight / len(feature_layers), in float64.
		sw.Data[layer(name)] = float32(s.StyleWeight / float64(len(s.StyleLayers)))
	}
	out, err := m.Run(signature, map[string]*tfgraph.Tensor{
		"combination":     {Shape: shape, Data: tensors[0]},
		"content":         {Shape: shape, Data: tensors[1]},
		"style":           {Shape: shape, Data: tensors[2]},
		"content_weights": cw,
		"style_weights":   sw,
		"tv_weight":       tfgraph.Scalar(float32(s.TVWeight)),
	})
	if err != nil {
		return nil, fmt.Errorf("score: %w", err)
	}
	for _, k := range []string{"loss", "content_loss", "style_loss", "tv_loss", "style_layer_losses"} {
		if out[k] == nil || len(out[k].Data) == 0 {
			return nil, fmt.Errorf("score: %s gave no %s", signature, k)
		}
	}
	sc.Loss, sc.ContentLoss = out["loss"].Data[0], out["content_loss"].Data[0]
	sc.StyleLoss, sc.TVLoss = out["style_loss"].Data[0], out["tv_loss"].Data[0]
	per := out["style_layer_losses"].Data
	if len(per) != len(transfer.Layers) {
		return nil, fmt.Errorf("score: %s gave %d style layer losses, want %d", signature, len(per), len(transfer.Layers))
	}
	for _, name := range s.StyleLayers {
		sc.StyleLayers = append(sc.StyleLayers, LayerLoss{Layer: name, Loss: per[layer(name)]})
	}
	return sc, nil
}

// layer is the index of one of the notebook's layers, which are VGG16's.
func layer(name string) int {
	for i, l := range transfer.Layers {
		if l == name {
			return i
		}
	}
	panic("score: the notebook's layer " + name + " is not one of transfer.Layers")
}
