package stylist

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// TestFramesAreIterationImages: a job's frames are the iterations' pictures as
// transfer makes them (Iteration.Image, which applies original colours), not
// X deprocessed again without the colour step.
func TestFramesAreIterationImages(t *testing.T) {
	const level = 200
	run := func(_ context.Context, _ transfer.Inputs, s transfer.Settings, obs transfer.Observer) (*transfer.Result, error) {
		pic := preprocess.NewImage(s.Width, s.Height)
		for i := range pic.Pix {
			pic.Pix[i] = level
		}
		// X deprocesses to another picture (the mean pixel's colour).
		it := iteration(0, make([]float64, s.Width*s.Height*3), s)
		it.Image = func() (*preprocess.Image, error) { return pic, nil }
		if err := obs.Done(it); err != nil {
			return nil, err
		}
		return &transfer.Result{Image: pic}, nil
	}
	s, ts := newServer(t, t.TempDir(), run)
	id := submitOK(t, ts, tiny("32x32"), images(t)...)
	waitState(t, s, id, Done)
	frame, err := imagefile.ReadFile(framePath(s.jobDir(id), 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range frame.Pix {
		if v != level {
			t.Fatalf("frame 0: byte %d is %d, want the iteration's picture's %d", i, v, level)
		}
	}
	if _, err := imagefile.ReadFile(filepath.Join(s.jobDir(id), "result.png"), nil); err != nil {
		t.Fatal(err)
	}
}
