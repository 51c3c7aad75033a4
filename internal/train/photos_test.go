package train

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

func TestScanPhotos(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, w, h int) {
		if err := imagefile.WritePNG(filepath.Join(dir, name), synthPhoto(w, h, 1)); err != nil {
			t.Fatal(err)
		}
	}
	write("b.png", 40, 50)
	write("a.png", 64, 32)
	write("small.png", 31, 80)
	write(".hidden.png", 64, 64)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a photo"), 0o644)
	os.WriteFile(filepath.Join(dir, "cut.png"), []byte("\x89PNG\r\n\x1a\n\x00\x00"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	p, err := ScanPhotos(dir, 32)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Names, []string{"a.png", "b.png"}) {
		t.Errorf("usable %v, want a.png, b.png", p.Names)
	}
	var skipped []string
	for _, s := range p.Skipped {
		skipped = append(skipped, s.Name)
	}
	slices.Sort(skipped)
	if !slices.Equal(skipped, []string{"cut.png", "notes.txt", "small.png"}) {
		t.Errorf("skipped %v, want cut.png, notes.txt, small.png", p.Skipped)
	}
	for _, s := range p.Skipped {
		if s.Name == "small.png" && !strings.Contains(s.Reason, "31x80 is smaller than the 32x32 crop") {
			t.Errorf("small.png skipped for %q", s.Reason)
		}
	}
	before := p.Source()
	p.HoldOut("a.png")
	if slices.Equal(p.Names, []string{"a.png"}) || p.Source().SHA256 == before.SHA256 || p.Source().Count != 1 {
		t.Errorf("after HoldOut: %v, source %+v", p.Names, p.Source())
	}
}

func TestScanPhotosErrors(t *testing.T) {
	empty := t.TempDir()
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "x.jpg"), []byte("garbage"), 0o644)
	file := filepath.Join(t.TempDir(), "file.png")
	os.WriteFile(file, []byte("x"), 0o644)
	cases := []struct{ name, dir, want string }{
		{"empty folder", empty, "no usable photo in " + empty + ": it has no files"},
		{"only bad files", bad, "all 1 files were skipped (first: x.jpg"},
		{"missing folder", filepath.Join(empty, "none"), "no such file or directory"},
		{"a file, not a folder", file, "not a directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ScanPhotos(tc.dir, 32)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestBatcher: a step's crops depend on the seed and the step only, and come
// from the scaled photo.
func TestBatcher(t *testing.T) {
	dir := photoDir(t, 6)
	p, err := ScanPhotos(dir, 32)
	if err != nil {
		t.Fatal(err)
	}
	fill := func(seed uint64, step int) ([]string, []float32) {
		images := tfgraph.NewTensor(3, 32, 32, 3)
		names, err := NewBatcher(p, 32, seed, resample.Lanczos).Fill(step, images)
		if err != nil {
			t.Fatal(err)
		}
		return names, images.Data
	}
	n1, a := fill(1, 5)
	n2, b := fill(1, 5)
	_, c := fill(1, 6)
	_, d := fill(2, 5)
	if !slices.Equal(n1, n2) || !slices.Equal(a, b) {
		t.Error("the same seed and step gave different crops")
	}
	if slices.Equal(a, c) || slices.Equal(a, d) {
		t.Error("another step or seed gave the same crops")
	}
	for _, v := range a {
		if v < 0 || v > 1 {
			t.Fatalf("pixel %v outside 0..1", v)
		}
	}
	if _, err := NewBatcher(p, 32, 1, resample.Lanczos).Fill(0, tfgraph.NewTensor(1, 16, 16, 3)); err == nil {
		t.Error("a tensor of the wrong crop size was filled")
	}
}

func TestScaleToCrop(t *testing.T) {
	for _, tc := range []struct{ w, h, crop, ww, wh int }{
		{100, 50, 32, 64, 32}, {50, 100, 32, 32, 64}, {32, 40, 32, 32, 40}, {33, 33, 32, 32, 32}, {101, 64, 32, 51, 32},
	} {
		img, err := ScaleToCrop(synthPhoto(tc.w, tc.h, 1), tc.crop, resample.Lanczos)
		if err != nil || img.Width != tc.ww || img.Height != tc.wh {
			t.Errorf("%dx%d to %d: got %v, want %dx%d", tc.w, tc.h, tc.crop, err, tc.ww, tc.wh)
		}
	}
	if _, err := ScaleToCrop(synthPhoto(31, 64, 1), 32, resample.Lanczos); err == nil {
		t.Error("a photo smaller than the crop was scaled up")
	}
}
