package stylist

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
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

// Retry delays of the worker when the data folder or the database fails
// (a full disk): each failure doubles the wait, up to retryMax, so a fault
// that lasts costs a log line every half minute, not a hot loop.
const (
	retryMin = 250 * time.Millisecond
	retryMax = 30 * time.Second
)

// work runs a lane's queued jobs oldest first, one at a time, until ctx
// ends; the instant lane paints the instant pictures of optimisations first.
// When the data folder is full it records the end of the job that ran into
// it as soon as it can, and waits, backing off, until there is room again
// before it starts the next.
func (s *Server) work(ctx context.Context, lane string) {
	var delay time.Duration
	retry := func(what string, err error) {
		delay = min(max(2*delay, retryMin), retryMax)
		s.opts.Logf("stylist: %s: %v; trying again in %v", what, err, delay)
	}
	for {
		if delay > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
		}
		if err := s.settle(); err != nil {
			retry("recording how a job ended", err)
			continue
		}
		if s.full.Load() {
			if err := s.room(); err != nil {
				retry("the queue waits for room in the data folder", err)
				continue
			}
			s.full.Store(false)
			s.hub.notify()
			s.opts.Logf("stylist: the data folder has room again; the queue goes on")
		}
		if lane == laneInstant && s.opts.FastNets != nil {
			p, err := s.store.nextPreview()
			if err == nil && p != nil {
				err = s.paintPreview(p)
			}
			if err != nil {
				s.noteFull(err)
				retry("the instant picture", err)
				continue
			}
			if p != nil {
				delay = 0
				continue
			}
		}
		j, err := s.store.next(lane)
		if err != nil {
			s.noteFull(err)
			retry("queue", err)
			continue
		}
		if j == nil {
			delay = 0
			select {
			case <-ctx.Done():
				return
			case <-s.wake[lane]:
				continue
			case <-time.After(time.Minute): // in case a wake was lost to an error
				continue
			}
		}
		if err := s.store.start(j.ID); err != nil {
			s.noteFull(err)
			retry(fmt.Sprintf("job %d: start", j.ID), err)
			continue
		}
		delay = 0
		s.runJob(ctx, j)
		if ctx.Err() != nil {
			return
		}
	}
}

// ending is how a job ended, kept in memory until the database records it.
type ending struct {
	State     State
	Msg       string
	HasResult bool
}

// settle records the endings the database refused (a full disk); the pages
// show them meanwhile (see overlay).
func (s *Server) settle() error {
	s.mu.Lock()
	ids := slices.Sorted(maps.Keys(s.endings))
	s.mu.Unlock()
	for _, id := range ids {
		s.mu.Lock()
		e := s.endings[id]
		s.mu.Unlock()
		if err := s.store.finish(id, e.State, e.Msg, e.HasResult); err != nil {
			s.noteFull(err)
			return fmt.Errorf("job %d: %w", id, err)
		}
		s.mu.Lock()
		delete(s.endings, id)
		s.mu.Unlock()
		s.opts.Logf("stylist: job %d: its end (%s) is recorded", id, e.State)
	}
	return nil
}

// overlay shows a job as it ended when the database could not record that
// yet.
func (s *Server) overlay(j *Job) *Job {
	s.mu.Lock()
	e, ok := s.endings[j.ID]
	s.mu.Unlock()
	if !ok || j.State.Finished() {
		return j
	}
	c := *j
	c.State, c.Error, c.HasResult = e.State, e.Msg, e.HasResult || j.HasResult
	return &c
}

// noteFull marks the data folder full when err says so, so that the queue
// waits for room instead of failing every waiting job in turn.
func (s *Server) noteFull(err error) {
	if noSpace(err) && !s.full.Swap(true) {
		s.hub.notify()
	}
}

// noSpace reports whether err is a full disk: ENOSPC or EDQUOT from the file
// system, or SQLite's SQLITE_FULL.
func noSpace(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == sqliteFull
}

const sqliteFull = 13 // SQLITE_FULL

// roomProbe is how much a write into the data folder must be able to take
// before the queue goes on after a full disk: room for the next job's
// database writes and first frames, not a promise that the whole job fits.
const roomProbe = 1 << 20

