// Package stylist is neuralstyle's web app: a page to upload a content photo
// and a style painting, choose the settings (the form comes from
// settings.Schema), and watch the transfer paint, or run a sweep of one
// setting (package sweep) and look at its contact sheet, with a queue of jobs
// kept in SQLite, results on disk, and a gallery of past results.
//
// Jobs run in the server's process in lanes (effort.go), one at a time in
// each: the feed-forward networks' instant pictures, quick optimisations, and
// the notebook's and sweeps; their progress reaches the page as server-sent
// events. A restart keeps finished
// jobs, runs the queued ones, and resumes a job that was running from the last
// iteration it saved (see resume), or marks it interrupted with that image
// when it cannot go on.
package stylist

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Runner runs one transfer; transfer.Run on a loaded model is the real one.
type Runner func(ctx context.Context, in transfer.Inputs, s transfer.Settings, obs transfer.Observer) (*transfer.Result, error)

// ModelRunner runs transfers on model.
func ModelRunner(model *tfgraph.Model) Runner {
	return func(ctx context.Context, in transfer.Inputs, s transfer.Settings, obs transfer.Observer) (*transfer.Result, error) {
		return transfer.Run(ctx, model, in, s, obs)
	}
}

// Limits bound what one request may ask of the server.
type Limits struct {
	UploadBytes int64 // a whole job request, both images included
	MaxPixels   int64 // pixels of an uploaded image, checked from its header before decoding
	MaxSide     int   // width and height of a transfer
	Iterations  int   // iterations of a transfer
	MaxFun      int   // maxfun of a transfer
	Queued      int   // jobs waiting at once
	SweepPoints int   // pictures of a sweep; 0: DefaultLimits'
	// Decodes and DecodeBytes bound the uploads decoded at once (each is
	// decoded to check it before a job is queued): at most Decodes of them,
	// whose estimated memory (see decodeBytesPerPixel) adds up to at most
	// DecodeBytes; the others wait. 0: DefaultLimits'.
	Decodes     int
	DecodeBytes int64
}

// DefaultLimits suit a single-user machine: uploads up to 32 MiB and 50
// megapixels, transfers up to 1024x1024, 100 iterations of maxfun 100, 100
// jobs waiting, sweeps of up to 12 pictures, two uploads decoded at once
// within 1 GiB (one upload of 50 megapixels is estimated at 600 MB).
func DefaultLimits() Limits {
	return Limits{UploadBytes: 32 << 20, MaxPixels: 50_000_000, MaxSide: 1024, Iterations: 100, MaxFun: 100, Queued: 100, SweepPoints: 12,
		Decodes: 2, DecodeBytes: 1 << 30}
}

// Options configure a Server.
type Options struct {
	Data   string // folder of the database, uploads and results; created if missing
	Runner Runner
	Limits Limits
	// Token, when not empty, is required of every request: once as ?token=
	// (which sets a cookie), or as the cookie, or as "Authorization: Bearer".
	Token string
	// Images is a folder of images the form offers besides uploads (the
	// bundled photos and paintings); "" for none.
	Images string
	// Logf reports the server's events; nil logs to the standard logger.
	Logf func(format string, args ...any)
	// ModelID identifies the model in sweep points' keys (provenance.ModelID), so
	// that a sweep resumed after the model changed runs its points again.
	ModelID string
	// Hosts are the host names, besides loopback's (127.0.0.1, localhost,
	// [::1]), that a request's Host may name when there is no Token: the
	// address the server listens on. Without a token, a request for any other
	// name is refused, so that a page of another site whose name resolves to
	// this machine (DNS rebinding) cannot use the server. An unspecified
	// address (0.0.0.0 or ::) admits any IP address, never a name.
	Hosts []string
	// FastNets, the feed-forward networks of make fastnets, paint the
	// instant picture, the gallery of 26 styles, and the start of a refining
	// optimisation (init stylized). Without them (nil) the page offers the
	// optimisation alone and says why with FastNetsMissing.
	FastNets        FastNets
	FastNetsMissing string
	// Nets are trained networks (neuralstyle train) the gallery offers
	// beside the 26 styles (nets.go), where the server has FastNets.
	Nets []TrainedNet
}

