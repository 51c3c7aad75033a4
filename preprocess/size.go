package preprocess

import (
	"errors"
	"fmt"
)

// DefaultMaxPixels is the largest image, in pixels, that the subpackages make
// unless told otherwise (imagefile.DecodeOptions.MaxPixels). It equals Pillow's
// MAX_IMAGE_PIXELS (1024*1024*1024/4/3), the size Pillow starts warning about
// decompression bombs at; unlike Pillow, which only refuses twice that, decoding
// refuses anything above it.
const DefaultMaxPixels = 1024 * 1024 * 1024 / 4 / 3 // 89,478,485

// MaxSide bounds each side whatever the pixel limit, so that a raised or
// disabled limit still keeps 3*width*height and row strides far from overflow;
// it is also where Pillow's resampling, which passes coordinates as C floats,
// stops being exact (2**24).
const MaxSide = 1 << 24

// Errors that CheckSize, and so every function of the subpackages that makes an
// image, wrap (test with errors.Is).
var (
	// ErrTooLarge: more pixels than the limit allows, or a side over MaxSide (a
	// decompression bomb, or a genuinely huge image).
	ErrTooLarge = errors.New("image too large")
	// ErrDimensions: a zero or negative width or height.
	ErrDimensions = errors.New("invalid image dimensions")
)

// CheckSize refuses a width x height image before anything of that size is
// allocated: a side below 1 (ErrDimensions), a side above MaxSide or more than
// maxPixels pixels (ErrTooLarge). maxPixels < 0 means no pixel limit; the side
// bound still applies.
func CheckSize(width, height int, maxPixels int64) error {
	if width <= 0 || height <= 0 {
		return fmt.Errorf("%w: %dx%d", ErrDimensions, width, height)
	}
	if width > MaxSide || height > MaxSide {
		return fmt.Errorf("%w: %dx%d exceeds %d pixels per side", ErrTooLarge, width, height, MaxSide)
	}
	n := int64(width) * int64(height) // both <= 2^24: no overflow
	if maxPixels >= 0 && n > maxPixels {
		return fmt.Errorf("%w: %dx%d is %d pixels, over the limit of %d", ErrTooLarge, width, height, n, maxPixels)
	}
	return nil
}

// Check reports an Image that is nil, whose size CheckSize refuses (with no
// pixel limit: the image exists already), or whose Pix length disagrees with
// its size.
func (img *Image) Check() error {
	if img == nil {
		return errors.New("nil image")
	}
	if err := CheckSize(img.Width, img.Height, -1); err != nil {
		return err
	}
	if want := 3 * img.Width * img.Height; len(img.Pix) != want {
		return fmt.Errorf("%dx%d image has %d bytes of pixels, want %d", img.Width, img.Height, len(img.Pix), want)
	}
	return nil
}
