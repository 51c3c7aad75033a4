package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/outputs"
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
)

// transferTargets checks transfer's outputs (--out, --gif, --log, --frames)
// against each other and its inputs, before the model loads.
func transferTargets(job *transferJob) (*outputs.Set, error) {
	outs := &outputs.Set{}
	// Every file setting's files are inputs, which no output may replace.
	for i := range settings.Schema {
		s := &settings.Schema[i]
		if s.Kind != settings.KindFile {
			continue
		}
		for _, f := range s.Paths(s.Format(&job.config)) {
			outs.Input("--"+s.Name, f)
		}
	}
	outs.File("--out", job.out, ".png", ".jpg", ".jpeg")
	outs.File("--gif", job.gif, ".gif")
	outs.File("--log", job.log)
	outs.Folder("--frames", job.frames, "iteration_[0-9][0-9][0-9]*.png")
	return outs, checkOutputs(outs)
}

// transferOutputs collects what a run produces as it goes (the frames, the log
// lines, the GIF's frames) and writes it all at the end through an outputs.Set: on
// success or interruption every output, on failure none.
type transferOutputs struct {
	job  *transferJob
	outs *outputs.Set

	// logHeader is the log's first line: the run's settings.
	logHeader []byte
	logLines  []logLine
	gifFrames []*preprocess.Image
	frames    []*preprocess.Image // --frames, by iteration

	// The iteration under way, for the log line of an interrupted one.
	current     int
	begun       time.Time
	evalSeconds []float64 // of the current iteration, from the end of the one before
	evalLosses  []float32 // of the current iteration's evaluations
	lastEval    time.Time
	lastTerms   transfer.Terms
	inProgress  bool
}

// logLine is an iteration's line of --log. Its terms have the sweep store's
// names (sweep.IterationRecord), content_loss, style_loss and tv_loss; logs
// written before called them content, style and tv, and still read.
type logLine struct {
	Iteration   int     `json:"iteration"`
	Loss        float64 `json:"loss"`
	Content     float32 `json:"content_loss"`
	Style       float32 `json:"style_loss"`
	TV          float32 `json:"tv_loss"`
	Evaluations int     `json:"evaluations"`
	Steps       int     `json:"lbfgs_iterations"`
	Status      string  `json:"status"`
	Seconds     float64 `json:"seconds"`
	// Size is the image's, WxH; Scale counts --scales from 0.
	Size  string `json:"size"`
	Scale int    `json:"scale"`
	// EvalSeconds are the wall seconds of each evaluation, counted from the end of
	// the one before (so they include the optimiser's step, a few milliseconds).
	EvalSeconds []float64 `json:"evaluation_seconds"`
	// EvalLosses are each evaluation's loss, in the same order: how far each
	// start gets in how many evaluations (scripts/experiments/init_starts.py).
	EvalLosses []float32 `json:"evaluation_losses"`
	// Partial marks the last line of an interrupted run: the iteration it stopped
	// in, with the terms of its last evaluation.
	Partial bool `json:"partial,omitempty"`
}

// UnmarshalJSON reads a log line, an old one's terms (content, style, tv) too.
func (l *logLine) UnmarshalJSON(data []byte) error {
	type line logLine // without this method
	var both struct {
		line
		OldContent *float32 `json:"content"`
		OldStyle   *float32 `json:"style"`
		OldTV      *float32 `json:"tv"`
	}
	if err := json.Unmarshal(data, &both); err != nil {
		return err
	}
	*l = logLine(both.line)
	for _, t := range []struct{ old, term *float32 }{{both.OldContent, &l.Content}, {both.OldStyle, &l.Style}, {both.OldTV, &l.TV}} {
		if t.old != nil {
			*t.term = *t.old
		}
	}
	return nil
}

// newTransferOutputs starts the log with the run's settings, every one of them
// as its flag takes it: {"settings": {"content": ..., "size": "512x512", ...}}.
func newTransferOutputs(job *transferJob, outs *outputs.Set) *transferOutputs {
	o := &transferOutputs{job: job, outs: outs}
	if job.log != "" {
		var line bytes.Buffer
		line.WriteString(`{"settings":{`)
		for i, f := range settings.Record(&job.config) {
			name, _ := json.Marshal(f.Name)
			value, _ := json.Marshal(f.Value)
			if i > 0 {
				line.WriteByte(',')
			}
			fmt.Fprintf(&line, "%s:%s", name, value)
		}
		line.WriteString("}}\n")
		o.logHeader = line.Bytes()
	}
	return o
}

func (o *transferOutputs) start(i int) {
	o.current, o.begun, o.lastEval, o.inProgress = i, time.Now(), time.Now(), true
	o.evalSeconds, o.evalLosses = nil, nil
}

