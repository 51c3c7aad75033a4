package optimize

import "math"

// Small dense linear algebra on the 2m x 2m matrices of the compact L-BFGS
// representation: LINPACK's dpofa and dtrsl and L-BFGS-B's bmv. Matrices are
// column-major with a leading dimension, as in the Fortran, and the helpers
// take 1-based (row, column) indices so the loops read like the reference.

// at returns the offset of element (i, j), 1-based, of a column-major
// matrix with leading dimension ld.
func at(i, j, ld int) int { return (i - 1) + (j-1)*ld }

// dpofa factors the symmetric positive definite n x n matrix held in the
// upper triangle of a (leading dimension lda) as R'R, R upper triangular,
// stored over the upper triangle. It returns 0, or k when the leading minor
// of order k is not positive definite.
func dpofa(a []float64, lda, n int) int {
	for j := 1; j <= n; j++ {
		s := 0.0
		for k := 1; k <= j-1; k++ {
			t := a[at(k, j, lda)] - sdot(k-1, a[at(1, k, lda):], a[at(1, j, lda):])
			t /= a[at(k, k, lda)]
			a[at(k, j, lda)] = t
			s += float64(t * t)
		}
		s = a[at(j, j, lda)] - s
		if s <= 0 {
			return j
		}
		a[at(j, j, lda)] = math.Sqrt(s)
	}
	return 0
}

// dtrsl solves T x = b (trans false) or T' x = b (trans true) in place for
// the upper triangular n x n matrix T (leading dimension ldt): LINPACK's
// dtrsl with job 01 and 11, the two L-BFGS-B uses. It returns 0, or the
// 1-based index of the first zero on the diagonal, leaving b unchanged.
func dtrsl(t []float64, ldt, n int, b []float64, trans bool) int {
	for k := 1; k <= n; k++ {
		if t[at(k, k, ldt)] == 0 {
			return k
		}
	}
	if n == 0 {
		return 0
	}
	if !trans {
		b[n-1] /= t[at(n, n, ldt)]
		for jj := 2; jj <= n; jj++ {
			j := n - jj + 1
			saxpy(j, -b[j], t[at(1, j+1, ldt):], b)
			b[j-1] /= t[at(j, j, ldt)]
		}
		return 0
	}
	b[0] /= t[at(1, 1, ldt)]
	for j := 2; j <= n; j++ {
		b[j-1] -= sdot(j-1, t[at(1, j, ldt):], b)
		b[j-1] /= t[at(j, j, ldt)]
	}
	return 0
}

// bmv sets p = M v for the 2col x 2col middle matrix M of the compact
// L-BFGS formula, given S'Y in sy and the Cholesky factor J' of
// theta*S'S + L D^-1 L' in wt (both m x m). It returns nonzero when a
// triangular solve meets a zero pivot.
func bmv(m int, sy, wt []float64, col int, v, p []float64) int {
	if col == 0 {
		return 0
	}
	// Solve [D^(1/2) O; -L D^(-1/2) J] [p1; p2] = [v1; v2]:
	// first J p2 = v2 + L D^-1 v1.
	p[col] = v[col]
	for i := 2; i <= col; i++ {
		i2 := col + i
		sum := 0.0
		for k := 1; k <= i-1; k++ {
			sum += float64(sy[at(i, k, m)]*v[k-1]) / sy[at(k, k, m)]
		}
		p[i2-1] = v[i2-1] + sum
	}
	if info := dtrsl(wt, m, col, p[col:], true); info != 0 {
		return info
	}
	// D^(1/2) p1 = v1.
	for i := 1; i <= col; i++ {
		p[i-1] = v[i-1] / math.Sqrt(sy[at(i, i, m)])
	}
	// Solve [-D^(1/2) D^(-1/2) L'; 0 J'] [p1; p2] = [p1; p2].
	if info := dtrsl(wt, m, col, p[col:], false); info != 0 {
		return info
	}
	// p1 = -D^(-1/2) p1 + D^-1 L' p2.
	for i := 1; i <= col; i++ {
		p[i-1] = -p[i-1] / math.Sqrt(sy[at(i, i, m)])
	}
	for i := 1; i <= col; i++ {
		sum := 0.0
		for k := i + 1; k <= col; k++ {
			sum += float64(sy[at(k, i, m)]*p[col+k-1]) / sy[at(i, i, m)]
		}
		p[i-1] += sum
	}
	return 0
}
