package stylist

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
)

// FastNets are the pretrained feed-forward networks of make fastnets
// (package fastnet), which paint the instant picture, the gallery of the 26
// styles, and the start of an optimisation that refines the instant picture
// (transfer's init stylized); *fastnet.Model is the real one. Its methods may
// be called from several goroutines at once, as a TensorFlow session may.
type FastNets interface {
	// Multistyle paints img in a blend of the 26 styles, at img's size.
	Multistyle(img *preprocess.Image, s fastnet.Styles) (*preprocess.Image, error)
	// Stylize paints content in the manner of painting with the arbitrary
	// network, at content's size (transfer.Stylizer).
	Stylize(content, painting *preprocess.Image, f resample.Filter) (*preprocess.Image, error)
}

// Preview states of a job (Job.Preview); any other text is why painting it
// failed.
const (
	PreviewWanted = "wanted"
	PreviewDone   = "done"
)

const (
	previewFile = "preview.png"
	resultFile  = "result.png"
)

//go:embed static/gallery-photo.jpg
var galleryPhotoJPEG []byte

// styleGallery holds the 26 styles' thumbnails: the gallery photo painted in
// each, as PNGs, painted once when the server starts.
type styleGallery struct {
	ready  chan struct{} // closed when thumbs or err is set
	thumbs [fastnet.NumStyles][]byte
	err    error
}

// paintGallery paints the thumbnails; it is also the networks' warm-up, so
// that the first instant picture does not pay TensorFlow's one-time graph
// optimisation (0.4 s for the 26-style network, 1.2 s for the arbitrary one).
func (s *Server) paintGallery(ctx context.Context) {
	g := s.gallery
	defer close(g.ready)
	start := time.Now()
	photo, err := imagefile.Decode(bytes.NewReader(galleryPhotoJPEG), "gallery-photo.jpg", nil)
	if err != nil {
		g.err = err
		return
	}
	for i := range fastnet.NumStyles {
		if ctx.Err() != nil {
			g.err = ctx.Err()
			return
		}
		var st fastnet.Styles
		st[i] = 1
		img, err := s.opts.FastNets.Multistyle(photo, st)
		if err == nil {
			var b bytes.Buffer
			if err = imagefile.EncodePNG(&b, img); err == nil {
				g.thumbs[i] = b.Bytes()
			}
		}
		if err != nil {
			g.err = fmt.Errorf("style %d: %w", i, err)
			s.opts.Logf("stylist: the gallery of styles: %v", g.err)
			return
		}
	}
	if _, err := s.opts.FastNets.Stylize(photo, photo, resample.Bicubic); err != nil {
		s.opts.Logf("stylist: warming up the arbitrary network: %v", err)
	}
	s.opts.Logf("stylist: the gallery of %d styles painted in %.1f s", fastnet.NumStyles, time.Since(start).Seconds())
}

