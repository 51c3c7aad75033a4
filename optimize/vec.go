package optimize

import (
	"math"
	"sync"
)

// Vector kernels. Every loop of length n runs here. Results are bit-identical
// to SciPy 1.14's L-BFGS-B on x86-64, which has two kinds of sums:
//
//   - BLAS calls (ddot, daxpy, dscal, dcopy) go to the OpenBLAS that SciPy
//     bundles. Its AVX-512 ddot (the kernel OpenBLAS 0.3.27 selects on
//     Skylake-X and later Intel, and on AMD Zen 4) accumulates in 32 lanes
//     with fused multiply-adds, folds the lanes in a fixed order, adds the
//     last n%16 products with FMAs, and above n = 10000 splits the vector
//     between its threads and adds their results in order. blasDot
//     reproduces this, with two threads (SciPy on two cores, or
//     OPENBLAS_NUM_THREADS=2). daxpy is an FMA per element.
//   - Loops written in the Fortran are compiled without FMA and without
//     reordering, so they are strictly sequential sums (seqDots).
//
// Products outside math.FMA are wrapped in float64() so that the Go compiler
// never fuses them (it may on some architectures), which would change the
// rounding.
//
// Elementwise loops are split into blocks that goroutines share; sums keep
// their order and are parallel only across independent sums or along
// OpenBLAS's own split, so results never depend on the number of cores.

const (
	// blockLen elements of one vector fill a 32 KiB L1 cache.
	blockLen = 4096
	// A goroutine gets at least this many blocks of an elementwise loop;
	// smaller vectors run on the calling goroutine.
	minBlocksPerWorker = 8
	// OpenBLAS threads level-1 kernels above this length.
	blasThreadMin = 10000
	// Sequential sums are shared between goroutines only above this
	// length.
	seqParMin = 1 << 15
)

// vecPool runs kernels on up to workers goroutines.
type vecPool struct {
	workers int
	part    []float64 // scratch for per-block results
	lanes   []dotLanes
}

func numBlocks(n int) int { return (n + blockLen - 1) / blockLen }

// blocks calls fn(b, lo, hi) for every block b of [0, n), sharing the blocks
// between goroutines in contiguous runs. fn must only write to disjoint
// places for different blocks.
func (p *vecPool) blocks(n int, fn func(b, lo, hi int)) {
	nb := numBlocks(n)
	w := min(p.workers, nb/minBlocksPerWorker)
	run := func(b0, b1 int) {
		for b := b0; b < b1; b++ {
			lo := b * blockLen
			fn(b, lo, min(lo+blockLen, n))
		}
	}
	if w <= 1 {
		run(0, nb)
		return
	}
	var wg sync.WaitGroup
	wg.Add(w - 1)
	for i := 1; i < w; i++ {
		b0, b1 := nb*i/w, nb*(i+1)/w
		go func() {
			defer wg.Done()
			run(b0, b1)
		}()
	}
	run(0, nb/w)
	wg.Wait()
}

// split runs fn(0, k), ..., fn(k-1, k) for k parts of a job, on up to k
// goroutines.
func (p *vecPool) split(k int, fn func(part, parts int)) {
	w := min(p.workers, k)
	if w <= 1 {
		for i := range k {
			fn(i, k)
		}
		return
	}
	var wg sync.WaitGroup
	wg.Add(k - 1)
	for i := 1; i < k; i++ {
		go func() {
			defer wg.Done()
			fn(i, k)
		}()
	}
	fn(0, k)
	wg.Wait()
}

// ---------------------------------------------------------------- BLAS ---

// dotLanes is the state of OpenBLAS's AVX-512 ddot kernel: four 8-lane
// accumulators, lane l of accumulator k adding the products of elements
// 32i + 8k + l.
type dotLanes struct{ acc [32]float64 }

