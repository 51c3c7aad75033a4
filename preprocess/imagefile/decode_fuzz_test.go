package imagefile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// FuzzDecode feeds arbitrary bytes to Decode, seeded with every decode vector
// (all six formats). Decode must not panic, must return an error that names
// the file and wraps one of the documented sentinels, or a consistent image
// within the pixel limit. Run briefly in CI: make fuzz-short.
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
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(bytes.NewReader(data), "fuzz.bin", &DecodeOptions{MaxPixels: limit})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "imagefile: decode fuzz.bin: ") {
				t.Fatalf("error without the file name: %v", err)
			}
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error wraps none of the documented sentinels: %v", err)
		}
		if img.Width <= 0 || img.Height <= 0 || img.Width*img.Height > limit || len(img.Pix) != 3*img.Width*img.Height {
			t.Fatalf("inconsistent image %dx%d with %d bytes", img.Width, img.Height, len(img.Pix))
		}
	})
}
