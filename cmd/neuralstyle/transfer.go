package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

func transferCommand() *cli.Command {
	d := transfer.Defaults()
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
		Flags: append([]cli.Flag{
			modelFlag("build/model"),
			&cli.StringFlag{Name: "content", Usage: "content image `FILE` (JPEG, PNG, GIF, BMP, TIFF, WebP)", Required: true, EnvVars: []string{"NEURALSTYLE_CONTENT"}},
			&cli.StringFlag{Name: "style", Usage: "style image `FILE`, or several: a.jpg,b.jpg (see --style-blend, --style-mask)", Required: true, EnvVars: []string{"NEURALSTYLE_STYLE"}},
			&cli.StringFlag{Name: "out", Usage: "output image `FILE` (.png or .jpg)", Value: "out.png", EnvVars: []string{"NEURALSTYLE_OUT"}},
			&cli.IntFlag{Name: "quality", Usage: "JPEG quality of --out, 1 to 100", Value: 95},
			&cli.StringFlag{Name: "size", Usage: "`WxH` both images are resized to (aspect ratio not kept), or N for NxN", Value: fmt.Sprintf("%dx%d", d.Width, d.Height), EnvVars: []string{"NEURALSTYLE_SIZE"}},
			&cli.Float64Flag{Name: "content-weight", Usage: "weight of the content loss", Value: d.ContentWeight, EnvVars: []string{"NEURALSTYLE_CONTENT_WEIGHT"}},
			&cli.Float64Flag{Name: "style-weight", Usage: "weight of the style loss, split evenly over the style layers", Value: d.StyleWeight, EnvVars: []string{"NEURALSTYLE_STYLE_WEIGHT"}},
			&cli.Float64Flag{Name: "tv-weight", Usage: "weight of the total-variation loss", Value: d.TVWeight, EnvVars: []string{"NEURALSTYLE_TV_WEIGHT"}},
			&cli.StringFlag{Name: "content-layer", Usage: "VGG16 conv `LAYER` of the content loss", Value: d.ContentLayer, EnvVars: []string{"NEURALSTYLE_CONTENT_LAYER"}},
			&cli.StringFlag{Name: "style-layers", Usage: "comma-separated VGG16 conv layers of the style loss; LAYER:WEIGHT gives a layer its own weight instead of a share of --style-weight", Value: strings.Join(d.StyleLayers, ","), EnvVars: []string{"NEURALSTYLE_STYLE_LAYERS"}},
			&cli.IntFlag{Name: "iterations", Usage: "outer iterations (L-BFGS-B calls)", Value: d.Iterations, EnvVars: []string{"NEURALSTYLE_ITERATIONS"}},
			&cli.IntFlag{Name: "maxfun", Usage: "evaluations per L-BFGS-B call (checked when an L-BFGS-B iteration ends, as SciPy does)", Value: d.MaxFun, EnvVars: []string{"NEURALSTYLE_MAXFUN"}},
			&cli.Uint64Flag{Name: "seed", Usage: "seed of the starting noise: np.random.seed(SEED) (0 to 4294967295)", Value: 0, EnvVars: []string{"NEURALSTYLE_SEED"}},
			&cli.StringFlag{Name: "init", Usage: "starting image: noise, content, style or image (--init-image)", Value: string(d.Init), EnvVars: []string{"NEURALSTYLE_INIT"}},
			&cli.StringFlag{Name: "graph", Usage: "fast (content and style targets computed once: a third of the work, the same bits) or recipe (the notebook's batch of three at every evaluation)", Value: string(d.Graph), EnvVars: []string{"NEURALSTYLE_GRAPH"}},
			&cli.StringFlag{Name: "resample", Usage: "resize filter: nearest (the notebook's Pillow default), bilinear, bicubic, lanczos", Value: d.Resample.String(), EnvVars: []string{"NEURALSTYLE_RESAMPLE"}},
			&cli.StringFlag{Name: "preprocess", Usage: "recipe (the notebook's mean subtraction, quirk included) or caffe (Keras' preprocess_input)", Value: d.Preprocess.String(), EnvVars: []string{"NEURALSTYLE_PREPROCESS"}},
			&cli.StringFlag{Name: "frames", Usage: "`DIR` to write the image after each iteration into"},
			&cli.StringFlag{Name: "gif", Usage: "animated GIF `FILE` of the image after each iteration"},
			&cli.DurationFlag{Name: "gif-delay", Usage: "time each GIF frame shows", Value: 500 * time.Millisecond},
			&cli.StringFlag{Name: "log", Usage: "JSON-lines `FILE`: per iteration the loss, each term, evaluations, seconds"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
		}, append(controlFlags(), sessionFlags()...)...),
		Action: runTransfer,
	}
}