// add32 accumulates x·y, len(x) a multiple of 32. The 32 FMAs of a step
// are written out: with math.FMA's check for the instruction, the compiler
// keeps lanes in memory either way, and this form runs fastest.
func (d *dotLanes) add32(x, y []float64) {
	y = y[:len(x)]
	a := &d.acc
	for i := 0; i+32 <= len(x); i += 32 {
		xs, ys := x[i:i+32:i+32], y[i:i+32:i+32]
		a[0] = math.FMA(xs[0], ys[0], a[0])
		a[1] = math.FMA(xs[1], ys[1], a[1])
		a[2] = math.FMA(xs[2], ys[2], a[2])
		a[3] = math.FMA(xs[3], ys[3], a[3])
		a[4] = math.FMA(xs[4], ys[4], a[4])
		a[5] = math.FMA(xs[5], ys[5], a[5])
		a[6] = math.FMA(xs[6], ys[6], a[6])
		a[7] = math.FMA(xs[7], ys[7], a[7])
		a[8] = math.FMA(xs[8], ys[8], a[8])
		a[9] = math.FMA(xs[9], ys[9], a[9])
		a[10] = math.FMA(xs[10], ys[10], a[10])
		a[11] = math.FMA(xs[11], ys[11], a[11])
		a[12] = math.FMA(xs[12], ys[12], a[12])
		a[13] = math.FMA(xs[13], ys[13], a[13])
		a[14] = math.FMA(xs[14], ys[14], a[14])
		a[15] = math.FMA(xs[15], ys[15], a[15])
		a[16] = math.FMA(xs[16], ys[16], a[16])
		a[17] = math.FMA(xs[17], ys[17], a[17])
		a[18] = math.FMA(xs[18], ys[18], a[18])
		a[19] = math.FMA(xs[19], ys[19], a[19])
		a[20] = math.FMA(xs[20], ys[20], a[20])
		a[21] = math.FMA(xs[21], ys[21], a[21])
		a[22] = math.FMA(xs[22], ys[22], a[22])
		a[23] = math.FMA(xs[23], ys[23], a[23])
		a[24] = math.FMA(xs[24], ys[24], a[24])
		a[25] = math.FMA(xs[25], ys[25], a[25])
		a[26] = math.FMA(xs[26], ys[26], a[26])
		a[27] = math.FMA(xs[27], ys[27], a[27])
		a[28] = math.FMA(xs[28], ys[28], a[28])
		a[29] = math.FMA(xs[29], ys[29], a[29])
		a[30] = math.FMA(xs[30], ys[30], a[30])
		a[31] = math.FMA(xs[31], ys[31], a[31])
	}
}

// finish completes the kernel on the elements after the 32-lane part (rest
// has fewer than 32 elements) and returns OpenBLAS's dot_compute result.
func (d *dotLanes) finish(rest, resty []float64, n int) float64 {
	dot := 0.0
	r16 := len(rest) &^ 15
	if n&^15 != 0 {
		// Fold each 8-lane accumulator to 4 lanes, then the 4-lane
		// (AVX2) loop over at most one more block of 16.
		var a [16]float64
		for k := range 4 {
			for l := range 4 {
				a[4*k+l] = d.acc[8*k+l] + d.acc[8*k+l+4]
			}
		}
		for i := 0; i < r16; i += 16 {
			for j := range 16 {
				a[j] = math.FMA(rest[i+j], resty[i+j], a[j])
			}
		}
		var s [4]float64
		for l := range 4 {
			s[l] = ((a[l] + a[4+l]) + a[8+l]) + a[12+l]
		}
		dot = (s[0] + s[2]) + (s[1] + s[3])
	}
	for i := r16; i < len(rest); i++ {
		dot = math.FMA(resty[i], rest[i], dot)
	}
	return dot
}

// blasKernel is OpenBLAS's single-threaded ddot.
func blasKernel(x, y []float64) float64 {
	n := len(x)
	n32 := n &^ 31
	var d dotLanes
	d.add32(x[:n32], y[:n32])
	return d.finish(x[n32:], y[n32:n], n)
}

// blasDot is ddot as SciPy's OpenBLAS computes it on two threads.
func (p *vecPool) blasDot(x, y []float64) float64 {
	n := len(x)
	if n <= blasThreadMin {
		return blasKernel(x, y[:n])
	}
	w := (n + 1) / 2
	var r [2]float64
	p.split(2, func(i, _ int) {
		if i == 0 {
			r[0] = blasKernel(x[:w], y[:w])
		} else {
			r[1] = blasKernel(x[w:], y[w:n])
		}
	})
	return 0 + r[0] + r[1]
}

