package stylist

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
)

// live is a running job's progress between the iterations the store records.
type live struct {
	Iteration  int // the iteration under way, from 0
	Evaluation int // evaluations done in it
	Loss       float64
	Elapsed    time.Duration // since the job started
	// ETA is the time left, from the mean evaluation time so far.
	ETA time.Duration
}

// hub tells waiting event streams that something changed. Streams read the
// current state after each change, so a slow reader skips states rather than
// holding the worker up.
type hub struct {
	mu      sync.Mutex
	changed chan struct{}
	live    map[int64]live
}

func newHub() *hub { return &hub{changed: make(chan struct{}), live: map[int64]live{}} }

func (h *hub) wait() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changed
}

func (h *hub) notify() {
	h.mu.Lock()
	close(h.changed)
	h.changed = make(chan struct{})
	h.mu.Unlock()
}

func (h *hub) set(id int64, l live) {
	h.mu.Lock()
	h.live[id] = l
	close(h.changed)
	h.changed = make(chan struct{})
	h.mu.Unlock()
}

func (h *hub) clear(id int64) {
	h.mu.Lock()
	delete(h.live, id)
	h.mu.Unlock()
	h.notify()
}

func (h *hub) get(id int64) (live, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	l, ok := h.live[id]
	return l, ok
}

// work runs queued jobs oldest first, one at a time, until ctx ends.
func (s *Server) work(ctx context.Context) {
	defer close(s.stopped)
	for {
		j, err := s.store.next()
		if err != nil {
			s.opts.Logf("stylist: queue: %v", err)
		}
		if j == nil {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
				continue
			case <-time.After(time.Minute): // in case a wake was lost to an error
				continue
			}
		}
		s.runJob(ctx, j)
		if ctx.Err() != nil {
			return
		}
	}
}

// enqueued wakes the worker.
func (s *Server) enqueued() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
	s.hub.notify()
}

// cancel cancels a queued or running job; it reports whether there was one.
func (s *Server) cancel(id int64) (bool, error) {
	ok, err := s.store.cancelQueued(id)
	if err != nil || ok {
		s.hub.notify()
		return ok, err
	}
	s.mu.Lock()
	stop, running := s.cancels[id]
	s.mu.Unlock()
	if running {
		stop()
	}
	return running, nil
}

var errCanceled = errors.New("canceled on the page")

// runJob runs j and records how it ended. A panic in the run fails the job,
// not the server.
func (s *Server) runJob(ctx context.Context, j *Job) {
	jobCtx, stop := context.WithCancelCause(ctx)
	s.mu.Lock()
	s.cancels[j.ID] = func() { stop(errCanceled) }
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.cancels, j.ID)
		s.mu.Unlock()
		stop(nil)
		s.hub.clear(j.ID)
	}()
	if err := s.store.start(j.ID); err != nil {
		s.opts.Logf("stylist: job %d: %v", j.ID, err)
		return
	}
	s.hub.set(j.ID, live{})
	s.opts.Logf("stylist: job %d started", j.ID)
	state, msg, hasResult := s.execute(jobCtx, j)
	if ctx.Err() != nil && state != Done {
		// The server is stopping: the job waits for the next one, with the
		// progress it saved.
		now, err := s.store.get(j.ID)
		if err == nil {
			err = s.resume(now, false)
		}
		if err != nil {
			s.opts.Logf("stylist: job %d: %v", j.ID, err)
		}
		return
	}
	if err := s.store.finish(j.ID, state, msg, hasResult); err != nil {
		s.opts.Logf("stylist: job %d: %v", j.ID, err)
	}
	s.opts.Logf("stylist: job %d %s %s", j.ID, state, msg)
}

