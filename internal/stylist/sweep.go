package stylist

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/neuralstyle/neuralstyle/internal/settings"
	"github.com/neuralstyle/neuralstyle/internal/sweep"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// A sweep job is package sweep's run in the job's folder: points/KEY.png and
// .json for each finished point, and the contact sheet (sheet.png), GIF
// (sweep.gif) and summary (summary.csv) that sweep.Collect draws after each
// point. Its points are keyed as the sweep command keys them, so a sweep
// that a restart interrupted skips the points it finished.

// sweepParams are the settings the page offers to sweep: package sweep's,
// without the images and what needs several styles (a sweep here has one
// photo and one painting).
func sweepParams() []string {
	var out []string
	for _, name := range sweep.Params() {
		if set, err := settings.Lookup(name); err == nil && set.Kind != settings.KindFile && !set.SeveralStyles {
			out = append(out, name)
		}
	}
	return out
}

// sweepForm is the sweep part of the job form.
type sweepForm struct {
	Params        []string
	Param, Values string
	Error         string
}

func newSweepForm(values map[string]string, errs formErrors) sweepForm {
	return sweepForm{Params: sweepParams(), Param: values["sweep-param"], Values: values["sweep-values"], Error: errs["sweep"]}
}

// parseSweepAxis reads the form's sweep: the setting to vary and its values,
// separated by spaces (a number's also by commas). No setting and no values
// is no sweep (nil). Every value is checked as the setting takes it and kept
// in its canonical text.
func parseSweepAxis(param, text string, maxPoints int) (*SweepAxis, error) {
	param, text = strings.TrimSpace(param), strings.TrimSpace(text)
	if param == "" {
		if text != "" {
			return nil, errors.New("sweep: choose the setting to vary over " + strings.Join(strings.Fields(text), " "))
		}
		return nil, nil
	}
	if !slices.Contains(sweepParams(), param) {
		return nil, fmt.Errorf("sweep: %q is not a setting a sweep can vary; those are %s", param, strings.Join(sweepParams(), ", "))
	}
	set, _ := settings.Lookup(param)
	sep := unicode.IsSpace
	if set.Kind == settings.KindNumber || set.Kind == settings.KindInteger {
		sep = func(r rune) bool { return unicode.IsSpace(r) || r == ',' }
	}
	texts := strings.FieldsFunc(text, sep)
	switch {
	case len(texts) < 2:
		return nil, fmt.Errorf("sweep: give %s at least two values, separated by spaces", param)
	case len(texts) > maxPoints:
		return nil, fmt.Errorf("sweep: %d values of %s: this server runs at most %d pictures a sweep", len(texts), param, maxPoints)
	}
	axis := &SweepAxis{Param: param}
	var errs []error
	seen := map[string]bool{}
	for _, t := range texts {
		v, err := sweep.ParseValue(param, t, "")
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep: %w", err))
			continue
		}
		if seen[v.Text] {
			errs = append(errs, fmt.Errorf("sweep: %s: value %s is listed twice", param, v.Text))
			continue
		}
		seen[v.Text] = true
		axis.Values = append(axis.Values, v.Text)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return axis, nil
}

// sweepSpec declares a sweep job for package sweep: its settings fixed, its
// images, and its axis.
func (s *Server) sweepSpec(j *Job) (*sweep.Spec, error) {
	// The points are validated one by one (Points); the base alone need not be.
	cfg, _ := s.config(j)
	spec, err := sweep.FromConfig(&cfg, j.Sweep.Param, j.Sweep.Values)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	spec.Description = fmt.Sprintf("Stylist job %d", j.ID)
	return spec, nil
}

// checkSweep checks a sweep job before it is queued: the settings a sweep
// cannot carry are left at their defaults, every point is a valid transfer,
// and none asks more than the server's limits.
func (s *Server) checkSweep(j *Job) error {
	cfg, _ := s.config(j)
	if names := sweep.Unsweepable(&cfg); len(names) > 0 {
		return fmt.Errorf("sweep: %s cannot be part of a sweep; leave it at its default", names[0])
	}
	spec, err := s.sweepSpec(j)
	if err != nil {
		return err
	}
	points, err := spec.Points()
	if err != nil {
		return errors.New(strings.ReplaceAll(err.Error(), s.uploadPath("")+string(filepath.Separator), ""))
	}
	lim := s.opts.Limits
	for _, p := range points {
		set := &p.Config.Settings
		label := strings.Join(p.Label(), " ")
		switch {
		case set.Width > lim.MaxSide || set.Height > lim.MaxSide:
			return fmt.Errorf("sweep: %s: this server paints at most %dx%d", label, lim.MaxSide, lim.MaxSide)
		case set.LongSide > lim.MaxSide:
			return fmt.Errorf("sweep: %s: this server paints a long side of at most %d", label, lim.MaxSide)
		case set.TotalIterations() > lim.Iterations:
			return fmt.Errorf("sweep: %s: this server runs at most %d iterations", label, lim.Iterations)
		case set.MaxFun > lim.MaxFun:
			return fmt.Errorf("sweep: %s: this server takes maxfun at most %d", label, lim.MaxFun)
		}
	}
	return nil
}

