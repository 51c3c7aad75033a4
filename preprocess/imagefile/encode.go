package imagefile

import (
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"path/filepath"
	"strings"

	"github.com/neuralstyle/neuralstyle/atomicfile"
	"github.com/neuralstyle/neuralstyle/preprocess"
)

// DefaultJPEGQuality is the JPEG quality Write uses when given 0.
const DefaultJPEGQuality = 95

// Write writes img in the format its file name's extension names: .png; .jpg
// or .jpeg, of the given quality (1 to 100; 0 means DefaultJPEGQuality, other
// formats ignore it); or .gif (one frame). Any other extension is an error,
// reported before anything is written. The file is written atomically (see
// atomicfile.Write).
func Write(path string, img *preprocess.Image, quality int) error {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		return WritePNG(path, img)
	case ".jpg", ".jpeg":
		if quality == 0 {
			quality = DefaultJPEGQuality
		}
		return WriteJPEG(path, img, quality)
	case ".gif":
		return WriteGIF(path, []*preprocess.Image{img}, 0)
	default:
		return fmt.Errorf("imagefile: write %s: unknown image extension %q (use .png, .jpg, .jpeg or .gif)", path, ext)
	}
}

// WritePNG writes img as an 8-bit RGB PNG, atomically.
func WritePNG(path string, img *preprocess.Image) error {
	if err := img.Check(); err != nil {
		return fmt.Errorf("imagefile: write %s: %w", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error { return EncodePNG(w, img) })
}

// WriteJPEG writes img as a baseline JPEG (4:2:0) of the given quality, 1 to
// 100, atomically.
func WriteJPEG(path string, img *preprocess.Image, quality int) error {
	if err := img.Check(); err != nil {
		return fmt.Errorf("imagefile: write %s: %w", path, err)
	}
	if quality < 1 || quality > 100 {
		return fmt.Errorf("imagefile: write %s: JPEG quality %d outside 1..100", path, quality)
	}
	return atomicfile.Write(path, func(w io.Writer) error { return EncodeJPEG(w, img, quality) })
}

// EncodePNG writes img to w as an 8-bit RGB PNG.
func EncodePNG(w io.Writer, img *preprocess.Image) error {
	if err := img.Check(); err != nil {
		return fmt.Errorf("imagefile: encode PNG: %w", err)
	}
	return png.Encode(w, rgba(img)) // opaque RGBA: image/png writes 8-bit RGB
}

// EncodeJPEG writes img to w as a JPEG of the given quality (1 to 100).
func EncodeJPEG(w io.Writer, img *preprocess.Image, quality int) error {
	if err := img.Check(); err != nil {
		return fmt.Errorf("imagefile: encode JPEG: %w", err)
	}
	if quality < 1 || quality > 100 {
		return fmt.Errorf("imagefile: encode JPEG: quality %d outside 1..100", quality)
	}
	return jpeg.Encode(w, rgba(img), &jpeg.Options{Quality: quality})
}

// rgba returns the image as an opaque *image.RGBA, the layout Go's encoders
// handle fastest.
func rgba(img *preprocess.Image) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, img.Width, img.Height))
	for i, j := 0, 0; i < len(img.Pix); i, j = i+3, j+4 {
		m.Pix[j], m.Pix[j+1], m.Pix[j+2], m.Pix[j+3] = img.Pix[i], img.Pix[i+1], img.Pix[i+2], 0xFF
	}
	return m
}
