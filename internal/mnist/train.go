package mnist

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Model runs the signatures of an exported MNIST model; *tfgraph.Model is one.
type Model interface {
	Run(signature string, inputs map[string]*tfgraph.Tensor) (map[string]*tfgraph.Tensor, error)
}

// Batcher serves batches of a Set in an order shuffled by a seeded generator, as
// the tutorial's DataSet.next_batch did: a fresh permutation at the start of every
// epoch, consecutive batches from it, and a batch that crosses the end of an epoch
// made of the epoch's last images followed by the first of the next.
type Batcher struct {
	set   *Set
	rng   *rand.Rand
	perm  []int
	pos   int
	epoch int
}

// NewBatcher returns a Batcher over s whose order depends only on seed.
func NewBatcher(s *Set, seed uint64) *Batcher {
	b := &Batcher{set: s, rng: rand.New(rand.NewPCG(seed, 0x6d6e697374)), perm: make([]int, s.Len())}
	for i := range b.perm {
		b.perm[i] = i
	}
	b.rng.Shuffle(len(b.perm), func(i, j int) { b.perm[i], b.perm[j] = b.perm[j], b.perm[i] })
	return b
}

// Epoch returns how many complete passes over the set have been served.
func (b *Batcher) Epoch() int { return b.epoch }

// Next fills images (n, Pixels) and one-hot labels (n, Classes) with the next n
// examples and returns the indices it used. Both tensors must have n rows.
func (b *Batcher) Next(images, labels *tfgraph.Tensor) []int {
	n := int(images.Shape[0])
	idx := make([]int, n)
	for k := range n {
		if b.pos == len(b.perm) {
			b.epoch++
			b.pos = 0
			b.rng.Shuffle(len(b.perm), func(i, j int) { b.perm[i], b.perm[j] = b.perm[j], b.perm[i] })
		}
		idx[k] = b.perm[b.pos]
		b.pos++
	}
	fill(b.set, idx, images, labels)
	return idx
}

// scale is the tutorial's 1/255 in float32: it multiplied a float32 array by the
// Python float 1/255, which NumPy rounds to float32 first.
var scale = float32(1.0 / 255.0)

// fill copies images idx of s into images (and labels, if not nil) as float32.
func fill(s *Set, idx []int, images, labels *tfgraph.Tensor) {
	for k, i := range idx {
		src := s.Images[i*Pixels : (i+1)*Pixels]
		dst := images.Data[k*Pixels : (k+1)*Pixels]
		for p, v := range src {
			dst[p] = float32(v) * scale
		}
		if labels != nil {
			row := labels.Data[k*Classes : (k+1)*Classes]
			clear(row)
			row[s.Labels[i]] = 1
		}
	}
}

// Settings configure a training run.
type Settings struct {
	Steps        int     // optimiser steps
	Batch        int     // examples per step
	LearningRate float32 // fed to the train signature
	// Seed initialises the model (its init signature) and orders the batches.
	Seed uint64
	// Progress, if set, is called after every step; return quickly.
	Progress func(Progress)
}

// Progress is the state after a step.
type Progress struct {
	Step, Steps int     // steps done, of Steps
	Epoch       int     // complete passes over the training set so far
	Loss        float32 // the step's batch loss (before its update)
	Accuracy    float32 // the step's batch accuracy (before its update)
	Elapsed     time.Duration
}

// TrainResult summarises a training run.
type TrainResult struct {
	Steps    int
	Loss     float32 // mean batch loss over the last min(100, Steps) steps
	Accuracy float32 // mean batch accuracy over the same steps
	Elapsed  time.Duration
}

// MaxSeed is the largest seed Train takes: the seed crosses the init signature as
// a float32, which holds integers exactly up to 2^24.
const MaxSeed = 1<<24 - 1