// blasDots sets dst[j] = blasDot(x, ys[j]) for every j in one pass over
// the vectors (per thread half), reading x once.
func (p *vecPool) blasDots(dst []float64, x []float64, ys [][]float64) {
	n, k := len(x), len(ys)
	if k == 0 {
		return
	}
	if n <= blasThreadMin {
		for j, y := range ys {
			dst[j] = blasKernel(x, y[:n])
		}
		return
	}
	w := (n + 1) / 2
	if cap(p.lanes) < 2*k {
		p.lanes = make([]dotLanes, 2*k)
	}
	lanes := p.lanes[:2*k]
	res := p.partials(2 * k)
	p.split(2, func(h, _ int) {
		lo, hi := 0, w
		if h == 1 {
			lo, hi = w, n
		}
		ln := lanes[h*k : h*k+k]
		for j := range ln {
			ln[j] = dotLanes{}
		}
		n32 := (hi - lo) &^ 31
		// 32-lane part in cache-sized chunks (multiples of 32).
		const chunk = 1024
		for c := lo; c < lo+n32; c += chunk {
			e := min(c+chunk, lo+n32)
			xs := x[c:e]
			for j, y := range ys {
				ln[j].add32(xs, y[c:e])
			}
		}
		for j, y := range ys {
			res[h*k+j] = ln[j].finish(x[lo+n32:hi], y[lo+n32:hi], hi-lo)
		}
	})
	for j := range ys {
		dst[j] = 0 + res[j] + res[k+j]
	}
}

// blasAxpy is daxpy: y += a*x with an FMA per element, nothing if a == 0.
func (p *vecPool) blasAxpy(a float64, x, y []float64) {
	if a == 0 {
		return
	}
	n := len(x)
	y = y[:n]
	if n <= blasThreadMin {
		for i := range n {
			y[i] = math.FMA(a, x[i], y[i])
		}
		return
	}
	p.blocks(n, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = math.FMA(a, x[i], y[i])
		}
	})
}

// sdot and saxpy are ddot and daxpy on the short vectors of the 2m x 2m
// algebra.
func sdot(n int, x, y []float64) float64 { return blasKernel(x[:n], y[:n]) }

func saxpy(n int, a float64, x, y []float64) {
	if a == 0 {
		return
	}
	for i := 0; i < n; i++ {
		y[i] = math.FMA(a, x[i], y[i])
	}
}

// ---------------------------------------------------- Fortran loops ---

// seqDots sets dst[j] = Σ_k a[ia(k)] * ys[j][iy(k)] for k < n in order,
// each product rounded (the Fortran loops of formk and subsm). With ind ==
// nil both indices are k; otherwise iy(k) = ind[k], and ia(k) = ind[k] too
// unless compactA, when ia(k) = k. The sums are shared between goroutines,
// each summed by one of them.
func (p *vecPool) seqDots(dst []float64, ind []int32, n int, a []float64, compactA bool, ys [][]float64) {
	k := len(ys)
	if k == 0 {
		return
	}
	parts := 1
	if n >= seqParMin {
		parts = min(p.workers, k)
	}
	p.split(parts, func(part, parts int) {
		j0, j1 := k*part/parts, k*(part+1)/parts
		seqDotsRange(dst[j0:j1], ind, n, a, compactA, ys[j0:j1])
	})
}

