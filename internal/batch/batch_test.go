package batch

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/outputs"
	"github.com/neuralstyle/neuralstyle/internal/sweep"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// writeImage writes a 16x16 PNG of one grey level.
func writeImage(t *testing.T, path string, level uint8) {
	t.Helper()
	img := preprocess.NewImage(16, 16)
	for i := range img.Pix {
		img.Pix[i] = level
	}
	if err := imagefile.WritePNG(path, img); err != nil {
		t.Fatal(err)
	}
}

func TestNames(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	photo := filepath.Join(dir, "photo.png")
	writeImage(t, photo, 1)
	for _, tc := range []struct {
		name   string
		photos []string
		dir    string
		want   string // "" for no error
	}{
		{"two photos", []string{"a/x.jpg", "b/y.png"}, out, ""},
		{"one name", []string{"a/x.jpg", "b/X.png"}, out, "would both write " + filepath.Join(out, "X.png")},
		{"the sheet", []string{"a/Sheet.jpg"}, out, "would overwrite the batch's sheet.png"},
		{"the photo itself", []string{photo}, dir, "would replace it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names, err := Names(tc.photos, tc.dir)
			if tc.want == "" {
				if err != nil || len(names) != len(tc.photos) {
					t.Fatalf("Names: %v, %v", names, err)
				}
				if got := names["a/x.jpg"]; got != filepath.Join(out, "x.png") {
					t.Errorf("a/x.jpg writes %s", got)
				}
				return
			}
			var ne *outputs.NameError
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &ne) {
				t.Fatalf("Names: %v, want a NameError with %q", err, tc.want)
			}
		})
	}
}

// TestRun: each finished photo's result is copied to its name, photos of the
// same bytes share one result, and Publish restores a name's file.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	a, b, same := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png"), filepath.Join(dir, "same.png")
	writeImage(t, a, 10)
	writeImage(t, b, 200)
	writeImage(t, same, 10)
	style := filepath.Join(dir, "style.png")
	writeImage(t, style, 90)
	cfg := transfer.DefaultConfig()
	cfg.Style = []string{style}
	b1, err := New(&cfg, []string{a, b, same}, out, "model-id")
	if err != nil {
		t.Fatal(err)
	}
	if len(b1.Plan.Points) != 3 || b1.Plan.Points[0].Key != b1.Plan.Points[2].Key {
		t.Fatalf("points %+v: want 3, the first and last of one key", b1.Plan.Points)
	}
	ran := 0
	rep, err := b1.Run(context.Background(), nil, sweep.Options{
		Transfer: func(_ context.Context, in transfer.Inputs, _ transfer.Settings, _ transfer.Observer) (*transfer.Result, error) {
			ran++
			return &transfer.Result{Image: in.Content}, nil
		}})
	if err != nil || rep.Publish != nil || len(rep.Failed) > 0 {
		t.Fatalf("Run: %v, %+v", err, rep)
	}
	if ran != 2 {
		t.Errorf("%d transfers ran, want 2 (a and same share a key)", ran)
	}
	for photo, name := range map[string]string{a: "a.png", b: "b.png", same: "same.png"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(sweep.PointImage(out, b1.Plan.Points[map[string]int{a: 0, b: 1, same: 2}[photo]].Key))
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not the result of %s", name, photo)
		}
	}
	if err := os.WriteFile(filepath.Join(out, "b.png"), []byte("another run's"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := b1.Publish(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(out, "b.png"))
	want, _ := os.ReadFile(sweep.PointImage(out, b1.Plan.Points[1].Key))
	if !bytes.Equal(got, want) {
		t.Error("Publish left b.png as another run wrote it")
	}
}
