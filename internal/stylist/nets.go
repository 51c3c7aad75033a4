package stylist

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/neuralstyle/neuralstyle/atomicfile"
	"github.com/neuralstyle/neuralstyle/internal/train"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// The gallery offers, beside the 26 styles, the networks neuralstyle train
// wrote (serve --nets DIR, one subfolder each): a job painted by one is an
// instant picture, and refining it optimises towards the painting the
// network learned, starting from the network's picture.

// NetPainter paints a photo in the one style a trained network learned, at
// the photo's size; *train.Network is one. Its method may be called from
// several goroutines at once.
type NetPainter interface {
	Stylize(photo *preprocess.Image) (*preprocess.Image, error)
}

// TrainedNet is a trained network as the gallery offers it, made by
// NewTrainedNet or OpenNets (which paint its thumbnail).
type TrainedNet struct {
	Name string // its folder's name: the gallery's label, the job's setting
	Net  NetPainter
	// Painting is the file of the painting the network learned, which
	// refining its picture optimises towards; "" when it is not at hand,
	// and NoRefine says why.
	Painting, NoRefine string
	thumb              []byte // the gallery photo painted by Net, PNG
}

// netField is the job setting, and netPrefix the form's value in the
// gallery's field (galleryField), of a trained network.
const (
	netField  = "trained-net"
	netPrefix = "net:"
)

// netName is a name the gallery takes: it goes into addresses and the form.
var netName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// NewTrainedNet offers net in the gallery as name, with the painting it
// learned (a file; "" and why not, noRefine, when there is none). It paints
// its thumbnail, the gallery photo, which shows that the network paints.
func NewTrainedNet(name string, net NetPainter, painting, noRefine string) (TrainedNet, error) {
	n := TrainedNet{Name: name, Net: net, Painting: painting, NoRefine: noRefine}
	if !netName.MatchString(name) {
		return n, fmt.Errorf("the name %q: want letters, digits, '.', '_' and '-' (at most 64, a letter or digit first)", name)
	}
	if painting == "" && noRefine == "" {
		n.NoRefine = "the painting it learned is not known"
	}
	photo, err := imagefile.Decode(bytes.NewReader(galleryPhotoJPEG), "gallery-photo.jpg", nil)
	if err != nil {
		return n, err
	}
	img, err := net.Stylize(photo)
	if err == nil && (img.Width != photo.Width || img.Height != photo.Height) {
		err = fmt.Errorf("painted %dx%d from a %dx%d photo", img.Width, img.Height, photo.Width, photo.Height)
	}
	if err != nil {
		return n, fmt.Errorf("painting the gallery photo: %w", err)
	}
	var b bytes.Buffer
	if err := imagefile.EncodePNG(&b, img); err != nil {
		return n, err
	}
	n.thumb = b.Bytes()
	return n, nil
}

// CheckNetsDir checks that dir, the folder of trained networks, can be
// listed, before any network loads.
func CheckNetsDir(dir string) error {
	if _, err := os.ReadDir(dir); err != nil {
		return fmt.Errorf("stylist: the trained networks' folder: %w", err)
	}
	return nil
}

// OpenNets loads the networks that neuralstyle train wrote in dir's
// subfolders, in the order of their names. A subfolder that is not one, or
// whose network does not load or paint, is skipped and logf says why; the
// others are offered. close closes those loaded.
func OpenNets(dir string, opts *tfgraph.Options, logf func(format string, args ...any)) (nets []TrainedNet, close func(), err error) {
	var opened []*train.Network
	close = func() {
		for _, n := range opened {
			n.Close()
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, close, fmt.Errorf("stylist: the trained networks' folder: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.IsDir() {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		n, net, err := openNet(sub, opts)
		if err != nil {
			if net != nil {
				net.Close()
			}
			logf("stylist: trained network %s skipped: %v", sub, err)
			continue
		}
		opened = append(opened, net)
		nets = append(nets, n)
	}
	return nets, close, nil
}

// openNet loads one trained network and offers it, named by its folder.
func openNet(dir string, opts *tfgraph.Options) (TrainedNet, *train.Network, error) {
	name := filepath.Base(dir)
	if !netName.MatchString(name) {
		return TrainedNet{}, nil, fmt.Errorf("the folder's name %q: want letters, digits, '.', '_' and '-' (at most 64, a letter or digit first)", name)
	}
	if !train.IsNet(dir) {
		return TrainedNet{}, nil, fmt.Errorf("not a network neuralstyle train wrote (no %s)", train.NetFile)
	}
	net, rec, err := train.OpenNet(dir, opts)
	if err != nil {
		return TrainedNet{}, nil, err
	}
	painting, why := learnedPainting(rec.Style)
	n, err := NewTrainedNet(name, net, painting, why)
	return n, net, err
}

// learnedPainting finds the painting a network learned: the file train
// recorded (a relative path from the server's folder), if it still has the
// SHA-256 recorded; else "" and why not.
func learnedPainting(src train.Source) (path, why string) {
	if src.Path == "" {
		return "", "its record names no painting"
	}
	data, err := os.ReadFile(src.Path)
	if err != nil {
		return "", fmt.Sprintf("the painting it learned, %s, is not at hand", filepath.Base(src.Path))
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != src.SHA256 {
		return "", fmt.Sprintf("the painting it learned, %s, has changed since", filepath.Base(src.Path))
	}
	return src.Path, ""
}

// netOf is the trained network job j paints with (nil for none), and
// whether j names one at all.
func (s *Server) netOf(j *Job) (*TrainedNet, bool) {
	name := j.Settings[netField]
	if name == "" {
		return nil, false
	}
	i := slices.IndexFunc(s.opts.Nets, func(n TrainedNet) bool { return n.Name == name })
	if i < 0 {
		return nil, true
	}
	return &s.opts.Nets[i], true
}

// netNames are the names of the gallery's trained networks.
func (s *Server) netNames() []string {
	var names []string
	for _, n := range s.opts.Nets {
		names = append(names, n.Name)
	}
	return names
}

// errNetGone is a job's trained network that this server has not loaded.
func errNetGone(name string) error {
	return fmt.Errorf("the trained network %q is not loaded on this server (serve --nets)", name)
}

// storePainting puts the network's painting among the uploads (named by its
// SHA-256, as an upload is), for a refining job's style image.
func (s *Server) storePainting(n *TrainedNet) (string, error) {
	if n.Painting == "" {
		return "", errors.New(n.NoRefine)
	}
	data, err := os.ReadFile(n.Painting)
	if err != nil {
		return "", fmt.Errorf("the painting it learned: %w", err)
	}
	if _, err := imagefile.Decode(bytes.NewReader(data), n.Painting, &imagefile.DecodeOptions{MaxPixels: s.opts.Limits.MaxPixels}); err != nil {
		return "", fmt.Errorf("the painting it learned: %w", err)
	}
	sum := sha256.Sum256(data)
	name := hex.EncodeToString(sum[:])
	if fileExists(s.uploadPath(name)) {
		return name, nil
	}
	if err := atomicfile.Write(s.uploadPath(name), func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		s.noteFull(err)
		return "", err
	}
	return name, nil
}

// netStylizer paints an optimisation's start (init stylized) with a trained
// network: the painting is the one it learned, so it is not read.
type netStylizer struct{ net NetPainter }

var _ transfer.Stylizer = netStylizer{}

func (n netStylizer) Stylize(content, _ *preprocess.Image, _ resample.Filter) (*preprocess.Image, error) {
	return n.net.Stylize(content)
}
