package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	mem "github.com/neuralstyle/neuralstyle/internal/memory"
	"github.com/neuralstyle/neuralstyle/internal/npy"
	"github.com/neuralstyle/neuralstyle/internal/outputs"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

func featuresCommand() *cli.Command {
	return &cli.Command{
		Name:      "features",
		Usage:     "write one VGG16 layer's activations for an image as a NumPy .npy file",
		UsageText: "neuralstyle features [--model DIR] [--layer NAME] [--size N | --width W --height H] [--out FILE] IMAGE",
		Description: "features resizes the image (224x224 nearest by default, as the article), applies Keras'\n" +
			"caffe preprocessing, runs the classifier model's features signature up to --layer and\n" +
			"writes its output, shape (1, h, w, channels) float32, with numpy.save's layout: load it\n" +
			"with numpy.load. The article reads block4_pool: (1, 14, 14, 512) at 224x224.",
		Flags: append([]cli.Flag{
			classifierModelFlag(),
			&cli.StringFlag{Name: "layer", Usage: "layer `NAME`, block1_conv1 ... block5_pool", Value: "block4_pool"},
			&cli.IntFlag{Name: "size", Usage: "resize the image to N x N (ignored with --width and --height)", Value: 224},
			&cli.IntFlag{Name: "width", Usage: "resize to this width (with --height)"},
			&cli.IntFlag{Name: "height", Usage: "resize to this height (with --width)"},
			resampleFlag(),
			&cli.StringFlag{Name: "out", Usage: "output `FILE` (default: IMAGE's name with .LAYER.npy, in the current folder)"},
		}, sessionFlags()...),
		Action: runFeatures,
	}
}

func runFeatures(c *cli.Context) error {
	if c.NArg() != 1 {
		return usagef("features takes one IMAGE, got %d arguments", c.NArg())
	}
	path := c.Args().First()
	w, h := c.Int("size"), c.Int("size")
	if c.IsSet("width") || c.IsSet("height") {
		if !c.IsSet("width") || !c.IsSet("height") {
			return usagef("--width and --height go together")
		}
		w, h = c.Int("width"), c.Int("height")
	}
	if w < 1 || h < 1 {
		return usagef("image size %dx%d: want positive sides", w, h)
	}
	run, err := readClassifierRun(c)
	if err != nil {
		return err
	}
	layer := c.String("layer")
	index, err := layerIndex(run.meta, layer)
	if err != nil {
		return err
	}
	// Each 2x2 pool up to the layer (itself included) halves the size, rounding
	// down; a side that reaches 0 is an empty output TensorFlow would refuse less
	// clearly.
	pools := 0
	for _, l := range run.meta.FeatureLayers[:index+1] {
		if strings.HasSuffix(l, "_pool") {
			pools++
		}
	}
	if min(w, h)>>pools < 1 {
		return usagef("--layer %s is after %d poolings and needs an image of at least %dx%d, not %dx%d",
			layer, pools, 1<<pools, 1<<pools, w, h)
	}
	out := c.String("out")
	if out == "" {
		base := filepath.Base(path)
		out = strings.TrimSuffix(base, filepath.Ext(base)) + "." + layer + ".npy"
	}
	outs := &outputs.Set{}
	outs.Input("IMAGE", path)
	outs.File("--out", out)
	if err := checkOutputs(outs); err != nil {
		return err
	}
	ctx, stop := interruptContext(c, outs)
	defer stop()
	if err := checkMemory(mem.Features, w, h, fmt.Sprintf("--size %dx%d: features", w, h), "give a smaller --size"); err != nil {
		return err
	}
	x, err := imageTensor(path, w, h, run.filter)
	if err != nil {
		return err
	}
	m, err := tfgraph.Load(run.dir, run.opts)
	if err != nil {
		return err
	}
	defer m.Close()
	res, err := m.Run("features", map[string]*tfgraph.Tensor{"images": x, "layer": tfgraph.Scalar(float32(index))})
	if err != nil {
		return err
	}
	f := res["features"]
	if f == nil {
		return fmt.Errorf("%s: the features signature returned no features", run.dir)
	}
	if ctx.Err() != nil {
		return interruptedError{fmt.Errorf("interrupted; %s", outs.Discard())}
	}
	if err := outs.Stage("--out", "", func(w io.Writer) error { return npy.Write(w, f.Shape, f.Data) }); err != nil {
		outs.Discard()
		return err
	}
	if err := outs.Commit(); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%s: %s of %s, shape %v float32\n", out, layer, path, f.Shape)
	return nil
}
