package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/neuralstyle/neuralstyle/internal/outputs"
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/atomicfile"
	"github.com/neuralstyle/neuralstyle/internal/train"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
)

// defaultTrainGraph is where make train-model writes the training graph.
const defaultTrainGraph = "build/train-model"

// In a trained network's folder, beside train's NetFile, GraphDir and CheckpointFile:
const (
	trainLog     = "log.jsonl"    // one JSON record per step
	previewDir   = "previews"     // step-NNNNNN.png
	previewGIF   = "previews.gif" // the previews in order
	previewSide  = 256            // the preview's long side unless --preview-size
	previewDelay = 500 * time.Millisecond
)

func trainCommand() *cli.Command {
	var flags []cli.Flag
	for i := range train.Schema {
		s := &train.Schema[i]
		u := s.Usage + " [$" + s.Env + "]"
		if s.Kind == settings.KindBool {
			flags = append(flags, &cli.BoolFlag{Name: s.Name, Usage: u})
			continue
		}
		flags = append(flags, &cli.StringFlag{Name: s.Name, Usage: "`" + s.Placeholder + "`: " + u, Value: s.Default()})
	}
	flags = append(flags,
		&cli.StringFlag{Name: "style", Usage: "the painting `FILE` the network learns to paint like", EnvVars: []string{"NEURALSTYLE_STYLE"}},
		&cli.StringFlag{Name: "images", Usage: "`DIR` of photos to learn from (its files; bad files and photos smaller than the crop are skipped and counted)"},
		&cli.StringFlag{Name: "out", Usage: "`DIR` of the trained network (new, or with --resume the one to go on with); stylize --net DIR runs it"},
		&cli.BoolFlag{Name: "resume", Usage: "go on from --out's checkpoint, exactly as if the run had not stopped"},
		&cli.StringFlag{Name: "preview", Usage: "photo `FILE` stylised every --preview-every steps (default: the folder's first photo, then held out of training)"},
		&cli.IntFlag{Name: "preview-size", Usage: "long side of the previews in pixels (never enlarged)", Value: previewSide},
		&cli.StringFlag{Name: "model", Usage: "the training graph `DIR` (python -m savedmodel.train; make train-model), copied into --out",
			Value: defaultTrainGraph, EnvVars: []string{"NEURALSTYLE_TRAIN_MODEL"}},
		&cli.DurationFlag{Name: "progress", Usage: "print progress this often (0: never)", Value: 10 * time.Second},
		&cli.BoolFlag{Name: "json", Usage: "print a JSON record of the run at the end"},
	)
	return &cli.Command{
		Name:      "train",
		Usage:     "train your own feed-forward network for a painting (Johnson et al. 2016) on a folder of photos",
		UsageText: "neuralstyle train --style painting.jpg --images DIR --out nets/NAME [--steps N] [--resume] [options]",
		Description: "train teaches Johnson et al.'s transformation network (instance normalisation, resize-convolutions)\n" +
			"to paint any photo in one pass the way the notebook's optimisation paints one: each step takes --batch\n" +
			"random --crop crops of the photos (scaled down so their short side is the crop's), and Adam lowers the\n" +
			"notebook's loss (content on block2_conv2, style on five layers against the painting's Gram matrices at\n" +
			"the crop's size, total variation) of the network's output. The graph comes from savedmodel/train.py\n" +
			"(make train-model); Go drives it through the C API. --out gets the graph, checkpoint.nsck (every\n" +
			"--checkpoint-every steps, at the end and on Ctrl-C), net.json, log.jsonl, previews/ and previews.gif.\n" +
			"--resume goes on from the checkpoint and ends where an uninterrupted run would have, bit for bit on a\n" +
			"CPU at a fixed --threads. stylize --net DIR runs the result.",
		Flags:  append(flags, sessionFlags()...),
		Action: runTrain,
	}
}

// trainJob is what train reads from its flags, checked before any model loads.
type trainJob struct {
	settings                  train.Settings
	style, images, out, graph string
	preview                   string
	previewSize               int
	resume                    bool
	from                      *train.Checkpoint
	meta                      train.Meta
	painting, previewImg      *preprocess.Image
	photos                    *train.Photos
	styleSource               train.Source
}

