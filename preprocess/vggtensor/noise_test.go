package vggtensor

import (
	"encoding/binary"
	"math"
	"testing"
)

// TestMT19937 checks the generator against the reference sequence: seeded with
// 5489 (init_genrand), the 10000th output is 4123659995 (the value C++'s
// std::mt19937 is required to produce).
func TestMT19937(t *testing.T) {
	var m mt19937
	m.seed(5489)
	var v uint32
	for i := 0; i < 10000; i++ {
		v = m.uint32()
	}
	if v != 4123659995 {
		t.Errorf("10000th output = %d, want 4123659995", v)
	}
}

// TestNoiseVectors compares Noise with NumPy's np.random.seed(s);
// np.random.uniform(0, 255, (1, h, w, 3)) - 128.0 for several seeds (0, 1, 42,
// 123456789, 2**31, 2**32-1) and shapes, bit for bit.
func TestNoiseVectors(t *testing.T) {
	v := loadVectors(t)
	if len(v.Noise) == 0 {
		t.Fatal("no noise vectors")
	}
	for _, c := range v.Noise {
		x, err := Noise(c.Seed, c.W, c.H)
		if err != nil {
			t.Fatal(err)
		}
		if len(x) != 3*c.W*c.H {
			t.Fatalf("seed %d %dx%d: %d values", c.Seed, c.W, c.H, len(x))
		}
		for i, h := range c.Head {
			if want := parseHexFloat(t, h); x[i] != want {
				t.Errorf("seed %d %dx%d: value %d = %v, want %v", c.Seed, c.W, c.H, i, x[i], want)
			}
		}
		b := make([]byte, 8*len(x))
		for i, f := range x {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(f))
		}
		if sha(b) != c.SHA256 {
			t.Errorf("seed %d %dx%d: noise differs from NumPy's", c.Seed, c.W, c.H)
		}
	}
}

func TestNoiseRange(t *testing.T) {
	x, err := Noise(7, 64, 64)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range x {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	// 12288 uniform draws: the extremes land within 0.5 of the bounds with
	// probability 1 - 2*(1-0.5/255)**12288, practically 1.
	if lo < -128 || hi >= 127 || lo > -127.5 || hi < 126.5 {
		t.Errorf("noise spans [%v, %v], want about [-128, 127)", lo, hi)
	}
}

func TestNoiseErrors(t *testing.T) {
	for _, s := range [][2]int{{0, 1}, {1, 0}, {-3, 4}, {1 << 25, 1}, {1 << 20, 1 << 20}} {
		if _, err := Noise(1, s[0], s[1]); err == nil {
			t.Errorf("Noise(%dx%d): no error", s[0], s[1])
		}
	}
}

func BenchmarkNoise512(b *testing.B) {
	b.SetBytes(8 * 3 * 512 * 512)
	for i := 0; i < b.N; i++ {
		if _, err := Noise(uint32(i), 512, 512); err != nil {
			b.Fatal(err)
		}
	}
}
