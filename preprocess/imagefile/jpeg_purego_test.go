//go:build !cgo || nolibjpeg

package imagefile

import (
	"strings"
	"testing"
)

// jpegExact: the pure-Go fallback does not reproduce libjpeg-turbo's pixels.
const jpegExact = false

// fallbackJPEGMaxDiff bounds how far image/jpeg's pixels may be from Pillow's
// on the JPEG vectors. Measured (Go 1.26 image/jpeg against Pillow 11.0.0 with
// libjpeg-turbo 3.0.4): 10 on the 4:2:0 vectors, 5 on 4:2:2, 4 on the EXIF
// ones, 2 on 4:4:4, 1 on grey and CMYK (and up to 46 on the full-size
// grace_hopper.jpg, which TestDecodeSharedImages skips in this build).
const fallbackJPEGMaxDiff = 10

func TestJPEGDecoderName(t *testing.T) {
	if got := JPEGDecoder(); !strings.HasPrefix(got, "image/jpeg ") {
		t.Errorf("JPEGDecoder() = %q", got)
	}
}
