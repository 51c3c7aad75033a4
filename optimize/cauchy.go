package optimize

import "math"

// cauchy computes the generalized Cauchy point into z: the first local
// minimizer of the quadratic model g's + s'Bs/2 along the projected
// steepest-descent path P(x - t g, l, u), t >= 0 (L-BFGS-B's cauchy). It
// leaves W'(z - x) in c (wa[2m:4m]) for cmprlb, breakpoints in t and the
// Cauchy direction in d, and updates iwhere. A nonzero result means a
// singular system in bmv.
func (st *state) cauchy() int {
	n, m, col, head, theta := st.n, st.m, st.col, st.head, st.theta
	x, l, u, nbd, g := st.x, st.l, st.u, st.nbd, st.g
	iorder, iwhere, t, d, xcp := st.indx2, st.iwhere, st.t, st.d, st.z
	wa := st.wa
	p, c, wbp, v := wa[0:2*m], wa[2*m:4*m], wa[4*m:6*m], wa[6*m:8*m]
	ws, wy := st.ws, st.wy

	if st.sbgnrm <= 0 {
		st.pool.copyVec(xcp, x)
		return 0
	}
	bnded := true
	nfree := n // free variables fill iorder[nfree:] from the end
	nbreak := 0
	ibkmin := 0
	var tl, tu, bkmin float64
	col2 := 2 * col
	f1 := 0.0
	for i := range col2 {
		p[i] = 0
	}

	// For each variable: its bound status and its breakpoint; the smallest
	// breakpoint is noted. Its part of p = W'd follows in a second pass.
	for i := range n {
		neggi := -g[i]
		if iwhere[i] != 3 && iwhere[i] != -1 {
			// A variable with bounds that is not fixed: how far from them?
			if nbd[i] <= 2 {
				tl = x[i] - l[i]
			}
			if nbd[i] >= 2 {
				tu = u[i] - x[i]
			}
			xlower := nbd[i] <= 2 && tl <= 0
			xupper := nbd[i] >= 2 && tu <= 0
			iwhere[i] = 0
			if xlower {
				if neggi <= 0 {
					iwhere[i] = 1
				}
			} else if xupper {
				if neggi >= 0 {
					iwhere[i] = 2
				}
			} else if math.Abs(neggi) <= 0 {
				iwhere[i] = -3
			}
		}
		if iwhere[i] != 0 && iwhere[i] != -1 {
			d[i] = 0
			continue
		}
		d[i] = neggi
		f1 -= float64(neggi * neggi)
		switch {
		case nbd[i] <= 2 && nbd[i] != 0 && neggi < 0:
			// x + d is bounded below: a breakpoint.
			iorder[nbreak] = int32(i)
			t[nbreak] = tl / (-neggi)
			if nbreak == 0 || t[nbreak] < bkmin {
				bkmin = t[nbreak]
				ibkmin = nbreak
			}
			nbreak++
		case nbd[i] >= 2 && neggi > 0:
			// x + d is bounded above: a breakpoint.
			iorder[nbreak] = int32(i)
			t[nbreak] = tu / neggi
			if nbreak == 0 || t[nbreak] < bkmin {
				bkmin = t[nbreak]
				ibkmin = nbreak
			}
			nbreak++
		default:
			// x + d is not bounded.
			nfree--
			iorder[nfree] = int32(i)
			if math.Abs(neggi) > 0 {
				bnded = false
			}
		}
	}

	// p = W'd: each of the 2col sums over the variables with iwhere 0 or
	// -1 (those the loop above gave d = -g), in index order.
	if col > 0 {
		ys := st.memory(st.wsScratch[:0], wy, col)
		ys = st.memory(ys, ws, col)
		st.pool.maskedDots(p[:col2], iwhere, d, ys)
	}
	if theta != 1 {
		for j := range col {
			p[col+j] *= theta
		}
	}
	st.pool.copyVec(xcp, x)
	if nbreak == 0 && nfree == n {
		// d is zero: the Cauchy point is x.
		return 0
	}
	for j := range col2 {
		c[j] = 0
	}

	// The derivatives f1 and f2 of the model along the path.
	f2 := -theta * f1
	f2org := f2
	if col > 0 {
		if info := bmv(m, st.sy, st.wt, col, p, v); info != 0 {
			return info
		}
		f2 -= sdot(col2, v, p)
	}
	dtm := -f1 / f2
	tsum := 0.0

	if nbreak > 0 {
		nleft := nbreak
		iter := 1
		tj := 0.0
		for {
			// The next breakpoint, from the heap after the first.
			tj0 := tj
			var ibp int
			if iter == 1 {
				// The smallest is known: often only one breakpoint is
				// used and the heap is never built.
				tj = bkmin
				ibp = int(iorder[ibkmin])
			} else {
				if iter == 2 {
					// Replace the used smallest breakpoint by the last.
					if ibkmin != nbreak-1 {
						t[ibkmin] = t[nbreak-1]
						iorder[ibkmin] = iorder[nbreak-1]
					}
				}
				hpsolb(nleft, t, iorder, iter-2)
				tj = t[nleft-1]
				ibp = int(iorder[nleft-1])
			}
			dt := tj - tj0

			// The minimizer is within this interval.
			if dtm < dt {
				break
			}

			// Otherwise fix the variable and go on.
			tsum += dt
			nleft--
			iter++
			dibp := d[ibp]
			d[ibp] = 0
			var zibp float64
			if dibp > 0 {
				zibp = u[ibp] - x[ibp]
				xcp[ibp] = u[ibp]
				iwhere[ibp] = 2
			} else {
				zibp = l[ibp] - x[ibp]
				xcp[ibp] = l[ibp]
				iwhere[ibp] = 1
			}
			if nleft == 0 && nbreak == n {
				// All variables are fixed: xcp is the Cauchy point.
				st.events.allFixed++
				dtm = dt
				if col > 0 {
					saxpy(col2, dtm, p, c)
				}
				return 0
			}
			dibp2 := dibp * dibp
			f1 = f1 + float64(dt*f2) + dibp2 - float64(float64(theta*dibp)*zibp)
			f2 -= float64(theta * dibp2)
			if col > 0 {
				saxpy(col2, dt, p, c)
				// The row of W of the breakpoint.
				pointr := head
				for j := range col {
					wbp[j] = wy[pointr][ibp]
					wbp[col+j] = theta * ws[pointr][ibp]
					pointr = (pointr + 1) % m
				}
				if info := bmv(m, st.sy, st.wt, col, wbp, v); info != 0 {
					return info
				}
				wmc := sdot(col2, c, v)
				wmp := sdot(col2, p, v)
				wmw := sdot(col2, wbp, v)
				saxpy(col2, -dibp, wbp, p)
				f1 += float64(dibp * wmc)
				f2 = f2 + float64(float64(2*dibp)*wmp) - float64(dibp2*wmw)
			}
			f2 = fmax(float64(epsmch*f2org), f2)
			if nleft > 0 {
				dtm = -f1 / f2
				continue
			}
			if bnded {
				f1, f2, dtm = 0, 0, 0
			} else {
				dtm = -f1 / f2
			}
			break
		}
	}

	// Move the free variables and those whose breakpoints were not
	// reached.
	if dtm <= 0 {
		dtm = 0
	}
	tsum += dtm
	st.pool.blasAxpy(tsum, d, xcp)
	// c = W'(xcp - x), for cmprlb.
	if col > 0 {
		saxpy(col2, dtm, p, c)
	}
	return 0
}