// transferJob is a validated command line.
type transferJob struct {
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
	s := transfer.Defaults()
	var err error
	if s.Width, s.Height, err = parseSize(c.String("size")); err != nil {
		return nil, err
	}
	s.ContentWeight = c.Float64("content-weight")
	s.StyleWeight = c.Float64("style-weight")
	s.TVWeight = c.Float64("tv-weight")
	s.ContentLayer = c.String("content-layer")
	if s.StyleLayers, s.StyleLayerWeights, err = parseStyleLayers(c.String("style-layers")); err != nil {
		return nil, err
	}
	s.Iterations = c.Int("iterations")
	s.MaxFun = c.Int("maxfun")
	seed := c.Uint64("seed")
	if seed > math.MaxUint32 {
		return nil, usagef("--seed %d: NumPy's legacy seed is 0 to 4294967295", seed)
	}
	s.Seed = uint32(seed)
	s.Init = transfer.Init(c.String("init"))
	s.Graph = transfer.Graph(c.String("graph"))
	if s.Resample, err = preprocess.ParseFilter(c.String("resample")); err != nil {
		return nil, usageError{err}
	}
	if s.Preprocess, err = preprocess.ParseMode(c.String("preprocess")); err != nil {
		return nil, usageError{err}
	}
	if err := parseControls(c, &s); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, usageError{err}
	}
	j := &transferJob{
		settings: s, model: c.String("model"), out: c.String("out"), frames: c.String("frames"),
		gif: c.String("gif"), log: c.String("log"), quality: c.Int("quality"), gifDelay: c.Duration("gif-delay"),
		content: c.String("content"), style: c.String("style"),
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

// parseSize reads WxH or N.
func parseSize(v string) (w, h int, err error) {
	if w, h, err = transfer.ParseSize(v); err != nil {
		return 0, 0, usagef("--%v", err)
	}
	return w, h, nil
}

// parseStyleLayers reads "a,b,c" or "a:1.5,b:0.5".
func parseStyleLayers(v string) (layers []string, weights []float64, err error) {
	if layers, weights, err = transfer.ParseStyleLayers(v); err != nil {
		return nil, nil, usagef("--%v", err)
	}
	return layers, weights, nil
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
	inputs, err := readInputs(c, job)
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
	if err := transfer.CheckControlsModel(model, &job.settings, inputs.StyleMasks != nil); err != nil {
		return err
	}
	if notice, err := weightsNotice(job.model); err != nil {
		return err
	} else if notice != "" && !c.Bool("quiet") {
		fmt.Fprintln(c.App.ErrWriter, notice)
	}

	ctx, stop := interruptContext(c)
	defer stop()

	var progress transferProgress = &plainProgress{w: c.App.Writer}
	switch {
	case c.Bool("quiet"):
		progress = quietProgress{}
	case isTerminal(c.App.ErrWriter):
		progress = newBarProgress(c.App.ErrWriter, job.settings)
	}
	out := &transferOutputs{job: job}
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
	res, runErr := transfer.Run(ctx, model, inputs, job.settings, obs)
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

func (o *transferOutputs) iteration(it transfer.Iteration, s transfer.Settings) error {
	if o.job.frames != "" || o.job.gif != "" {
		img, err := it.Image()
		if err != nil {
			return err
		}
		if o.job.gif != "" {
			o.gifFrames = append(o.gifFrames, img)
		}
		if o.job.frames != "" {
			name := filepath.Join(o.job.frames, fmt.Sprintf("iteration_%03d.png", it.Iteration))
			if err := preprocess.WritePNG(name, img); err != nil {
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
		return preprocess.WriteFileAtomic(o.job.log, func(w io.Writer) error {
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
	var err error
	if ext := strings.ToLower(filepath.Ext(o.job.out)); ext == ".png" {
		err = preprocess.WritePNG(o.job.out, res.Image)
	} else {
		err = preprocess.WriteJPEG(o.job.out, res.Image, o.job.quality)
	}
	if err != nil {
		return err
	}
	if o.job.gif != "" && len(o.gifFrames) > 0 {
		return preprocess.WriteGIF(o.job.gif, o.gifFrames, o.job.gifDelay)
	}
	return nil
}

// isTerminal reports whether w is a terminal, where a progress bar can redraw.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
