package fastnet

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// TestRunBatchPaint: a batch with its own network (Paint) paints the photos
// missing from the folder with it, skips those there before, reports a photo
// that fails and goes on; without a network it refuses.
func TestRunBatchPaint(t *testing.T) {
	dir := t.TempDir()
	var photos []Photo
	for _, name := range []string{"a", "b", "c"} {
		photos = append(photos, Photo{In: name, Out: filepath.Join(dir, name+".png")})
	}
	before := preprocess.NewImage(4, 4)
	if err := imagefile.WritePNG(photos[1].Out, before); err != nil {
		t.Fatal(err)
	}
	painted := 0
	b := Batch{
		Prepare: func(path string) (*preprocess.Image, error) {
			if path == "c" {
				return nil, os.ErrInvalid
			}
			return preprocess.NewImage(5, 3), nil
		},
		Paint: func(photo *preprocess.Image) (*preprocess.Image, error) {
			painted++
			out := preprocess.NewImage(photo.Width, photo.Height)
			for i := range out.Pix {
				out.Pix[i] = 200
			}
			return out, nil
		},
	}
	ran, err := RunBatch(context.Background(), photos, b)
	if ran != 1 || painted != 1 || err == nil || !strings.Contains(err.Error(), "photo c") {
		t.Errorf("ran %d, painted %d, error %v; want a, b there before, c's failure", ran, painted, err)
	}
	img, err := imagefile.ReadFile(photos[0].Out, nil)
	if err != nil || img.Width != 5 || img.Pix[0] != 200 {
		t.Errorf("a.png: %v %v; want the network's 5x3 picture", img, err)
	}
	b.Paint = nil
	if _, err := RunBatch(context.Background(), photos, b); err == nil {
		t.Error("a batch without a network ran")
	}
}