// hpsolb moves the least of t[:n] to t[n-1] and keeps the others as a heap
// in t[:n-1], permuting iorder alike; with iheap == 0, t[:n] is first made
// a heap (Williams' heapsort, as in L-BFGS-B's hpsolb).
func hpsolb(n int, t []float64, iorder []int32, iheap int) {
	// 1-based indices as in the heap arithmetic of the reference.
	T := func(i int) *float64 { return &t[i-1] }
	O := func(i int) *int32 { return &iorder[i-1] }
	if iheap == 0 {
		for k := 2; k <= n; k++ {
			ddum := *T(k)
			indxin := *O(k)
			i := k
			for i > 1 {
				j := i / 2
				if !(ddum < *T(j)) {
					break
				}
				*T(i) = *T(j)
				*O(i) = *O(j)
				i = j
			}
			*T(i) = ddum
			*O(i) = indxin
		}
	}
	if n > 1 {
		i := 1
		out := *T(1)
		indxou := *O(1)
		ddum := *T(n)
		indxin := *O(n)
		for {
			j := i + i
			if j > n-1 {
				break
			}
			if *T(j + 1) < *T(j) {
				j++
			}
			if !(*T(j) < ddum) {
				break
			}
			*T(i) = *T(j)
			*O(i) = *O(j)
			i = j
		}
		*T(i) = ddum
		*O(i) = indxin
		*T(n) = out
		*O(n) = indxou
	}
}
