package optimize

// The subspace minimisation of L-BFGS-B 3.0: formk forms and factors the
// matrix K of the reduced problem, cmprlb its right-hand side, and subsm
// takes the Newton step with the projection of Morales and Nocedal.

// formk forms the LEL' factorization of the indefinite matrix
//
//	K = [-D -Y'ZZ'Y/theta     L_a'-R_z'  ]
//	    [L_a -R_z           theta*S'AA'S ]
//
// in the upper triangle of wn, keeping the inner products
// [Y'ZZ'Y  L_a'+R_z'; L_a+R_z  S'AA'S] in snd (wn1 of the reference) to
// update them as the free set changes. It returns 0, -1 or -2 when the
// first or second Cholesky factorization fails.
func (st *state) formk() int {
	n, m, col, head, theta := st.n, st.m, st.col, st.head, st.theta
	nsub := st.nfree
	ws, wy := st.ws, st.wy
	wn, wn1 := st.wn, st.snd
	m2 := 2 * m
	W1 := func(i, j int) *float64 { return &wn1[at(i, j, m2)] }
	W := func(i, j int) *float64 { return &wn[at(i, j, m2)] }
	next := func(p int) int { return (p + 1) % m }

	var upcl int
	if st.updatd {
		if st.iupdat > m {
			// Shift the old part of wn1.
			for jy := 1; jy <= m-1; jy++ {
				js := m + jy
				copy(wn1[at(jy, jy, m2):at(jy, jy, m2)+m-jy], wn1[at(jy+1, jy+1, m2):])
				copy(wn1[at(js, js, m2):at(js, js, m2)+m-jy], wn1[at(js+1, js+1, m2):])
				copy(wn1[at(m+1, jy, m2):at(m+1, jy, m2)+m-1], wn1[at(m+2, jy+1, m2):])
			}
		}
		// The new row of blocks (1,1), (2,1), (2,2) and the new column of
		// block (2,1), from the newest pair (at ipntr).
		ipntr := (head + col - 1) % m
		free := st.freeIndex()
		ys := st.memory(st.wsScratch[:0], wy, col)
		ys = st.memory(ys, ws, col)
		// Y'ZZ'Y row and R_z column: wy_new against every wy and ws on
		// the free variables.
		res, resA := st.scratch[:2*col], st.scratch[2*m:2*m+2*col]
		if st.pre.valid {
			copy(res, st.pre.yw[:2*col])
		} else {
			st.pool.seqDots(res, free, nsub, wy[ipntr], false, ys)
		}
		// L_a and S'AA'S row: ws_new against every wy and ws on the
		// active variables.
		clear(resA)
		if nsub < n {
			st.pool.seqDots(resA, st.index[nsub:], n-nsub, ws[ipntr], false, ys)
		}
		iy, is := col, m+col
		for jy := 1; jy <= col; jy++ {
			js := m + jy
			*W1(iy, jy) = res[jy-1]
			*W1(is, js) = resA[col+jy-1]
			*W1(is, jy) = resA[jy-1]
		}
		for i := 1; i <= col; i++ {
			*W1(m+i, col) = res[col+i-1]
		}
		upcl = col - 1
	} else {
		upcl = col
	}

	// Update the old parts of blocks (1,1) and (2,2) for the variables
	// that entered (indx2[:nenter]) or left (indx2[ileave:]) the free set.
	enter := st.indx2[:st.nenter]
	leave := st.indx2[st.ileave:n]
	ipntr := head
	for iy := 1; iy <= upcl; iy++ {
		is := m + iy
		jpntr := head
		for jy := 1; jy <= iy; jy++ {
			js := m + jy
			temp1 := seqDot(enter, len(enter), wy[ipntr], wy[jpntr])
			temp2 := seqDot(enter, len(enter), ws[ipntr], ws[jpntr])
			temp3 := seqDot(leave, len(leave), wy[ipntr], wy[jpntr])
			temp4 := seqDot(leave, len(leave), ws[ipntr], ws[jpntr])
			*W1(iy, jy) = *W1(iy, jy) + temp1 - temp3
			*W1(is, js) = *W1(is, js) - temp2 + temp4
			jpntr = next(jpntr)
		}
		ipntr = next(ipntr)
	}
	// And of block (2,1).
	ipntr = head
	for is := m + 1; is <= m+upcl; is++ {
		jpntr := head
		for jy := 1; jy <= upcl; jy++ {
			temp1 := seqDot(enter, len(enter), ws[ipntr], wy[jpntr])
			temp3 := seqDot(leave, len(leave), ws[ipntr], wy[jpntr])
			if is <= jy+m {
				*W1(is, jy) = *W1(is, jy) + temp1 - temp3
			} else {
				*W1(is, jy) = *W1(is, jy) - temp1 + temp3
			}
			jpntr = next(jpntr)
		}
		ipntr = next(ipntr)
	}

	// The upper triangle of
	// wn = [D+Y'ZZ'Y/theta  -L_a'+R_z'; -L_a+R_z  S'AA'S*theta].
	for iy := 1; iy <= col; iy++ {
		is := col + iy
		is1 := m + iy
		for jy := 1; jy <= iy; jy++ {
			js := col + jy
			js1 := m + jy
			*W(jy, iy) = *W1(iy, jy) / theta
			*W(js, is) = *W1(is1, js1) * theta
		}
		for jy := 1; jy <= iy-1; jy++ {
			*W(jy, is) = -*W1(is1, jy)
		}
		for jy := iy; jy <= col; jy++ {
			*W(jy, is) = *W1(is1, jy)
		}
		*W(iy, iy) = *W(iy, iy) + st.sy[at(iy, iy, m)]
	}

	// LL' of the (1,1) block, L' in its upper triangle.
	if info := dpofa(wn, m2, col); info != 0 {
		return -1
	}
	// L^-1 (-L_a'+R_z') in the (1,2) block.
	col2 := 2 * col
	for js := col + 1; js <= col2; js++ {
		dtrsl(wn, m2, col, wn[at(1, js, m2):], true)
	}
	// S'AA'S*theta + (L^-1(-L_a'+R_z'))' L^-1(-L_a'+R_z') in the upper
	// triangle of the (2,2) block, then its Cholesky factor.
	for is := col + 1; is <= col2; is++ {
		for js := is; js <= col2; js++ {
			*W(is, js) = *W(is, js) + sdot(col, wn[at(1, is, m2):], wn[at(1, js, m2):])
		}
	}
	if info := dpofa(wn[at(col+1, col+1, m2):], m2, col); info != 0 {
		return -2
	}
	return 0
}