// readTrainJob reads the flags, then the environment for a setting not given,
// then the defaults, reporting every problem at once, each naming its flag.
func readTrainJob(c *cli.Context) (*trainJob, error) {
	if err := noArgs(c); err != nil {
		return nil, err
	}
	j := &trainJob{settings: train.DefaultSettings(), style: c.String("style"), images: c.String("images"), out: c.String("out"),
		graph: c.String("model"), preview: c.String("preview"), previewSize: c.Int("preview-size"), resume: c.Bool("resume")}
	var problems []string
	for i := range train.Schema {
		s := &train.Schema[i]
		var text, from string
		switch {
		case c.IsSet(s.Name) && s.Kind == settings.KindBool:
			text, from = fmt.Sprint(c.Bool(s.Name)), "--"
		case c.IsSet(s.Name):
			text, from = c.String(s.Name), "--"
		case os.Getenv(s.Env) != "":
			text = os.Getenv(s.Env)
			from = fmt.Sprintf("%s=%s: ", s.Env, text)
		default:
			continue
		}
		if err := s.Set(&j.settings, text); err != nil {
			problems = append(problems, from+err.Error())
		}
	}
	if len(problems) == 0 {
		if err := j.settings.Validate(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				problems = append(problems, "--"+line)
			}
		}
	}
	for _, f := range []struct{ name, v string }{{"style", j.style}, {"images", j.images}, {"out", j.out}} {
		if f.v == "" {
			problems = append(problems, fmt.Sprintf("--%s: not given", f.name))
		}
	}
	if j.previewSize < 8 {
		problems = append(problems, fmt.Sprintf("--preview-size: %d; want at least 8", j.previewSize))
	}
	if len(problems) > 0 {
		return nil, usagef("%s", strings.Join(problems, "\n"))
	}
	return j, nil
}

// check looks at every input and the output folder, and decodes the images,
// before any model loads.
func (j *trainJob) check() error {
	if st, err := os.Stat(j.style); err != nil {
		return fmt.Errorf("--style: %w", err)
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("--style %s: not a file", j.style)
	}
	if st, err := os.Stat(j.out); err == nil {
		if !st.IsDir() {
			return usagef("--out %s: exists and is not a folder", j.out)
		}
		if j.resume {
			if !train.IsNet(j.out) {
				return usagef("--resume: %s has no %s, so it is not a network train wrote", j.out, train.NetFile)
			}
		} else if entries, _ := os.ReadDir(j.out); len(entries) > 0 {
			return usagef("--out %s: exists and is not empty; pass --resume to go on with its training, or choose a new folder", j.out)
		}
	} else if j.resume {
		return usagef("--resume: --out %s does not exist", j.out)
	} else if err := outputs.WritableFolder(existingParent(j.out)); err != nil {
		return fmt.Errorf("--out %s: %w", j.out, err)
	}
	if j.resume {
		j.graph = filepath.Join(j.out, train.GraphDir)
		from, err := train.ReadCheckpoint(filepath.Join(j.out, train.CheckpointFile))
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		j.from = from
	}
	meta, err := train.ReadMeta(j.graph)
	if err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	j.meta = meta
	if j.from != nil {
		if err := j.from.Check(meta); err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
	}
	raw, err := os.ReadFile(j.style)
	if err != nil {
		return fmt.Errorf("--style: %w", err)
	}
	sum := sha256.Sum256(raw)
	j.styleSource = train.Source{Path: j.style, SHA256: hex.EncodeToString(sum[:])}
	if j.painting, err = imagefile.Decode(bytes.NewReader(raw), j.style, nil); err != nil {
		return fmt.Errorf("--style: %w", err)
	}
	if j.photos, err = train.ScanPhotos(j.images, j.settings.Crop); err != nil {
		return fmt.Errorf("--images: %w", err)
	}
	preview := j.preview
	if preview == "" {
		preview = filepath.Join(j.images, j.photos.Names[0])
	}
	if outputs.SamePath(filepath.Dir(preview), j.images) {
		j.photos.HoldOut(filepath.Base(preview))
		if len(j.photos.Names) == 0 {
			return fmt.Errorf("--images %s: its one usable photo is the preview, which is held out of training; add photos", j.images)
		}
	}
	img, err := imagefile.ReadFile(preview, nil)
	if err != nil {
		return fmt.Errorf("--preview: %w", err)
	}
	if long := max(img.Width, img.Height); long > j.previewSize {
		w, h, err := resample.FitLongestSide(img.Width, img.Height, j.previewSize)
		if err == nil {
			img, err = resample.Resize(img, w, h, j.settings.Resample)
		}
		if err != nil {
			return fmt.Errorf("--preview %s: %w", preview, err)
		}
	}
	if img.Width < 8 || img.Height < 8 {
		return fmt.Errorf("--preview %s: %dx%d is too small; the network needs 8 pixels a side", preview, img.Width, img.Height)
	}
	j.previewImg = img
	j.preview = preview
	if j.from != nil {
		// What Run.Train checks again, here before any model loads.
		if err := j.settings.SameRun(j.from.Settings); err != nil {
			return usagef("--resume: %v", err)
		}
		if j.from.Style.SHA256 != j.styleSource.SHA256 {
			return usagef("--resume: the checkpoint was trained on the painting %s, and --style %s is another", j.from.Style.Path, j.style)
		}
		if p := j.photos.Source(); j.from.Photos.SHA256 != p.SHA256 {
			return usagef("--resume: the checkpoint drew from %d photos in %s, and these %d in %s are not the same ones (added, removed or renamed)",
				j.from.Photos.Count, j.from.Photos.Path, p.Count, j.images)
		}
	}
	return nil
}

