package sweep

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/score"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Observer follows a sweep's run. Each field may be nil.
type Observer struct {
	// Point is called before a point runs; it is the i-th (from 1) of the n
	// points this run has to run.
	Point func(p *Point, i, n int)
	// Transfer follows each point's transfer.
	Transfer transfer.Observer
	// Finished is called once a point's outputs are written.
	Finished func(p *Point, rec *Record)
	// Failed is called when a point's transfer fails; the run goes on with the
	// next point, and a later run tries the failed one again.
	Failed func(p *Point, err error)
}

// Options are a run's output folder, shard and observer.
type Options struct {
	Out      string
	Shard    Shard
	Observer Observer
	// ScoreSize, when not 0, scores each finished point's image at that
	// size (package score) into its record and the summary's score columns.
	ScoreSize int
	// Transfer, when not nil, runs each point's transfer in place of
	// transfer.Run on the model (a server's runner, or a test's); Run then
	// needs no model unless ScoreSize asks for scores.
	Transfer func(ctx context.Context, in transfer.Inputs, s transfer.Settings, obs transfer.Observer) (*transfer.Result, error)
	// Stylizer paints the start of the points with init stylized (make
	// fastnets' networks); nil when no point has it.
	Stylizer transfer.Stylizer
}

// Report says what a run did.
type Report struct {
	Ran     int     // points run and written
	Skipped int     // points of the shard finished before the run
	Failed  []error // one per failed point, naming it
}

// Images decodes the image files of points (once each), so that a bad image
// fails before the model loads. Run calls it for the points it runs.
func (plan *Plan) Images(points []Point) error {
	if plan.images == nil {
		plan.images = map[string]*preprocess.Image{}
	}
	for _, p := range points {
		for _, f := range imageFiles(&p.Config) {
			for _, path := range f.paths {
				key := imageKey(path, &p.Config.Settings)
				if plan.images[key] != nil {
					continue
				}
				img, err := imagefile.ReadFile(path, p.Config.DecodeOptions())
				if err != nil {
					return fmt.Errorf("sweep: point %d: %s: %w", p.Index, f.role(), err)
				}
				plan.images[key] = img
			}
		}
		if err := transfer.CheckInputs(plan.inputs(&p), &p.Config.Settings); err != nil {
			return p.wrap(err)
		}
	}
	return nil
}

// Scorable reports a point that cannot be scored: score compares an image with
// one style image.
func (plan *Plan) Scorable(points []Point) error {
	for _, p := range points {
		if len(p.Config.Style) > 1 {
			return p.wrap(errors.New("a score compares the image with one style image, and this point has several; sweep without a score"))
		}
	}
	return nil
}

// inputs are a point's decoded images (Images has read them) as a transfer
// takes them.
func (plan *Plan) inputs(p *Point) transfer.Inputs {
	in, _ := p.Config.InputsFrom(func(path string) (*preprocess.Image, error) {
		return plan.images[imageKey(path, &p.Config.Settings)], nil
	})
	return in
}

// release drops the decoded images that none of the points left uses.
func (plan *Plan) release(left []Point) {
	keep := map[string]bool{}
	for _, p := range left {
		for _, f := range imageFiles(&p.Config) {
			for _, path := range f.paths {
				keep[imageKey(path, &p.Config.Settings)] = true
			}
		}
	}
	for key := range plan.images {
		if !keep[key] {
			delete(plan.images, key)
		}
	}
}

// imageKey names a decoded image: its file, and whether its EXIF orientation
// was applied.
func imageKey(path string, s *transfer.Settings) string {
	return fmt.Sprintf("%s\x00%t", path, s.IgnoreEXIF)
}

// Run runs the points of opts.Shard that are not finished in opts.Out, one after
// the other on model (or by opts.Transfer), and writes each one's image and record as it finishes.
// When ctx is cancelled it returns ctx's error after the current evaluation; the
// interrupted point is not recorded, so a later run does it again.
func Run(ctx context.Context, model *tfgraph.Model, plan *Plan, opts Options) (*Report, error) {
	all := plan.Shard(opts.Shard)
	pending, err := plan.Pending(opts.Out, opts.Shard)
	if err != nil {
		return nil, err
	}
	rep := &Report{Skipped: len(all) - len(pending)}
	if opts.ScoreSize != 0 {
		if err := score.CheckSize(opts.ScoreSize); err != nil {
			return rep, fmt.Errorf("sweep: %w", err)
		}
		if err := score.CheckModel(model); err != nil {
			return rep, fmt.Errorf("sweep: %w", err)
		}
		if err := plan.Scorable(pending); err != nil {
			return rep, err
		}
	}
	runTransfer := opts.Transfer
	if runTransfer == nil {
		runTransfer = func(ctx context.Context, in transfer.Inputs, s transfer.Settings, obs transfer.Observer) (*transfer.Result, error) {
			return transfer.Run(ctx, model, in, s, obs)
		}
	}
	obs := opts.Observer
	fail := func(p *Point, err error) {
		rep.Failed = append(rep.Failed, err)
		if obs.Failed != nil {
			obs.Failed(p, err)
		}
	}
	// Points that differ only in the content image (a batch's photos) share
	// the style's Gram targets.
	grams := transfer.NewGramCache()
	for i := range pending {
		p := &pending[i]
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if obs.Point != nil {
			obs.Point(p, i+1, len(pending))
		}
		start := time.Now()
		// Images are decoded as their first point runs (a caller that wants bad
		// files to fail early calls Images first), and dropped after their last,
		// so a batch of many photos holds few in memory.
		if err := plan.Images(pending[i : i+1]); err != nil {
			fail(p, err) // it names the point
			continue
		}
		in := plan.inputs(p)
		in.Grams = grams
		in.Stylizer = opts.Stylizer
		res, err := runTransfer(ctx, in, p.Config.Settings, obs.Transfer)
		plan.release(pending[i+1:])
		if err != nil {
			if ctx.Err() != nil {
				return rep, fmt.Errorf("point %d: %w", p.Index, ctx.Err())
			}
			fail(p, fmt.Errorf("point %d (%s): %w", p.Index, p.Key, err))
			continue
		}
		evaluations := 0
		for _, it := range res.Iterations {
			evaluations += it.Evaluations
		}
		rec := plan.newRecord(p, res, evaluations, time.Since(start).Seconds())
		if opts.ScoreSize != 0 {
			// Not part of the transfer's seconds.
			if rec.Score, err = score.Compute(model, res.Image, in.Content, in.Style, opts.ScoreSize); err != nil {
				return rep, fmt.Errorf("point %d (%s): %w", p.Index, p.Key, err)
			}
		}
		if err := writePoint(opts.Out, rec, res.Image); err != nil {
			return rep, err
		}
		rep.Ran++
		if obs.Finished != nil {
			obs.Finished(p, rec)
		}
	}
	return rep, nil
}
