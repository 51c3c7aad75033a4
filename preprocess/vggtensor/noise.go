package vggtensor

import (
	"fmt"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// The notebook starts the optimisation from x0 = np.random.uniform(0, 255,
// (1, H, W, 3)) - 128.0. Noise reproduces it for a given seed, bit for bit, so
// that the Go driver and the Python notebook start from the same pixels.

// mt19937 is the Mersenne Twister as NumPy's legacy RandomState runs it.
type mt19937 struct {
	key [624]uint32
	pos int
}

// seed is RandomState.seed(s) for an integer s: NumPy seeds the state with
// MT19937's init_genrand (not init_by_array, which it uses for arrays of seeds).
func (m *mt19937) seed(s uint32) {
	m.key[0] = s
	for i := 1; i < len(m.key); i++ {
		p := m.key[i-1]
		m.key[i] = 1812433253*(p^(p>>30)) + uint32(i)
	}
	m.pos = len(m.key)
}

func (m *mt19937) twist() {
	const n, mid = 624, 397
	const upper, lower, matrix = 0x80000000, 0x7fffffff, 0x9908b0df
	k := &m.key
	for i := 0; i < n; i++ {
		y := k[i]&upper | k[(i+1)%n]&lower
		v := k[(i+mid)%n] ^ y>>1
		if y&1 != 0 {
			v ^= matrix
		}
		k[i] = v
	}
	m.pos = 0
}

func (m *mt19937) uint32() uint32 {
	if m.pos >= len(m.key) {
		m.twist()
	}
	y := m.key[m.pos]
	m.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// float64 is NumPy's random_sample: 53 random bits from two draws, in [0, 1).
func (m *mt19937) float64() float64 {
	a, b := m.uint32()>>5, m.uint32()>>6
	return (float64(a)*67108864 + float64(b)) / 9007199254740992
}

// Noise returns the notebook's initial image for seed: np.random.seed(seed);
// np.random.uniform(0, 255, (1, h, w, 3)) - 128.0, identical to NumPy's float64
// values, in row-major order. NumPy accepts integer seeds 0..2**32-1, all of
// uint32.
func Noise(seed uint32, w, h int) ([]float64, error) {
	if err := preprocess.CheckSize(w, h, preprocess.DefaultMaxPixels); err != nil {
		return nil, fmt.Errorf("vggtensor: noise: %w", err)
	}
	var m mt19937
	m.seed(seed)
	x := make([]float64, 3*w*h)
	for i := range x {
		// uniform(low, high) is low + (high-low)*u; low is 0 here.
		x[i] = 0 + float64(255*m.float64()) - 128.0
	}
	return x, nil
}
