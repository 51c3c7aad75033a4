package imagefile

import (
	"bytes"
	"fmt"
	"image"
	"io"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"golang.org/x/image/webp"
)

// decodeWebP decodes a still WebP. golang.org/x/image/webp gives the exact VP8
// planes of a lossy file (VP8 decoding is bit-exact by specification) but
// converts them to RGB with Go's point sampling and rounding; Pillow goes
// through libwebp, which interpolates chroma ("fancy upsampling") and uses
// 14-bit fixed-point BT.601 coefficients. webpFancyRGB redoes that step as
// libwebp does, so lossy pixels equal Pillow's. Lossless files are exact anyway.
func decodeWebP(data []byte, limit int64) (*preprocess.Image, error) {
	// libwebp's demuxer, which Pillow uses, refuses a file shorter than its RIFF
	// header says; x/image/webp would decode one cut inside trailing metadata.
	if riff := int64(le32(data[4:])); int64(len(data)) < 8+riff {
		return nil, fmt.Errorf("truncated WebP file: %w", io.ErrUnexpectedEOF)
	}
	// An animated file has a VP8X chunk with the animation flag; x/image/webp
	// would call it invalid.
	if len(data) >= 21 && string(data[12:16]) == "VP8X" && data[20]&0x02 != 0 {
		return nil, fmt.Errorf("%w WebP variant: animated", ErrUnsupported)
	}
	cfg, err := webp.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, wrapDecoderError(formatWebP, err)
	}
	if err := preprocess.CheckSize(cfg.Width, cfg.Height, limit); err != nil {
		return nil, err
	}
	m, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, wrapDecoderError(formatWebP, err)
	}
	switch m := m.(type) {
	case *image.YCbCr:
		return webpFancyRGB(m)
	case *image.NYCbCrA:
		return webpFancyRGB(&m.YCbCr) // alpha is dropped
	}
	return toRGB(m, false)
}

// webpFancyRGB converts 4:2:0 planes to RGB as libwebp's EmitFancyRGB does:
// output row 0 uses chroma row 0 alone, rows 2k-1 and 2k blend chroma rows k-1
// and k with weights 3:1 and 1:3 (and 3:1 horizontally), and the last row of an
// even-height image uses the last chroma row alone.
func webpFancyRGB(m *image.YCbCr) (*preprocess.Image, error) {
	if m.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return nil, fmt.Errorf("%w WebP variant: chroma subsampling %v", ErrUnsupported, m.SubsampleRatio)
	}
	r := m.Rect
	w, h := r.Dx(), r.Dy()
	if err := preprocess.CheckSize(w, h, -1); err != nil {
		return nil, err
	}
	out := preprocess.NewImage(w, h)
	yRow := func(y int) []byte { i := m.YOffset(r.Min.X, r.Min.Y+y); return m.Y[i : i+w] }
	cRow := func(c []byte, cy int) []byte {
		i := m.COffset(r.Min.X, r.Min.Y+2*cy)
		return c[i : i+(w+1)/2]
	}
	oRow := func(y int) []byte { return out.Pix[3*w*y : 3*w*(y+1)] }

	upsampleLinePair(yRow(0), nil, cRow(m.Cb, 0), cRow(m.Cr, 0), cRow(m.Cb, 0), cRow(m.Cr, 0), oRow(0), nil)
	for y := 1; y+1 < h; y += 2 {
		k := (y + 1) / 2
		upsampleLinePair(yRow(y), yRow(y+1), cRow(m.Cb, k-1), cRow(m.Cr, k-1), cRow(m.Cb, k), cRow(m.Cr, k), oRow(y), oRow(y+1))
	}
	if h%2 == 0 && h > 1 {
		k := (h - 1) / 2
		upsampleLinePair(yRow(h-1), nil, cRow(m.Cb, k), cRow(m.Cr, k), cRow(m.Cb, k), cRow(m.Cr, k), oRow(h-1), nil)
	}
	return out, nil
}

// upsampleLinePair is libwebp's UpsampleRgbLinePair: it makes two output rows
// (bot may be nil) from their luma rows and the chroma rows above (tu, tv) and
// below (cu, cv) them, each output chroma sample being
// (9*near + 3*side + 3*vertical + far + 8) / 16 in libwebp's two-step rounding.
func upsampleLinePair(topY, botY, tu, tv, cu, cv, top, bot []byte) {
	w := len(topY)
	edge := func(a, b int) int { return (3*a + b + 2) >> 2 }
	tlU, tlV, lU, lV := int(tu[0]), int(tv[0]), int(cu[0]), int(cv[0])
	yuvToRGB(top[0:3], topY[0], edge(tlU, lU), edge(tlV, lV))
	if bot != nil {
		yuvToRGB(bot[0:3], botY[0], edge(lU, tlU), edge(lV, tlV))
	}
	for x := 1; x <= (w-1)>>1; x++ {
		tU, tV, uU, uV := int(tu[x]), int(tv[x]), int(cu[x]), int(cv[x])
		avgU, avgV := tlU+tU+lU+uU+8, tlV+tV+lV+uV+8
		d12U, d12V := (avgU+2*(tU+lU))>>3, (avgV+2*(tV+lV))>>3
		d03U, d03V := (avgU+2*(tlU+uU))>>3, (avgV+2*(tlV+uV))>>3
		i := 3 * (2*x - 1)
		yuvToRGB(top[i:i+3], topY[2*x-1], (d12U+tlU)>>1, (d12V+tlV)>>1)
		yuvToRGB(top[i+3:i+6], topY[2*x], (d03U+tU)>>1, (d03V+tV)>>1)
		if bot != nil {
			yuvToRGB(bot[i:i+3], botY[2*x-1], (d03U+lU)>>1, (d03V+lV)>>1)
			yuvToRGB(bot[i+3:i+6], botY[2*x], (d12U+uU)>>1, (d12V+uV)>>1)
		}
		tlU, tlV, lU, lV = tU, tV, uU, uV
	}
	if w%2 == 0 {
		i := 3 * (w - 1)
		yuvToRGB(top[i:i+3], topY[w-1], edge(tlU, lU), edge(tlV, lV))
		if bot != nil {
			yuvToRGB(bot[i:i+3], botY[w-1], edge(lU, tlU), edge(lV, tlV))
		}
	}
}

// yuvToRGB is libwebp's VP8YuvToRgb: BT.601 limited range with 14-bit
// coefficients applied as 16x16->high-16 multiplies, 6 fractional bits.
func yuvToRGB(dst []byte, y uint8, u, v int) {
	mulHi := func(a, c int) int { return (a * c) >> 8 }
	yy := mulHi(int(y), 19077)
	dst[0] = webpClip(yy + mulHi(v, 26149) - 14234)
	dst[1] = webpClip(yy - mulHi(u, 6419) - mulHi(v, 13320) + 8708)
	dst[2] = webpClip(yy + mulHi(u, 33050) - 17685)
}

func webpClip(v int) uint8 {
	const mask = 256<<6 - 1
	if v&^mask == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}
