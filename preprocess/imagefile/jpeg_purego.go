//go:build !cgo || nolibjpeg

package imagefile

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"io"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// JPEGDecoder says which JPEG decoder this build uses: here the pure-Go
// image/jpeg fallback (built with -tags nolibjpeg or without cgo). It needs no
// system library, but its chroma upsampling and YCbCr rounding differ from
// libjpeg-turbo's, so JPEG pixels are not Pillow's: measured on the shared
// images, up to 46 levels apart on a 4:2:0 photo and up to 4 on a 4:4:4 scan.
func JPEGDecoder() string {
	return "image/jpeg (pure Go fallback; pixels differ from Pillow's)"
}

// decodeJPEGRaw returns samples in the layout of the libjpeg path: 1, 3 or 4
// per pixel, CMYK as stored in the file (Adobe-inverted). image/jpeg cannot
// shrink while decoding: shrinkTo is ignored and the image is full size.
func decodeJPEGRaw(data []byte, limit int64, _ int) (pix []byte, w, h, comps int, err error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, 0, 0, 0, wrapDecoderError(formatJPEG, err)
	}
	if err := preprocess.CheckSize(cfg.Width, cfg.Height, limit); err != nil {
		return nil, 0, 0, 0, err
	}
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		// image/jpeg reports data that ends inside a scan, or before one, with
		// these format errors rather than io.ErrUnexpectedEOF.
		if err == jpeg.FormatError("short Huffman data") || err == jpeg.FormatError("missing SOS marker") {
			err = io.ErrUnexpectedEOF
		}
		return nil, 0, 0, 0, wrapDecoderError(formatJPEG, err)
	}
	w, h = m.Bounds().Dx(), m.Bounds().Dy()
	switch m := m.(type) {
	case *image.Gray:
		pix = make([]byte, w*h)
		for y := 0; y < h; y++ {
			copy(pix[y*w:(y+1)*w], m.Pix[y*m.Stride:])
		}
		return pix, w, h, 1, nil
	case *image.CMYK:
		pix = make([]byte, 4*w*h)
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for i, v := range row {
				pix[4*y*w+i] = 255 - v // back to the stored (inverted) values
			}
		}
		return pix, w, h, 4, nil
	}
	rgb, err := toRGB(m, false) // YCbCr and RGB files
	if err != nil {
		return nil, 0, 0, 0, fmt.Errorf("JPEG: %w", err)
	}
	return rgb.Pix, w, h, 3, nil
}
