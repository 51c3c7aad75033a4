package resample

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// Filter is a resampling filter of Resize. The zero value is Nearest, the filter
// of the notebook's Pillow 4.3 (whose Image.resize defaulted to NEAREST);
// Pillow 7.0 and later default to Bicubic.
type Filter int

const (
	Nearest  Filter = iota // pixel whose centre is nearest, Pillow's NEAREST
	Box                    // area average, Pillow's BOX
	Bilinear               // triangle, Pillow's BILINEAR
	Hamming                // Hamming-windowed sinc, Pillow's HAMMING
	Bicubic                // Keys cubic with a = -0.5, Pillow's BICUBIC
	Lanczos                // Lanczos-3 windowed sinc, Pillow's LANCZOS
)

var filterNames = [...]string{"nearest", "box", "bilinear", "hamming", "bicubic", "lanczos"}

func (f Filter) String() string {
	if f >= 0 && int(f) < len(filterNames) {
		return filterNames[f]
	}
	return fmt.Sprintf("Filter(%d)", int(f))
}

// ParseFilter returns the filter named by s (case-insensitive): nearest, box,
// bilinear, hamming, bicubic or lanczos.
func ParseFilter(s string) (Filter, error) {
	for i, n := range filterNames {
		if strings.EqualFold(s, n) {
			return Filter(i), nil
		}
	}
	return 0, fmt.Errorf("resample: unknown resampling filter %q (want one of %s)", s, strings.Join(filterNames[:], ", "))
}

// Resize returns img resized to exactly w x h pixels, equal byte for byte to
// Pillow 11.0.0's Image.resize((w, h), filter) on an RGB image (and, for Nearest,
// to the Pillow 4.3 the notebook ran, whose nearest-neighbour code is the same).
//
// As in Pillow, the resampling filters are separable and applied horizontally,
// then vertically, each pass only when that side changes; when downscaling, the
// filter is widened by the scale factor so that every source pixel contributes;
// weights are rounded to 22-bit fixed point and each result is rounded and
// clipped to 0..255 after each pass. Nearest takes, for each output pixel
// centre, the source pixel whose area contains it, stepping through source
// positions by repeated addition as Pillow does. Same-size resizing returns a
// copy. Large images are resized on all available CPUs.
//
// Resize refuses (preprocess.CheckSize) an output or intermediate image (the new
// width times the old height) of more than preprocess.DefaultMaxPixels pixels.
func Resize(img *preprocess.Image, w, h int, f Filter) (*preprocess.Image, error) {
	if err := img.Check(); err != nil {
		return nil, fmt.Errorf("resample: resize: %w", err)
	}
	if err := preprocess.CheckSize(w, h, preprocess.DefaultMaxPixels); err != nil {
		return nil, fmt.Errorf("resample: resize %dx%d to %dx%d: %w", img.Width, img.Height, w, h, err)
	}
	if f != Nearest && w != img.Width {
		// The intermediate image of the horizontal pass: the new width, the old height.
		if err := preprocess.CheckSize(w, img.Height, preprocess.DefaultMaxPixels); err != nil {
			return nil, fmt.Errorf("resample: resize %dx%d to %dx%d: intermediate image: %w", img.Width, img.Height, w, h, err)
		}
	}
	if f < Nearest || f > Lanczos {
		return nil, fmt.Errorf("resample: resize: unknown filter %v", f)
	}
	if w == img.Width && h == img.Height {
		out := preprocess.NewImage(w, h)
		copy(out.Pix, img.Pix)
		return out, nil
	}
	if f == Nearest {
		return resizeNearest(img, w, h), nil
	}
	return resample(img, w, h, f), nil
}

// nearestIndex returns, for each of n output positions, the source index of
// Pillow's nearest-neighbour scaling from size in, or -1 where the position falls
// outside the source (Pillow leaves such pixels black; floating-point drift could
// in principle put the last centres there).
func nearestIndex(in, n int) []int {
	// Pillow (ImagingScaleAffine): step = (double)(float)in / n; the first centre
	// is step/2 and each next one adds step; the index truncates.
	step := float64(in) / float64(n)
	pos := step * 0.5
	idx := make([]int, n)
	for i := range idx {
		j := int(pos)
		if pos < 0 || j >= in {
			j = -1
		}
		idx[i] = j
		pos += step
	}
	return idx
}

func resizeNearest(img *preprocess.Image, w, h int) *preprocess.Image {
	out := preprocess.NewImage(w, h)
	xs := nearestIndex(img.Width, w)
	ys := nearestIndex(img.Height, h)
	parallel(h, 3*w*h, func(y0, y1 int) {
		for y := y0; y < y1; y++ {
			dst := out.Pix[3*w*y : 3*w*(y+1)]
			switch {
			case ys[y] < 0:
				continue
			case y > y0 && ys[y] == ys[y-1]:
				copy(dst, out.Pix[3*w*(y-1):3*w*y])
				continue
			}
			src := img.Pix[3*img.Width*ys[y] : 3*img.Width*(ys[y]+1)]
			for x, sx := range xs {
				if sx < 0 || 3*sx+2 >= len(src) || 3*x+2 >= len(dst) {
					continue
				}
				dst[3*x], dst[3*x+1], dst[3*x+2] = src[3*sx], src[3*sx+1], src[3*sx+2]
			}
		}
	})
	return out
}

