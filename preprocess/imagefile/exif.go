package imagefile

import (
	"bytes"
	"compress/zlib"
	"encoding/hex"
	"io"
	"math"
	"regexp"
	"strings"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// orientation returns the EXIF orientation (1..8) that Pillow's
// ImageOps.exif_transpose would act on, or 1. exif is a TIFF structure, possibly
// behind "Exif\0\0" prefixes; xmp is consulted, as Pillow's getexif does, only
// when the EXIF data has no orientation tag. Malformed metadata means 1 (where
// Pillow would raise from exif_transpose, decoding the pixels is more useful).
func orientation(exif []byte, xmp string) int {
	if v, ok := exifOrientation(exif); ok {
		if v >= 2 && v <= 8 {
			return v
		}
		return 1
	}
	if m := xmpOrientation.FindStringSubmatch(xmp); m != nil {
		return int(m[2][0] - '0')
	}
	return 1
}

var xmpOrientation = regexp.MustCompile(`tiff:Orientation(="|>)([0-9])`)

// exifOrientation reads tag 0x0112 of IFD0. ok is false when there is no such
// tag; when the value is not one Pillow's transpose table can match, the
// returned value is 0.
func exifOrientation(b []byte) (v int, ok bool) {
	for bytes.HasPrefix(b, []byte("Exif\x00\x00")) {
		b = b[6:]
	}
	if len(b) < 8 {
		return 0, false
	}
	var bo byteOrder
	switch string(b[:4]) {
	case "II*\x00":
		bo = byteOrder{little: true}
	case "MM\x00*":
	default:
		return 0, false
	}
	u16, u32 := bo.u16, bo.u32
	off := int64(u32(b[4:]))
	if off+2 > int64(len(b)) {
		return 0, false
	}
	n := int64(u16(b[off:]))
	for e := off + 2; e+12 <= int64(len(b)) && e < off+2+12*n; e += 12 {
		if u16(b[e:]) != 0x0112 {
			continue
		}
		typ, count := u16(b[e+2:]), int64(u32(b[e+4:]))
		size := map[uint32]int64{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}[typ]
		if size == 0 || count == 0 {
			continue // Pillow skips unknown types; an empty value cannot match
		}
		val := b[e+8 : e+12]
		if size*count > 4 {
			p := int64(u32(val))
			if p+size*count > int64(len(b)) {
				continue // Pillow: "Possibly corrupt EXIF data", tag skipped
			}
			val = b[p : p+size]
		}
		// Later duplicates overwrite earlier ones, as in Pillow's dictionary;
		// with several values Pillow keeps the first.
		v, ok = 0, true
		if f, numeric := exifNumber(typ, val, bo); numeric && f == math.Trunc(f) && f >= 0 && f <= 8 {
			v = int(f)
		}
	}
	return v, ok
}

// exifNumber reads the first value of a numeric TIFF field the way Pillow
// compares it with its integer table: BYTE, ASCII and UNDEFINED come back as
// bytes or text in Pillow and never match.
func exifNumber(typ uint32, p []byte, bo byteOrder) (float64, bool) {
	u16, u32 := bo.u16, bo.u32
	switch typ {
	case 3: // SHORT
		return float64(u16(p)), true
	case 4, 13: // LONG, IFD
		return float64(u32(p)), true
	case 6: // SBYTE
		return float64(int8(p[0])), true
	case 8: // SSHORT
		return float64(int16(u16(p))), true
	case 9: // SLONG
		return float64(int32(u32(p))), true
	case 5, 10: // RATIONAL, SRATIONAL
		num, den := u32(p), u32(p[4:])
		if den == 0 {
			return 0, false
		}
		if typ == 10 {
			return float64(int32(num)) / float64(int32(den)), true
		}
		return float64(num) / float64(den), true
	case 11: // FLOAT
		return float64(math.Float32frombits(u32(p))), true
	case 12: // DOUBLE
		return math.Float64frombits(bo.u64(p)), true
	case 16: // LONG8
		return float64(bo.u64(p)), true
	}
	return 0, false
}

// byteOrder reads TIFF integers.
type byteOrder struct{ little bool }

func (o byteOrder) u16(p []byte) uint32 {
	if o.little {
		return uint32(p[0]) | uint32(p[1])<<8
	}
	return uint32(p[0])<<8 | uint32(p[1])
}

func (o byteOrder) u32(p []byte) uint32 {
	if o.little {
		return le32(p)
	}
	return be32(p)
}

func (o byteOrder) u64(p []byte) uint64 {
	if o.little {
		return uint64(le32(p[4:]))<<32 | uint64(le32(p))
	}
	return uint64(be32(p))<<32 | uint64(be32(p[4:]))
}

// pngExif collects what Pillow's PngImagePlugin puts in info["exif"] (the last
// eXIf chunk or tEXt "exif"; otherwise a "Raw profile type exif" text chunk,
// hex-encoded as ImageMagick writes it) and the "XML:com.adobe.xmp" text, over
// every chunk of the file (Pillow reads the ones after IDAT on load).
func pngExif(b []byte) (exif []byte, xmp string) {
	var raw string
	haveExif := false
	for i := 8; i+8 <= len(b); {
		n := int64(be32(b[i:]))
		typ := string(b[i+4 : i+8])
		if int64(i)+12+n > int64(len(b)) {
			break
		}
		d := b[i+8 : i+8+int(n)]
		i += 12 + int(n)
		switch typ {
		case "IEND":
			i = len(b)
		case "eXIf":
			exif, haveExif = append([]byte("Exif\x00\x00"), d...), true
		case "tEXt", "zTXt", "iTXt":
			k, v, ok := pngText(typ, d)
			if !ok {
				continue
			}
			switch k {
			case "exif":
				if typ == "tEXt" { // Pillow keeps tEXt "exif" as bytes; other kinds as text it cannot parse
					exif, haveExif = []byte(v), true
				}
			case "Raw profile type exif":
				raw = v
			case "XML:com.adobe.xmp":
				xmp = v
			}
		}
	}
	if !haveExif && raw != "" {
		lines := strings.Split(raw, "\n")
		if len(lines) > 3 {
			h := strings.Join(strings.Fields(strings.Join(lines[3:], "")), "")
			if x, err := hex.DecodeString(h); err == nil {
				exif = x
			}
		}
	}
	return exif, xmp
}

// pngText decodes a text chunk's keyword and value.
func pngText(typ string, d []byte) (key, val string, ok bool) {
	k, rest, found := bytes.Cut(d, []byte{0})
	if !found {
		return "", "", false
	}
	switch typ {
	case "tEXt":
		return string(k), string(rest), true
	case "zTXt":
		if len(rest) < 1 || rest[0] != 0 {
			return "", "", false
		}
		v, err := inflateSmall(rest[1:])
		return string(k), string(v), err == nil
	}
	// iTXt: compression flag, method, language\0, translated keyword\0, text
	if len(rest) < 2 {
		return "", "", false
	}
	flag, method := rest[0], rest[1]
	parts := bytes.SplitN(rest[2:], []byte{0}, 3)
	if len(parts) != 3 {
		return "", "", false
	}
	v := parts[2]
	if flag != 0 {
		if method != 0 {
			return "", "", false
		}
		var err error
		if v, err = inflateSmall(v); err != nil {
			return "", "", false
		}
	}
	return string(k), string(v), true
}

// inflateSmall decompresses metadata, refusing more than Pillow's text limit
// (MAX_TEXT_CHUNK, 1 MiB) so that a tiny zlib bomb cannot exhaust memory.
func inflateSmall(z []byte) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	const limit = 1 << 20
	v, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if len(v) > limit {
		return nil, io.ErrShortBuffer
	}
	return v, nil
}

// webpExif returns the EXIF chunk of an extended (VP8X) WebP file, the one
// Pillow's WebP plugin reads.
func webpExif(b []byte) []byte {
	if len(b) < 20 || string(b[12:16]) != "VP8X" {
		return nil
	}
	for i := 12; i+8 <= len(b); {
		n := int64(le32(b[i+4:]))
		if int64(i)+8+n > int64(len(b)) {
			return nil
		}
		if string(b[i:i+4]) == "EXIF" {
			return b[i+8 : i+8+int(n)]
		}
		i += 8 + int(n) + int(n&1)
	}
	return nil
}

// orient applies an EXIF orientation like Pillow's exif_transpose, whose
// table maps 2..8 to FLIP_LEFT_RIGHT, ROTATE_180, FLIP_TOP_BOTTOM, TRANSPOSE,
// ROTATE_270, TRANSVERSE and ROTATE_90.
func orient(img *preprocess.Image, o int) *preprocess.Image {
	if o < 2 || o > 8 {
		return img
	}
	w, h := img.Width, img.Height
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := preprocess.NewImage(ow, oh)
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			copy(out.Pix[3*(y*ow+x):3*(y*ow+x)+3], img.Pix[3*(sy*w+sx):])
		}
	}
	return out
}
