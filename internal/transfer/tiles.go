package transfer

import (
	"fmt"
	"math"

	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Tiled evaluation: the loss and its gradient computed tile by tile, for images
// whose activations do not fit in memory at once, with the same numbers as the
// whole image up to float32 rounding. The content term and each Gram matrix are
// sums over positions, so a first pass adds up the combination's Gram matrices
// over tiles (tile_targets), and a second pass takes each tile's share of the
// gradient given the whole image's Gram matrices (tile_gradient), summing the
// tiles' input gradients where their halos overlap. Total variation needs no
// network and is computed here on the whole image.
//
// Exactness: VGG16's convs are 3x3 'same' padded and its pools 2x2 stride 2, so a
// tile's activation equals the whole image's wherever its receptive field lies
// inside the tile, or reaches past the tile only where the tile edge is the
// image's (both see zero padding there). Tiles therefore start at multiples of
// the deepest pooling stride, 16, so every pool pairs the same pixels, and carry
// a halo, also a multiple of 16, at least as deep as the band that a cut edge
// corrupts at the deepest layer used (tileHalo); the model crops the halo off at
// every layer.

// The model's tiled signatures and their own tensors (savedmodel/README.md).
const (
	sigTileTargets  = "tile_targets"
	sigTileGradient = "tile_gradient"

	inTile      = "tile"
	inCrop      = "crop"
	inImageSize = "image_size"

	combinationGramPrefix = "combination_"
)

// tileAlign is block5's pooling stride: tile origins and halos are multiples of it.
const tileAlign = 16

// layerBlock returns the block (1..5) of conv layer i.
func layerBlock(i int) int { return int(Layers[i][len("block")] - '0') }

// tileHalo returns the halo, in input pixels, that keeps every activation up to
// conv layer deepest exact: the depth of the band a cut edge corrupts there (one
// position more per conv; halved, rounded up, by each pool), in input pixels,
// rounded up to a multiple of tileAlign. For block5_conv3 it is 96.
func tileHalo(deepest int) int {
	band := 0
	for i := 0; i <= deepest; i++ {
		if i > 0 && layerBlock(i) != layerBlock(i-1) {
			band = (band + 1) / 2
		}
		band++
	}
	px := band << (layerBlock(deepest) - 1)
	return (px + tileAlign - 1) / tileAlign * tileAlign
}

// tileSpan is one tile along one axis: its interior [lo, hi) and, around it, the
// span [start, end) the model sees, halo included.
type tileSpan struct{ lo, hi, start, end int }

// splitAxis cuts [0, n) into interiors of size (a multiple of tileAlign), the
// last one taking the rest, with a halo on each side that stops at the image's
// edges. A rest shorter than tileAlign joins the tile before it, so that no tile
// is thinner than block5's stride.
func splitAxis(n, size, halo int) []tileSpan {
	var spans []tileSpan
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		if n-hi < tileAlign {
			hi = n
		}
		spans = append(spans, tileSpan{lo: lo, hi: hi, start: max(0, lo-halo), end: min(n, hi+halo)})
		if hi == n {
			break
		}
	}
	return spans
}

// imageTile is one tile of an image: rows ys, columns xs.
type imageTile struct{ ys, xs tileSpan }

func (t imageTile) height() int { return t.ys.end - t.ys.start }
func (t imageTile) width() int  { return t.xs.end - t.xs.start }

// crop is the tile's interior as the model takes it: top, left, height, width in
// the tile's pixels.
func (t imageTile) crop() *tfgraph.Tensor {
	return &tfgraph.Tensor{Shape: []int64{4}, Data: []float32{
		float32(t.ys.lo - t.ys.start), float32(t.xs.lo - t.xs.start),
		float32(t.ys.hi - t.ys.lo), float32(t.xs.hi - t.xs.lo),
	}}
}

// splitImage returns the tiles of a w x h image, row by row.
func splitImage(w, h, size, halo int) []imageTile {
	var tiles []imageTile
	for _, ys := range splitAxis(h, size, halo) {
		for _, xs := range splitAxis(w, size, halo) {
			tiles = append(tiles, imageTile{ys: ys, xs: xs})
		}
	}
	return tiles
}

// cut copies the tile's pixels (halo included) of a w-wide image into dst.
func cut[T float32 | float64](dst []float32, img []T, w int, t imageTile) {
	tw := t.width()
	for y := t.ys.start; y < t.ys.end; y++ {
		row := img[(y*w+t.xs.start)*3 : (y*w+t.xs.end)*3]
		out := dst[(y-t.ys.start)*tw*3:]
		for i, v := range row {
			out[i] = float32(v)
		}
	}
}

// deepestLayer returns the deepest layer whose weight is nonzero.
func deepestLayer(w weightInputs) int {
	deepest := 0
	for i := range Layers {
		if w.content.Data[i] != 0 || w.style.Data[i] != 0 {
			deepest = i
		}
	}
	return deepest
}