// existingParent is the nearest folder above path that exists, where --out's
// folders will be made.
func existingParent(path string) string {
	dir := filepath.Dir(filepath.Clean(path))
	for {
		if _, err := os.Stat(dir); err == nil || dir == filepath.Dir(dir) {
			return dir
		}
		dir = filepath.Dir(dir)
	}
}

// trainRecord is the --json output.
type trainRecord struct {
	Out        string         `json:"out"`
	Network    string         `json:"network"`
	Width      int            `json:"width"`
	Parameters int            `json:"parameters"`
	Start      int            `json:"start"`
	Steps      int            `json:"steps"`
	First      train.Losses   `json:"first"`
	Last       train.Losses   `json:"last"`
	Photos     int            `json:"photos"`
	Skipped    int            `json:"skipped"`
	Seconds    float64        `json:"seconds"`
	Settings   train.Settings `json:"settings"`
}

// logRecord is a line of log.jsonl.
type logRecord struct {
	Step    int      `json:"step"`
	Loss    float32  `json:"loss"`
	Content float32  `json:"content_loss"`
	Style   float32  `json:"style_loss"`
	TV      float32  `json:"tv_loss"`
	Seconds float64  `json:"seconds"`
	Photos  []string `json:"photos"`
}

func runTrain(c *cli.Context) (err error) {
	j, err := readTrainJob(c)
	if err != nil {
		return err
	}
	opts, err := sessionOptions(c)
	if err != nil {
		return err
	}
	if err := j.check(); err != nil {
		return err
	}
	stderr := c.App.ErrWriter
	if n := len(j.photos.Skipped); n > 0 {
		fmt.Fprintf(stderr, "train: skipped %d of the files in %s (first: %s: %s)\n", n, j.images, j.photos.Skipped[0].Name, j.photos.Skipped[0].Reason)
	}
	if !j.resume {
		if err := os.MkdirAll(j.out, 0o755); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
		// A new folder that a failed run leaves without a checkpoint goes, so
		// that the same command can be run again.
		defer func() {
			if err != nil && !train.IsNet(j.out) {
				os.RemoveAll(j.out)
			}
		}()
		if err := train.CopyGraph(j.graph, filepath.Join(j.out, train.GraphDir)); err != nil {
			return err
		}
	}
	net, err := train.Load(filepath.Join(j.out, train.GraphDir), opts)
	if err != nil {
		return err
	}
	defer net.Close()
	crop := j.settings.Crop
	// The notebook resizes the painting to the photo's size, aspect not kept;
	// the Gram targets are the painting's at the crops' size.
	painting, err := resample.Resize(j.painting, crop, crop, j.settings.Resample)
	if err != nil {
		return fmt.Errorf("--style: %w", err)
	}
	grams, err := net.StyleGrams(painting)
	if err != nil {
		return err
	}
	logFile, err := openTrainLog(filepath.Join(j.out, trainLog), j.from)
	if err != nil {
		return err
	}
	defer logFile.Close()
	logw := bufio.NewWriter(logFile)
	defer logw.Flush()
	if err := os.MkdirAll(filepath.Join(j.out, previewDir), 0o755); err != nil {
		return err
	}

	record := train.NetRecord{Network: net.Meta.Network, Width: net.Meta.Width, Style: j.styleSource, Photos: j.photos.Source(), Settings: j.settings}
	run := &train.Run{
		Net: net, Batches: train.NewBatcher(j.photos, crop, j.settings.Seed, j.settings.Resample), Grams: grams,
		Settings: j.settings, Style: j.styleSource, Photos: j.photos.Source(), PreviewPhoto: j.previewImg,
	}
	every := c.Duration("progress")
	var last time.Duration
	var logErr error
	run.Hooks.Progress = func(p train.Progress) {
		l := p.Losses
		line, _ := json.Marshal(logRecord{Step: p.Step, Loss: l.Loss, Content: l.Content, Style: l.Style, TV: l.TV, Seconds: p.Elapsed.Seconds(), Photos: p.Photos})
		if _, err := logw.Write(append(line, '\n')); err != nil && logErr == nil {
			logErr = err
		}
		if every <= 0 || (p.Elapsed-last < every && p.Step != p.Steps) {
			return
		}
		last = p.Elapsed
		done := p.Step - p.Start
		left := time.Duration(float64(p.Elapsed) / float64(done) * float64(p.Steps-p.Step))
		fmt.Fprintf(stderr, "%s step %d/%d  loss %.4g (content %.3g, style %.3g, tv %.3g)  %s elapsed, %s left\n",
			bar(p.Step, p.Steps, 20), p.Step, p.Steps, l.Loss, l.Content, l.Style, l.TV, p.Elapsed.Round(time.Second), left.Round(time.Second))
	}
	run.Hooks.Preview = func(step int, img *preprocess.Image) error {
		return imagefile.WritePNG(filepath.Join(j.out, previewDir, fmt.Sprintf("step-%06d.png", step)), img)
	}
	run.Hooks.Save = func(ck *train.Checkpoint) error {
		if err := logw.Flush(); err != nil {
			return fmt.Errorf("train: %s: %w", trainLog, err)
		}
		if err := train.WriteCheckpoint(filepath.Join(j.out, train.CheckpointFile), ck); err != nil {
			return err
		}
		record.Step = ck.Step
		record.Graph = j.meta.Weights.Source
		return train.WriteNet(j.out, record)
	}

	ctx, stop := interruptContext(c, nil)
	defer stop()
	start := 0
	if j.from != nil {
		start = j.from.Step
	}
	fmt.Fprintf(stderr, "train: %s width %d (%d parameters) on %d photos in %s, %d steps of %d crops of %d, from step %d\n",
		net.Meta.Network, net.Meta.Width, net.Meta.Parameters, len(j.photos.Names), j.images, j.settings.Steps, j.settings.Batch, crop, start)
	res, err := run.Train(ctx, j.from)
	if errors.Is(err, context.Canceled) {
		if res.Saved == res.Steps {
			return interruptedError{fmt.Errorf("train: interrupted after step %d of %d; the checkpoint is saved: go on with --resume", res.Steps, j.settings.Steps)}
		}
		return interruptedError{fmt.Errorf("train: interrupted after step %d of %d: %v", res.Steps, j.settings.Steps, err)}
	}
	if err != nil {
		if res.Saved >= 0 {
			return fmt.Errorf("%w (the checkpoint of step %d in %s is intact)", err, res.Saved, j.out)
		}
		return err
	}
	if logErr != nil {
		return fmt.Errorf("train: %s: %w", trainLog, logErr)
	}
	if err := writePreviewGIF(j.out); err != nil {
		return err
	}
	rec := trainRecord{Out: j.out, Network: net.Meta.Network, Width: net.Meta.Width, Parameters: net.Meta.Parameters, Start: res.Start,
		Steps: res.Steps, First: res.First, Last: res.Last, Photos: len(j.photos.Names), Skipped: len(j.photos.Skipped),
		Seconds: res.Elapsed.Seconds(), Settings: j.settings}
	if c.Bool("json") {
		return printJSON(c.App.Writer, rec)
	}
	fmt.Fprintf(c.App.Writer, "%s: trained steps %d to %d in %.1fs; loss %.4g -> %.4g; stylize --net %s runs it\n",
		j.out, res.Start, res.Steps, res.Elapsed.Seconds(), res.First.Loss, res.Last.Loss, j.out)
	return nil
}

