package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/imagenet"
	mem "github.com/neuralstyle/neuralstyle/internal/memory"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// classifierModelFlag is --model for the commands that run the classifier export
// (savedmodel/classify.py); it has its own environment variable, so that
// NEURALSTYLE_MODEL can keep naming the style model.
func classifierModelFlag() *cli.StringFlag {
	f := modelFlag("build/classify")
	f.Usage = "SavedModel `DIR` written by savedmodel/classify.py (make classify-model)"
	f.EnvVars = []string{"NEURALSTYLE_CLASSIFY_MODEL"}
	return f
}

// resampleFlag chooses the filter that brings a photo to the network's size.
func resampleFlag() *cli.StringFlag {
	return &cli.StringFlag{
		Name: "resample",
		Usage: "filter for resizing: nearest (the default of the Keras and Pillow the article ran), box, " +
			"bilinear, hamming, bicubic or lanczos",
		Value: "nearest",
	}
}

func classifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "classify",
		Usage:     "print the most probable ImageNet classes of photos with VGG16 and its classifier",
		UsageText: "neuralstyle classify [--model DIR] [--top K] [--json] IMAGE...",
		Description: "classify resizes each image to 224x224 (nearest neighbour, as the article's Keras\n" +
			"image.load_img did), applies Keras' preprocess_input (caffe mode: BGR, ImageNet means\n" +
			"subtracted), runs the model's predict signature and prints the top K classes with their\n" +
			"probabilities and WordNet IDs. Class names: " + imagenet.Source() + ".",
		Flags: append([]cli.Flag{
			classifierModelFlag(),
			&cli.IntFlag{Name: "top", Usage: "how many classes to print per image", Value: 5},
			&cli.IntFlag{Name: "batch", Usage: "images per predict call", Value: 8},
			resampleFlag(),
			&cli.BoolFlag{Name: "json", Usage: "print one JSON array instead of text"},
		}, sessionFlags()...),
		Action: runClassify,
	}
}

// classifierMeta is what savedmodel/classify.py records in neuralstyle.json.
type classifierMeta struct {
	Kind          string   `json:"kind"`
	InputSize     [2]int   `json:"input_size"`
	FeatureLayers []string `json:"feature_layers"`
	Preprocess    string   `json:"preprocess"`
}

func readClassifierMeta(dir string) (classifierMeta, error) {
	var meta classifierMeta
	if err := requireMetadata(dir, &meta,
		"no classifier model at %s (export one with make classify-model, or pass --model)",
		"%s has no "+metadataFile+"; export the classifier with savedmodel/classify.py"); err != nil {
		return meta, err
	}
	if meta.Kind != "vgg16-classifier" {
		return meta, fmt.Errorf("%s is not a VGG16 classifier export (its %s says kind %q); "+
			"export one with savedmodel/classify.py", dir, metadataFile, meta.Kind)
	}
	if meta.Preprocess != "caffe" || meta.InputSize[0] < 1 || meta.InputSize[1] < 1 {
		return meta, fmt.Errorf("%s: unexpected preprocess %q or input size %v",
			filepath.Join(dir, metadataFile), meta.Preprocess, meta.InputSize)
	}
	return meta, nil
}

// classifierRun is what classify and features read from their flags before any
// work, so that a bad flag or a missing export fails first.
type classifierRun struct {
	dir    string // --model
	meta   classifierMeta
	filter resample.Filter  // --resample
	opts   *tfgraph.Options // the session flags
}

func readClassifierRun(c *cli.Context) (classifierRun, error) {
	filter, err := resample.ParseFilter(c.String("resample"))
	if err != nil {
		return classifierRun{}, usageError{err}
	}
	opts, err := sessionOptions(c)
	if err != nil {
		return classifierRun{}, err
	}
	dir := c.String("model")
	meta, err := readClassifierMeta(dir)
	if err != nil {
		return classifierRun{}, err
	}
	return classifierRun{dir: dir, meta: meta, filter: filter, opts: opts}, nil
}