// CheckTiledModel reports whether m has the tiled signatures.
func CheckTiledModel(m *tfgraph.Model) error {
	for _, name := range []string{sigTileTargets, sigTileGradient} {
		if _, err := m.Signature(name); err != nil {
			return fmt.Errorf("%s was exported before the style model could evaluate tile by tile (signature %s); export it again (make model)", m.Dir(), name)
		}
	}
	return nil
}

// tiledEvaluator evaluates the run-time-layer loss (the fast signature's) tile by
// tile.
type tiledEvaluator struct {
	model   *tfgraph.Model
	w, h    int
	tiles   []imageTile
	weights weightInputs
	noContent,
	noStyle weightInputs // the same with the content, or the style, weights zeroed
	styleLayers []int
	contents    []*tfgraph.Tensor          // per tile, the content image's interior features
	grams       map[string]*tfgraph.Tensor // the style image's Gram matrices
	combination map[string]*tfgraph.Tensor // the combination's, summed over tiles
	imageSize   *tfgraph.Tensor
	gramSums    [][]float64
	tv          float64
	x32, tile   []float32 // buffers: the combination in float32, one tile of it
}

// newTiledEvaluator prepares tiles of interiors tile x tile (a multiple of 16) for
// a w x h combination image: it computes the content image's features tile by tile
// and the style image's Gram matrices (the style image, sw x sh, tiled too).
func newTiledEvaluator(m *tfgraph.Model, content []float32, w, h int, style []float32, sw, sh int, s *Settings, tile int) (*tiledEvaluator, error) {
	return newTiledEvaluatorHalo(m, content, w, h, style, sw, sh, s, tile, tileHalo(deepestLayer(newWeightInputs(s))))
}

// newTiledEvaluatorHalo is newTiledEvaluator with a given halo (a multiple of 16);
// tests use it to show that a thinner halo than tileHalo's is not exact.
func newTiledEvaluatorHalo(m *tfgraph.Model, content []float32, w, h int, style []float32, sw, sh int, s *Settings, tile, halo int) (*tiledEvaluator, error) {
	if tile < tileAlign || tile%tileAlign != 0 {
		return nil, fmt.Errorf("tile size %d: want a multiple of %d", tile, tileAlign)
	}
	if err := CheckTiledModel(m); err != nil {
		return nil, err
	}
	weights := newWeightInputs(s)
	zero := tfgraph.NewTensor(int64(len(Layers)))
	e := &tiledEvaluator{
		model: m, w: w, h: h, weights: weights,
		noContent:   weightInputs{content: zero, style: weights.style, tv: weights.tv},
		noStyle:     weightInputs{content: weights.content, style: zero, tv: weights.tv},
		grams:       map[string]*tfgraph.Tensor{},
		combination: map[string]*tfgraph.Tensor{},
		imageSize:   &tfgraph.Tensor{Shape: []int64{2}, Data: []float32{float32(h), float32(w)}},
		tv:          float64(weights.tv.Data[0]),
	}
	e.tiles = splitImage(w, h, tile, halo)
	for i := range Layers {
		c := int64(layerChannels[i])
		e.grams[gramName(i)] = tfgraph.NewTensor(c, c)
		e.combination[combinationGramPrefix+gramName(i)] = tfgraph.NewTensor(c, c)
		if weights.style.Data[i] != 0 {
			e.styleLayers = append(e.styleLayers, i)
		}
	}
	e.gramSums = make([][]float64, len(Layers))
	for _, i := range e.styleLayers {
		e.gramSums[i] = make([]float64, layerChannels[i]*layerChannels[i])
	}

	for _, t := range e.tiles {
		out, err := e.targets(content, w, t, e.noStyle)
		if err != nil {
			return nil, fmt.Errorf("content features: %w", err)
		}
		e.contents = append(e.contents, out[inContentFeature])
	}
	if err := e.sumGrams(style, sw, splitImage(sw, sh, tile, halo), e.grams); err != nil {
		return nil, fmt.Errorf("style Gram matrices: %w", err)
	}
	if sw != w || sh != h {
		scaleGrams(e.grams, w, h, sw, sh) // as the fast graph's (sizes.go)
	}
	return e, nil
}

// layerChannels are the conv layers' output channels, in network order.
var layerChannels = []int{64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512}

func (e *tiledEvaluator) signature() string { return sigTileGradient }

// tileInput cuts tile t of the w-wide image img into the evaluator's buffer.
func (e *tiledEvaluator) tileInput(img []float32, w int, t imageTile) *tfgraph.Tensor {
	n := t.height() * t.width() * 3
	if len(e.tile) < n {
		e.tile = make([]float32, n)
	}
	in := &tfgraph.Tensor{Shape: []int64{1, int64(t.height()), int64(t.width()), 3}, Data: e.tile[:n]}
	cut(in.Data, img, w, t)
	return in
}

func (e *tiledEvaluator) targets(img []float32, w int, t imageTile, weights weightInputs) (map[string]*tfgraph.Tensor, error) {
	in := e.tileInput(img, w, t)
	return e.model.Run(sigTileTargets, map[string]*tfgraph.Tensor{
		inTile: in, inCrop: t.crop(),
		inContentWeights: weights.content, inStyleWeights: weights.style,
	})
}

