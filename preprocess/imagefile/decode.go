package imagefile

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"strings"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// DecodeOptions adjusts Decode and ReadFile. The zero value (or nil) gives
// Pillow's behaviour: Image.open, ImageOps.exif_transpose, convert("RGB").
type DecodeOptions struct {
	// MaxPixels refuses, before any pixel buffer is allocated, an image whose header
	// announces more than this many pixels. 0 means preprocess.DefaultMaxPixels; a negative
	// value means no pixel limit (each side must still be below 2^24).
	MaxPixels int64
	// IgnoreOrientation keeps the stored pixel layout even when the file's EXIF
	// orientation says it is to be shown rotated or mirrored.
	IgnoreOrientation bool
	// ShrinkTo, when positive, lets the decoder return a smaller image where
	// the format can shrink while decoding, for a caller that needs no more
	// than ShrinkTo pixels a side: a JPEG is decoded at 1/2, 1/4 or 1/8 of
	// its size (libjpeg's DCT scaling), the largest reduction that leaves
	// both sides at least ShrinkTo, as Pillow's Image.draft("RGB", (ShrinkTo,
	// ShrinkTo)) does, whose pixels these are. Such a decode never holds the
	// full-size pixels (a progressive JPEG still holds its full-size DCT
	// coefficients, 2 bytes a sample, as libjpeg must). Other formats, and JPEGs in a build with the pure-Go
	// fallback (see JPEGDecoder), decode at full size. 0, the default, is
	// always full size: Pillow's Image.open, whose pixels differ.
	ShrinkTo int
}

// ReadFile reads and decodes the image file at path; see Decode.
func ReadFile(path string, opt *DecodeOptions) (*preprocess.Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("imagefile: decode %s: %w", path, err)
	}
	img, err := decodeBytes(data, opt)
	if err != nil {
		return nil, fmt.Errorf("imagefile: decode %s: %w", path, err)
	}
	return img, nil
}

// Decode reads an image in any of the supported formats (JPEG, PNG, GIF, BMP,
// TIFF, WebP; recognised by content, not by name) and returns its pixels as
// 8-bit RGB, exactly as Pillow's Image.open followed by ImageOps.exif_transpose
// and convert("RGB") gives them (see JPEGDecoder for the one build-dependent
// case). name only labels errors.
//
// Conversions follow Pillow: greyscale is replicated to R, G and B; palette
// images are looked up; CMYK uses Pillow's formula (4-channel JPEGs are read
// with Adobe's inverted convention, always, as Pillow does); 16-bit colour
// keeps the high byte of each sample while 16-bit greyscale is clipped to 255
// (Pillow's I;16 -> RGB). An alpha channel is dropped, not composited onto any
// background: fully transparent pixels keep whatever colour the file stores
// under them (TIFFs with associated alpha are un-premultiplied first, as
// Pillow's RGBa -> RGB does). The EXIF orientation (JPEG APP1, PNG eXIf or
// ImageMagick's raw profile or XMP, TIFF IFD0, WebP EXIF) is applied unless
// opt.IgnoreOrientation.
//
// Per format: a GIF gives its first frame as Pillow composes it; a TIFF its
// first image; an animated WebP, a JPEG-compressed TIFF, and compressed (RLE),
// 16-bit or OS/2 BMPs are refused with ErrUnsupported.
//
// Errors name the file and the problem and wrap one of ErrFormat,
// ErrUnsupported, preprocess.ErrTooLarge, preprocess.ErrDimensions, ErrCorrupt or io.ErrUnexpectedEOF
// (truncated data).
func Decode(r io.Reader, name string, opt *DecodeOptions) (*preprocess.Image, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("imagefile: decode %s: %w", name, err)
	}
	img, err := decodeBytes(data, opt)
	if err != nil {
		return nil, fmt.Errorf("imagefile: decode %s: %w", name, err)
	}
	return img, nil
}

// format identifies a file format by its leading bytes.
type format int

const (
	formatUnknown format = iota
	formatJPEG
	formatPNG
	formatGIF
	formatBMP
	formatTIFF
	formatWebP
)

func (f format) String() string {
	return [...]string{"unknown", "JPEG", "PNG", "GIF", "BMP", "TIFF", "WebP"}[f]
}

// sniff recognises the supported formats by signature, as Pillow's plugins do.
func sniff(b []byte) format {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return formatJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	case bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a")):
		return formatGIF
	case bytes.HasPrefix(b, []byte("BM")):
		return formatBMP
	case bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*")):
		return formatTIFF
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return formatWebP
	}
	return formatUnknown
}

// knownUnsupported names formats that are images but that Decode does not read,
// so that the error says so rather than "not an image".
func knownUnsupported(b []byte) string {
	switch {
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		switch string(b[8:12]) {
		case "avif", "avis":
			return "AVIF"
		case "heic", "heix", "hevc", "hevx", "mif1", "msf1":
			return "HEIF"
		}
	case bytes.HasPrefix(b, []byte("\x00\x00\x00\x0cjP  \r\n\x87\n")) || bytes.HasPrefix(b, []byte("\xff\x4f\xff\x51")):
		return "JPEG 2000"
	case bytes.HasPrefix(b, []byte("II+\x00")) || bytes.HasPrefix(b, []byte("MM\x00+")):
		return "BigTIFF"
	case bytes.HasPrefix(b, []byte("8BPS")):
		return "Photoshop PSD"
	case bytes.HasPrefix(b, []byte("\x00\x00\x01\x00")):
		return "ICO"
	case bytes.HasPrefix(b, []byte("qoif")):
		return "QOI"
	case bytes.HasPrefix(b, []byte("\xff\x0a")) || bytes.HasPrefix(b, []byte("\x00\x00\x00\x0cJXL \r\n\x87\n")):
		return "JPEG XL"
	case bytes.HasPrefix(b, []byte("%PDF")):
		return "PDF"
	case bytes.HasPrefix(b, []byte("<svg")) || bytes.HasPrefix(b, []byte("<?xml")):
		return "SVG/XML"
	}
	return ""
}

