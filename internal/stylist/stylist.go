// Package stylist is neuralstyle's web app: a page to upload a content photo
// and a style painting, choose the settings (the form comes from
// transfer.Schema), and watch the transfer paint, with a queue of jobs kept in
// SQLite, results on disk, and a gallery of past results.
//
// Jobs run in the server's process, one at a time per loaded model, and their
// progress reaches the page as server-sent events. A restart keeps finished
// jobs, runs the queued ones, and marks a job that was running as interrupted
// with the last image it saved.
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
}

// DefaultLimits suit a single-user machine: uploads up to 32 MiB and 50
// megapixels, transfers up to 1024x1024, 100 iterations of maxfun 100, 100
// jobs waiting.
func DefaultLimits() Limits {
	return Limits{UploadBytes: 32 << 20, MaxPixels: 50_000_000, MaxSide: 1024, Iterations: 100, MaxFun: 100, Queued: 100}
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
}

// Server is the web app: an http.Handler plus the queue worker behind it.
type Server struct {
	opts  Options
	store *store
	hub   *hub
	wake  chan struct{} // a job was queued

	mu      sync.Mutex
	cancels map[int64]context.CancelFunc // of the running job

	bundled []string // file names in Options.Images

	stop    context.CancelFunc
	stopped chan struct{}
	handler *handlers
}

// New opens (or creates) the data folder, marks jobs a stopped server left
// running as interrupted, and starts the worker, which runs queued jobs
// oldest first.
func New(opts Options) (*Server, error) {
	if opts.Runner == nil {
		return nil, errors.New("stylist: no runner")
	}
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits()
	}
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	for _, dir := range []string{opts.Data, filepath.Join(opts.Data, "uploads"), filepath.Join(opts.Data, "jobs")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("stylist: data folder: %w", err)
		}
	}
	st, err := openStore(filepath.Join(opts.Data, "stylist.db"))
	if err != nil {
		return nil, err
	}
	ids, err := st.interruptRunning()
	if err != nil {
		st.close()
		return nil, fmt.Errorf("stylist: %w", err)
	}
	for _, id := range ids {
		opts.Logf("stylist: job %d was running when the server stopped: marked interrupted", id)
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{
		opts: opts, store: st, hub: newHub(), wake: make(chan struct{}, 1),
		cancels: map[int64]context.CancelFunc{}, stop: stop, stopped: make(chan struct{}),
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
	go s.work(ctx)
	return s, nil
}

// Close stops the worker (a running job ends as interrupted, keeping its last
// image) and closes the database.
func (s *Server) Close() error {
	s.stop()
	<-s.stopped
	return s.store.close()
}

func (s *Server) jobDir(id int64) string {
	return filepath.Join(s.opts.Data, "jobs", fmt.Sprint(id))
}

func (s *Server) uploadPath(name string) string {
	return filepath.Join(s.opts.Data, "uploads", name)
}

// config rebuilds a job's transfer config from its stored settings.
func (s *Server) config(j *Job) (transfer.Config, error) {
	c := transfer.DefaultConfig()
	for i := range transfer.Schema {
		set := &transfer.Schema[i]
		text, ok := j.Settings[set.Name]
		if !ok || set.Kind == transfer.KindFile {
			continue
		}
		if err := set.Set(&c, text); err != nil {
			return c, err
		}
	}
	c.Content, c.Style = s.uploadPath(j.Content), s.uploadPath(j.Style)
	return c, c.Validate()
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