// precisionBits is Pillow's PRECISION_BITS: filter weights are integers scaled
// by 2**22, leaving 8 bits for the pixel value and 2 for overshoot in an int32.
const precisionBits = 32 - 8 - 2

// kernel is one axis's precomputed fixed-point weights: output i reads count[i]
// source pixels from start[i] with weights k[i*size : i*size+count[i]].
type kernel struct {
	size         int
	start, count []int
	k            []int32
}

type filterFunc struct {
	fn      func(float64) float64
	support float64
}

func filterOf(f Filter) filterFunc {
	switch f {
	case Box:
		return filterFunc{boxFilter, 0.5}
	case Bilinear:
		return filterFunc{bilinearFilter, 1}
	case Hamming:
		return filterFunc{hammingFilter, 1}
	case Bicubic:
		return filterFunc{bicubicFilter, 2}
	default:
		return filterFunc{lanczosFilter, 3}
	}
}

// The filters below are Pillow's formulas, evaluated in the same order of
// float64 operations. The float64() conversions around products that feed an
// addition keep Go from fusing the two into one FMA (as it may on arm64, say),
// which Pillow's x86-64 build does not do.
//
// Pillow calls the C library's sin and cos. Go's math.Sin is one unit in the
// last place away from glibc 2.36's on about a fifth of the Lanczos filter's
// arguments, but weights are rounded to 22 bits after normalising: of the 126.7
// million Lanczos weights of every resize between lengths 1 and 300, none
// differs from the weights computed with glibc's sin (measured once, with a
// cgo build calling sin). The sweep vectors check the outputs.

func boxFilter(x float64) float64 {
	if x > -0.5 && x <= 0.5 {
		return 1
	}
	return 0
}

func bilinearFilter(x float64) float64 {
	x = math.Abs(x)
	if x < 1 {
		return 1 - x
	}
	return 0
}

func hammingFilter(x float64) float64 {
	x = math.Abs(x)
	if x == 0 {
		return 1
	}
	if x >= 1 {
		return 0
	}
	x *= math.Pi
	// Pillow's constants are C floats (0.54f, 0.46f) used in double arithmetic.
	const a, b = float64(float32(0.54)), float64(float32(0.46))
	return math.Sin(x) / x * (a + float64(b*math.Cos(x)))
}

func bicubicFilter(x float64) float64 {
	const a = -0.5
	x = math.Abs(x)
	if x < 1 {
		return float64(float64(float64((a+2)*x)-(a+3))*x*x) + 1
	}
	if x < 2 {
		return (float64(float64(float64(float64(x-5)*x)+8)*x) - 4) * a
	}
	return 0
}

