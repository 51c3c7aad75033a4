package train

import (
	"math/rand/v2"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// BenchmarkStep is one training step of the paper's network (width 32,
// 1,679,235 parameters) at Johnson et al.'s size: a batch of 4 crops of
// 256x256, in fp32 and with VGG16's convolutions in bf16, one after the other
// in one run, each after an untimed first step (TensorFlow's one-time graph
// optimisation). VGG16's weights are random: the speed does not depend on
// their values. TensorFlow uses every core (threads 0). make bench-train runs
// it; docs/training.md has the numbers.
//
//	go test -run '^$' -bench BenchmarkStep -benchtime 3x ./internal/train
func BenchmarkStep(b *testing.B) {
	dir, err := testmodels.Build("train-random-seed1-w32", "-m", "savedmodel.train", "--out", "OUT",
		"--weights", "random", "--seed", "1", "--width", "32")
	if err != nil {
		b.Fatal(err)
	}
	n, err := Load(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	const side, batch = 256, 4
	rng := rand.New(rand.NewPCG(1, 2))
	painting := tfgraph.NewTensor(1, side, side, 3)
	images := tfgraph.NewTensor(batch, side, side, 3)
	for _, t := range []*tfgraph.Tensor{painting, images} {
		for i := range t.Data {
			t.Data[i] = rng.Float32()
		}
	}
	out, err := n.tf.Run("style_grams", map[string]*tfgraph.Tensor{"image": painting})
	if err != nil {
		b.Fatal(err)
	}
	grams := make(Grams, len(StyleLayers))
	for i, l := range StyleLayers {
		grams[i] = out["gram_"+l]
	}
	w := Weights{0.025, 5, 1}
	for _, bf16 := range []bool{false, true} {
		name := "fp32"
		if bf16 {
			name = "bf16"
		}
		b.Run(name, func(b *testing.B) {
			if err := n.Init(1); err != nil {
				b.Fatal(err)
			}
			if _, err := n.Step(images, grams, w, 1e-3, bf16); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := n.Step(images, grams, w, 1e-3, bf16); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			s := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(s, "s/step")
			b.ReportMetric(s*40000/3600, "h/40k-steps")
		})
	}
}
