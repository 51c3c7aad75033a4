// Package score measures a style transfer's result against its inputs with
// numbers that compare runs: the notebook's content loss and per-layer style
// losses in a fixed network and size, the structural similarity (SSIM) of the
// result's luminance to the content image, and the distance of its colour
// histogram from the style image's.
//
// SSIM and the histogram distance are plain Go arithmetic on 8-bit images;
// the losses run the style model (Losses).
package score

import (
	"fmt"
	"math"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// The SSIM of Wang et al. (2004) as scikit-image's structural_similarity
// computes it with gaussian_weights=True, use_sample_covariance=False and
// data_range=255: an 11x11 Gaussian window of σ = 1.5 (truncated at 3.5σ),
// mirrored edges, K1 = 0.01, K2 = 0.03, and the mean of the SSIM map without
// the 5 pixels at each border that the window reaches past the image.
const (
	ssimSigma  = 1.5
	ssimRadius = 5 // int(3.5*σ + 0.5)
	ssimK1     = 0.01
	ssimK2     = 0.03
	ssimRange  = 255.0
)

// MinSSIMSide is the smallest side SSIM accepts: one window.
const MinSSIMSide = 2*ssimRadius + 1

// Luminance returns the image's luma Y = 0.299 R + 0.587 G + 0.114 B (ITU-R
// BT.601, as Pillow's convert("L") weights the channels, without its
// rounding) on 0..255, row by row.
func Luminance(img *preprocess.Image) []float64 {
	y := make([]float64, img.Width*img.Height)
	for i := range y {
		p := img.Pix[3*i : 3*i+3]
		y[i] = 0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2])
	}
	return y
}

// SSIM returns the mean structural similarity of the luminances of a and b,
// which must have the same size, at least MinSSIMSide on each side. It is 1
// for equal images and less for any difference.
func SSIM(a, b *preprocess.Image) (float64, error) {
	if err := sameSize(a, b); err != nil {
		return 0, fmt.Errorf("score: SSIM: %w", err)
	}
	w, h := a.Width, a.Height
	if w < MinSSIMSide || h < MinSSIMSide {
		return 0, fmt.Errorf("score: SSIM needs images of at least %dx%d, got %dx%d", MinSSIMSide, MinSSIMSide, w, h)
	}
	x, y := Luminance(a), Luminance(b)
	xx, yy, xy := make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(x))
	for i := range x {
		xx[i], yy[i], xy[i] = x[i]*x[i], y[i]*y[i], x[i]*y[i]
	}
	k := gaussianKernel()
	ux, uy := blur(x, w, h, k), blur(y, w, h, k)
	uxx, uyy, uxy := blur(xx, w, h, k), blur(yy, w, h, k), blur(xy, w, h, k)
	c1, c2 := (ssimK1*ssimRange)*(ssimK1*ssimRange), (ssimK2*ssimRange)*(ssimK2*ssimRange)
	sum := 0.0
	for r := ssimRadius; r < h-ssimRadius; r++ {
		for c := ssimRadius; c < w-ssimRadius; c++ {
			i := r*w + c
			vx := uxx[i] - ux[i]*ux[i]
			vy := uyy[i] - uy[i]*uy[i]
			vxy := uxy[i] - ux[i]*uy[i]
			a1, a2 := 2*ux[i]*uy[i]+c1, 2*vxy+c2
			b1, b2 := ux[i]*ux[i]+uy[i]*uy[i]+c1, vx+vy+c2
			sum += a1 * a2 / (b1 * b2)
		}
	}
	return sum / float64((h-2*ssimRadius)*(w-2*ssimRadius)), nil
}

func sameSize(a, b *preprocess.Image) error {
	if a.Width != b.Width || a.Height != b.Height {
		return fmt.Errorf("images of different sizes: %dx%d and %dx%d", a.Width, a.Height, b.Width, b.Height)
	}
	return nil
}

// gaussianKernel returns the window's weights from the centre outwards,
// normalised to sum 1 over the whole window, as SciPy's gaussian_filter.
func gaussianKernel() [ssimRadius + 1]float64 {
	var full [2*ssimRadius + 1]float64
	sum := 0.0
	for j := range full {
		x := float64(j - ssimRadius)
		full[j] = math.Exp(-0.5 / (ssimSigma * ssimSigma) * x * x)
		sum += full[j]
	}
	var k [ssimRadius + 1]float64
	for j := range k {
		k[j] = full[ssimRadius+j] / sum
	}
	return k
}

// blur filters v (w x h, row by row) with the window along the rows' axis,
// then along the columns', mirroring at the edges (d c b a | a b c d).
func blur(v []float64, w, h int, k [ssimRadius + 1]float64) []float64 {
	tmp := make([]float64, len(v))
	line := make([]float64, max(w, h)+2*ssimRadius)
	// Down each column (axis 0 first, as SciPy's gaussian_filter).
	for c := range w {
		for r := range h {
			line[ssimRadius+r] = v[r*w+c]
		}
		mirror(line, h)
		for r := range h {
			tmp[r*w+c] = correlate(line, ssimRadius+r, k)
		}
	}
	out := make([]float64, len(v))
	for r := range h {
		copy(line[ssimRadius:], tmp[r*w:(r+1)*w])
		mirror(line, w)
		for c := range w {
			out[r*w+c] = correlate(line, ssimRadius+c, k)
		}
	}
	return out
}

// mirror fills the ssimRadius cells on each side of line's n values.
func mirror(line []float64, n int) {
	for j := 1; j <= ssimRadius; j++ {
		line[ssimRadius-j] = line[ssimRadius+reflect(-j, n)]
		line[ssimRadius+n-1+j] = line[ssimRadius+reflect(n-1+j, n)]
	}
}

// reflect maps an index outside [0, n) into it as SciPy's "reflect" mode.
func reflect(i, n int) int {
	p := 2 * n
	i %= p
	if i < 0 {
		i += p
	}
	if i >= n {
		i = p - 1 - i
	}
	return i
}

// correlate sums the window around line[i] in the order of SciPy's
// correlate1d for a symmetric kernel: the centre, then each pair of mirror
// taps added before they are weighted.
func correlate(line []float64, i int, k [ssimRadius + 1]float64) float64 {
	s := line[i] * k[0]
	for j := 1; j <= ssimRadius; j++ {
		s += (line[i+j] + line[i-j]) * k[j]
	}
	return s
}
