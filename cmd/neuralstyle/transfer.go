package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/neuralstyle/neuralstyle/internal/atomicfile"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
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
		Flags: append(append(append([]cli.Flag{modelFlag("build/model")}, settingFlags()...),
			&cli.StringFlag{Name: "out", Usage: "output image `FILE` (.png or .jpg)", Value: "out.png", EnvVars: []string{"NEURALSTYLE_OUT"}},
			&cli.IntFlag{Name: "quality", Usage: "JPEG quality of --out, 1 to 100", Value: 95},
			&cli.StringFlag{Name: "frames", Usage: "`DIR` to write the image after each iteration into"},
			&cli.StringFlag{Name: "gif", Usage: "animated GIF `FILE` of the image after each iteration"},
			&cli.DurationFlag{Name: "gif-delay", Usage: "time each GIF frame shows", Value: 500 * time.Millisecond},
			&cli.StringFlag{Name: "log", Usage: "JSON-lines `FILE`: per iteration the loss, each term, evaluations, seconds"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
		), sessionFlags()...),
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
	content, style     string
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
		content: cfg.Content, style: cfg.Style,
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
	content, err := imagefile.ReadFile(job.content, job.settings.DecodeOptions())
	if err != nil {
		return err
	}
	style, err := imagefile.ReadFile(job.style, job.settings.DecodeOptions())
	if err != nil {
		return err
	}
	if job.frames != "" {
		if err := os.MkdirAll(job.frames, 0o755); err != nil {
			return fmt.Errorf("--frames: %v", err)
		}
	}
	model, err := tfgraph.Load(job.model, opts)
	if err != nil {
		return err
	}
	defer model.Close()
	if err := transfer.CheckModel(model, job.settings.Graph); err != nil {
		return err
	}

	ctx, stop := interruptContext(c)
	defer stop()

	progress := chooseProgress(c.Bool("quiet"), c.App.Writer, c.App.ErrWriter, job.settings)
	out := newTransferOutputs(job)
	var lastEval time.Time
	obs := transfer.Observer{
		Start: func(i int) {
			lastEval = time.Now()
			progress.start(i)
		},
		Evaluation: func(i, e int, t transfer.Terms, elapsed time.Duration) {
			out.evalSeconds = append(out.evalSeconds, time.Since(lastEval).Seconds())
			lastEval = time.Now()
			progress.evaluation(i, e, t, elapsed)
		},
		Done: func(it transfer.Iteration) error {
			progress.done(it)
			return out.iteration(it, job.settings)
		},
	}
	res, runErr := transfer.Run(ctx, model, transfer.Inputs{Content: content, Style: style}, job.settings, obs)
	progress.finish()
	if res == nil {
		return runErr
	}
	if err := out.finish(res); err != nil {
		return errors.Join(runErr, err)
	}
	if runErr != nil {
		if ctx.Err() != nil && c.Context.Err() == nil {
			return interruptedError{fmt.Errorf("interrupted; wrote the image so far to %s", job.out)}
		}
		return runErr
	}
	return nil
}

// transferOutputs writes what a run produces as it goes: frames and the log after
// each iteration, the image and the GIF at the end (or on interruption). Every file
// is replaced atomically, so an interrupted run never leaves a half-written one.
type transferOutputs struct {
	job      *transferJob
	logLines [][]byte
	// evalSeconds collects the current iteration's evaluation times.
	evalSeconds []float64
	gifFrames   []*preprocess.Image
}

type logLine struct {
	Iteration   int     `json:"iteration"`
	Loss        float64 `json:"loss"`
	Content     float32 `json:"content"`
	Style       float32 `json:"style"`
	TV          float32 `json:"tv"`
	Evaluations int     `json:"evaluations"`
	Steps       int     `json:"lbfgs_iterations"`
	Status      string  `json:"status"`
	Seconds     float64 `json:"seconds"`
	// EvalSeconds are the wall seconds of each evaluation, counted from the end of
	// the one before (so they include the optimiser's step, a few milliseconds).
	EvalSeconds []float64 `json:"evaluation_seconds"`
}

// newTransferOutputs starts the log with the run's settings, every one of them
// as its flag takes it: {"settings": {"content": ..., "size": "512x512", ...}}.
func newTransferOutputs(job *transferJob) *transferOutputs {
	o := &transferOutputs{job: job}
	if job.log != "" {
		var settings bytes.Buffer
		settings.WriteString(`{"settings":{`)
		for i, f := range job.config.Record() {
			name, _ := json.Marshal(f.Name)
			value, _ := json.Marshal(f.Value)
			if i > 0 {
				settings.WriteByte(',')
			}
			fmt.Fprintf(&settings, "%s:%s", name, value)
		}
		settings.WriteString("}}\n")
		o.logLines = append(o.logLines, settings.Bytes())
	}
	return o
}

func (o *transferOutputs) iteration(it transfer.Iteration, s transfer.Settings) error {
	if o.job.frames != "" || o.job.gif != "" {
		img, err := vggtensor.Deprocess(it.X, s.Width, s.Height, s.Preprocess)
		if err != nil {
			return err
		}
		if o.job.gif != "" {
			o.gifFrames = append(o.gifFrames, img)
		}
		if o.job.frames != "" {
			name := filepath.Join(o.job.frames, fmt.Sprintf("iteration_%03d.png", it.Iteration))
			if err := imagefile.WritePNG(name, img); err != nil {
				return err
			}
		}
	}
	if o.job.log != "" {
		line, err := json.Marshal(logLine{
			Iteration: it.Iteration, Loss: it.Loss,
			Content: it.Terms.Content, Style: it.Terms.Style, TV: it.Terms.TV,
			Evaluations: it.Evaluations, Steps: it.Steps, Status: it.Status.Message(),
			Seconds: it.Elapsed.Seconds(), EvalSeconds: o.evalSeconds,
		})
		o.evalSeconds = nil
		if err != nil {
			return err
		}
		o.logLines = append(o.logLines, append(line, '\n'))
		return atomicfile.Write(o.job.log, func(w io.Writer) error {
			for _, l := range o.logLines {
				if _, err := w.Write(l); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return nil
}

func (o *transferOutputs) finish(res *transfer.Result) error {
	if err := imagefile.Write(o.job.out, res.Image, o.job.quality); err != nil {
		return err
	}
	if o.job.gif != "" && len(o.gifFrames) > 0 {
		return imagefile.WriteGIF(o.job.gif, o.gifFrames, o.job.gifDelay)
	}
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