// Train initialises m with s.Seed and runs s.Steps steps of its train signature on
// batches of set. It stops early, returning ctx's error with what was done, when
// ctx is cancelled.
func Train(ctx context.Context, m Model, set *Set, s Settings) (TrainResult, error) {
	var res TrainResult
	switch {
	case s.Steps < 0:
		return res, fmt.Errorf("mnist: steps must be 0 or more, not %d", s.Steps)
	case s.Batch < 1:
		return res, fmt.Errorf("mnist: batch must be 1 or more, not %d", s.Batch)
	case s.Batch > set.Len():
		return res, fmt.Errorf("mnist: batch %d is larger than the training set (%d images)", s.Batch, set.Len())
	case s.Seed > MaxSeed:
		return res, fmt.Errorf("mnist: seed must be at most %d, not %d", MaxSeed, s.Seed)
	case !(s.LearningRate > 0):
		return res, fmt.Errorf("mnist: learning rate must be positive, not %g", s.LearningRate)
	}
	if err := Init(m, s.Seed); err != nil {
		return res, err
	}
	start := time.Now()
	b := NewBatcher(set, s.Seed)
	images := tfgraph.NewTensor(int64(s.Batch), Pixels)
	labels := tfgraph.NewTensor(int64(s.Batch), Classes)
	in := map[string]*tfgraph.Tensor{"images": images, "labels": labels, "learning_rate": tfgraph.Scalar(s.LearningRate)}
	const window = 100
	var losses, accs [window]float32
	for step := range s.Steps {
		if err := ctx.Err(); err != nil {
			res.Elapsed = time.Since(start)
			return res, err
		}
		b.Next(images, labels)
		out, err := m.Run("train", in)
		if err != nil {
			return res, fmt.Errorf("mnist: step %d: %w", step+1, err)
		}
		loss, acc, err := scalars(out, "loss", "accuracy")
		if err != nil {
			return res, fmt.Errorf("mnist: step %d: %w", step+1, err)
		}
		losses[step%window], accs[step%window] = loss, acc
		res.Steps = step + 1
		if s.Progress != nil {
			s.Progress(Progress{Step: step + 1, Steps: s.Steps, Epoch: b.Epoch(), Loss: loss, Accuracy: acc, Elapsed: time.Since(start)})
		}
	}
	res.Elapsed = time.Since(start)
	if n := min(res.Steps, window); n > 0 {
		for i := range n {
			res.Loss += losses[i] / float32(n)
			res.Accuracy += accs[i] / float32(n)
		}
	}
	return res, nil
}

// Init sets every variable of m to its initial value for seed (the init signature).
func Init(m Model, seed uint64) error {
	if seed > MaxSeed {
		return fmt.Errorf("mnist: seed must be at most %d, not %d", MaxSeed, seed)
	}
	if _, err := m.Run("init", map[string]*tfgraph.Tensor{"seed": tfgraph.Scalar(float32(seed))}); err != nil {
		return fmt.Errorf("mnist: init: %w", err)
	}
	return nil
}

func scalars(out map[string]*tfgraph.Tensor, names ...string) (a, b float32, err error) {
	v := make([]float32, len(names))
	for i, name := range names {
		t := out[name]
		if t == nil || len(t.Data) != 1 {
			return 0, 0, fmt.Errorf("train signature returned no scalar %q", name)
		}
		v[i] = t.Data[0]
	}
	return v[0], v[1], nil
}

// Evaluation counts a model's answers on a set.
type Evaluation struct {
	Correct, Total int
	// Predicted counts how often each class was the model's answer.
	Predicted [Classes]int
}

// Accuracy returns Correct/Total.
func (e Evaluation) Accuracy() float64 {
	if e.Total == 0 {
		return 0
	}
	return float64(e.Correct) / float64(e.Total)
}

// Evaluate runs the predict signature on set in batches of batch images and counts
// how often the largest logit is the label (the first one on a tie, as argmax).
func Evaluate(ctx context.Context, m Model, set *Set, batch int) (Evaluation, error) {
	var ev Evaluation
	if batch < 1 {
		return ev, fmt.Errorf("mnist: evaluation batch must be 1 or more, not %d", batch)
	}
	for i := 0; i < set.Len(); i += batch {
		if err := ctx.Err(); err != nil {
			return ev, err
		}
		n := min(batch, set.Len()-i)
		images := tfgraph.NewTensor(int64(n), Pixels)
		idx := make([]int, n)
		for k := range idx {
			idx[k] = i + k
		}
		fill(set, idx, images, nil)
		out, err := m.Run("predict", map[string]*tfgraph.Tensor{"images": images})
		if err != nil {
			return ev, fmt.Errorf("mnist: predict: %w", err)
		}
		logits := out["logits"]
		if logits == nil || len(logits.Data) != n*Classes {
			return ev, fmt.Errorf("mnist: predict returned no logits of shape (%d, %d)", n, Classes)
		}
		for k := range n {
			c := argmax(logits.Data[k*Classes : (k+1)*Classes])
			ev.Predicted[c]++
			if c == int(set.Labels[i+k]) {
				ev.Correct++
			}
		}
		ev.Total += n
	}
	return ev, nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
