package transfer

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Sizes beyond the notebook's 512x512: a long side that keeps each image's aspect
// ratio (--long-side), coarse to fine over several scales (--scales), and the loss
// evaluated tile by tile (--tile, tiles.go).

// ScaleContent says how a coarser scale weighs the content term.
type ScaleContent string

const (
	// ScaleContentFixed gives every scale the run's ContentWeight.
	ScaleContentFixed ScaleContent = "fixed"
	// ScaleContentArea multiplies a coarser scale's content weight by the final
	// size's area over its own, (final long side / its long side)^2. The content
	// term sums over the content layer's positions, so a scale with a quarter of
	// the pixels has about a quarter of the content loss, while each style term is
	// divided by its layer's size: with one weight the coarser scales lean to the
	// style, and the final size spends its evaluations pulling the content back.
	// Measured (docs/time-to-quality.md): the final size reached the notebook's
	// loss in 10 and 23 evaluations instead of 30 and 28.
	ScaleContentArea ScaleContent = "area"
)

// scaleContentWeight is the content weight of a coarser scale of long side
// long in a run whose final long side is final.
func (s *Settings) scaleContentWeight(long, final int) float64 {
	if s.ScaleContent != ScaleContentArea {
		return s.ContentWeight
	}
	r := float64(final) / float64(long)
	return s.ContentWeight * r * r
}

// fitLongSide returns the size with w x h's aspect ratio and the given long side,
// the short side rounded to the nearest pixel.
func fitLongSide(w, h, long int) (int, int) {
	if w >= h {
		return long, max(1, int(math.Round(float64(h)*float64(long)/float64(w))))
	}
	return max(1, int(math.Round(float64(w)*float64(long)/float64(h)))), long
}

// shapes returns the content's (and combination's) size and the style images':
// Width x Height and the style scale's size (styleSize), or with LongSide each
// image's own aspect ratio (one style image: Config.Validate refuses more).
func (s *Settings) shapes(in Inputs) (w, h, sw, sh int, err error) {
	if s.LongSide == 0 {
		sw, sh = s.styleSize()
		return s.Width, s.Height, sw, sh, nil
	}
	styles := in.styles()
	if len(styles) != 1 {
		return 0, 0, 0, 0, fmt.Errorf("long-side %d: takes one style image, not %d", s.LongSide, len(styles))
	}
	w, h = fitLongSide(in.Content.Width, in.Content.Height, s.LongSide)
	sw, sh = fitLongSide(styles[0].Width, styles[0].Height, s.LongSide)
	if err := checkSize(w, h); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("long-side %d: content image %dx%d: %w", s.LongSide, in.Content.Width, in.Content.Height, err)
	}
	if err := checkSize(sw, sh); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("long-side %d: style image %dx%d: %w", s.LongSide, styles[0].Width, styles[0].Height, err)
	}
	return w, h, sw, sh, nil
}

// scaleGrams scales the style image's Gram matrices (sw x sh) in targets to the
// number of positions of a w x h image, layer by layer, in place, as scaleGram
// (grams.go) does for the fast graph's.
func scaleGrams(targets map[string]*tfgraph.Tensor, w, h, sw, sh int) {
	for i := range Layers {
		g := targets[gramName(i)]
		if g == nil {
			continue
		}
		f := layerPositions(i, w, h) / layerPositions(i, sw, sh)
		for k, v := range g.Data {
			g.Data[k] = float32(float64(v) * f)
		}
	}
}

// ladder returns the long sides of a run's scales, the final size's last.
func (s *Settings) ladder(finalLong int) []int {
	out, _ := s.coarseScales(finalLong)
	if len(out) == 0 || out[len(out)-1] != finalLong {
		out = append(out, finalLong)
	}
	return out
}

// coarseScales returns the long sides of the scales given before a final size
// of long side finalLong, and for each its index in ScaleIterations: Scales as
// they are, or ScaleFractions of finalLong, rounded, without those that fall
// below minImageSide, reach finalLong or do not grow.
func (s *Settings) coarseScales(finalLong int) (sides, counts []int) {
	if len(s.ScaleFractions) == 0 {
		sides = slices.Clone(s.Scales)
		for k := range sides {
			counts = append(counts, k)
		}
		return sides, counts
	}
	for k, f := range s.ScaleFractions {
		n := int(math.Round(f * float64(finalLong)))
		if n < minImageSide || n >= finalLong || (len(sides) > 0 && n <= sides[len(sides)-1]) {
			continue
		}
		sides, counts = append(sides, n), append(counts, k)
	}
	return sides, counts
}

// coarseToFine reports whether s asks for scales before the final size.
func (s *Settings) coarseToFine() bool { return len(s.Scales) > 0 || len(s.ScaleFractions) > 0 }

// finalLong is the long side of the run's final size.
func (s *Settings) finalLong() int {
	if s.LongSide > 0 {
		return s.LongSide
	}
	return max(s.Width, s.Height)
}

// iterationsPerScale returns the outer iterations at each step of the ladder to
// a final size of long side finalLong: ScaleIterations at the coarser scales
// when given, Iterations elsewhere.
func (s *Settings) iterationsPerScale(finalLong int) []int {
	ladder := s.ladder(finalLong)
	_, counts := s.coarseScales(finalLong)
	out := make([]int, len(ladder))
	for k := range ladder {
		out[k] = s.Iterations
		if k < len(ladder)-1 && counts[k] < len(s.ScaleIterations) {
			out[k] = s.ScaleIterations[counts[k]]
		}
	}
	return out
}

