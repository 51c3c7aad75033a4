package fastnet

import (
	"errors"
	"fmt"
	"math"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Instance normalisation divides each layer by its mean and variance over the
// whole image, so cutting a large photo into tiles and stylising each alone
// changes the picture from tile to tile. The tiled path keeps the whole
// image's statistics: the 26-style network's export has a signature
// (multistyle_tile) that normalises a tile with given statistics and returns
// sums over the tile, so the statistics are gathered tile by tile, layer by
// layer (each layer's depend on the layers before it), and the last pass paints
// every tile with all of them. The arbitrary transformer's export has the same
// (arbitrary_tile), but its int8 steps quantise each mean before it is used, so
// its statistics are gathered one mean a pass (ArbitraryTiled).

// Tiles are the settings of a tiled run of either network.
type Tiles struct {
	// Size is the side of the part of the image each tile paints, a multiple
	// of TileAlign.
	Size int
	// Halo is the context added on each side of a tile (clipped at the image's
	// edges), a multiple of TileAlign; DefaultHalo leaves the painted part equal
	// to the whole image's.
	Halo int
	// Pass, when set, is called before each pass over the tiles: pass from 1
	// to passes, the last being the one that paints.
	Pass func(pass, passes int)
}

// TileAlign is what tile sizes, halos and offsets are multiples of: the
// network halves the image twice.
const TileAlign = 4

// DefaultHalo is the halo the tiles need for their painted part to equal the
// whole image's: the network's receptive field reaches 63 pixels (from the
// output back: a 9x9 convolution, 4; a 3x3, 5; upsampling to half resolution,
// 3 there; a 3x3, 4; upsampling to a quarter, 2; twelve 3x3 of the residual
// blocks, 14; a 3x3 of stride 2, 29 at half; another, 59 at full; the first
// 9x9, 63), and halos are multiples of 4. Measured with exact statistics
// (512x512, tiles of 256): halo 64 exact, 56 up to 4.6e-4 of 1 off, 48 0.021.
const DefaultHalo = 64

// ArbitraryHalo is DefaultHalo for the arbitrary transformer: its receptive
// field reaches 55 pixels (a 9x9, 4; a 3x3, 5; upsampling, 3 at half; a 3x3,
// 4; upsampling, 2 at a quarter; ten 3x3 of the residual blocks, 12; a 3x3 of
// stride 2, 25 at half; another, 51 at full; the first 9x9, 55). Measured with
// exact statistics (512x512, tiles of 256): halo 56 exact, 48 up to 21 of 255
// off.
const ArbitraryHalo = 56

// DefaultTile is the tile side the stylize command uses by default.
const DefaultTile = 1024

// Moment is one of the network's spatial means, as neuralstyle.json lists them:
// instance normalisation has two per layer, the mean of x and of (x - mean)^2.
type Moment struct {
	Channels int `json:"channels"`
	Stride   int `json:"stride"` // how many times smaller than the image its layer is
}

// Passes is how many passes over the tiles a tiled run of the 26-style network
// takes: one per normalisation layer, and the one that paints.
func (m *Model) Passes() int { return len(m.Meta.Moments)/2 + 1 }

// ArbitraryPasses is how many passes over the tiles a tiled run of the
// arbitrary transformer takes: one per spatial mean (two per normalisation
// layer), and the one that paints.
func (m *Model) ArbitraryPasses() int { return len(m.Meta.ArbitraryMoments) + 1 }

// checkTiled says why m cannot run the 26-style network's tiles.
func (m *Model) checkTiled() error {
	return m.checkSignature(sigTile, "multistyle_moments", m.Meta.Moments)
}

// checkSignature says why m cannot run tiles with signature sig, whose
// statistics neuralstyle.json lists under key as moments.
func (m *Model) checkSignature(sig, key string, moments []Moment) error {
	if len(moments) == 0 || len(moments)%2 != 0 {
		return fmt.Errorf("this feed-forward export predates these tiles (neuralstyle.json lists no %s): %s", key, MakeHint)
	}
	if _, err := m.tf.Signature(sig); err != nil {
		return fmt.Errorf("%w: %s", err, MakeHint)
	}
	return nil
}

const (
	sigTile          = "multistyle_tile"
	sigArbitraryTile = "arbitrary_tile"
)

// Validate reports settings a tiled run cannot take.
func (t Tiles) Validate() error {
	var errs []error
	if t.Size < TileAlign || t.Size%TileAlign != 0 {
		errs = append(errs, fmt.Errorf("tile size %d: want a positive multiple of %d", t.Size, TileAlign))
	}
	if t.Halo < 0 || t.Halo%TileAlign != 0 {
		errs = append(errs, fmt.Errorf("tile halo %d: want 0 or a multiple of %d", t.Halo, TileAlign))
	}
	return errors.Join(errs...)
}

// tile is one tile: the core it paints and the box, core plus halo, it reads,
// in the padded image's pixels.
type tile struct{ y0, x0, y1, x1, top, left, bottom, right int }

func (t tile) margins() []float32 {
	return []float32{float32(t.y0 - t.top), float32(t.x0 - t.left), float32(t.bottom - t.y1), float32(t.right - t.x1)}
}

// cut covers a w x h image (multiples of TileAlign) with tiles.
func cut(w, h int, t Tiles) []tile {
	var out []tile
	for y := 0; y < h; y += t.Size {
		for x := 0; x < w; x += t.Size {
			c := tile{y0: y, x0: x, y1: min(y+t.Size, h), x1: min(x+t.Size, w)}
			c.top, c.left = max(0, c.y0-t.Halo), max(0, c.x0-t.Halo)
			c.bottom, c.right = min(h, c.y1+t.Halo), min(w, c.x1+t.Halo)
			out = append(out, c)
		}
	}
	return out
}

// tiling is one tiled run: the padded image, its tiles, the signature that
// paints them with its fixed inputs, and the statistics given so far.
type tiling struct {
	m       *Model
	img     *preprocess.Image
	padded  *preprocess.Image
	tiles   []tile
	sig     string
	fixed   map[string]*tfgraph.Tensor
	moments []Moment
	offsets []int // where each moment's channels start in given
	given   *tfgraph.Tensor
}

func (m *Model) newTiling(img *preprocess.Image, t Tiles, sig string, moments []Moment, fixed map[string]*tfgraph.Tensor) (*tiling, error) {
	// The whole-image signatures pad to a multiple of 4 by reflection, and
	// their statistics include that border; so do the tiles'.
	pw, ph := roundUp(img.Width, TileAlign), roundUp(img.Height, TileAlign)
	padded, err := reflectPad(img, pw, ph)
	if err != nil {
		return nil, err
	}
	offsets := make([]int, len(moments)+1)
	for i, mo := range moments {
		if mo.Stride < 1 || TileAlign%mo.Stride != 0 || mo.Channels < 1 {
			return nil, fmt.Errorf("neuralstyle.json: moment %d of %d channels at stride %d: %s", i, mo.Channels, mo.Stride, MakeHint)
		}
		offsets[i+1] = offsets[i] + mo.Channels
	}
	return &tiling{m: m, img: img, padded: padded, tiles: cut(pw, ph, t), sig: sig, fixed: fixed,
		moments: moments, offsets: offsets, given: tfgraph.NewTensor(int64(offsets[len(moments)]))}, nil
}

// run runs the tile signature on c with the first fed statistics given.
func (r *tiling) run(c tile, fed int) (map[string]*tfgraph.Tensor, error) {
	margins := tfgraph.NewTensor(4)
	copy(margins.Data, c.margins())
	in := map[string]*tfgraph.Tensor{
		"image":   toTensor(crop(r.padded, c.left, c.top, c.right-c.left, c.bottom-c.top)),
		"moments": r.given, "fed": tfgraph.Scalar(float32(fed)), "margins": margins,
	}
	for k, v := range r.fixed {
		in[k] = v
	}
	out, err := r.m.tf.Run(r.sig, in)
	if err != nil {
		return nil, fmt.Errorf("tile at (%d,%d): %w", c.x0, c.y0, err)
	}
	if len(out["sums"].Data) != len(r.given.Data) {
		return nil, fmt.Errorf("tile at (%d,%d): %d sums, want %d: %s", c.x0, c.y0, len(out["sums"].Data), len(r.given.Data), MakeHint)
	}
	return out, nil
}

// count is how many of moment k's values tile c's core holds.
func (r *tiling) count(c tile, k int) float64 {
	s := r.moments[k].Stride
	return float64(((c.y1 - c.y0) / s) * ((c.x1 - c.x0) / s))
}

// paint runs the last pass, every statistic given, and keeps each tile's core.
func (r *tiling) paint() (*preprocess.Image, error) {
	img := r.img
	result := preprocess.NewImage(img.Width, img.Height)
	for _, c := range r.tiles {
		out, err := r.run(c, len(r.moments))
		if err != nil {
			return nil, err
		}
		st := out["stylized"]
		bw, bh := c.right-c.left, c.bottom-c.top
		if len(st.Shape) != 4 || st.Shape[1] != int64(bh) || st.Shape[2] != int64(bw) || st.Shape[3] != 3 {
			return nil, fmt.Errorf("tile at (%d,%d): output of shape %v, want [1,%d,%d,3]", c.x0, c.y0, st.Shape, bh, bw)
		}
		for y := c.y0; y < min(c.y1, img.Height); y++ {
			for x := c.x0; x < min(c.x1, img.Width); x++ {
				src := 3 * ((y-c.top)*bw + (x - c.left))
				dst := 3 * (y*img.Width + x)
				for ch := 0; ch < 3; ch++ {
					result.Pix[dst+ch] = toByte(st.Data[src+ch])
				}
			}
		}
	}
	return result, nil
}

// MultistyleTiled stylises img as Multistyle does, tile by tile, normalising
// every tile with the whole image's statistics: the same picture in memory
// that grows with the tile, not the image. It takes Passes() passes over the
// tiles.
func (m *Model) MultistyleTiled(img *preprocess.Image, s Styles, t Tiles) (*preprocess.Image, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if err := m.checkTiled(); err != nil {
		return nil, err
	}
	weights := tfgraph.NewTensor(NumStyles)
	copy(weights.Data, s[:])
	r, err := m.newTiling(img, t, sigTile, m.Meta.Moments, map[string]*tfgraph.Tensor{"style_weights": weights})
	if err != nil {
		return nil, err
	}
	moments, offsets, given := r.moments, r.offsets, r.given
	passes := m.Passes()
	// Layer by layer: with the layers before it given, a tile's sums of a
	// layer's input are the whole image's share. The mean's sum is plain;
	// the variance's was taken about the mean the tile used (its own), so it
	// is brought back to a sum of squares: sum((x-u)^2) + 2u sum(x) - n u^2.
	for layer := 0; layer < len(moments)/2; layer++ {
		if t.Pass != nil {
			t.Pass(layer+1, passes)
		}
		mi, vi := 2*layer, 2*layer+1
		a, b := offsets[mi], offsets[vi]
		sum, squares := make([]float64, b-a), make([]float64, b-a)
		if moments[vi].Stride != moments[mi].Stride || moments[vi].Channels != b-a {
			return nil, fmt.Errorf("neuralstyle.json: moments %d and %d are not a layer's mean and variance: %s", mi, vi, MakeHint)
		}
		n := 0.0
		for _, c := range r.tiles {
			out, err := r.run(c, mi)
			if err != nil {
				return nil, err
			}
			sums, used := out["sums"].Data, out["used"].Data
			if len(used) != len(given.Data) {
				return nil, fmt.Errorf("tile at (%d,%d): %d used, want %d: %s", c.x0, c.y0, len(used), len(given.Data), MakeHint)
			}
			cn := r.count(c, mi)
			for k := range sum {
				s1, s2, u := float64(sums[a+k]), float64(sums[b+k]), float64(used[a+k])
				sum[k] += s1
				squares[k] += s2 + 2*u*s1 - cn*u*u
			}
			n += cn
		}
		for k := range sum {
			mean := sum[k] / n
			given.Data[a+k] = float32(mean)
			given.Data[b+k] = float32(max(squares[k]/n-mean*mean, 0))
		}
	}
	if t.Pass != nil {
		t.Pass(passes, passes)
	}
	return r.paint()
}

// ArbitraryTiled stylises img as Arbitrary does, tile by tile, with the whole
// image's statistics, in ArbitraryPasses() passes over the tiles. The
// transformer quantises each mean (int8) before it uses it, and a layer's
// variance is the mean of the quantised square of x less that quantised
// mean, which no sum about another mean gives back: so each pass gathers one
// mean, with every mean before it given, the layer's mean a pass before its
// variance. A quantised mean moves a whole step when its sum's rounding
// carries it across one, so the export takes every mean in float64 (the whole
// image's too) and returns the tiles' sums as float64 split in two float32s:
// the means gathered are then the whole image's to the last bit of float32.
func (m *Model) ArbitraryTiled(img *preprocess.Image, style []float32, t Tiles) (*preprocess.Image, error) {
	if len(style) != StyleVector {
		return nil, fmt.Errorf("fastnet: style vector of %d numbers, want %d", len(style), StyleVector)
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if err := m.checkSignature(sigArbitraryTile, "arbitrary_moments", m.Meta.ArbitraryMoments); err != nil {
		return nil, err
	}
	v := tfgraph.NewTensor(1, StyleVector)
	copy(v.Data, style)
	r, err := m.newTiling(img, t, sigArbitraryTile, m.Meta.ArbitraryMoments, map[string]*tfgraph.Tensor{"style": v})
	if err != nil {
		return nil, err
	}
	passes := m.ArbitraryPasses()
	for k := range r.moments {
		if t.Pass != nil {
			t.Pass(k+1, passes)
		}
		a, b := r.offsets[k], r.offsets[k+1]
		sum := make([]float64, b-a)
		n := 0.0
		for _, c := range r.tiles {
			out, err := r.run(c, k)
			if err != nil {
				return nil, err
			}
			low := out["sums_low"]
			if low == nil || len(low.Data) != len(r.given.Data) {
				return nil, fmt.Errorf("tile at (%d,%d): no sums_low of %d values: %s", c.x0, c.y0, len(r.given.Data), MakeHint)
			}
			for ch, s := range out["sums"].Data[a:b] {
				sum[ch] += float64(s) + float64(low.Data[a+ch])
			}
			n += r.count(c, k)
		}
		for ch := range sum {
			r.given.Data[a+ch] = float32(sum[ch] / n)
		}
	}
	if t.Pass != nil {
		t.Pass(passes, passes)
	}
	return r.paint()
}

// toByte is fromTensor's rounding of one value in 0..1.
func toByte(v float32) uint8 { return uint8(math.Round(float64(min(max(v, 0), 1)) * 255)) }

func roundUp(n, k int) int { return (n + k - 1) / k * k }

// reflectPad extends img to w x h at the bottom and right by reflection
// without repeating the edge, as TensorFlow's REFLECT padding does.
func reflectPad(img *preprocess.Image, w, h int) (*preprocess.Image, error) {
	if w == img.Width && h == img.Height {
		return img, nil
	}
	if w-img.Width >= img.Width || h-img.Height >= img.Height {
		return nil, fmt.Errorf("fastnet: a %dx%d image is too small to pad to %dx%d", img.Width, img.Height, w, h)
	}
	out := preprocess.NewImage(w, h)
	for y := 0; y < h; y++ {
		sy := y
		if sy >= img.Height {
			sy = 2*(img.Height-1) - sy
		}
		for x := 0; x < w; x++ {
			sx := x
			if sx >= img.Width {
				sx = 2*(img.Width-1) - sx
			}
			copy(out.Pix[3*(y*w+x):3*(y*w+x)+3], img.Pix[3*(sy*img.Width+sx):])
		}
	}
	return out, nil
}
