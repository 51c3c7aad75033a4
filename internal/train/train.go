package train

import (
	"context"
	"fmt"
	"time"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Progress is the state after a step.
type Progress struct {
	Step, Steps int // steps done in all (a resumed run counts the checkpoint's), of Steps
	Start       int // the step this run started from
	Losses      Losses
	Photos      []string // the photos of the step's crops
	Elapsed     time.Duration
}

// Hooks are what a run reports. Each may be nil.
type Hooks struct {
	// Progress is called after every step; return quickly.
	Progress func(Progress)
	// Preview is called with the held-out photo stylised: before the first
	// step, every PreviewEvery steps, and after the last.
	Preview func(step int, img *preprocess.Image) error
	// Save is called with a checkpoint every CheckpointEvery steps, after the
	// last step, and when the context is cancelled. An error ends the run.
	Save func(*Checkpoint) error
}

// Run is a training run: a network, the crops it learns from, the painting's
// Gram targets (StyleGrams at the crops' size) and its settings.
type Run struct {
	Net      *Network
	Batches  *Batcher
	Grams    Grams
	Settings Settings
	// Style and Photos identify the painting and the photos in checkpoints,
	// so a resumed run can tell that it has the same ones.
	Style, Photos Source
	// PreviewPhoto is stylised for Hooks.Preview; nil for none.
	PreviewPhoto *preprocess.Image
	Hooks        Hooks
}

// Result summarises a run.
type Result struct {
	Start, Steps int    // the step it started from and the steps done in all
	First, Last  Losses // the losses of this run's first and last steps
	Elapsed      time.Duration
	Saved        int // the step of the last checkpoint handed to Save, -1 if none
}

// Train trains from the beginning (from nil: the network initialised with the
// seed) or from a checkpoint, up to Settings.Steps. When ctx is cancelled it
// saves a checkpoint of the steps done and returns ctx's error with them.
func (r *Run) Train(ctx context.Context, from *Checkpoint) (Result, error) {
	s := r.Settings
	res := Result{Saved: -1}
	if err := s.Validate(); err != nil {
		return res, fmt.Errorf("train: %w", err)
	}
	if len(r.Grams) != len(StyleLayers) {
		return res, fmt.Errorf("train: %d Gram targets, want %d", len(r.Grams), len(StyleLayers))
	}
	if from == nil {
		if err := r.Net.Init(s.Seed); err != nil {
			return res, err
		}
	} else {
		if err := r.resumable(from); err != nil {
			return res, err
		}
		got, err := r.Net.SetState(from.State)
		if err != nil {
			return res, err
		}
		if got != from.Step {
			return res, fmt.Errorf("train: %w: its header says step %d, its state %d", ErrCheckpoint, from.Step, got)
		}
		res.Start = from.Step
	}
	res.Steps = res.Start
	if res.Start == 0 {
		if err := r.preview(0); err != nil {
			return res, err
		}
	}
	w := Weights{float32(s.ContentWeight), float32(s.StyleWeight), float32(s.TVWeight)}
	images := tfgraph.NewTensor(int64(s.Batch), int64(s.Crop), int64(s.Crop), 3)
	start := time.Now()
	for step := res.Start; step < s.Steps; step++ {
		if err := ctx.Err(); err != nil {
			res.Elapsed = time.Since(start)
			if serr := r.save(&res); serr != nil {
				return res, fmt.Errorf("%w; and the checkpoint on stopping failed: %v", err, serr)
			}
			return res, err
		}
		names, err := r.Batches.Fill(step, images)
		if err != nil {
			return res, err
		}
		l, err := r.Net.Step(images, r.Grams, w, float32(s.LearningRate), s.BF16)
		if err != nil {
			return res, fmt.Errorf("%w (step %d)", err, step+1)
		}
		if step == res.Start {
			res.First = l
		}
		res.Last = l
		res.Steps = step + 1
		if r.Hooks.Progress != nil {
			r.Hooks.Progress(Progress{Step: res.Steps, Steps: s.Steps, Start: res.Start, Losses: l, Photos: names, Elapsed: time.Since(start)})
		}
		if res.Steps == s.Steps {
			break
		}
		if s.CheckpointEvery > 0 && res.Steps%s.CheckpointEvery == 0 {
			if err := r.save(&res); err != nil {
				return res, err
			}
		}
		if s.PreviewEvery > 0 && res.Steps%s.PreviewEvery == 0 {
			if err := r.preview(res.Steps); err != nil {
				return res, err
			}
		}
	}
	res.Elapsed = time.Since(start)
	if res.Steps > res.Start || from == nil {
		if err := r.save(&res); err != nil {
			return res, err
		}
		if err := r.preview(res.Steps); err != nil {
			return res, err
		}
	}
	return res, nil
}

// resumable reports whether from was written by this run's network, settings
// and inputs.
func (r *Run) resumable(from *Checkpoint) error {
	if err := from.Check(r.Net.Meta); err != nil {
		return err
	}
	if err := r.Settings.SameRun(from.Settings); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if from.Style.SHA256 != r.Style.SHA256 {
		return fmt.Errorf("train: the checkpoint was trained on the painting %s (sha256 %.12s), not %s (sha256 %.12s)",
			from.Style.Path, from.Style.SHA256, r.Style.Path, r.Style.SHA256)
	}
	if from.Photos.SHA256 != r.Photos.SHA256 {
		return fmt.Errorf("train: the checkpoint drew from %d photos in %s, and these %d photos in %s are not the same ones (added, removed or renamed)",
			from.Photos.Count, from.Photos.Path, r.Photos.Count, r.Photos.Path)
	}
	return nil
}

// Checkpoint returns the network's state as a checkpoint after step steps.
func (r *Run) Checkpoint(step int) (*Checkpoint, error) {
	state, err := r.Net.State()
	if err != nil {
		return nil, err
	}
	m := r.Net.Meta
	return &Checkpoint{
		Header: Header{
			Format: CheckpointFormat, GraphFormat: m.Format, Network: m.Network, Width: m.Width, StateSize: m.StateSize,
			Step: step, Settings: r.Settings, Style: r.Style, Photos: r.Photos,
		},
		State: state,
	}, nil
}

func (r *Run) save(res *Result) error {
	if r.Hooks.Save == nil {
		return nil
	}
	c, err := r.Checkpoint(res.Steps)
	if err != nil {
		return err
	}
	if err := r.Hooks.Save(c); err != nil {
		return err
	}
	res.Saved = res.Steps
	return nil
}

func (r *Run) preview(step int) error {
	if r.PreviewPhoto == nil || r.Hooks.Preview == nil {
		return nil
	}
	img, err := r.Net.Stylize(r.PreviewPhoto)
	if err != nil {
		return err
	}
	return r.Hooks.Preview(step, img)
}
