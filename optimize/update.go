package optimize

// matupd stores the new correction pair (s in d, y in r) in the limited
// memory and updates S'Y and S'S and theta = y'y / s'y (L-BFGS-B's matupd).
func (st *state) matupd(rr, dr float64) {
	m := st.m
	if st.iupdat <= m {
		st.col = st.iupdat
		st.itail = (st.head + st.iupdat - 1) % m
	} else {
		st.itail = (st.itail + 1) % m
		st.head = (st.head + 1) % m
	}
	col, itail := st.col, st.itail

	// The Fortran copies d and r into the memory; d and r are not read
	// again before they are overwritten, so the buffers are swapped.
	st.ws[itail], st.d = st.d, st.ws[itail]
	st.wy[itail], st.r = st.r, st.wy[itail]
	s := st.ws[itail]

	st.theta = rr / dr

	// Shift the upper triangle of S'S and the lower one of S'Y when the
	// oldest pair was dropped.
	sy, ss := st.sy, st.ss
	if st.iupdat > m {
		for j := 1; j <= col-1; j++ {
			copy(ss[at(1, j, m):at(1, j, m)+j], ss[at(2, j+1, m):])
			copy(sy[at(j, j, m):at(j, j, m)+col-j], sy[at(j+1, j+1, m):])
		}
	}
	// The last row of S'Y and the last column of S'S; unconstrained, with
	// the products the next direction needs in the same pass.
	if !st.cnstnd && !st.noFuse {
		st.fusedDots()
	} else if col > 1 {
		ys := st.memory(st.wsScratch[:0], st.wy, col-1)
		ys = st.memory(ys, st.ws, col-1)
		res := st.scratch[:2*(col-1)]
		st.pool.blasDots(res, s, ys)
		for j := 1; j <= col-1; j++ {
			sy[at(col, j, m)] = res[j-1]
			ss[at(j, col, m)] = res[col-1+j-1]
		}
	}
	if st.stp == 1 {
		ss[at(col, col, m)] = st.dtd
	} else {
		ss[at(col, col, m)] = float64(st.stp*st.stp) * st.dtd
	}
	sy[at(col, col, m)] = dr
}

// formt forms the upper half of T = theta*S'S + L D^-1 L' in wt and
// factors it as J J' with J' in the upper triangle (L-BFGS-B's formt). It
// returns nonzero when T is not positive definite.
func (st *state) formt() int {
	m, col, theta := st.m, st.col, st.theta
	wt, sy, ss := st.wt, st.sy, st.ss
	for j := 1; j <= col; j++ {
		wt[at(1, j, m)] = theta * ss[at(1, j, m)]
	}
	for i := 2; i <= col; i++ {
		for j := i; j <= col; j++ {
			k1 := min(i, j) - 1
			ddum := 0.0
			for k := 1; k <= k1; k++ {
				ddum += float64(sy[at(i, k, m)]*sy[at(j, k, m)]) / sy[at(k, k, m)]
			}
			wt[at(i, j, m)] = ddum + float64(theta*ss[at(i, j, m)])
		}
	}
	if dpofa(wt, m, col) != 0 {
		return -3
	}
	return 0
}
