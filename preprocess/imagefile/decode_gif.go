package imagefile

import (
	"compress/lzw"
	"fmt"
	"io"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// decodeGIF returns the first frame of a GIF as Pillow's GifImagePlugin shows it
// (LOADING_STRATEGY RGB_AFTER_FIRST, then convert("RGB")). image/gif is not used
// because Pillow differs from it where files are sloppy: the canvas grows to
// hold a frame that sticks out of the logical screen; pixels outside the frame
// take the transparent index if the frame has one and index 0 otherwise (never
// the background colour); a colour table that is the identity grey ramp makes
// an L image whose values are the indices; indices past the colour table are
// black in a palette image; bytes between blocks that are not blocks are
// skipped. A frame whose data ends early is an error, as in Pillow.
func decodeGIF(b []byte, limit int64) (*preprocess.Image, error) {
	truncated := fmt.Errorf("truncated GIF file: %w", io.ErrUnexpectedEOF)
	if len(b) < 13 {
		return nil, truncated
	}
	width, height := le16(b[6:]), le16(b[8:])
	pos := 13
	var global []byte // nil: no table, or an identity grey table (Pillow's mode L)
	if flags := b[10]; flags&0x80 != 0 {
		n := 3 << (flags&7 + 1)
		if pos+n > len(b) {
			return nil, truncated
		}
		if p := b[pos : pos+n]; paletteNeeded(p) {
			global = p
		}
		pos += n
	}

	// Walk extensions up to the first image descriptor.
	transparent := -1
	var x0, y0, fw, fh int
	var desc byte
	for {
		if pos >= len(b) || b[pos] == ';' {
			return nil, fmt.Errorf("%w: no image in GIF file", ErrCorrupt)
		}
		c := b[pos]
		pos++
		if c == ',' {
			if pos+9 > len(b) {
				return nil, truncated
			}
			x0, y0, fw, fh = le16(b[pos:]), le16(b[pos+2:]), le16(b[pos+4:]), le16(b[pos+6:])
			desc = b[pos+8]
			pos += 9
			break
		}
		if c != '!' {
			continue // Pillow skips stray bytes
		}
		if pos >= len(b) {
			return nil, truncated
		}
		label := b[pos]
		pos++
		first := true
		for {
			if pos >= len(b) {
				return nil, truncated
			}
			n := int(b[pos])
			pos++
			if n == 0 {
				break
			}
			if pos+n > len(b) {
				return nil, truncated
			}
			if first && label == 0xF9 && n >= 4 && b[pos]&1 != 0 {
				transparent = int(b[pos+3])
			}
			first = false
			pos += n
		}
	}

	// The frame's colour table: local if present (false when it is a grey ramp),
	// else global.
	pal, palIsNil := global, global == nil
	if desc&0x80 != 0 {
		n := 3 << (desc&7 + 1)
		if pos+n > len(b) {
			return nil, truncated
		}
		pal = b[pos : pos+n]
		palIsNil = !paletteNeeded(pal)
		pos += n
	}

	// Pillow grows the canvas to the frame's extent.
	width, height = max(width, x0+fw), max(height, y0+fh)
	if err := preprocess.CheckSize(width, height, limit); err != nil {
		return nil, err
	}
	if pos >= len(b) {
		return nil, truncated
	}
	litWidth := int(b[pos])
	pos++
	if litWidth < 2 || litWidth > 8 {
		return nil, fmt.Errorf("%w GIF variant: LZW code size %d", ErrUnsupported, litWidth)
	}

	fill := uint8(0)
	if transparent >= 0 {
		fill = uint8(transparent)
	}
	idx := make([]uint8, width*height)
	if fill != 0 {
		for i := range idx {
			idx[i] = fill
		}
	}
	frame := make([]uint8, fw*fh)
	lr := lzw.NewReader(&subBlockReader{b: b, pos: pos}, lzw.LSB, litWidth)
	n := 0
	var err error
	for n < len(frame) && err == nil {
		var k int
		k, err = lr.Read(frame[n:])
		n += k
	}
	lr.Close()
	switch {
	case n == len(frame):
	case err == io.EOF, err == io.ErrUnexpectedEOF:
		// The data (or its LZW end code) stops before the frame is full; Pillow
		// reports such a file as truncated too.
		return nil, truncated
	default:
		return nil, fmt.Errorf("%w: GIF: %v", ErrCorrupt, err)
	}
	if fw > 0 {
		rows := make([]int, 0, fh)
		if desc&0x40 != 0 { // interlaced: rows 0, 8, ...; 4, 12, ...; 2, 6, ...; 1, 3, ...
			for _, p := range [][2]int{{0, 8}, {4, 8}, {2, 4}, {1, 2}} {
				for y := p[0]; y < fh; y += p[1] {
					rows = append(rows, y)
				}
			}
		} else {
			for y := 0; y < fh; y++ {
				rows = append(rows, y)
			}
		}
		for i, y := range rows {
			o := (y0+y)*width + x0
			copy(idx[o:o+fw], frame[i*fw:(i+1)*fw])
		}
	}

	var lut [256][3]uint8
	for i := range lut {
		switch {
		case !palIsNil && 3*i+3 <= len(pal):
			lut[i] = [3]uint8{pal[3*i], pal[3*i+1], pal[3*i+2]}
		case palIsNil:
			lut[i] = [3]uint8{uint8(i), uint8(i), uint8(i)}
		}
	}
	img := preprocess.NewImage(width, height)
	for i, v := range idx {
		c := lut[v]
		img.Pix[3*i], img.Pix[3*i+1], img.Pix[3*i+2] = c[0], c[1], c[2]
	}
	return img, nil
}

// paletteNeeded is Pillow's test: a table whose entry i is (i, i, i) throughout
// is no palette at all (the image is greyscale).
func paletteNeeded(p []byte) bool {
	for i := 0; i+2 < len(p); i += 3 {
		v := byte(i / 3)
		if p[i] != v || p[i+1] != v || p[i+2] != v {
			return true
		}
	}
	return false
}

// subBlockReader concatenates GIF data sub-blocks; a missing terminator or a
// short block ends the data with io.ErrUnexpectedEOF.
type subBlockReader struct {
	b    []byte
	pos  int
	left int // bytes left in the current sub-block
	done bool
}

func (r *subBlockReader) Read(p []byte) (int, error) {
	for r.left == 0 {
		if r.done {
			return 0, io.EOF
		}
		if r.pos >= len(r.b) {
			return 0, io.ErrUnexpectedEOF
		}
		r.left = int(r.b[r.pos])
		r.pos++
		if r.left == 0 {
			r.done = true
			return 0, io.EOF
		}
	}
	n := min(len(p), r.left, len(r.b)-r.pos)
	if n == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	copy(p, r.b[r.pos:r.pos+n])
	r.pos += n
	r.left -= n
	return n, nil
}

func le16(b []byte) int { return int(b[0]) | int(b[1])<<8 }