// TotalIterations is the number of outer iterations a run makes over all its
// scales.
func (s *Settings) TotalIterations() int {
	total := 0
	for _, n := range s.iterationsPerScale(s.finalLong()) {
		total += n
	}
	return total
}

// Remaining returns the settings that run what is left of s after its first
// done iterations (counted over all scales, as the observer counts them): the
// scale that was running with its iterations left, and the scales after it.
// The run should start from the image of iteration done-1 (Init InitImage).
// When done is at least TotalIterations, nothing is left: Iterations is 0.
func (s Settings) Remaining(done int) Settings {
	ladder := s.ladder(s.finalLong())
	counts := s.iterationsPerScale(s.finalLong())
	r := s
	r.Scales, r.ScaleFractions, r.ScaleIterations = nil, nil, nil
	for k, n := range counts {
		if done >= n {
			done -= n
			continue
		}
		if k == len(counts)-1 {
			r.Iterations = n - done
			return r
		}
		r.Scales = slices.Clone(ladder[k : len(ladder)-1])
		r.ScaleIterations = append([]int{n - done}, counts[k+1:len(counts)-1]...)
		return r
	}
	r.Iterations = 0
	return r
}

func checkLongSide(c *Config) error {
	s := &c.Settings
	switch {
	case s.LongSide == 0:
		return nil
	case s.LongSide < minImageSide:
		return fmt.Errorf("%d: want 0 or at least %d", s.LongSide, minImageSide)
	case s.LongSide > 8192:
		return fmt.Errorf("%d: want at most 8192", s.LongSide)
	case s.Graph == GraphRecipe:
		return errors.New("keeps the style image's own shape, which the recipe graph (one batch of three equal images) cannot take: choose the fast graph")
	case s.Init == InitStyle:
		return errors.New("keeps the style image's own shape, so it cannot start from the style image (init style)")
	case len(c.Style) > 1:
		return errors.New("sizes one style image to its own shape: give one style image")
	case len(c.StyleMask) > 0:
		return errors.New("sizes the style image to its own shape, which style masks cannot follow: give a size instead")
	case s.StyleScale != 1:
		return errors.New("sizes the style image itself: leave style-scale at 1")
	}
	return nil
}

func checkScales(s *Settings) error {
	for i, f := range s.ScaleFractions {
		if !(f > 0 && f < 1) {
			return fmt.Errorf("%s: a fraction of the final size's long side is above 0 and below 1", formatFloat(f))
		}
		if i > 0 && f <= s.ScaleFractions[i-1] {
			return fmt.Errorf("%s after %s: want increasing fractions", formatFloat(f), formatFloat(s.ScaleFractions[i-1]))
		}
	}
	if len(s.Scales) == 0 {
		return nil
	}
	if len(s.ScaleFractions) > 0 {
		return errors.New("long sides and fractions together: give one or the other")
	}
	final := s.finalLong()
	for i, n := range s.Scales {
		if n < minImageSide {
			return fmt.Errorf("%d: every scale needs a long side of at least %d", n, minImageSide)
		}
		if i > 0 && n <= s.Scales[i-1] {
			return fmt.Errorf("%d after %d: want increasing long sides", n, s.Scales[i-1])
		}
		if n > final {
			return fmt.Errorf("%d is past the final size's long side %d", n, final)
		}
	}
	return nil
}

// checkScaleIterations checks that ScaleIterations has a count of at least 1
// for each scale before the final size.
func checkScaleIterations(s *Settings) error {
	if len(s.ScaleIterations) == 0 {
		return nil
	}
	final := s.finalLong()
	coarse := len(s.ScaleFractions) // each counted, left out at this size or not
	for _, n := range s.Scales {
		if n < final {
			coarse++
		}
	}
	for _, n := range s.ScaleIterations {
		if n < 1 {
			return fmt.Errorf("%d: every scale needs at least 1 iteration", n)
		}
	}
	switch {
	case !s.coarseToFine():
		return errors.New("counts the iterations of scales: give scales too")
	case len(s.ScaleIterations) != coarse:
		return fmt.Errorf("%d counts for %d scales before the final size (long side %d): want one each", len(s.ScaleIterations), coarse, final)
	}
	return nil
}

func checkTile(c *Config) error {
	s := &c.Settings
	if s.Tile == 0 {
		return nil
	}
	if err := tileRefusal(len(c.Style), len(c.StyleMask) > 0, s); err != nil {
		return err
	}
	switch {
	case s.Graph == GraphRecipe && s.Tile == TileAuto:
		return errors.New("auto needs the fast graph, whose loss tiles evaluate: choose graph fast")
	case s.Tile == TileAuto:
		return nil
	case s.Tile < tileAlign || s.Tile%tileAlign != 0:
		return fmt.Errorf("%d: want 0 or a multiple of %d", s.Tile, tileAlign)
	case s.Graph == GraphRecipe:
		return errors.New("the recipe graph evaluates its batch of three whole; tiles evaluate the fast graph's loss: choose graph fast")
	}
	return nil
}

// tileRefusal says why the tiled evaluator cannot run: it runs the fast graph's
// loss with one style image, max pooling and float32 convolutions (auto picks
// fp32 with tiles).
func tileRefusal(styles int, masked bool, s *Settings) error {
	if styles > 1 || masked || s.Pooling != PoolingMax || s.Precision == PrecisionBF16 {
		return errors.New("tiles evaluate the fast graph with one style image, max pooling and fp32: give one style image, no style mask, pooling max and precision fp32")
	}
	return nil
}