// cmprlb computes r = -Z'B(xcp - x) - Z'g, using c = W'(xcp - x) from
// cauchy. It returns -8 when bmv meets a singular system.
func (st *state) cmprlb() int {
	n, m, col, theta := st.n, st.m, st.col, st.theta
	x, g, z, r := st.x, st.g, st.z, st.r
	if !st.cnstnd && col > 0 {
		st.pool.blocks(n, func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				r[i] = -g[i]
			}
		})
		return 0
	}
	nfree := st.nfree
	// M c first (the Fortran forms r first; M c does not depend on it).
	wa := st.wa
	if info := bmv(m, st.sy, st.wt, col, wa[2*m:], wa); info != 0 {
		return -8
	}
	// r += W M c on the free variables, the col pairs in order per element.
	a1, a2 := st.scratch[:col], st.scratch[m:m+col]
	for j := range col {
		a1[j] = wa[j]
		a2[j] = theta * wa[col+j]
	}
	ys := st.memory(st.wsScratch[:0], st.wy, col)
	ys = st.memory(ys, st.ws, col)
	wys, wss := ys[:col], ys[col:]
	ind := st.freeIndex()
	st.pool.blocks(nfree, func(_, lo, hi int) {
		rb := r[lo:hi]
		if ind == nil {
			for i := range rb {
				k := lo + i
				rb[i] = -float64(theta*(z[k]-x[k])) - g[k]
			}
		} else {
			for i, k := range ind[lo:hi] {
				rb[i] = -float64(theta*(z[k]-x[k])) - g[k]
			}
		}
		// The pairs in order for each element, a block at a time.
		for j := range col {
			b1, b2, wy, ws := a1[j], a2[j], wys[j], wss[j]
			if ind == nil {
				wy, ws = wy[lo:hi], ws[lo:hi]
				for i := range rb {
					rb[i] = rb[i] + float64(wy[i]*b1) + float64(ws[i]*b2)
				}
				continue
			}
			for i, k := range ind[lo:hi] {
				rb[i] = rb[i] + float64(wy[k]*b1) + float64(ws[k]*b2)
			}
		}
	})
	return 0
}