func seqDotsRange(dst []float64, ind []int32, n int, a []float64, compactA bool, ys [][]float64) {
	for j := range dst {
		dst[j] = 0
	}
	// Eight sums at a time over cache-sized blocks keep a block of a in
	// L1 and eight independent additions in flight; each sum still adds
	// its terms in order.
	const chunk = 2048
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		for j := 0; j < len(ys); j += 8 {
			g := min(8, len(ys)-j)
			var y [8][]float64
			var s [8]float64
			for q := range 8 {
				y[q] = ys[j+min(q, g-1)] // unused sums repeat a valid vector
				if q < g {
					s[q] = dst[j+q]
				}
			}
			s0, s1, s2, s3, s4, s5, s6, s7 := s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
			switch {
			case ind == nil:
				as := a[lo:hi]
				m := len(as)
				y0, y1, y2, y3 := y[0][lo:lo+m], y[1][lo:lo+m], y[2][lo:lo+m], y[3][lo:lo+m]
				y4, y5, y6, y7 := y[4][lo:lo+m], y[5][lo:lo+m], y[6][lo:lo+m], y[7][lo:lo+m]
				for i, v := range as {
					s0 += float64(v * y0[i])
					s1 += float64(v * y1[i])
					s2 += float64(v * y2[i])
					s3 += float64(v * y3[i])
					s4 += float64(v * y4[i])
					s5 += float64(v * y5[i])
					s6 += float64(v * y6[i])
					s7 += float64(v * y7[i])
				}
			case compactA:
				y0, y1, y2, y3, y4, y5, y6, y7 := y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]
				for i := lo; i < hi; i++ {
					v, q := a[i], ind[i]
					s0 += float64(v * y0[q])
					s1 += float64(v * y1[q])
					s2 += float64(v * y2[q])
					s3 += float64(v * y3[q])
					s4 += float64(v * y4[q])
					s5 += float64(v * y5[q])
					s6 += float64(v * y6[q])
					s7 += float64(v * y7[q])
				}
			default:
				y0, y1, y2, y3, y4, y5, y6, y7 := y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]
				for i := lo; i < hi; i++ {
					q := ind[i]
					v := a[q]
					s0 += float64(v * y0[q])
					s1 += float64(v * y1[q])
					s2 += float64(v * y2[q])
					s3 += float64(v * y3[q])
					s4 += float64(v * y4[q])
					s5 += float64(v * y5[q])
					s6 += float64(v * y6[q])
					s7 += float64(v * y7[q])
				}
			}
			s = [8]float64{s0, s1, s2, s3, s4, s5, s6, s7}
			copy(dst[j:j+g], s[:g])
		}
	}
}

// maskedDots sets dst[j] = Σ ys[j][i]*d[i] over the i with iwhere[i] 0 or
// -1, in order (cauchy's p = W'd); the sums are shared between goroutines.
func (p *vecPool) maskedDots(dst []float64, iwhere []int8, d []float64, ys [][]float64) {
	n, k := len(d), len(ys)
	parts := 1
	if n >= seqParMin {
		parts = min(p.workers, k)
	}
	p.split(parts, func(part, parts int) {
		j0, j1 := k*part/parts, k*(part+1)/parts
		out := dst[j0:j1]
		clear(out)
		const chunk = 2048
		for lo := 0; lo < n; lo += chunk {
			hi := min(lo+chunk, n)
			db := d[lo:hi]
			w := iwhere[lo : lo+len(db)]
			// Four sums at a time keep additions in flight.
			for j := 0; j < len(out); j += 4 {
				q := min(4, len(out)-j)
				var y [4][]float64
				var s [4]float64
				for t := range 4 {
					y[t] = ys[j0+j+min(t, q-1)][lo : lo+len(db)]
				}
				copy(s[:q], out[j:j+q])
				y0, y1, y2, y3 := y[0], y[1], y[2], y[3]
				s0, s1, s2, s3 := s[0], s[1], s[2], s[3]
				for i, wi := range w {
					if wi == 0 || wi == -1 {
						v := db[i]
						s0 += float64(y0[i] * v)
						s1 += float64(y1[i] * v)
						s2 += float64(y2[i] * v)
						s3 += float64(y3[i] * v)
					}
				}
				s = [4]float64{s0, s1, s2, s3}
				copy(out[j:j+q], s[:q])
			}
		}
	})
}

// seqDot is one sequential sum Σ x[ind[k]]*y[ind[k]] (ind == nil: k).
func seqDot(ind []int32, n int, x, y []float64) float64 {
	s := 0.0
	if ind == nil {
		for i := range n {
			s += float64(x[i] * y[i])
		}
		return s
	}
	for _, q := range ind[:n] {
		s += float64(x[q] * y[q])
	}
	return s
}

// partials returns scratch for k values.
func (p *vecPool) partials(k int) []float64 {
	if cap(p.part) < k {
		p.part = make([]float64, k)
	}
	return p.part[:k]
}

// copyVec copies src into dst (same length) on the pool.
func (p *vecPool) copyVec(dst, src []float64) {
	n := len(src)
	if n <= blockLen*minBlocksPerWorker {
		copy(dst, src)
		return
	}
	p.blocks(n, func(_, lo, hi int) { copy(dst[lo:hi], src[lo:hi]) })
}