// imageTensor reads an image file and makes the network's input for it: resized
// to w x h with filter f, caffe-preprocessed, shape (1, h, w, 3).
func imageTensor(path string, w, h int, f resample.Filter) (*tfgraph.Tensor, error) {
	img, err := imagefile.ReadFile(path, nil)
	if err != nil {
		return nil, err
	}
	if img, err = resample.Resize(img, w, h, f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	x, err := vggtensor.Preprocess(img, vggtensor.ModeCaffe)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &tfgraph.Tensor{Shape: []int64{1, int64(h), int64(w), 3}, Data: x}, nil
}

type classification struct {
	Image       string       `json:"image"`
	Predictions []classified `json:"predictions"`
}

type classified struct {
	Rank        int     `json:"rank"`
	Index       int     `json:"index"`
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Probability float32 `json:"probability"`
}

func runClassify(c *cli.Context) error {
	paths := c.Args().Slice()
	if len(paths) == 0 {
		return usagef("classify needs at least one IMAGE")
	}
	top, batch := c.Int("top"), c.Int("batch")
	if top < 1 || top > imagenet.NumClasses {
		return usagef("--top must be 1 to %d, not %d", imagenet.NumClasses, top)
	}
	if batch < 1 {
		return usagef("--batch must be 1 or more, not %d", batch)
	}
	run, err := readClassifierRun(c)
	if err != nil {
		return err
	}
	dir := run.dir
	// Every image is read before the model loads, so a bad path fails fast.
	w, h := run.meta.InputSize[1], run.meta.InputSize[0]
	inputs := make([]*tfgraph.Tensor, len(paths))
	for i, p := range paths {
		if inputs[i], err = imageTensor(p, w, h, run.filter); err != nil {
			return err
		}
	}
	// A batch of n images needs what one image n times as tall does.
	n := min(batch, len(paths))
	if err := checkMemory(mem.Features, w, h*n, fmt.Sprintf("--batch %d: classify of %d images at %dx%d", batch, n, w, h), "give a smaller --batch"); err != nil {
		return err
	}
	m, err := tfgraph.Load(dir, run.opts)
	if err != nil {
		return err
	}
	defer m.Close()

	var results []classification
	for start := 0; start < len(paths); start += batch {
		n := min(batch, len(paths)-start)
		images := tfgraph.NewTensor(int64(n), int64(h), int64(w), 3)
		per := h * w * 3
		for k := range n {
			copy(images.Data[k*per:(k+1)*per], inputs[start+k].Data)
		}
		out, err := m.Run("predict", map[string]*tfgraph.Tensor{"images": images})
		if err != nil {
			return err
		}
		probs := out["probabilities"]
		if probs == nil || len(probs.Data) != n*imagenet.NumClasses {
			return fmt.Errorf("%s: predict returned no probabilities of shape (%d, %d)", dir, n, imagenet.NumClasses)
		}
		for k := range n {
			preds, err := imagenet.TopK(probs.Data[k*imagenet.NumClasses:(k+1)*imagenet.NumClasses], top)
			if err != nil {
				return fmt.Errorf("%s: %w", paths[start+k], err)
			}
			r := classification{Image: paths[start+k]}
			for i, p := range preds {
				r.Predictions = append(r.Predictions, classified{Rank: i + 1, Index: p.Index, ID: p.Class.ID,
					Name: p.Class.Name, Probability: p.Probability})
			}
			results = append(results, r)
		}
	}
	if c.Bool("json") {
		return printJSON(c.App.Writer, results)
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintln(tw, r.Image)
		for _, p := range r.Predictions {
			fmt.Fprintf(tw, "  %d\t%s\t%.4f\t%s\n", p.Rank, p.Name, p.Probability, p.ID)
		}
	}
	return tw.Flush()
}

// layerIndex finds a layer among the export's feature layers; the error lists them.
func layerIndex(meta classifierMeta, name string) (int, error) {
	for i, l := range meta.FeatureLayers {
		if l == name {
			return i, nil
		}
	}
	return 0, usagef("--layer %q: the model has no such layer; it has %s", name, strings.Join(meta.FeatureLayers, ", "))
}
