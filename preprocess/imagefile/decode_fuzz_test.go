package imagefile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// FuzzDecode feeds arbitrary bytes to Decode, seeded with every decode vector
// (all six formats). Decode must not panic, must return an error that names
// the file and wraps one of the documented sentinels, or a consistent image
// within the pixel limit; decoded again shrinking (ShrinkTo, as uploads are
// checked), the same, and when both give an image the shrunk one is no
// larger, and no side below ShrinkTo unless the full one's was. Run briefly
// in CI: make fuzz-short.
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(decodeDir, "*.*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		if strings.HasSuffix(p, ".json") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	const limit = 1 << 20 // keeps each run fast; decoding cost scales with it
	sentinels := []error{ErrFormat, ErrUnsupported, preprocess.ErrTooLarge, preprocess.ErrDimensions, ErrCorrupt, io.ErrUnexpectedEOF}
	const shrinkTo = 4 // shrinks the seeds' JPEGs (up to 65x49) by 1/2 to 1/8
	f.Fuzz(func(t *testing.T, data []byte) {
		var imgs [2]*preprocess.Image
		for i, opt := range []*DecodeOptions{{MaxPixels: limit}, {MaxPixels: limit, ShrinkTo: shrinkTo}} {
			img, err := Decode(bytes.NewReader(data), "fuzz.bin", opt)
			if err != nil {
				if !strings.HasPrefix(err.Error(), "imagefile: decode fuzz.bin: ") {
					t.Fatalf("ShrinkTo %d: error without the file name: %v", opt.ShrinkTo, err)
				}
				if !slices.ContainsFunc(sentinels, func(s error) bool { return errors.Is(err, s) }) {
					t.Fatalf("ShrinkTo %d: error wraps none of the documented sentinels: %v", opt.ShrinkTo, err)
				}
				continue
			}
			if img.Width <= 0 || img.Height <= 0 || img.Width*img.Height > limit || len(img.Pix) != 3*img.Width*img.Height {
				t.Fatalf("ShrinkTo %d: inconsistent image %dx%d with %d bytes", opt.ShrinkTo, img.Width, img.Height, len(img.Pix))
			}
			imgs[i] = img
		}
		if full, small := imgs[0], imgs[1]; full != nil && small != nil {
			if small.Width > full.Width || small.Height > full.Height ||
				small.Width < min(shrinkTo, full.Width) || small.Height < min(shrinkTo, full.Height) {
				t.Fatalf("shrunk for %d to %dx%d from %dx%d", shrinkTo, small.Width, small.Height, full.Width, full.Height)
			}
		}
	})
}
