package imagefile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/neuralstyle/neuralstyle/preprocess"
)

func vectorImage(t testing.TB, name string) *preprocess.Image {
	t.Helper()
	img, err := ReadFile(filepath.Join(decodeDir, name), nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// dirNames lists a folder, to catch temporary files left behind.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWritePNGRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"png_rgb_29x21.png", "jpeg_420_prog_65x49.jpg", "gif_grows.gif", "webp_lossy_1x1.webp"} {
		img := vectorImage(t, name)
		out := filepath.Join(dir, "out.png")
		if err := WritePNG(out, img); err != nil {
			t.Fatal(err)
		}
		back, err := ReadFile(out, nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(img, back); diff != "" {
			t.Errorf("%s: PNG round trip differs:\n%.300s", name, diff)
		}
	}
	if got := dirNames(t, dir); !cmp.Equal(got, []string{"out.png"}) {
		t.Errorf("folder holds %v, want only out.png", got)
	}
}

func TestWriteJPEG(t *testing.T) {
	dir := t.TempDir()
	img := vectorImage(t, "png_rgb_29x21.png")
	sizes := map[int]int64{}
	for _, q := range []int{10, 50, 95, 100} {
		out := filepath.Join(dir, "out.jpg")
		if err := WriteJPEG(out, img, q); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		sizes[q] = st.Size()
		back, err := ReadFile(out, nil)
		if err != nil {
			t.Fatal(err)
		}
		if back.Width != img.Width || back.Height != img.Height {
			t.Fatalf("quality %d: %dx%d back", q, back.Width, back.Height)
		}
		// Measured on this 29x21 crop (Go 1.26's encoder, libjpeg-turbo 2.1.5
		// decoder): max difference 22, 17, 9 and 6 at qualities 10, 50, 95 and
		// 100 (4:2:0 chroma dominates at the top); 12 bounds 95 and 100.
		d, _ := maxAbsDiff(img.Pix, back.Pix)
		t.Logf("quality %d: %d bytes, max difference %d", q, sizes[q], d)
		if q >= 95 && d > 12 {
			t.Errorf("quality %d: max difference %d after a round trip", q, d)
		}
	}
	if !(sizes[10] < sizes[50] && sizes[50] < sizes[95] && sizes[95] < sizes[100]) {
		t.Errorf("file sizes do not grow with quality: %v", sizes)
	}
	for _, q := range []int{0, -5, 101} {
		err := WriteJPEG(filepath.Join(dir, "bad.jpg"), img, q)
		if err == nil || !strings.Contains(err.Error(), "quality") {
			t.Errorf("quality %d: error %v", q, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.jpg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused write left bad.jpg behind (%v)", err)
	}
}

// TestWriteByExtension: Write picks the format by extension, case-insensitively,
// and refuses any other extension.
func TestWriteByExtension(t *testing.T) {
	dir := t.TempDir()
	img := vectorImage(t, "bmp_p_23x15.bmp") // 64 colours: exact in a GIF too
	for _, name := range []string{"a.png", "b.PNG", "c.jpg", "d.jpeg", "e.gif"} {
		p := filepath.Join(dir, name)
		if err := Write(p, img, 0); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]format{".png": formatPNG, ".jpg": formatJPEG, ".jpeg": formatJPEG, ".gif": formatGIF}[strings.ToLower(filepath.Ext(name))]
		if got := sniff(data); got != want {
			t.Errorf("%s written as %v", name, got)
		}
		if want != formatJPEG {
			back, err := ReadFile(p, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal(img, back) {
				t.Errorf("%s: lossless round trip differs", name)
			}
		}
	}
	for _, name := range []string{"x.bmp", "x.webp", "noext", "x.png.tmp"} {
		err := Write(filepath.Join(dir, name), img, 0)
		if err == nil || !strings.Contains(err.Error(), "unknown image extension") || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

// TestWriteJPEGQuality: Write's quality reaches the JPEG encoder, 0 meaning
// DefaultJPEGQuality, and an out-of-range one is refused.
func TestWriteJPEGQuality(t *testing.T) {
	dir := t.TempDir()
	img := vectorImage(t, "png_rgb_29x21.png")
	encode := func(q int) []byte {
		var b bytes.Buffer
		if err := EncodeJPEG(&b, img, q); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, c := range []struct{ quality, want int }{{0, DefaultJPEGQuality}, {40, 40}, {100, 100}} {
		p := filepath.Join(dir, "q.jpg")
		if err := Write(p, img, c.quality); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, encode(c.want)) {
			t.Errorf("Write(quality %d) differs from EncodeJPEG(quality %d)", c.quality, c.want)
		}
	}
	if err := Write(filepath.Join(dir, "bad.jpg"), img, 101); err == nil || !strings.Contains(err.Error(), "quality 101") {
		t.Errorf("quality 101: error %v", err)
	}
}

func TestWriteInvalidImages(t *testing.T) {
	dir := t.TempDir()
	for _, img := range []*preprocess.Image{nil, {}, {Width: 2, Height: 2, Pix: make([]byte, 11)}, {Width: -1, Height: 3}} {
		for _, name := range []string{"a.png", "a.jpg", "a.gif"} {
			if err := Write(filepath.Join(dir, name), img, 0); err == nil {
				t.Errorf("%s: wrote an invalid image %+v", name, img)
			}
		}
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("folder holds %v after refused writes", got)
	}
}
