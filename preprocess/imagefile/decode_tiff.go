package imagefile

import (
	"fmt"
	"image"
	"io"
	"sort"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"golang.org/x/image/tiff"
)

// decodeTIFF decodes a TIFF with golang.org/x/image/tiff. That decoder has no
// CMYK (PhotometricInterpretation 5); such a file is re-described, in a copy,
// as RGB with an unassociated extra sample so that it decodes the four
// channels untouched, and they are then converted with Pillow's CMYK formula.
func decodeTIFF(data []byte, limit int64) (*preprocess.Image, error) {
	alt, ok := tiffCMYKAsRGBA(data)
	if !ok {
		return decodeStd(data, limit, formatTIFF, tiff.DecodeConfig, tiff.Decode)
	}
	cfg, err := tiff.DecodeConfig(alt.reader())
	if err != nil {
		return nil, wrapDecoderError(formatTIFF, err)
	}
	if err := preprocess.CheckSize(cfg.Width, cfg.Height, limit); err != nil {
		return nil, err
	}
	m, err := tiff.Decode(alt.reader())
	if err != nil {
		return nil, wrapDecoderError(formatTIFF, err)
	}
	img := preprocess.NewImage(cfg.Width, cfg.Height)
	w := cfg.Width
	switch m := m.(type) {
	case *image.NRGBA:
		for y := 0; y < cfg.Height; y++ {
			row := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				c := row[4*x : 4*x+4]
				i := 3 * (y*w + x)
				img.Pix[i], img.Pix[i+1], img.Pix[i+2] = cmykToRGB(c[0], c[1], c[2], c[3])
			}
		}
	case *image.NRGBA64: // 16 bits per ink: the high byte, as Pillow's CMYK;16 unpackers
		for y := 0; y < cfg.Height; y++ {
			row := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				c := row[8*x : 8*x+8]
				i := 3 * (y*w + x)
				img.Pix[i], img.Pix[i+1], img.Pix[i+2] = cmykToRGB(c[0], c[2], c[4], c[6])
			}
		}
	default:
		return nil, fmt.Errorf("%w TIFF variant: CMYK as %T", ErrUnsupported, m)
	}
	return img, nil
}

// sparseTIFF is a TIFF file seen through a new header and first IFD, placed far
// beyond the original data so that every offset in the file keeps its meaning
// and a read past the original end still fails as it would have.
type sparseTIFF struct {
	head   [8]byte
	data   []byte
	ifdOff int64
	ifd    []byte
	pos    int64
}

func (s *sparseTIFF) reader() *sparseTIFF { c := *s; return &c }

func (s *sparseTIFF) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		o := off + int64(n)
		var src []byte
		switch {
		case o < 8:
			src = s.head[o:]
		case o < int64(len(s.data)):
			src = s.data[o:]
		case o >= s.ifdOff && o < s.ifdOff+int64(len(s.ifd)):
			src = s.ifd[o-s.ifdOff:]
		default:
			return n, io.EOF
		}
		n += copy(p[n:], src)
	}
	return n, nil
}

func (s *sparseTIFF) Read(p []byte) (int, error) {
	n, err := s.ReadAt(p, s.pos)
	s.pos += int64(n)
	return n, err
}

// tiffCMYKAsRGBA returns a view of a CMYK TIFF whose first IFD says RGB plus
// one unassociated extra sample, or false if the file is not a plain
// four-ink CMYK TIFF.
func tiffCMYKAsRGBA(b []byte) (*sparseTIFF, bool) {
	if len(b) < 8 {
		return nil, false
	}
	var bo byteOrder
	switch string(b[:4]) {
	case "II*\x00":
		bo.little = true
	case "MM\x00*":
	default:
		return nil, false
	}
	off := int64(bo.u32(b[4:]))
	if off+2 > int64(len(b)) {
		return nil, false
	}
	n := int64(bo.u16(b[off:]))
	if off+2+12*n > int64(len(b)) {
		return nil, false
	}
	type entry struct {
		tag   uint32
		bytes [12]byte
	}
	var entries []entry
	photometric, samples, inkset := uint32(0), uint32(1), uint32(1)
	for i := int64(0); i < n; i++ {
		var e entry
		copy(e.bytes[:], b[off+2+12*i:])
		e.tag = bo.u16(e.bytes[:])
		short := bo.u16(e.bytes[2:]) == 3 && bo.u32(e.bytes[4:]) == 1
		switch e.tag {
		case 262:
			if !short {
				return nil, false
			}
			photometric = bo.u16(e.bytes[8:])
		case 277:
			if !short {
				return nil, false
			}
			samples = bo.u16(e.bytes[8:])
		case 332:
			if !short {
				return nil, false
			}
			inkset = bo.u16(e.bytes[8:])
		case 338: // extra samples: CMYK plus alpha, not handled
			return nil, false
		}
		entries = append(entries, e)
	}
	if photometric != 5 || samples != 4 || inkset != 1 {
		return nil, false
	}
	put16 := func(p []byte, v uint32) {
		if bo.little {
			p[0], p[1] = byte(v), byte(v>>8)
		} else {
			p[0], p[1] = byte(v>>8), byte(v)
		}
	}
	put32 := func(p []byte, v uint32) {
		if bo.little {
			p[0], p[1], p[2], p[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		} else {
			p[0], p[1], p[2], p[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		}
	}
	for i := range entries {
		if entries[i].tag == 262 {
			put16(entries[i].bytes[8:], 2) // RGB
		}
	}
	var extra entry
	extra.tag = 338
	put16(extra.bytes[0:], 338)
	put16(extra.bytes[2:], 3) // SHORT
	put32(extra.bytes[4:], 1)
	put16(extra.bytes[8:], 2) // unassociated alpha
	entries = append(entries, extra)
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].tag < entries[j].tag })

	s := &sparseTIFF{data: b, ifd: make([]byte, 2+12*len(entries)+4)}
	s.ifdOff = 1<<32 - int64(len(s.ifd)) - 2 // the last even offset a TIFF can name
	if s.ifdOff < int64(len(b)) {
		return nil, false
	}
	put16(s.ifd, uint32(len(entries)))
	for i, e := range entries {
		copy(s.ifd[2+12*i:], e.bytes[:])
	}
	copy(s.head[:], b[:4])
	put32(s.head[4:], uint32(s.ifdOff))
	return s, true
}
