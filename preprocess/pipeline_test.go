package preprocess_test

import (
	"os"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
)

// BenchmarkPipeline is the end-to-end benchmark: decode a large JPEG,
// resize it to 512x512 and preprocess it (recipe mode), as
// scripts/benchmarks/bench_preprocess.py times Pillow and NumPy doing. The JPEG comes from
// $NEURALSTYLE_BENCH_JPEG (the script makes a 12-megapixel one); without it the
// benchmark is skipped. Besides wall time it reports process CPU time per call
// (cpu-ns/op), all threads together.
func BenchmarkPipeline(b *testing.B) {
	path := os.Getenv("NEURALSTYLE_BENCH_JPEG")
	if path == "" {
		b.Skip("NEURALSTYLE_BENCH_JPEG not set (scripts/benchmarks/bench_preprocess.py sets it)")
	}
	b.Logf("JPEG decoder: %s", imagefile.JPEGDecoder())
	src, err := imagefile.ReadFile(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	small, err := resample.Resize(src, 512, 512, resample.Nearest)
	if err != nil {
		b.Fatal(err)
	}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"decode", func() error { _, err := imagefile.ReadFile(path, nil); return err }},
		{"resize/nearest", func() error { _, err := resample.Resize(src, 512, 512, resample.Nearest); return err }},
		{"resize/bicubic", func() error { _, err := resample.Resize(src, 512, 512, resample.Bicubic); return err }},
		{"preprocess", func() error { _, err := vggtensor.Preprocess(small, vggtensor.ModeRecipe); return err }},
	}
	for _, f := range []resample.Filter{resample.Nearest, resample.Bicubic} {
		steps = append(steps, struct {
			name string
			fn   func() error
		}{"all/" + f.String(), func() error {
			img, err := imagefile.ReadFile(path, nil)
			if err == nil {
				img, err = resample.Resize(img, 512, 512, f)
			}
			if err == nil {
				_, err = vggtensor.Preprocess(img, vggtensor.ModeRecipe)
			}
			return err
		}})
	}
	for _, s := range steps {
		b.Run(s.name, func(b *testing.B) {
			c0, ok := processCPU()
			for i := 0; i < b.N; i++ {
				if err := s.fn(); err != nil {
					b.Fatal(err)
				}
			}
			if c1, _ := processCPU(); ok {
				b.ReportMetric(float64(c1-c0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