// bar is a text progress bar of done out of total.
func bar(done, total, width int) string {
	n := done * width / max(total, 1)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

// openTrainLog opens the log for appending. Resuming from a checkpoint, it
// first drops the lines of steps after the checkpoint's (a run that went on
// past its last checkpoint before it stopped), so the log reads as one run.
func openTrainLog(path string, from *train.Checkpoint) (*os.File, error) {
	if from != nil {
		raw, err := os.ReadFile(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("train: %w", err)
		}
		var kept bytes.Buffer
		for _, line := range bytes.SplitAfter(raw, []byte("\n")) {
			var r logRecord
			if json.Unmarshal(line, &r) == nil && r.Step <= from.Step {
				kept.Write(line)
			}
		}
		if err := atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(kept.Bytes()); return err }); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	return f, nil
}

// writePreviewGIF animates the previews in step order.
func writePreviewGIF(out string) error {
	names, err := filepath.Glob(filepath.Join(out, previewDir, "step-*.png"))
	if err != nil || len(names) == 0 {
		return err
	}
	slices.Sort(names)
	frames := make([]*preprocess.Image, 0, len(names))
	for _, n := range names {
		img, err := imagefile.ReadFile(n, nil)
		if err != nil {
			return fmt.Errorf("train: previews: %w", err)
		}
		frames = append(frames, img)
	}
	return imagefile.WriteGIF(filepath.Join(out, previewGIF), frames, previewDelay)
}
