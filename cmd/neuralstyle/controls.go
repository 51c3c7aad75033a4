package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
)

// controlFlags are transfer's flags for issue 12's controls; every default is the
// notebook's run.
func controlFlags() []cli.Flag {
	d := transfer.Defaults()
	return []cli.Flag{
		&cli.StringFlag{Name: "style-blend", Usage: "comma-separated weights of the --style images' Gram matrices (normalised to sum 1; default equal)"},
		&cli.Float64Flag{Name: "style-scale", Usage: "resize the style images to `S` times --size (their Gram targets are scaled to the content's size)", Value: d.StyleScale},
		&cli.StringFlag{Name: "style-mask", Usage: "comma-separated greyscale `FILES`, one per --style image: where each style applies (white)"},
		&cli.StringFlag{Name: "init-image", Usage: "starting image `FILE` for --init image, resized to --size"},
		&cli.BoolFlag{Name: "original-colors", Usage: "keep the content's colours: the result's luminance with the content's chroma (YUV)"},
		&cli.StringFlag{Name: "color-transfer", Usage: "none, luminance (transfer on luminance only, the style's matched to the content's, then the content's chroma) or histogram (the style's colours matched to the content's first)", Value: string(d.ColorTransfer)},
		&cli.StringFlag{Name: "optimizer", Usage: "lbfgs (the notebook's L-BFGS-B) or adam (--iterations x --maxfun steps of one evaluation)", Value: string(d.Optimizer)},
		&cli.Float64Flag{Name: "learning-rate", Usage: "Adam's step size in pixel units", Value: d.LearningRate},
		&cli.StringFlag{Name: "pooling", Usage: "max (VGG16's) or avg (average pooling: smoother)", Value: string(d.Pooling)},
	}
}

// splitList splits a comma-separated flag value, dropping empty entries.
func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// parseControls reads the controls' flags into s.
func parseControls(c *cli.Context, s *transfer.Settings) error {
	if v := c.String("style-blend"); v != "" {
		for _, f := range splitList(v) {
			w, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return usagef("--style-blend %q: %q is not a number", v, f)
			}
			s.StyleBlend = append(s.StyleBlend, w)
		}
	}
	s.StyleScale = c.Float64("style-scale")
	s.OriginalColors = c.Bool("original-colors")
	s.ColorTransfer = transfer.ColorTransfer(c.String("color-transfer"))
	s.Optimizer = transfer.Optimizer(c.String("optimizer"))
	s.LearningRate = c.Float64("learning-rate")
	s.Pooling = transfer.Pooling(c.String("pooling"))
	if c.IsSet("learning-rate") && s.Optimizer != transfer.OptimizerAdam {
		return usagef("--learning-rate applies to --optimizer adam")
	}
	return nil
}

// readInputs decodes the content, the style images (--style a.jpg,b.jpg), the
// masks and the starting image, and checks them against the settings, before any
// model loads.
func readInputs(c *cli.Context, job *transferJob) (transfer.Inputs, error) {
	var in transfer.Inputs
	var err error
	if in.Content, err = preprocess.ReadFile(job.content, nil); err != nil {
		return in, err
	}
	styles := splitList(job.style)
	if len(styles) == 0 {
		return in, usagef("--style %q: no file", job.style)
	}
	read := func(flag string, files []string) ([]*preprocess.Image, error) {
		out := make([]*preprocess.Image, len(files))
		for i, f := range files {
			if out[i], err = preprocess.ReadFile(f, nil); err != nil {
				return nil, fmt.Errorf("%s: %w", flag, err)
			}
		}
		return out, nil
	}
	imgs, err := read("--style", styles)
	if err != nil {
		return in, err
	}
	if len(imgs) == 1 {
		in.Style = imgs[0]
	} else {
		in.Styles = imgs
	}
	if v := c.String("style-mask"); v != "" {
		if in.StyleMasks, err = read("--style-mask", splitList(v)); err != nil {
			return in, err
		}
	}
	if f := c.String("init-image"); f != "" {
		if in.Init, err = preprocess.ReadFile(f, nil); err != nil {
			return in, fmt.Errorf("--init-image: %w", err)
		}
	}
	if err := transfer.CheckInputs(in, &job.settings); err != nil {
		return in, usageError{err}
	}
	return in, nil
}
