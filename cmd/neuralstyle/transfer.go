package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/neuralstyle/neuralstyle/internal/settings"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

func transferCommand() *cli.Command {
	return &cli.Command{
		Name:      "transfer",
		Usage:     "paint the content image in the style of the style image, as the article's notebook does",
		UsageText: "neuralstyle transfer --content FILE --style FILE [--out FILE] [options]",
		Description: "transfer runs the notebook's style transfer: both images resized to --size and\n" +
			"preprocessed, the combination image started from noise, then --iterations calls of\n" +
			"L-BFGS-B (at most --maxfun evaluations each, every call with an empty memory) on\n" +
			"content + style + total-variation loss, computed by the SavedModel in float32.\n" +
			"The defaults are the notebook's. Ctrl-C stops after the current evaluation and\n" +
			"writes the image so far and the log (exit code 130).",
		// Help groups the flags (settings.Categories): the notebook's
		// settings, size, controls, output, TensorFlow.
		Flags: slices.Concat(settingFlags(),
			inCategory(settings.CategoryOutput,
				&cli.StringFlag{Name: "out", Usage: "output image `FILE` (.png or .jpg)", Value: "out.png", EnvVars: []string{"NEURALSTYLE_OUT"}},
				&cli.IntFlag{Name: "quality", Usage: "JPEG quality of --out, 1 to 100", Value: 95},
				&cli.StringFlag{Name: "frames", Usage: "`DIR` to write the image after each iteration into"},
				&cli.StringFlag{Name: "gif", Usage: "animated GIF `FILE` of the image after each iteration"},
				&cli.DurationFlag{Name: "gif-delay", Usage: "time each GIF frame shows", Value: 500 * time.Millisecond},
				&cli.StringFlag{Name: "log", Usage: "JSON-lines `FILE`: per iteration the loss, each term, evaluations, seconds"},
				&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"}),
			inCategory(settings.CategorySize, sizingFlags()...),
			inCategory(settings.CategoryTF, append([]cli.Flag{modelFlag("build/model"), fastnetsFlag()}, sessionFlags()...)...)),
		Action: runTransfer,
	}
}

// transferJob is a validated command line.
type transferJob struct {
	config             transfer.Config // what the log's first line records
	settings           transfer.Settings
	model, out, frames string
	gif, log           string
	quality            int
	gifDelay           time.Duration
}

func parseTransfer(c *cli.Context) (*transferJob, error) {
	if c.NArg() > 0 {
		return nil, usagef("transfer takes no arguments, got %q (use --content and --style)", c.Args().First())
	}
	cfg, err := readSettings(c)
	if err != nil {
		return nil, err
	}
	j := &transferJob{
		config: cfg, settings: cfg.Settings, model: c.String("model"), out: c.String("out"), frames: c.String("frames"),
		gif: c.String("gif"), log: c.String("log"), quality: c.Int("quality"), gifDelay: c.Duration("gif-delay"),
	}
	if j.quality < 1 || j.quality > 100 {
		return nil, usagef("--quality %d: want 1 to 100", j.quality)
	}
	if j.gifDelay < 10*time.Millisecond {
		return nil, usagef("--gif-delay %v: GIF delays are at least 10ms", j.gifDelay)
	}
	if err := checkOutput("--out", j.out, ".png", ".jpg", ".jpeg"); err != nil {
		return nil, err
	}
	if j.gif != "" {
		if err := checkOutput("--gif", j.gif, ".gif"); err != nil {
			return nil, err
		}
	}
	if j.log != "" {
		if err := checkOutput("--log", j.log); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// checkOutput fails early for an output whose folder does not exist or whose
// format cannot be written, rather than after the run.
func checkOutput(flag, path string, exts ...string) error {
	if len(exts) > 0 {
		ext := strings.ToLower(filepath.Ext(path))
		ok := false
		for _, e := range exts {
			ok = ok || ext == e
		}
		if !ok {
			return usagef("%s %s: cannot write %q files; use %s", flag, path, ext, strings.Join(exts, " or "))
		}
	}
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s %s: folder %s does not exist", flag, path, dir)
	}
	if !st.IsDir() {
		return fmt.Errorf("%s %s: %s is not a folder", flag, path, dir)
	}
	return nil
}

func runTransfer(c *cli.Context) error {
	job, err := parseTransfer(c)
	if err != nil {
		return err
	}
	opts, err := sessionOptions(c)
	if err != nil {
		return err
	}
	// Everything that can fail fast does so before the model loads.
	stylized := job.settings.Init == transfer.InitStylized
	if err := checkStylizedStart(c, stylized); err != nil {
		return err
	}
	inputs, err := job.config.ReadInputs()
	if err != nil {
		return err
	}
	outs, err := transferTargets(job)
	if err != nil {
		return err
	}
	// One plan: sizes, tiles, signatures and memory (sizing.go).
	plan, dryRun, err := planTransfer(c, job, inputs)
	if dryRun || err != nil {
		return err
	}
	model, err := tfgraph.Load(job.model, opts)
	if err != nil {
		return err
	}
	defer model.Close()
	// The model's signatures and the precision, checked once; what
	// --precision auto picks is said here and recorded in the log's settings
	// line.
	notice, err := plan.Bind(model)
	if err != nil {
		return flagErrors(err)
	}
	stylizer, closeStylizer, err := loadStylizer(c, stylized, opts)
	if err != nil {
		return err
	}
	defer closeStylizer()
	inputs.Stylizer = stylizer
	if weights, err := weightsNotice(job.model); err != nil {
		return err
	} else if weights != "" && !c.Bool("quiet") {
		fmt.Fprintln(c.App.ErrWriter, weights)
	}
	if notice != "" && !c.Bool("quiet") {
		fmt.Fprintln(c.App.ErrWriter, notice)
	}
	job.settings = plan.Settings
	job.config.Precision = plan.Settings.Precision

	ctx, stop := interruptContext(c, outs)
	defer stop()

	progress := chooseProgress(c.Bool("quiet"), c.App.Writer, c.App.ErrWriter, job.settings)
	out := newTransferOutputs(job, outs)
	obs := transfer.Observer{
		Start: func(i int) {
			out.start(i)
			progress.start(i)
		},
		Evaluation: func(i, e int, t transfer.Terms, elapsed time.Duration) {
			out.evaluation(t)
			progress.evaluation(i, e, t, elapsed)
		},
		Done: func(it transfer.Iteration) error {
			progress.done(it)
			return out.iteration(it, job.settings)
		},
	}
	res, runErr := transfer.Execute(ctx, model, plan, inputs, obs)
	progress.finish()
	if err := out.finish(res, runErr, ctx.Err() != nil && c.Context.Err() == nil); err != nil {
		return err
	}
	progress.wrote(outs.Paths())
	return nil
}

// chooseProgress picks how a run reports: nothing when quiet, a redrawn bar when
// stderr is a terminal, else the notebook's lines on stdout.
func chooseProgress(quiet bool, stdout, stderr io.Writer, s transfer.Settings) transferProgress {
	switch {
	case quiet:
		return quietProgress{}
	case isTerminal(stderr):
		return newBarProgress(stderr, s)
	}
	return &plainProgress{w: stdout}
}

// isTerminal reports whether w is a terminal, where a progress bar can redraw.
// It asks the terminal driver (a character device such as /dev/null is not one).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
