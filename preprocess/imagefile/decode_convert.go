package imagefile

import (
	"fmt"
	"image"
	"image/color"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// toRGB converts a decoded image to 8-bit RGB the way Pillow's convert("RGB")
// treats the mode Pillow would have opened the same file in. Gray16 is 16-bit
// greyscale, which Pillow opens as I;16 and converts by clipping (values above
// 255 become 255); pngGreyTRNS says that an NRGBA64 image is such greyscale too
// (a 16-bit grey PNG with a tRNS colour), not RGB whose high bytes are kept.
func toRGB(m image.Image, pngGreyTRNS bool) (*preprocess.Image, error) {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	if err := preprocess.CheckSize(w, h, -1); err != nil {
		return nil, err
	}
	out := preprocess.NewImage(w, h)
	px := out.Pix
	switch m := m.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				i := 3 * (y*w + x)
				px[i], px[i+1], px[i+2] = v, v, v
			}
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+2*w]
			for x := 0; x < w; x++ {
				v := clip16(row[2*x], row[2*x+1])
				i := 3 * (y*w + x)
				px[i], px[i+1], px[i+2] = v, v, v
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				i := 3 * (y*w + x)
				px[i], px[i+1], px[i+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.RGBA:
		// Go's decoders return RGBA for opaque images (alpha 255: unchanged) and for
		// TIFFs with associated alpha, which Pillow opens as RGBa and un-premultiplies.
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				i := 3 * (y*w + x)
				a := row[4*x+3]
				px[i], px[i+1], px[i+2] = unpremultiply(row[4*x], a), unpremultiply(row[4*x+1], a), unpremultiply(row[4*x+2], a)
			}
		}
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+8*w]
			for x := 0; x < w; x++ {
				i := 3 * (y*w + x)
				if pngGreyTRNS {
					v := clip16(row[8*x], row[8*x+1])
					px[i], px[i+1], px[i+2] = v, v, v
					continue
				}
				px[i], px[i+1], px[i+2] = row[8*x], row[8*x+2], row[8*x+4]
			}
		}
	case *image.RGBA64:
		// 16-bit samples: Pillow's RGB;16B/16L unpackers keep the high byte.
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+8*w]
			for x := 0; x < w; x++ {
				i := 3 * (y*w + x)
				px[i], px[i+1], px[i+2] = row[8*x], row[8*x+2], row[8*x+4]
			}
		}
	case *image.CMYK:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := 0; x < w; x++ {
				i := 3 * (y*w + x)
				px[i], px[i+1], px[i+2] = cmykToRGB(row[4*x], row[4*x+1], row[4*x+2], row[4*x+3])
			}
		}
	case *image.Paletted:
		var lut [256][3]uint8 // entries past the palette stay black, as in Pillow
		for i, c := range m.Palette {
			if i < 256 {
				lut[i] = paletteRGB(c)
			}
		}
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				i := 3 * (y*w + x)
				c := lut[v]
				px[i], px[i+1], px[i+2] = c[0], c[1], c[2]
			}
		}
	case *image.YCbCr:
		// Only the pure-Go JPEG fallback gets here (WebP has its own path):
		// Go's own chroma upsampling and YCbCr->RGB rounding.
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				i := 3 * (y*w + x)
				px[i], px[i+1], px[i+2] = r, g, bb
			}
		}
	default:
		return nil, fmt.Errorf("%w pixel layout %T", ErrUnsupported, m)
	}
	return out, nil
}

// clip16 is Pillow's I;16 -> 8-bit rule for a big-endian sample: min(v, 255).
func clip16(hi, lo uint8) uint8 {
	if hi != 0 {
		return 255
	}
	return lo
}

// unpremultiply is Pillow's RGBa -> RGB rule: v*255/a truncated, clipped to 255;
// a zero alpha leaves the sample unchanged.
func unpremultiply(v, a uint8) uint8 {
	if a == 0 || a == 255 {
		return v
	}
	u := int(v) * 255 / int(a)
	if u > 255 {
		u = 255
	}
	return uint8(u)
}

// cmykToRGB is Pillow's CMYK -> RGB conversion (no colour management):
// each channel is (255-K) - C*(255-K)/255 with Pillow's rounded 8-bit division.
func cmykToRGB(c, m, y, k uint8) (uint8, uint8, uint8) {
	nk := 255 - int(k)
	f := func(v uint8) uint8 { return clip8(nk - mulDiv255(int(v), nk)) }
	return f(c), f(m), f(y)
}

// mulDiv255 is Pillow's MULDIV255: a*b/255 rounded, in integer arithmetic.
func mulDiv255(a, b int) int {
	t := a*b + 128
	return ((t >> 8) + t) >> 8
}

func clip8(v int) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// paletteRGB reads a palette entry as stored in the file, never premultiplied.
func paletteRGB(c color.Color) [3]uint8 {
	switch c := c.(type) {
	case color.NRGBA:
		return [3]uint8{c.R, c.G, c.B}
	case color.RGBA:
		if c.A == 255 {
			return [3]uint8{c.R, c.G, c.B}
		}
	case color.RGBA64:
		if c.A == 0xffff { // TIFF colour maps are 16-bit; Pillow keeps value/256
			return [3]uint8{uint8(c.R >> 8), uint8(c.G >> 8), uint8(c.B >> 8)}
		}
	case color.Gray:
		return [3]uint8{c.Y, c.Y, c.Y}
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return [3]uint8{n.R, n.G, n.B}
}
