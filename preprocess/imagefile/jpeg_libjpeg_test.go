//go:build cgo && !nolibjpeg

package imagefile

import (
	"bytes"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// jpegExact: this build decodes JPEG through libjpeg-turbo, so JPEG vectors
// must equal Pillow's pixels exactly.
const jpegExact = true

// fallbackJPEGMaxDiff is unused in this build (see jpeg_purego_test.go).
const fallbackJPEGMaxDiff = 0

func TestJPEGDecoderName(t *testing.T) {
	if got := JPEGDecoder(); !strings.HasPrefix(got, "libjpeg-turbo ") {
		t.Errorf("JPEGDecoder() = %q", got)
	}
	t.Log(JPEGDecoder())
}

// benchJPEG is a 12-megapixel (4000x3000) 4:2:0 JPEG at quality 90, tiled
// from a photo crop so that it has real texture.
func benchJPEG(b *testing.B) []byte {
	b.Helper()
	tile := vectorImage(b, "jpeg_420_prog_65x49.jpg")
	const w, h = 4000, 3000
	img := preprocess.NewImage(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			copy(img.Pix[3*(y*w+x):3*(y*w+x)+3], tile.Pix[3*((y%tile.Height)*tile.Width+x%tile.Width):])
		}
	}
	var buf bytes.Buffer
	if err := EncodeJPEG(&buf, img, 90); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkDecodeJPEG12MP compares, in one run, this build's libjpeg-turbo
// path (Decode, RGB out) with the pure-Go fallback's decoder (image/jpeg plus
// the same conversion to RGB).
func BenchmarkDecodeJPEG12MP(b *testing.B) {
	data := benchJPEG(b)
	b.Run("libjpeg-turbo", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			if _, err := Decode(bytes.NewReader(data), "bench.jpg", nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("image-jpeg", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			m, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := toRGB(m, false); err != nil {
				b.Fatal(err)
			}
		}
	})
}