// sumGrams adds up the tiles' Gram matrices of a w-wide image in float64 and
// stores them, rounded to float32, in dst (keyed by prefix+gram_<layer>).
func (e *tiledEvaluator) sumGrams(img []float32, w int, tiles []imageTile, dst map[string]*tfgraph.Tensor) error {
	for _, i := range e.styleLayers {
		clear(e.gramSums[i])
	}
	for _, t := range tiles {
		out, err := e.targets(img, w, t, e.noContent)
		if err != nil {
			return err
		}
		for _, i := range e.styleLayers {
			for k, v := range out[gramName(i)].Data {
				e.gramSums[i][k] += float64(v)
			}
		}
	}
	for key, g := range dst {
		i := layerIndexOfGram(key)
		if e.gramSums[i] == nil {
			continue
		}
		for k, v := range e.gramSums[i] {
			g.Data[k] = float32(v)
		}
	}
	return nil
}

func layerIndexOfGram(key string) int {
	for i := range Layers {
		if key == gramName(i) || key == combinationGramPrefix+gramName(i) {
			return i
		}
	}
	panic("transfer: no layer for " + key)
}

func (e *tiledEvaluator) evaluate(x, grad []float64) (Terms, error) {
	if len(x) != e.w*e.h*3 || len(grad) != len(x) {
		return Terms{}, fmt.Errorf("tiled evaluation of a %dx%d image given %d values", e.w, e.h, len(x))
	}
	// The combination image as the model sees it: float32.
	if e.x32 == nil {
		e.x32 = make([]float32, len(x))
	}
	x32 := e.x32
	for i, v := range x {
		x32[i] = float32(v)
	}
	// Pass 1: the combination's Gram matrices, whole-image sums.
	if err := e.sumGrams(x32, e.w, e.tiles, e.combination); err != nil {
		return Terms{}, fmt.Errorf("tile Gram matrices: %w", err)
	}
	// Pass 2: each tile's share of the gradient, added where tiles overlap.
	clear(grad)
	var content float64
	var style float32
	for k, t := range e.tiles {
		in := e.tileInput(x32, e.w, t)
		inputs := map[string]*tfgraph.Tensor{
			inTile: in, inCrop: t.crop(), inImageSize: e.imageSize,
			inContentFeature: e.contents[k],
			inContentWeights: e.weights.content, inStyleWeights: e.weights.style,
		}
		for key, g := range e.grams {
			inputs[key] = g
		}
		for key, g := range e.combination {
			inputs[key] = g
		}
		out, err := e.model.Run(sigTileGradient, inputs)
		if err != nil {
			return Terms{}, fmt.Errorf("tile gradient: %w", err)
		}
		content += float64(out[outContent].Data[0])
		style = out[outStyle].Data[0] // the whole image's, from every tile
		g := out[outGradient].Data
		tw := t.width()
		for y := t.ys.start; y < t.ys.end; y++ {
			row := grad[(y*e.w+t.xs.start)*3 : (y*e.w+t.xs.end)*3]
			src := g[(y-t.ys.start)*tw*3:]
			for i := range row {
				row[i] += float64(src[i])
			}
		}
	}
	tv := 0.0
	if e.tv != 0 {
		tv = e.tv * totalVariation(x32, e.w, e.h, grad, e.tv)
	}
	t := Terms{
		Content: float32(content),
		Style:   style,
		TV:      float32(tv),
		Loss:    float32(float64(float32(content)) + float64(style) + float64(float32(tv))),
	}
	if err := t.checkFinite(); err != nil {
		return t, err
	}
	for i, v := range grad {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			pix := i / 3
			return t, fmt.Errorf("%w: the gradient (%v) at pixel x %d, y %d, channel %d (weights too large for float32?)",
				ErrNotFinite, v, pix%e.w, pix/e.w, i%3)
		}
	}
	return t, nil
}

// totalVariation returns the notebook's total variation of the h x w x 3 image x,
// sum((a + b)^1.25) with a and b the squared differences to the pixel below and
// to the right, over rows and columns but the last (docs/recipe.md section 3), and adds
// weight times its gradient to grad. In float64, from x's float32 values.
func totalVariation(x []float32, w, h int, grad []float64, weight float64) float64 {
	sum := 0.0
	for y := 0; y < h-1; y++ {
		for c := 0; c < w-1; c++ {
			for ch := 0; ch < 3; ch++ {
				i := (y*w+c)*3 + ch
				below, right := i+w*3, i+3
				dv := float64(x[i]) - float64(x[below])
				dh := float64(x[i]) - float64(x[right])
				u := dv*dv + dh*dh
				if u == 0 {
					continue
				}
				sum += math.Pow(u, 1.25)
				// d/du u^1.25 = 1.25 u^0.25; du/dx[i] = 2dv + 2dh.
				d := weight * 1.25 * math.Sqrt(math.Sqrt(u)) * 2
				grad[i] += d * (dv + dh)
				grad[below] -= d * dv
				grad[right] -= d * dh
			}
		}
	}
	return sum
}
