package optimize

// An iteration of an unconstrained problem reads the 2m stored vectors three
// times for inner products: matupd (the new s against the memory, BLAS
// ddot), formk (the new y against the memory, Fortran loops) and subsm (the
// reduced gradient -g against the memory, Fortran loops). fusedDots forms
// all of them in one pass right after matupd has stored the new pair. Each
// product keeps its own accumulator and its order, so the results are
// bit-identical to computing them where the Fortran does; only the memory
// traffic changes.

// prefetch holds the products for the next direction, valid until it is
// used or the memory is reset.
type prefetch struct {
	valid bool
	yw    []float64 // y·wy_j then y·ws_j (formk's new row and column)
	gw    []float64 // (-g)·wy_j then (-g)·ws_j (subsm's W'Z d, d = -g)
}

// fusedDots sets sy(col, j) and ss(j, col) for j < col, as matupd does,
// and fills st.pre. s and y are the newest pair (at itail).
func (st *state) fusedDots() {
	n, m, col := st.n, st.m, st.col
	s, y, g := st.ws[st.itail], st.wy[st.itail], st.g
	vecs := st.memory(st.wsScratch[:0], st.wy, col)
	vecs = st.memory(vecs, st.ws, col)
	k := len(vecs)
	if cap(st.pre.yw) < 2*m {
		st.pre.yw = make([]float64, 2*m)
		st.pre.gw = make([]float64, 2*m)
	}
	yw, gw := st.pre.yw[:k], st.pre.gw[:k]
	clear(yw)
	clear(gw)

	// The BLAS products: every vector but the newest two; per thread
	// half of OpenBLAS.
	halves := [][2]int{{0, n}}
	if n > blasThreadMin {
		w := (n + 1) / 2
		halves = [][2]int{{0, w}, {w, n}}
	}
	if cap(st.pool.lanes) < 2*k {
		st.pool.lanes = make([]dotLanes, 2*k)
	}
	lanes := st.pool.lanes[:2*k]
	blas := st.pool.partials(2 * k)
	newest := func(j int) bool { return j%col == col-1 }

	parts := 1
	if n >= seqParMin {
		parts = min(st.pool.workers, k)
	}
	st.pool.split(parts, func(part, parts int) {
		j0, j1 := k*part/parts, k*(part+1)/parts
		for h, hr := range halves {
			lo, hi := hr[0], hr[1]
			n32 := (hi - lo) &^ 31
			for j := j0; j < j1; j++ {
				lanes[2*j+h] = dotLanes{}
			}
			const chunk = 1024
			for c := lo; c < lo+n32; c += chunk {
				e := min(c+chunk, lo+n32)
				for j := j0; j < j1; j++ {
					if !newest(j) {
						lanes[2*j+h].add32(s[c:e], vecs[j][c:e])
					}
				}
				seqYG(yw[j0:j1], gw[j0:j1], vecs[j0:j1], y, g, c, e)
			}
			for j := j0; j < j1; j++ {
				if !newest(j) {
					blas[2*j+h] = lanes[2*j+h].finish(s[lo+n32:hi], vecs[j][lo+n32:hi], hi-lo)
				}
			}
			seqYG(yw[j0:j1], gw[j0:j1], vecs[j0:j1], y, g, lo+n32, hi)
		}
	})

	sy, ss := st.sy, st.ss
	for j := 1; j <= col-1; j++ {
		sy[at(col, j, m)] = blasResult(blas, j-1, len(halves))
		ss[at(j, col, m)] = blasResult(blas, col+j-1, len(halves))
	}
	st.pre.valid = true
}

// blasResult combines the halves of product j as OpenBLAS does.
func blasResult(blas []float64, j, halves int) float64 {
	if halves == 1 {
		return blas[2*j]
	}
	return 0 + blas[2*j] + blas[2*j+1]
}

// seqYG continues the sequential sums yw[j] += y·vecs[j] and
// gw[j] -= g·vecs[j] (that is, += (-g)·vecs[j], as subsm adds
// wy*d with d = -g) over [lo, hi), four vectors at a time.
func seqYG(yw, gw []float64, vecs [][]float64, y, g []float64, lo, hi int) {
	if lo >= hi {
		return
	}
	ys, gs := y[lo:hi], g[lo:hi]
	m := len(ys)
	gs = gs[:m]
	for j := 0; j < len(vecs); j += 4 {
		q := min(4, len(vecs)-j)
		var v [4][]float64
		for t := range 4 {
			v[t] = vecs[j+min(t, q-1)][lo : lo+m]
		}
		v0, v1, v2, v3 := v[0], v[1], v[2], v[3]
		var a, b [4]float64
		copy(a[:q], yw[j:j+q])
		copy(b[:q], gw[j:j+q])
		a0, a1, a2, a3 := a[0], a[1], a[2], a[3]
		b0, b1, b2, b3 := b[0], b[1], b[2], b[3]
		for i, yi := range ys {
			gi := gs[i]
			a0 += float64(yi * v0[i])
			b0 -= float64(gi * v0[i])
			a1 += float64(yi * v1[i])
			b1 -= float64(gi * v1[i])
			a2 += float64(yi * v2[i])
			b2 -= float64(gi * v2[i])
			a3 += float64(yi * v3[i])
			b3 -= float64(gi * v3[i])
		}
		a = [4]float64{a0, a1, a2, a3}
		b = [4]float64{b0, b1, b2, b3}
		copy(yw[j:j+q], a[:q])
		copy(gw[j:j+q], b[:q])
	}
}