// room checks that the data folder takes a write of roomProbe bytes again.
func (s *Server) room() error {
	path := filepath.Join(s.opts.Data, ".room")
	err := os.WriteFile(path, make([]byte, roomProbe), 0o600)
	if rmErr := os.Remove(path); err == nil && rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		err = rmErr
	}
	return err
}

// fullMessage is a job's error when the data folder filled up under it.
func (s *Server) fullMessage() string {
	return fmt.Sprintf("the data folder %s is full (no space left on device): free some space there, then run the job again; "+
		"the images it saved are kept, and the queue waits until there is room", s.opts.Data)
}

// resumable says why a job cannot go on from where it stopped (nil when it
// can): only a cancelled or interrupted one can, whose last saved image is
// still there (a transfer), with something left to do.
func (s *Server) resumable(j *Job) error {
	if j.State != Canceled && j.State != Interrupted {
		return fmt.Errorf("it is %s; only a cancelled or interrupted job goes on", j.State)
	}
	if j.Effort == EffortInstant {
		return errors.New("it is an instant picture; paint it again from the form")
	}
	if j.Sweep != nil {
		if j.Iteration >= len(j.Sweep.Values) {
			return errors.New("every picture was painted")
		}
		return nil
	}
	if total := s.iterations(j); j.Iteration >= total {
		return fmt.Errorf("all its %d iterations ran", total)
	}
	if j.Iteration > 0 && !fileExists(framePath(s.jobDir(j.ID), j.Iteration-1)) {
		return fmt.Errorf("the image of its iteration %d, to go on from, is gone", j.Iteration)
	}
	return nil
}

// enqueued wakes the workers.
func (s *Server) enqueued() {
	for _, w := range s.wake {
		select {
		case w <- struct{}{}:
		default:
		}
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
		// The pages show the ending meanwhile; the worker records it
		// when the database takes writes again (settle).
		s.noteFull(err)
		s.mu.Lock()
		s.endings[j.ID] = ending{state, msg, hasResult}
		s.mu.Unlock()
		s.opts.Logf("stylist: job %d: recording its end: %v", j.ID, err)
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
	if j.Effort == EffortInstant {
		return s.executeInstant(j)
	}
	cfg, err := s.config(j)
	if err != nil {
		return Failed, err.Error(), false
	}
	// The job decodes the stored files at full size, unlike the upload's
	// check (readImage, which shrinks a JPEG to --max-side while decoding):
	// the painting must be the one `neuralstyle transfer` paints from the
	// same files, whose resize to the run's size (--resample: nearest by
	// default, as the notebook's Pillow) starts from Image.open's full-size
	// pixels. A JPEG shrunk while decoding is another image (libjpeg's scaled
	// DCT averages each 8x8 block where nearest picks one pixel), and its
	// sides, rounded up, can move the shapes --long-side derives. The memory
	// is bounded otherwise: the worker runs one job at a time, on images the
	// upload checked against --max-pixels. (A sweep's points decode as
	// `neuralstyle sweep` does, at full size too.)
	dec := s.decodeOptions(&cfg.Settings)
	content, err := imagefile.ReadFile(cfg.Content, dec)
	if err != nil {
		return Failed, "content image: " + err.Error(), false
	}
	style, err := imagefile.ReadFile(cfg.Style[0], dec) // a job has one style image
	if err != nil {
		return Failed, "style image: " + err.Error(), false
	}
	dir := s.jobDir(j.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if noSpace(err) {
			s.noteFull(err)
			return Failed, s.fullMessage(), false
		}
		return Failed, err.Error(), false
	}
	set := cfg.Settings
	in := transfer.Inputs{Content: content, Style: style}
	if set.Init == transfer.InitStylized && s.opts.FastNets != nil {
		in.Stylizer = s.opts.FastNets
	}
	if net, named := s.netOf(j); named && set.Init == transfer.InitStylized {
		// A refinement of a trained network's picture starts from it.
		if net == nil {
			return Failed, errNetGone(j.Settings[netField]).Error(), false
		}
		in.Stylizer = netStylizer{net.Net}
	}
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
			// The iteration's picture as transfer makes it: its own size
			// (a coarser scale's is smaller), with the colour controls
			// (original colours) applied, as the result is.
			img, err := it.Image()
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
	case noSpace(runErr):
		s.noteFull(runErr)
		return Failed, s.fullMessage(), hasResult
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
