// Package batch paints many photos in one style into one folder: a sweep whose
// one axis is the content image. Each photo's result and record go to the
// folder's points under its key (package sweep), and a copy to NAME.png, the
// photo's name, as each finishes.
package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/neuralstyle/neuralstyle/atomicfile"
	"github.com/neuralstyle/neuralstyle/internal/outputs"
	"github.com/neuralstyle/neuralstyle/internal/sweep"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Reserved are the files a batch writes into its folder besides the photos'.
var Reserved = []string{sweep.SheetFile, sweep.GIFFile, sweep.SummaryFile}

// Batch is photos painted in one style into one folder.
type Batch struct {
	Plan  *sweep.Plan
	Dir   string
	Names map[string]string // photo path -> its output file
}

// New plans the batch of photos painted with cfg into dir, on the model of
// modelID (provenance.ModelID). Photos are given as read, each once. Settings a sweep
// cannot carry are the caller's to refuse (sweep.Unsweepable).
func New(cfg *transfer.Config, photos []string, dir, modelID string) (*Batch, error) {
	names, err := Names(photos, dir)
	if err != nil {
		return nil, err
	}
	b := &Batch{Dir: dir, Names: names}
	if len(photos) == 0 {
		return b, nil
	}
	spec, err := Spec(cfg, photos)
	if err != nil {
		return nil, err
	}
	if b.Plan, err = sweep.NewPlan(spec, modelID); err != nil {
		return nil, err
	}
	return b, nil
}

// Spec is the sweep of a batch: every setting of cfg fixed, the content image
// the one axis (a single photo is a fixed setting, as in any sweep).
func Spec(cfg *transfer.Config, photos []string) (*sweep.Spec, error) {
	return sweep.FromConfig(cfg, "content", photos)
}

// Names gives each photo its output file, dir/NAME.png, and refuses two photos
// that would write one file, a photo named like the batch's own files, and an
// output that is one of the photos (each an *outputs.NameError).
func Names(photos []string, dir string) (map[string]string, error) {
	names := map[string]string{}
	byName := map[string]string{}
	for _, p := range photos {
		name := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)) + ".png"
		for _, r := range Reserved {
			if strings.EqualFold(name, r) {
				return nil, namef("photo %s: its result %s would overwrite the batch's %s; rename the photo", p, name, r)
			}
		}
		if other, ok := byName[strings.ToLower(name)]; ok {
			return nil, namef("photos %s and %s would both write %s; rename one", other, p, filepath.Join(dir, name))
		}
		byName[strings.ToLower(name)] = p
		out := filepath.Join(dir, name)
		if sameFile(out, p) {
			return nil, namef("photo %s: its result %s would replace it; give another --out", p, out)
		}
		names[p] = out
	}
	return names, nil
}

func namef(format string, args ...any) error {
	return &outputs.NameError{Err: fmt.Errorf(format, args...)}
}

func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// Report is what Run did: sweep.Run's report, and the copies that failed.
type Report struct {
	*sweep.Report
	// Publish joins the errors of results that could not be copied to their
	// photos' names; the results themselves are kept, and a rerun copies them.
	Publish error
}

// Run runs the photos of opts.Shard not yet finished into the batch's folder,
// as sweep.Run does, and copies each result to its photo's name as it
// finishes. A failed copy does not stop the run: Report.Publish has it.
func (b *Batch) Run(ctx context.Context, model *tfgraph.Model, opts sweep.Options) (*Report, error) {
	rep := &Report{}
	finished := opts.Observer.Finished
	opts.Observer.Finished = func(p *sweep.Point, r *sweep.Record) {
		if err := b.PublishPoint(p); err != nil {
			rep.Publish = errors.Join(rep.Publish, err)
		}
		if finished != nil {
			finished(p, r)
		}
	}
	opts.Out = b.Dir
	var err error
	rep.Report, err = sweep.Run(ctx, model, b.Plan, opts)
	return rep, err
}

// Publish copies every finished photo's result to its name, where the file
// there is missing or holds another result (an earlier run's other settings).
func (b *Batch) Publish() error {
	pending, err := b.Plan.Pending(b.Dir, sweep.Shard{})
	if err != nil {
		return err
	}
	left := map[string]bool{}
	for _, p := range pending {
		left[p.Key] = true
	}
	for i := range b.Plan.Points {
		if p := &b.Plan.Points[i]; !left[p.Key] {
			if err := b.PublishPoint(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// PublishPoint writes the results of the photos of p's key to their names.
// Photos with the same bytes share a key, and so one result.
func (b *Batch) PublishPoint(p *sweep.Point) error {
	data, err := os.ReadFile(sweep.PointImage(b.Dir, p.Key))
	if err != nil {
		return fmt.Errorf("batch: %w", err)
	}
	for _, q := range b.Plan.Points {
		if q.Key != p.Key {
			continue
		}
		dst := b.Names[q.Config.Content]
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, data) {
			continue
		}
		err := atomicfile.Write(dst, func(w io.Writer) error {
			_, err := w.Write(data)
			return err
		})
		if err != nil {
			return fmt.Errorf("batch: %w", err)
		}
	}
	return nil
}