// Server is the web app: an http.Handler plus the queue worker behind it.
type Server struct {
	opts  Options
	store *store
	hub   *hub
	wake  map[string]chan struct{} // by lane: a job was queued

	mu      sync.Mutex
	cancels map[int64]context.CancelFunc // of the running job
	endings map[int64]ending             // job endings the database has not recorded yet (a full disk)
	full    atomic.Bool                  // the data folder ran out of space: the queue waits for room

	bundled []string // file names in Options.Images

	decodes     *decodeBudget // of uploads being decoded
	uploadGrace time.Duration // before a job request's body must keep pace (uploadGrace; tests shorten it)

	gallery *styleGallery // nil without FastNets

	stop    context.CancelFunc
	workers sync.WaitGroup // one for each lane, and the gallery's painter
	handler *handlers
}

// New opens (or creates) the data folder, queues again the jobs a stopped
// server left running (resume), and starts the worker, which runs queued jobs
// oldest first.
func New(opts Options) (*Server, error) {
	if opts.Runner == nil {
		return nil, errors.New("stylist: no runner")
	}
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits()
	}
	if opts.Limits.SweepPoints == 0 {
		opts.Limits.SweepPoints = DefaultLimits().SweepPoints
	}
	if opts.Limits.Decodes == 0 {
		opts.Limits.Decodes = DefaultLimits().Decodes
	}
	if opts.Limits.DecodeBytes == 0 {
		opts.Limits.DecodeBytes = DefaultLimits().DecodeBytes
	}
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	for _, dir := range []string{opts.Data, filepath.Join(opts.Data, "uploads"), filepath.Join(opts.Data, "jobs")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("stylist: data folder: %w; choose another data folder, or one this user can write", err)
		}
	}
	if err := writable(opts.Data); err != nil {
		return nil, err
	}
	st, err := openStore(filepath.Join(opts.Data, "stylist.db"))
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{
		opts: opts, store: st, hub: newHub(), wake: map[string]chan struct{}{},
		cancels: map[int64]context.CancelFunc{}, endings: map[int64]ending{}, decodes: newDecodeBudget(opts.Limits.Decodes, opts.Limits.DecodeBytes), uploadGrace: uploadGrace, stop: stop,
	}
	for _, l := range lanes {
		s.wake[l] = make(chan struct{}, 1)
	}
	if opts.FastNets == nil && opts.FastNetsMissing == "" {
		s.opts.FastNetsMissing = "build them with make fastnets and start the server again"
	}
	if opts.Images != "" {
		if s.bundled, err = listImages(opts.Images); err != nil {
			st.close()
			return nil, err
		}
	}
	h, err := newHandlers(s)
	if err != nil {
		st.close()
		return nil, err
	}
	s.handler = h
	left, err := st.running()
	if err != nil {
		st.close()
		return nil, fmt.Errorf("stylist: %w", err)
	}
	for _, j := range left {
		if err := s.resume(j, true); err != nil {
			st.close()
			return nil, fmt.Errorf("stylist: job %d: %w", j.ID, err)
		}
	}
	if opts.FastNets != nil {
		s.gallery = &styleGallery{ready: make(chan struct{})}
		s.workers.Add(1)
		go func() {
			defer s.workers.Done()
			s.paintGallery(ctx)
		}()
	}
	for _, l := range lanes {
		s.workers.Add(1)
		go func() {
			defer s.workers.Done()
			s.work(ctx, l)
		}()
	}
	return s, nil
}

// Close stops the worker (a running job goes back to the queue, to resume from
// its last saved iteration when a server opens the data again) and closes the
// database.
func (s *Server) Close() error {
	s.stop()
	s.workers.Wait()
	return s.store.close()
}

