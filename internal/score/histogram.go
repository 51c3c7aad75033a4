package score

import (
	"errors"
	"math"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// histBits is the bits kept of each channel: 8 levels per channel, 512 bins.
const histBits = 3

// ColorHistogram returns the image's joint RGB histogram with 8 levels per
// channel (bin r*64 + g*8 + b of the channels' top three bits), as fractions
// of its pixels.
func ColorHistogram(img *preprocess.Image) []float64 {
	const shift = 8 - histBits
	h := make([]float64, 1<<(3*histBits))
	n := img.Width * img.Height
	for i := range n {
		p := img.Pix[3*i : 3*i+3]
		h[int(p[0]>>shift)<<(2*histBits)|int(p[1]>>shift)<<histBits|int(p[2]>>shift)]++
	}
	for i := range h {
		h[i] /= float64(n)
	}
	return h
}

// ColorDistance returns the Hellinger distance between the colour
// histograms of a and b, sqrt(1 - Σ sqrt(p_i q_i)) = sqrt(½ Σ (sqrt p_i - sqrt q_i)²): 0 when their colours
// are distributed alike (whatever their sizes and arrangement), 1 when they
// share no bin. It is a metric on histograms.
func ColorDistance(a, b *preprocess.Image) (float64, error) {
	if a.Width*a.Height == 0 || b.Width*b.Height == 0 {
		return 0, errors.New("score: colour distance of an empty image")
	}
	p, q := ColorHistogram(a), ColorHistogram(b)
	// ½ Σ (√p - √q)², which is 1 - Σ √(pq) for histograms that sum to 1,
	// and exactly 0 for equal ones.
	s := 0.0
	for i := range p {
		d := math.Sqrt(p[i]) - math.Sqrt(q[i])
		s += d * d
	}
	return math.Sqrt(s / 2), nil
}
