package fastnet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// Photo is one photo of a batch (batch --method stylize): read from In,
// painted to Out (PNG).
type Photo struct{ In, Out string }

// Batch are the settings of a batch through the 26-style network, or
// through any network that paints one photo (Paint).
type Batch struct {
	Styles Styles
	// Paint, when not nil, paints a photo in place of the 26-style network
	// in Styles (a network of neuralstyle train: RunBatch runs it alone).
	Paint func(photo *preprocess.Image) (*preprocess.Image, error)
	// Prepare turns a photo's file into the image to paint (decoding, EXIF,
	// resizing); Finish, when not nil, turns the painting into the result
	// (original colours, strength).
	Prepare func(path string) (*preprocess.Image, error)
	Finish  func(photo, painted *preprocess.Image) (*preprocess.Image, error)
	// Done, when not nil, is called after each photo is written.
	Done func(i, n int, p Photo, elapsed time.Duration)
}

// RunBatch paints each photo whose Out does not exist yet, in order, writing
// it when done (a rerun skips the finished ones), and returns how many it
// painted. A photo that fails is reported and the others are done; the error
// joins every failure. Cancelling ctx stops it between photos.
func (m *Model) RunBatch(ctx context.Context, photos []Photo, b Batch) (int, error) {
	if b.Paint == nil {
		b.Paint = func(photo *preprocess.Image) (*preprocess.Image, error) { return m.Multistyle(photo, b.Styles) }
	}
	return RunBatch(ctx, photos, b)
}

// RunBatch is Model.RunBatch with b.Paint's network, which must be set.
func RunBatch(ctx context.Context, photos []Photo, b Batch) (int, error) {
	if b.Paint == nil {
		return 0, errors.New("fastnet: a batch without a network to paint with")
	}
	var errs []error
	ran := 0
	for i, p := range photos {
		if _, err := os.Stat(p.Out); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("photo %s: %w", p.In, err))
			continue
		}
		if err := ctx.Err(); err != nil {
			return ran, errors.Join(append(errs, err)...)
		}
		start := time.Now()
		if err := paintFile(p, b); err != nil {
			errs = append(errs, fmt.Errorf("photo %s: %w", p.In, err))
			continue
		}
		ran++
		if b.Done != nil {
			b.Done(i+1, len(photos), p, time.Since(start))
		}
	}
	return ran, errors.Join(errs...)
}

func paintFile(p Photo, b Batch) error {
	photo, err := b.Prepare(p.In)
	if err != nil {
		return err
	}
	out, err := b.Paint(photo)
	if err != nil {
		return err
	}
	if b.Finish != nil {
		if out, err = b.Finish(photo, out); err != nil {
			return err
		}
	}
	return imagefile.WritePNG(p.Out, out)
}