func (o *transferOutputs) evaluation(t transfer.Terms) {
	o.evalSeconds = append(o.evalSeconds, time.Since(o.lastEval).Seconds())
	o.evalLosses = append(o.evalLosses, t.Loss)
	o.lastEval, o.lastTerms = time.Now(), t
}

func (o *transferOutputs) iteration(it transfer.Iteration, s transfer.Settings) error {
	o.inProgress = false
	if o.job.frames != "" || o.job.gif != "" {
		img, err := it.Image()
		if err != nil {
			return err
		}
		if o.job.gif != "" {
			o.gifFrames = append(o.gifFrames, img)
		}
		if o.job.frames != "" {
			o.frames = append(o.frames, img)
		}
	}
	o.logLines = append(o.logLines, logLine{
		Iteration: it.Iteration, Loss: it.Loss,
		Content: it.Terms.Content, Style: it.Terms.Style, TV: it.Terms.TV,
		Evaluations: it.Evaluations, Steps: it.Steps, Status: it.Status.Message(),
		Seconds: it.Elapsed.Seconds(), EvalSeconds: o.evalSeconds, EvalLosses: o.evalLosses,
		Size: fmt.Sprintf("%dx%d", it.Width, it.Height), Scale: it.Scale,
	})
	o.evalSeconds, o.evalLosses = nil, nil
	return nil
}

// write stages every output and commits them together. res may be nil (a run
// interrupted before its first evaluation), and then only the log is written.
// interrupted adds the iteration under way to the log and the GIF.
func (o *transferOutputs) write(res *transfer.Result, interrupted error) error {
	lines, gifFrames := o.logLines, o.gifFrames
	if interrupted != nil && o.inProgress {
		lines = append(lines, logLine{
			Iteration: o.current, Loss: float64(o.lastTerms.Loss),
			Content: o.lastTerms.Content, Style: o.lastTerms.Style, TV: o.lastTerms.TV,
			Evaluations: len(o.evalSeconds), Status: "interrupted: " + interrupted.Error(),
			Seconds: time.Since(o.begun).Seconds(), EvalSeconds: o.evalSeconds, EvalLosses: o.evalLosses, Partial: true,
		})
		if res != nil && res.Image != nil && o.job.gif != "" {
			gifFrames = append(gifFrames, res.Image)
		}
	}
	err := o.stageAll(res, lines, gifFrames)
	if err == nil {
		err = o.outs.Commit()
	}
	if err != nil {
		return fmt.Errorf("%w; %s", err, o.outs.Discard())
	}
	return nil
}

func (o *transferOutputs) stageAll(res *transfer.Result, lines []logLine, gifFrames []*preprocess.Image) error {
	if res != nil && res.Image != nil {
		img := res.Image
		err := o.outs.Stage("--out", "", func(w io.Writer) error {
			if ext := strings.ToLower(filepath.Ext(o.job.out)); ext == ".png" {
				return imagefile.EncodePNG(w, img)
			}
			return imagefile.EncodeJPEG(w, img, o.job.quality)
		})
		if err != nil {
			return err
		}
	}
	if o.job.gif != "" && len(gifFrames) > 0 {
		// Coarser scales' frames are smaller: shown at the final size.
		last := gifFrames[len(gifFrames)-1]
		gifFrames, err := resample.ResizeAll(gifFrames, last.Width, last.Height, resample.Bicubic)
		if err != nil {
			return fmt.Errorf("--gif: %w", err)
		}
		opt := &imagefile.GIFOptions{Delay: o.job.gifDelay}
		if err := o.outs.Stage("--gif", "", func(w io.Writer) error { return imagefile.EncodeGIF(w, gifFrames, opt) }); err != nil {
			return err
		}
	}
	for i, img := range o.frames {
		name := fmt.Sprintf("iteration_%03d.png", i)
		if err := o.outs.Stage("--frames", name, func(w io.Writer) error { return imagefile.EncodePNG(w, img) }); err != nil {
			return err
		}
	}
	if o.job.log != "" {
		err := o.outs.Stage("--log", "", func(w io.Writer) error {
			if _, err := w.Write(o.logHeader); err != nil {
				return err
			}
			for _, l := range lines {
				b, err := json.Marshal(l)
				if err != nil {
					return err
				}
				if _, err := w.Write(append(b, '\n')); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// finish ends a run: a finished or interrupted one writes its outputs, a failed
// one writes nothing and says so.
func (o *transferOutputs) finish(res *transfer.Result, runErr error, interrupted bool) error {
	switch {
	case runErr == nil:
		return o.write(res, nil)
	case interrupted:
		if err := o.write(res, runErr); err != nil {
			return interruptedError{fmt.Errorf("interrupted, and the outputs could not be written: %w", err)}
		}
		return interruptedError{fmt.Errorf("interrupted; wrote what the run reached: %s", o.outs.Paths())}
	}
	return fmt.Errorf("%w; %s", runErr, o.outs.Discard())
}