// thumb returns style n's thumbnail, waiting for the gallery to be painted.
func (s *Server) thumb(ctx context.Context, n int) ([]byte, error) {
	if s.gallery == nil {
		return nil, fmt.Errorf("this server has no feed-forward networks: %s", s.opts.FastNetsMissing)
	}
	select {
	case <-s.gallery.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if s.gallery.err != nil {
		return nil, s.gallery.err
	}
	return s.gallery.thumbs[n], nil
}

// instantConfig is a job's settings without its images: an instant job with
// a style of the gallery has no painting, which config would refuse.
func (s *Server) instantConfig(j *Job) (transfer.Config, error) {
	c := transfer.DefaultConfig()
	for i := range settings.Schema {
		set := &settings.Schema[i]
		text, ok := j.Settings[set.Name]
		if !ok || set.Kind == settings.KindFile {
			continue
		}
		if err := set.Set(&c, text); err != nil {
			return c, err
		}
	}
	return c, nil
}

// galleryStyle is the style of the gallery a job paints in, or -1 when it
// paints in the manner of its painting.
func galleryStyle(j *Job) int {
	if n, err := strconv.Atoi(j.Settings[galleryField]); err == nil {
		return n
	}
	return -1
}

// paintInstant paints a job's instant picture: the photo at the job's size
// (its size, or its long side), resized as the optimisation resizes it, in
// the gallery's style by the 26-style network or a trained one, or in the
// manner of its painting by the arbitrary network. The latter is the picture an
// optimisation with init stylized starts from, the same pixels where no
// colour control changes the images.
func (s *Server) paintInstant(j *Job) (*preprocess.Image, error) {
	if s.opts.FastNets == nil {
		return nil, fmt.Errorf("this server has no feed-forward networks: %s", s.opts.FastNetsMissing)
	}
	cfg, err := s.instantConfig(j)
	if err != nil {
		return nil, err
	}
	dec := s.decodeOptions(&cfg.Settings)
	content, err := imagefile.ReadFile(s.uploadPath(j.Content), dec)
	if err != nil {
		return nil, fmt.Errorf("content image: %w", err)
	}
	w, h := cfg.Width, cfg.Height
	if cfg.LongSide > 0 {
		if w, h, err = resample.FitLongestSide(content.Width, content.Height, cfg.LongSide); err != nil {
			return nil, fmt.Errorf("content image: %w", err)
		}
	}
	if content, err = resample.Resize(content, w, h, cfg.Resample); err != nil {
		return nil, fmt.Errorf("content image: %w", err)
	}
	if net, named := s.netOf(j); named {
		if net == nil {
			return nil, errNetGone(j.Settings[netField])
		}
		return net.Net.Stylize(content)
	}
	if n := galleryStyle(j); n >= 0 {
		var st fastnet.Styles
		st[n] = 1
		return s.opts.FastNets.Multistyle(content, st)
	}
	painting, err := imagefile.ReadFile(s.uploadPath(j.Style), dec)
	if err != nil {
		return nil, fmt.Errorf("style image: %w", err)
	}
	return s.opts.FastNets.Stylize(content, painting, cfg.Resample)
}

// executeInstant runs an instant job: its picture is its result.
func (s *Server) executeInstant(j *Job) (State, string, bool) {
	img, err := s.paintInstant(j)
	if err != nil {
		return Failed, err.Error(), false
	}
	dir := s.jobDir(j.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return s.writeFailed(err)
	}
	if err := imagefile.WritePNG(filepath.Join(dir, resultFile), img); err != nil {
		return s.writeFailed(err)
	}
	return Done, "", true
}

// writeFailed is the ending of a job that could not write its images.
func (s *Server) writeFailed(err error) (State, string, bool) {
	if noSpace(err) {
		s.noteFull(err)
		return Failed, s.fullMessage(), false
	}
	return Failed, err.Error(), false
}

// paintPreview paints the instant picture of an optimisation job, shown on
// its page until its first iteration, and records how that went.
func (s *Server) paintPreview(j *Job) error {
	start := time.Now()
	state := PreviewDone
	img, err := s.paintInstant(j)
	if err == nil {
		dir := s.jobDir(j.ID)
		if err = os.MkdirAll(dir, 0o755); err == nil {
			err = imagefile.WritePNG(filepath.Join(dir, previewFile), img)
		}
	}
	if err != nil {
		s.noteFull(err)
		state = "the instant picture failed: " + err.Error()
		s.opts.Logf("stylist: job %d: %s", j.ID, state)
	} else {
		s.opts.Logf("stylist: job %d: instant picture painted in %.2f s", j.ID, time.Since(start).Seconds())
	}
	if err := s.store.setPreview(j.ID, state); err != nil {
		s.noteFull(err)
		return err
	}
	s.hub.notify()
	return nil
}

// copyPreview gives a refining job the picture it refines (its parent's
// result) as its preview, so that its page shows it at once.
func (s *Server) copyPreview(from, to int64) error {
	b, err := os.ReadFile(filepath.Join(s.jobDir(from), resultFile))
	if err != nil {
		return err
	}
	dir := s.jobDir(to)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, previewFile), b, 0o644)
}