func sincFilter(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

func lanczosFilter(x float64) float64 {
	if -3 <= x && x < 3 {
		return sincFilter(x) * sincFilter(x/3)
	}
	return 0
}

// newKernel computes the weights for resizing an axis of in pixels to out pixels
// (Pillow's precompute_coeffs with the whole source as the box, then
// normalize_coeffs_8bpc).
func newKernel(in, out int, f Filter) kernel {
	flt := filterOf(f)
	scale := float64(in) / float64(out)
	filterscale := math.Max(scale, 1)
	support := flt.support * filterscale
	size := int(math.Ceil(support))*2 + 1
	kn := kernel{
		size:  size,
		start: make([]int, out),
		count: make([]int, out),
		k:     make([]int32, out*size),
	}
	w := make([]float64, size)
	ss := 1 / filterscale
	for i := 0; i < out; i++ {
		center := float64((float64(i) + 0.5) * scale)
		// C's (int) conversion truncates toward zero, as Go's does.
		lo := int(center - support + 0.5)
		if lo < 0 {
			lo = 0
		}
		hi := int(center + support + 0.5)
		if hi > in {
			hi = in
		}
		n := hi - lo
		sum := 0.0
		for j := 0; j < n; j++ {
			w[j] = flt.fn((float64(j+lo) - center + 0.5) * ss)
			sum += w[j]
		}
		row := kn.k[i*size : (i+1)*size]
		for j := 0; j < n; j++ {
			v := w[j]
			if sum != 0 {
				v /= sum
			}
			if v < 0 {
				row[j] = int32(-0.5 + float64(v*(1<<precisionBits)))
			} else {
				row[j] = int32(0.5 + float64(v*(1<<precisionBits)))
			}
		}
		kn.start[i], kn.count[i] = lo, n
	}
	return kn
}

// clipFixed turns a fixed-point sum into a byte as Pillow's clip8 does: shift out
// the fraction (flooring), then clamp to 0..255.
func clipFixed(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

func resample(img *preprocess.Image, w, h int, f Filter) *preprocess.Image {
	needH := w != img.Width
	needV := h != img.Height
	kv := newKernel(img.Height, h, f)
	src := img
	if needH {
		kh := newKernel(img.Width, w, f)
		// Only rows the vertical pass reads are resampled horizontally.
		first := kv.start[0]
		last := kv.start[h-1] + kv.count[h-1]
		for i := range kv.start {
			kv.start[i] -= first
		}
		tmp := preprocess.NewImage(w, last-first)
		horizontal(tmp, img, first, &kh)
		src = tmp
	}
	if !needV {
		return src
	}
	out := preprocess.NewImage(src.Width, h)
	vertical(out, src, &kv)
	return out
}

const fixedHalf = 1 << (precisionBits - 1)

// horizontal resamples rows offset.. of in into the rows of out.
//
// It computes Pillow's int32 sums, two channels per multiplication: red and
// green travel packed in one int64 as r + g<<32, so that the packed sum is
// R + G<<32 for the int32 sums R and G, from which both come back exactly
// (every partial sum stays below 2**31 in magnitude: at most 255 times the sum
// of the weights' magnitudes, about 1.3 * 2**22 for Lanczos).
func horizontal(out, in *preprocess.Image, offset int, kn *kernel) {
	ow := out.Width
	parallel(out.Height, out.Height*ow*kn.size, func(y0, y1 int) {
		rg := make([]int64, in.Width)
		bl := make([]int32, in.Width)
		for y := y0; y < y1; y++ {
			srow := in.Pix[3*in.Width*(y+offset) : 3*in.Width*(y+offset+1)]
			for i := range rg {
				p := srow[3*i : 3*i+3 : 3*i+3]
				rg[i] = int64(p[0]) | int64(p[1])<<32
				bl[i] = int32(p[2])
			}
			drow := out.Pix[3*ow*y : 3*ow*(y+1)]
			for x := 0; x < ow; x++ {
				lo, n := kn.start[x], kn.count[x]
				k := kn.k[x*kn.size : x*kn.size+n]
				prg, pb := rg[lo:lo+n], bl[lo:lo+n]
				prg, pb = prg[:len(k)], pb[:len(k)] // for bounds-check elimination
				acc := int64(fixedHalf) + int64(fixedHalf)<<32
				b := int32(fixedHalf)
				for j, kj := range k {
					acc += prg[j] * int64(kj)
					b += pb[j] * kj
				}
				r := int32(acc)
				g := int32((acc - int64(r)) >> 32)
				d := drow[3*x : 3*x+3 : 3*x+3]
				d[0], d[1], d[2] = clipFixed(r), clipFixed(g), clipFixed(b)
			}
		}
	})
}

// vertical resamples the columns of in into out. It sums whole rows at a time
// (the same integer sums as Pillow's pixel-by-pixel loop, in a cache-friendly
// order).
func vertical(out, in *preprocess.Image, kn *kernel) {
	stride := 3 * in.Width
	parallel(out.Height, out.Height*stride*kn.size, func(y0, y1 int) {
		acc := make([]int32, stride)
		for y := y0; y < y1; y++ {
			lo, n := kn.start[y], kn.count[y]
			for i := range acc {
				acc[i] = fixedHalf
			}
			for j, kj := range kn.k[y*kn.size : y*kn.size+n] {
				s := in.Pix[stride*(lo+j) : stride*(lo+j+1)]
				a := acc[:len(s)]
				for i, v := range s {
					a[i] += int32(v) * kj
				}
			}
			d := out.Pix[stride*y : stride*(y+1)]
			for i, v := range acc {
				d[i] = clipFixed(v)
			}
		}
	})
}

// parallelMinWork is the number of inner-loop steps below which splitting the
// rows across goroutines costs more than it saves.
var parallelMinWork = 1 << 18

// parallel calls fn on consecutive row ranges covering 0..rows, on all CPUs when
// work (a rough count of inner-loop steps) is large enough to be worth it.
func parallel(rows, work int, fn func(y0, y1 int)) {
	n := runtime.GOMAXPROCS(0)
	if n > rows {
		n = rows
	}
	if n <= 1 || work < parallelMinWork {
		fn(0, rows)
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		y0, y1 := rows*i/n, rows*(i+1)/n
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(y0, y1)
		}()
	}
	wg.Wait()
}

// ResizeAll returns frames with every frame of another size resized to w x h
// with filter f (an animation's frames must share one size); frames of that
// size are kept as they are, not copied.
func ResizeAll(frames []*preprocess.Image, w, h int, f Filter) ([]*preprocess.Image, error) {
	out := make([]*preprocess.Image, len(frames))
	for i, img := range frames {
		if img.Width == w && img.Height == h {
			out[i] = img
			continue
		}
		r, err := Resize(img, w, h, f)
		if err != nil {
			return nil, fmt.Errorf("frame %d: %w", i, err)
		}
		out[i] = r
	}
	return out, nil
}
