package imagefile

import (
	"errors"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// Errors that Decode and ReadFile wrap (test with errors.Is), besides
// preprocess.ErrTooLarge (the header announces more pixels than the limit
// allows: a decompression bomb, or a genuinely huge image, for which raise
// DecodeOptions.MaxPixels) and preprocess.ErrDimensions (the header announces a
// zero or negative width or height). A truncated file wraps io.ErrUnexpectedEOF.
var (
	// ErrFormat: the data is not an image in any format Decode knows about.
	ErrFormat = errors.New("not a recognised image format")
	// ErrUnsupported: a known format, or a variant of one, that Decode cannot read.
	ErrUnsupported = errors.New("unsupported")
	// ErrCorrupt: the data is damaged in a way the format's decoder detected.
	ErrCorrupt = errors.New("corrupt image data")
)

// maxPixels returns the pixel limit an options value asks for
// (preprocess.CheckSize's maxPixels).
func (o *DecodeOptions) maxPixels() int64 {
	switch {
	case o == nil || o.MaxPixels == 0:
		return preprocess.DefaultMaxPixels
	case o.MaxPixels < 0:
		return -1
	}
	return o.MaxPixels
}