// executeSweep runs a sweep job with package sweep, skipping the points a
// run before a restart finished, and draws its contact sheet after each
// point.
func (s *Server) executeSweep(ctx context.Context, j *Job) (st State, msg string, hasResult bool) {
	spec, err := s.sweepSpec(j)
	if err != nil {
		return Failed, err.Error(), false
	}
	plan, err := sweep.NewPlan(spec, s.opts.ModelID)
	if err != nil {
		return Failed, err.Error(), false
	}
	dir := s.jobDir(j.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Failed, err.Error(), false
	}
	done, _, err := plan.Status(dir)
	if err != nil {
		return Failed, err.Error(), false
	}
	pending, err := plan.Pending(dir, sweep.Shard{})
	if err != nil {
		return Failed, err.Error(), false
	}
	collect := func() bool {
		if _, err := sweep.Collect(plan, dir, sweep.CollectOptions{Thumb: 160}); err != nil {
			if done > 0 {
				s.opts.Logf("stylist: job %d: contact sheet: %v", j.ID, err)
			}
			return false
		}
		return true
	}
	// The time left is the mean evaluation time times the evaluations left,
	// about iterations x maxfun a point.
	cost := func(p *sweep.Point) int { return p.Config.TotalIterations() * p.Config.MaxFun }
	start, evals, current, left := time.Now(), 0, 0, 0
	losses := slices.Clone(j.Losses)
	obs := sweep.Observer{
		Point: func(p *sweep.Point, i, n int) {
			current, left = cost(p), 0
			for _, q := range pending[i:] {
				left += cost(&q)
			}
			s.hub.set(j.ID, live{Iteration: done, Elapsed: time.Since(start)})
		},
		Transfer: transfer.Observer{
			Evaluation: func(_, e int, t transfer.Terms, _ time.Duration) {
				evals++
				elapsed := time.Since(start)
				eta := time.Duration(0)
				if n := left + max(current-e, 0); n > 0 {
					eta = elapsed / time.Duration(evals) * time.Duration(n)
				}
				s.hub.set(j.ID, live{Iteration: done, Evaluation: e, Loss: float64(t.Loss), Elapsed: elapsed, ETA: eta})
			},
		},
		Finished: func(p *sweep.Point, rec *sweep.Record) {
			done++
			losses = append(losses, rec.Loss)
			collect()
			if err := s.store.progress(j.ID, done, losses); err != nil {
				s.opts.Logf("stylist: job %d: %v", j.ID, err)
			}
			s.hub.notify()
		},
		Failed: func(p *sweep.Point, err error) {
			s.opts.Logf("stylist: job %d: %v", j.ID, err)
		},
	}
	rep, runErr := sweep.Run(ctx, nil, plan, sweep.Options{Out: dir, Observer: obs, Transfer: s.opts.Runner})
	hasResult = done > 0 && collect()
	switch {
	case errors.Is(context.Cause(ctx), errCanceled):
		return Canceled, "cancelled; the sheet shows the pictures finished before", hasResult
	case ctx.Err() != nil:
		return Interrupted, "", hasResult
	case noSpace(runErr) || (rep != nil && slices.ContainsFunc(rep.Failed, noSpace)):
		s.noteFull(syscall.ENOSPC)
		return Failed, s.fullMessage(), hasResult
	case runErr != nil:
		return Failed, runErr.Error(), hasResult
	case len(rep.Failed) > 0:
		msgs := make([]string, len(rep.Failed))
		for i, err := range rep.Failed {
			msgs[i] = strings.ReplaceAll(err.Error(), s.uploadPath("")+string(filepath.Separator), "")
		}
		return Failed, fmt.Sprintf("%d of %d pictures failed: %s", len(rep.Failed), len(plan.Points), strings.Join(msgs, "; ")), hasResult
	}
	return Done, "", hasResult
}

// pointRow is one point of a sweep on its page.
type pointRow struct {
	Index    int
	Value    string // the axis's value
	Key      string
	Finished bool
	Loss     float64
	Seconds  float64
}

// sweepRows lists a sweep job's points in order, with the results of the
// finished ones.
func (s *Server) sweepRows(j *Job) ([]pointRow, error) {
	spec, err := s.sweepSpec(j)
	if err != nil {
		return nil, err
	}
	plan, err := sweep.NewPlan(spec, s.opts.ModelID)
	if err != nil {
		return nil, err
	}
	rows := make([]pointRow, len(plan.Points))
	for i, p := range plan.Points {
		rows[i] = pointRow{Index: p.Index, Value: p.Values[0].Text, Key: p.Key}
		rec, err := sweep.ReadRecord(s.jobDir(j.ID), p.Key)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		rows[i].Finished, rows[i].Loss, rows[i].Seconds = true, rec.Loss, rec.Seconds
	}
	return rows, nil
}
