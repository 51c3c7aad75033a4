package preprocess

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DefaultJPEGQuality is the quality WriteImage uses for .jpg and .jpeg files.
const DefaultJPEGQuality = 95

// WriteImage writes img in the format its file name's extension names: .png,
// .jpg or .jpeg (DefaultJPEGQuality), or .gif (one frame); any other extension
// is an error. The file is written atomically (see WriteFileAtomic).
func WriteImage(path string, img *Image) error {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		return WritePNG(path, img)
	case ".jpg", ".jpeg":
		return WriteJPEG(path, img, DefaultJPEGQuality)
	case ".gif":
		return WriteGIF(path, []*Image{img}, 0)
	default:
		return fmt.Errorf("preprocess: write %s: unknown image extension %q (use .png, .jpg, .jpeg or .gif)", path, ext)
	}
}

// WritePNG writes img as an 8-bit RGB PNG, atomically.
func WritePNG(path string, img *Image) error {
	if err := img.check(); err != nil {
		return fmt.Errorf("preprocess: write %s: %w", path, err)
	}
	return WriteFileAtomic(path, func(w io.Writer) error { return EncodePNG(w, img) })
}

// WriteJPEG writes img as a baseline JPEG (4:2:0) of the given quality, 1 to
// 100, atomically.
func WriteJPEG(path string, img *Image, quality int) error {
	if err := img.check(); err != nil {
		return fmt.Errorf("preprocess: write %s: %w", path, err)
	}
	if quality < 1 || quality > 100 {
		return fmt.Errorf("preprocess: write %s: JPEG quality %d outside 1..100", path, quality)
	}
	return WriteFileAtomic(path, func(w io.Writer) error { return EncodeJPEG(w, img, quality) })
}

// EncodePNG writes img to w as an 8-bit RGB PNG.
func EncodePNG(w io.Writer, img *Image) error {
	if err := img.check(); err != nil {
		return fmt.Errorf("preprocess: encode PNG: %w", err)
	}
	return png.Encode(w, img.rgba()) // opaque RGBA: image/png writes 8-bit RGB
}

// EncodeJPEG writes img to w as a JPEG of the given quality (1 to 100).
func EncodeJPEG(w io.Writer, img *Image, quality int) error {
	if err := img.check(); err != nil {
		return fmt.Errorf("preprocess: encode JPEG: %w", err)
	}
	if quality < 1 || quality > 100 {
		return fmt.Errorf("preprocess: encode JPEG: quality %d outside 1..100", quality)
	}
	return jpeg.Encode(w, img.rgba(), &jpeg.Options{Quality: quality})
}

// WriteFileAtomic writes a file through write so that path holds either its
// old content or the complete new one, never a part: the data goes to a
// temporary file in the same folder, which is flushed to disk (fsync) and then
// renamed over path. On any error the temporary file is removed and path is
// left as it was. A new file gets mode 0644; a replaced file keeps its mode.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return fmt.Errorf("preprocess: write %s: not a regular file", path)
		}
		mode = st.Mode().Perm()
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("preprocess: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("preprocess: write %s: %w", path, err)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	if err = f.Chmod(mode); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// Make the rename itself durable. Some file systems cannot sync a folder;
	// the file is complete either way, so that failure is not reported.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// check reports an Image whose fields disagree.
func (img *Image) check() error {
	switch {
	case img == nil:
		return errors.New("nil image")
	case img.Width <= 0 || img.Height <= 0:
		return fmt.Errorf("%w: %dx%d", ErrDimensions, img.Width, img.Height)
	case img.Width > maxSide || img.Height > maxSide:
		return fmt.Errorf("%w: %dx%d", ErrTooLarge, img.Width, img.Height)
	case len(img.Pix) != 3*img.Width*img.Height:
		return fmt.Errorf("image of %dx%d has %d bytes, want %d", img.Width, img.Height, len(img.Pix), 3*img.Width*img.Height)
	}
	return nil
}

// rgba returns the image as an opaque *image.RGBA, the layout Go's encoders
// handle fastest.
func (img *Image) rgba() *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, img.Width, img.Height))
	for i, j := 0, 0; i < len(img.Pix); i, j = i+3, j+4 {
		m.Pix[j], m.Pix[j+1], m.Pix[j+2], m.Pix[j+3] = img.Pix[i], img.Pix[i+1], img.Pix[i+2], 0xFF
	}
	return m
}