// decodeBytes is Decode without the file name in errors.
func decodeBytes(data []byte, opt *DecodeOptions) (*preprocess.Image, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty file", ErrFormat)
	}
	limit := opt.maxPixels()
	f := sniff(data)
	var (
		img *preprocess.Image
		err error
		ori = 1
	)
	switch f {
	case formatJPEG:
		img, err = decodeJPEG(data, limit, opt.shrinkTo())
		ori = orientation(jpegExif(data), "")
	case formatPNG:
		img, err = decodePNG(data, limit)
		exif, xmp := pngExif(data)
		ori = orientation(exif, xmp)
	case formatGIF:
		img, err = decodeGIF(data, limit)
	case formatBMP:
		img, err = decodeStd(data, limit, f, bmp.DecodeConfig, bmp.Decode)
	case formatTIFF:
		img, err = decodeTIFF(data, limit)
		ori = orientation(data, "")
	case formatWebP:
		img, err = decodeWebP(data, limit)
		ori = orientation(webpExif(data), "")
	default:
		if name := knownUnsupported(data); name != "" {
			return nil, fmt.Errorf("%w image format %s (readable: JPEG, PNG, GIF, BMP, TIFF, WebP)", ErrUnsupported, name)
		}
		return nil, fmt.Errorf("%w (readable: JPEG, PNG, GIF, BMP, TIFF, WebP)", ErrFormat)
	}
	if err != nil {
		return nil, err
	}
	if !opt.ignoreOrientation() {
		img = orient(img, ori)
	}
	return img, nil
}

func (o *DecodeOptions) ignoreOrientation() bool { return o != nil && o.IgnoreOrientation }

func (o *DecodeOptions) shrinkTo() int {
	if o == nil {
		return 0
	}
	return o.ShrinkTo
}

// decodeStd decodes with a standard-library-style decoder after checking the
// header's dimensions against the limit.
func decodeStd(data []byte, limit int64, f format,
	config func(io.Reader) (image.Config, error), decode func(io.Reader) (image.Image, error)) (*preprocess.Image, error) {
	cfg, err := config(bytes.NewReader(data))
	if err != nil {
		return nil, wrapDecoderError(f, err)
	}
	if err := preprocess.CheckSize(cfg.Width, cfg.Height, limit); err != nil {
		return nil, err
	}
	m, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, wrapDecoderError(f, err)
	}
	return toRGB(m, false)
}

// decodePNG reads the IHDR itself: it needs the colour type to map 16-bit grey
// as Pillow does, and it reports zero dimensions as preprocess.ErrDimensions.
func decodePNG(data []byte, limit int64) (*preprocess.Image, error) {
	if len(data) < 33 || string(data[12:16]) != "IHDR" {
		if len(data) < 33 {
			return nil, fmt.Errorf("truncated PNG file: %w", io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("%w: PNG file does not start with an IHDR chunk", ErrCorrupt)
	}
	w := be32(data[16:])
	h := be32(data[20:])
	if w > 1<<31-1 || h > 1<<31-1 {
		return nil, fmt.Errorf("%w: %dx%d", preprocess.ErrTooLarge, w, h)
	}
	if err := preprocess.CheckSize(int(w), int(h), limit); err != nil {
		return nil, err
	}
	depth, colorType := data[24], data[25]
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, wrapDecoderError(formatPNG, err)
	}
	// Pillow opens 16-bit greyscale as mode I;16 and clips it to 8 bits, also
	// when a tRNS colour makes image/png return NRGBA64; 16-bit colour and
	// grey+alpha keep the high byte.
	return toRGB(m, depth == 16 && colorType == 0)
}

// wrapDecoderError classifies a Go decoder's error.
func wrapDecoderError(f format, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		if f == formatTIFF {
			// TIFF is read at the offsets its directories give: a damaged offset
			// reads past the end just as a cut file does, so neither is certain.
			return fmt.Errorf("corrupt or truncated %s file (it points past its end): %w", f, io.ErrUnexpectedEOF)
		}
		return fmt.Errorf("truncated %s file: %w", f, io.ErrUnexpectedEOF)
	}
	var pu png.UnsupportedError
	var tu tiff.UnsupportedError
	msg := err.Error()
	if errors.As(err, &pu) || errors.As(err, &tu) || errors.Is(err, bmp.ErrUnsupported) ||
		strings.Contains(msg, "not implemented") || strings.Contains(msg, "unsupported") {
		return fmt.Errorf("%w %s variant: %v", ErrUnsupported, f, err)
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
func le32(b []byte) uint32 {
	return uint32(b[3])<<24 | uint32(b[2])<<16 | uint32(b[1])<<8 | uint32(b[0])
}