// subsm minimises the model over the free variables from the Cauchy point
// z (or from x when zIsX): the Newton direction of the reduced problem
// d = (1/theta) r + (1/theta^2) Z'W K^-1 W'Z r, then, if that leaves the
// box, its projection when that is a descent direction, else the longest
// feasible step along it. r (the reduced gradient on entry) holds the
// direction afterwards. It returns nonzero for a singular K.
func (st *state) subsm(zIsX bool) int {
	m, col, theta := st.m, st.col, st.theta
	nsub := st.nfree
	if nsub <= 0 {
		return 0
	}
	ind := st.freeIndex()
	index := st.index
	x, xx, gg, d := st.z, st.x, st.g, st.r
	l, u, nbd := st.l, st.u, st.nbd
	wv := st.wa[:2*m]

	// wv = W'Z d.
	ys := st.memory(st.wsScratch[:0], st.wy, col)
	ys = st.memory(ys, st.ws, col)
	fromG := zIsX && st.pre.valid // d = -g, not yet written (cmprlb skipped)
	if fromG {
		copy(wv[:2*col], st.pre.gw[:2*col])
	} else {
		st.pool.seqDots(wv[:2*col], ind, nsub, d, true, ys)
	}
	for i := range col {
		wv[col+i] = theta * wv[col+i]
	}

	// wv = K^-1 wv.
	m2, col2 := 2*m, 2*col
	if info := dtrsl(st.wn, m2, col2, wv, true); info != 0 {
		return info
	}
	for i := range col {
		wv[i] = -wv[i]
	}
	if info := dtrsl(st.wn, m2, col2, wv, false); info != 0 {
		return info
	}

	// d = (d + Z'W wv / theta ...) / theta, per element in the order of
	// the pairs; then the step x + d on the free variables.
	wys, wss := ys[:col], ys[col:]
	inv := 1 / theta
	dm := st.d
	st.pool.blocks(nsub, func(_, lo, hi int) {
		// Pair by pair over a block that stays in L1: each element
		// still receives the pairs' terms in order.
		db := d[lo:hi]
		if fromG {
			for i, v := range gg[lo:hi] {
				db[i] = -v
			}
		}
		for jy := range col {
			a1, a2 := wv[jy], wv[col+jy]
			wy, ws := wys[jy], wss[jy]
			if ind == nil {
				wy, ws = wy[lo:hi], ws[lo:hi]
				for i := range db {
					db[i] = db[i] + float64(wy[i]*a1)/theta + float64(ws[i]*a2)
				}
				continue
			}
			for i, k := range ind[lo:hi] {
				db[i] = db[i] + float64(wy[k]*a1)/theta + float64(ws[k]*a2)
			}
		}
		for i := range db {
			db[i] *= inv
		}
		if zIsX {
			// z = x + d, and already mainlb's d = z - x.
			for i := lo; i < hi; i++ {
				z := xx[i] + d[i]
				x[i] = z
				dm[i] = z - xx[i]
			}
		}
	})
	if zIsX {
		// Unconstrained: no bound can be met.
		return 0
	}

	// Try the projection of the Newton step.
	iword := false
	st.pool.copyVec(st.xp, x)
	for i := range nsub {
		k := index[i]
		dk, xk := d[i], x[k]
		switch nbd[k] {
		case 0:
			x[k] = xk + dk
		case 1:
			x[k] = fmax(l[k], xk+dk)
			if x[k] == l[k] {
				iword = true
			}
		case 2:
			xk = fmax(l[k], xk+dk)
			x[k] = fmin(u[k], xk)
			if x[k] == l[k] || x[k] == u[k] {
				iword = true
			}
		case 3:
			x[k] = fmin(u[k], xk+dk)
			if x[k] == u[k] {
				iword = true
			}
		}
	}
	if !iword {
		return 0
	}
	// Keep the projected point if it is a descent direction from x.
	ddP := 0.0
	for i := range st.n {
		ddP += float64((x[i] - xx[i]) * gg[i])
	}
	if !(ddP > 0) {
		return 0
	}
	st.events.projRejected++
	st.pool.copyVec(x, st.xp)

	// Otherwise the longest step along d that stays feasible.
	alpha, temp1 := 1.0, 1.0
	ibd := 0
	for i := range nsub {
		k := index[i]
		dk := d[i]
		if nbd[k] == 0 {
			continue
		}
		if dk < 0 && nbd[k] <= 2 {
			temp2 := l[k] - x[k]
			if temp2 >= 0 {
				temp1 = 0
			} else if float64(dk*alpha) < temp2 {
				temp1 = temp2 / dk
			}
		} else if dk > 0 && nbd[k] >= 2 {
			temp2 := u[k] - x[k]
			if temp2 <= 0 {
				temp1 = 0
			} else if float64(dk*alpha) > temp2 {
				temp1 = temp2 / dk
			}
		}
		if temp1 < alpha {
			alpha = temp1
			ibd = i
		}
	}
	if alpha < 1 {
		dk := d[ibd]
		k := index[ibd]
		if dk > 0 {
			x[k] = u[k]
			d[ibd] = 0
		} else if dk < 0 {
			x[k] = l[k]
			d[ibd] = 0
		}
	}
	for i := range nsub {
		k := index[i]
		x[k] += float64(alpha * d[i])
	}
	return 0
}