// resume decides what becomes of a job whose server stopped while it ran,
// after a Close (crashed false) or a crash (crashed true: the database still
// says running). It goes back to the queue, first in line, to go on from its
// last saved iteration, unless it cannot: every iteration ran (only the
// result was not recorded), its last image is gone, or it crashed the server
// before saving a new iteration since the last time it resumed (a job that
// kills the server would kill it on every start). Those are marked interrupted,
// keeping the image they saved.
func (s *Server) resume(j *Job, crashed bool) error {
	if j.Effort == EffortInstant {
		// An instant picture takes a second: it is painted again.
		s.opts.Logf("stylist: job %d was running when the server stopped: queued to paint again", j.ID)
		return s.store.requeue(j.ID, j.Resumes)
	}
	total := s.iterations(j)
	if j.Sweep != nil {
		// Package sweep skips the points finished before; the last point's
		// image is in its record, not in a frame.
		total = len(j.Sweep.Values)
	}
	why := ""
	switch last := len(j.Resumes) - 1; {
	case j.Sweep == nil && j.Iteration >= total:
		why = "the server stopped as this job finished its last iteration; the image shown is that iteration's"
	case j.Sweep == nil && j.Iteration > 0 && !fileExists(framePath(s.jobDir(j.ID), j.Iteration-1)):
		why = fmt.Sprintf("the server stopped while this job ran, and the image of its iteration %d, to resume from, is gone", j.Iteration)
	case crashed && last >= 0 && j.Resumes[last] == j.Iteration:
		why = fmt.Sprintf("the server stopped twice while this job ran, without a new iteration saved in between (at %d of %d); it was not resumed again", j.Iteration, total)
	}
	if why != "" {
		s.opts.Logf("stylist: job %d was running when the server stopped: marked interrupted", j.ID)
		return s.store.finish(j.ID, Interrupted, why, j.Iteration > 0)
	}
	resumes := j.Resumes
	if last := len(resumes) - 1; last < 0 || resumes[last] != j.Iteration {
		resumes = append(resumes, j.Iteration)
	}
	s.opts.Logf("stylist: job %d was running when the server stopped: queued to resume after iteration %d of %d", j.ID, j.Iteration, total)
	return s.store.requeue(j.ID, resumes)
}

// writable checks that the server can write in the data folder, which
// SQLite would otherwise report as "unable to open database file (14)".
func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".writable-*")
	if err != nil {
		why := err
		var pe *os.PathError
		if errors.As(err, &pe) {
			why = pe.Err
		}
		return fmt.Errorf("stylist: the data folder %s is not writable (%v): the server keeps its jobs, uploads and results there; "+
			"make it writable, or choose another data folder", dir, why)
	}
	f.Close()
	return os.Remove(f.Name())
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (s *Server) jobDir(id int64) string {
	return filepath.Join(s.opts.Data, "jobs", fmt.Sprint(id))
}

func (s *Server) uploadPath(name string) string {
	return filepath.Join(s.opts.Data, "uploads", name)
}

// config rebuilds a job's transfer config from its stored settings and images.
func (s *Server) config(j *Job) (transfer.Config, error) {
	c, err := s.instantConfig(j)
	if err != nil {
		return c, err
	}
	c.Content, c.Style = s.uploadPath(j.Content), []string{s.uploadPath(j.Style)}
	return c, c.Validate()
}

// iterations is the number of outer iterations a transfer job runs over all
// its scales (--scales), as its progress counts them.
func (s *Server) iterations(j *Job) int {
	// Stored settings were checked when queued; a config that no longer
	// validates still has its iterations and scales parsed.
	c, _ := s.config(j)
	return c.TotalIterations()
}

// decodeOptions are the settings' with the server's pixel limit.
func (s *Server) decodeOptions(settings *transfer.Settings) *imagefile.DecodeOptions {
	o := settings.DecodeOptions()
	o.MaxPixels = s.opts.Limits.MaxPixels
	return o
}

// listImages lists the image files directly in dir, by name.
func listImages(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("stylist: images: %w", err)
	}
	var names []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp":
			if e.Type().IsRegular() {
				names = append(names, e.Name())
			}
		}
	}
	return names, nil
}