func (s *Server) execute(ctx context.Context, j *Job) (st State, msg string, hasResult bool) {
	defer func() {
		if p := recover(); p != nil {
			st, msg = Failed, fmt.Sprintf("internal error: %v", p)
		}
	}()
	if j.Sweep != nil {
		return s.executeSweep(ctx, j)
	}
	cfg, err := s.config(j)
	if err != nil {
		return Failed, err.Error(), false
	}
	dec := s.decodeOptions(&cfg.Settings)
	content, err := imagefile.ReadFile(cfg.Content, dec)
	if err != nil {
		return Failed, "content image: " + err.Error(), false
	}
	style, err := imagefile.ReadFile(cfg.Style, dec)
	if err != nil {
		return Failed, "style image: " + err.Error(), false
	}
	dir := s.jobDir(j.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Failed, err.Error(), false
	}
	set := cfg.Settings
	in := transfer.Inputs{Content: content, Style: style}
	// A resumed job goes on from the image of its last saved iteration for
	// the iterations left; the observer counts from the first run's start.
	done := j.Iteration
	if done > 0 {
		if in.Init, err = imagefile.ReadFile(framePath(dir, done-1), nil); err != nil {
			return Failed, fmt.Sprintf("resume: the image of iteration %d: %v", done, err), false
		}
		set = set.Remaining(done)
		set.Init = transfer.InitImage
	}
	total := done + set.TotalIterations()
	start := time.Now()
	evals := 0
	losses := slices.Clone(j.Losses)
	obs := transfer.Observer{
		Start: func(i int) {
			l, _ := s.hub.get(j.ID)
			l.Iteration, l.Evaluation = done+i, 0
			s.hub.set(j.ID, l)
		},
		Evaluation: func(i, e int, t transfer.Terms, _ time.Duration) {
			evals++
			elapsed := time.Since(start)
			// Each iteration makes about maxfun evaluations (a few more
			// when the last line search ends late), so the time left is
			// the mean evaluation time times those left.
			left := (total-done-i)*set.MaxFun - e
			eta := time.Duration(0)
			if left > 0 {
				eta = elapsed / time.Duration(evals) * time.Duration(left)
			}
			s.hub.set(j.ID, live{Iteration: done + i, Evaluation: e, Loss: float64(t.Loss), Elapsed: elapsed, ETA: eta})
		},
		Done: func(it transfer.Iteration) error {
			it.Iteration += done
			// The iteration's own size: a coarser scale's is smaller,
			// and with a long side the settings' Width x Height is not it.
			img, err := vggtensor.Deprocess(it.X, it.Width, it.Height, set.Preprocess)
			if err != nil {
				return err
			}
			if err := imagefile.WritePNG(framePath(dir, it.Iteration), img); err != nil {
				return err
			}
			if err := imagefile.WritePNG(filepath.Join(dir, "result.png"), img); err != nil {
				return err
			}
			losses = append(losses, it.Loss)
			if err := s.store.progress(j.ID, it.Iteration+1, losses); err != nil {
				return err
			}
			s.hub.notify()
			return nil
		},
	}
	res, runErr := s.opts.Runner(ctx, in, set, obs)
	if res != nil && res.Image != nil {
		if err := imagefile.WritePNG(filepath.Join(dir, "result.png"), res.Image); err != nil {
			runErr = errors.Join(runErr, err)
		} else {
			hasResult = true
		}
	}
	if err := writeGIF(dir); err != nil {
		s.opts.Logf("stylist: job %d: GIF: %v", j.ID, err)
	}
	switch {
	case runErr == nil:
		return Done, "", hasResult
	case errors.Is(context.Cause(ctx), errCanceled):
		return Canceled, "cancelled; the image shown is where it had got to", hasResult
	case ctx.Err() != nil:
		return Interrupted, "", hasResult
	}
	return Failed, runErr.Error(), hasResult
}

func framePath(dir string, i int) string {
	return filepath.Join(dir, fmt.Sprintf("frame_%04d.png", i))
}

// writeGIF makes anim.gif of the job's frames, if it has any.
func writeGIF(dir string) error {
	names, err := filepath.Glob(filepath.Join(dir, "frame_*.png"))
	if err != nil || len(names) == 0 {
		return err
	}
	sort.Strings(names)
	frames := make([]*preprocess.Image, len(names))
	for i, n := range names {
		if frames[i], err = imagefile.ReadFile(n, nil); err != nil {
			return err
		}
	}
	// Coarser scales' frames are smaller: shown at the last one's size.
	last := frames[len(frames)-1]
	if frames, err = resample.ResizeAll(frames, last.Width, last.Height, resample.Bicubic); err != nil {
		return err
	}
	return imagefile.WriteGIF(filepath.Join(dir, "anim.gif"), frames, 500*time.Millisecond)
}
