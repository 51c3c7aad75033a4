//go:build cgo && !nolibjpeg

package preprocess

import (
	"strings"
	"testing"
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
