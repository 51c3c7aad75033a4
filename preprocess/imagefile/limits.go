package preprocess

import (
	"errors"
	"fmt"
)

// DefaultMaxPixels is the largest image, in pixels, that Decode accepts unless
// DecodeOptions.MaxPixels says otherwise. It equals Pillow's MAX_IMAGE_PIXELS
// (1024*1024*1024/4/3), the size Pillow starts warning about decompression bombs at;
// unlike Pillow, which only refuses twice that, Decode refuses anything above it.
const DefaultMaxPixels = 1024 * 1024 * 1024 / 4 / 3 // 89,478,485

// maxSide bounds each side independently of the pixel limit, so that a raised or
// disabled limit still keeps 3*width*height and row strides far from overflow.
const maxSide = 1 << 24

// Errors that Decode and ReadFile wrap (test with errors.Is). A truncated file
// wraps io.ErrUnexpectedEOF.
var (
	// ErrFormat: the data is not an image in any format Decode knows about.
	ErrFormat = errors.New("not a recognised image format")
	// ErrUnsupported: a known format, or a variant of one, that Decode cannot read.
	ErrUnsupported = errors.New("unsupported")
	// ErrTooLarge: the header announces more pixels than the limit allows
	// (a decompression bomb, or a genuinely huge image: raise DecodeOptions.MaxPixels).
	ErrTooLarge = errors.New("image too large")
	// ErrDimensions: the header announces a zero or negative width or height.
	ErrDimensions = errors.New("invalid image dimensions")
	// ErrCorrupt: the data is damaged in a way the format's decoder detected.
	ErrCorrupt = errors.New("corrupt image data")
)

// maxPixels returns the pixel limit an options value asks for.
func (o *DecodeOptions) maxPixels() int64 {
	switch {
	case o == nil || o.MaxPixels == 0:
		return DefaultMaxPixels
	case o.MaxPixels < 0:
		return -1
	}
	return o.MaxPixels
}

// checkSize refuses dimensions before anything of that size is allocated.
// limit < 0 means no pixel limit (the side bound still applies).
func checkSize(width, height int, limit int64) error {
	if width <= 0 || height <= 0 {
		return fmt.Errorf("%w: %dx%d", ErrDimensions, width, height)
	}
	if width > maxSide || height > maxSide {
		return fmt.Errorf("%w: %dx%d exceeds %d pixels per side", ErrTooLarge, width, height, maxSide)
	}
	n := int64(width) * int64(height) // both < 2^24: no overflow
	if limit >= 0 && n > limit {
		return fmt.Errorf("%w: %dx%d is %d pixels, over the limit of %d (DecodeOptions.MaxPixels)",
			ErrTooLarge, width, height, n, limit)
	}
	return nil
}
