package imagefile

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"io"
	"math"
	"sort"
	"time"

	"github.com/neuralstyle/neuralstyle/atomicfile"
	"github.com/neuralstyle/neuralstyle/preprocess"
)

// GIFOptions adjusts EncodeGIF.
type GIFOptions struct {
	// Delay is shown after each frame, stored in GIF's 10 ms units (rounded);
	// at most 655.35 s. 0 leaves the pace to the viewer (browsers use 100 ms).
	Delay time.Duration
	// LoopCount: 0 loops forever, n > 0 plays n+1 times, -1 plays once.
	LoopCount int
	// Dither spreads each pixel's quantisation error to its neighbours
	// (Floyd-Steinberg); off, every pixel takes its nearest palette colour.
	Dither bool
}

// WriteGIF writes frames (all of one size) as an animated GIF that loops
// forever with the given delay after each frame, atomically. The 256-colour
// palette is fitted to the frames (see EncodeGIF).
func WriteGIF(path string, frames []*preprocess.Image, delay time.Duration) error {
	opt := &GIFOptions{Delay: delay}
	if err := checkFrames(frames, opt); err != nil {
		return fmt.Errorf("imagefile: write %s: %w", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error { return EncodeGIF(w, frames, opt) })
}

// EncodeGIF writes frames as a GIF with one global palette of at most 256
// colours fitted to all frames together: their exact colours when there are
// no more than 256, otherwise a median cut of their colour histogram, each
// palette entry being the mean of the colours its box holds. opt may be nil.
func EncodeGIF(w io.Writer, frames []*preprocess.Image, opt *GIFOptions) error {
	if opt == nil {
		opt = &GIFOptions{}
	}
	if err := checkFrames(frames, opt); err != nil {
		return fmt.Errorf("imagefile: encode GIF: %w", err)
	}
	pal := fitPalette(frames)
	g := &gif.GIF{
		LoopCount: opt.LoopCount,
		Config:    image.Config{ColorModel: pal, Width: frames[0].Width, Height: frames[0].Height},
	}
	cs := int((opt.Delay + 5*time.Millisecond) / (10 * time.Millisecond))
	q := newQuantizer(pal)
	for _, f := range frames {
		g.Image = append(g.Image, q.paletted(f, opt.Dither))
		g.Delay = append(g.Delay, cs)
	}
	return gif.EncodeAll(w, g)
}

func checkFrames(frames []*preprocess.Image, opt *GIFOptions) error {
	if len(frames) == 0 {
		return errors.New("no frames")
	}
	for i, f := range frames {
		if err := f.Check(); err != nil {
			return fmt.Errorf("frame %d: %w", i, err)
		}
		if f.Width != frames[0].Width || f.Height != frames[0].Height {
			return fmt.Errorf("frame %d is %dx%d, frame 0 %dx%d", i, f.Width, f.Height, frames[0].Width, frames[0].Height)
		}
	}
	if frames[0].Width > 65535 || frames[0].Height > 65535 {
		return fmt.Errorf("%w: %dx%d exceeds GIF's 65535 per side", preprocess.ErrTooLarge, frames[0].Width, frames[0].Height)
	}
	if opt.Delay < 0 || opt.Delay >= 655355*time.Millisecond {
		return fmt.Errorf("frame delay %v outside 0..655.35s", opt.Delay)
	}
	if opt.LoopCount < -1 || opt.LoopCount > 65535 {
		return fmt.Errorf("loop count %d outside -1..65535", opt.LoopCount)
	}
	return nil
}

// fitPalette returns the frames' own colours if they are 256 or fewer, else a
// median-cut palette of 256 colours.
func fitPalette(frames []*preprocess.Image) color.Palette {
	exact := map[[3]uint8]struct{}{}
	for _, f := range frames {
		for i := 0; i < len(f.Pix) && len(exact) <= 256; i += 3 {
			exact[[3]uint8{f.Pix[i], f.Pix[i+1], f.Pix[i+2]}] = struct{}{}
		}
	}
	if len(exact) <= 256 {
		keys := make([][3]uint8, 0, len(exact))
		for c := range exact {
			keys = append(keys, c)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, b := keys[i], keys[j]
			return a[0] < b[0] || a[0] == b[0] && (a[1] < b[1] || a[1] == b[1] && a[2] < b[2])
		})
		pal := make(color.Palette, len(keys))
		for i, c := range keys {
			pal[i] = color.RGBA{c[0], c[1], c[2], 0xFF}
		}
		return pal
	}
	return medianCut(frames, 256)
}

// A histogram bin: colours sharing their top 5 bits per channel. Sums keep the
// exact colours so that palette entries are true means, not bin centres.
type bin struct {
	key        [3]uint8 // 5-bit coordinates
	n          uint64
	sr, sg, sb uint64
}

// medianCut splits the box of histogram bins with the largest population
// times extent along its longest axis at the population median, until there
// are k boxes or no box holds two bins.
func medianCut(frames []*preprocess.Image, k int) color.Palette {
	hist := make([]bin, 1<<15)
	for _, f := range frames {
		for i := 0; i < len(f.Pix); i += 3 {
			r, g, b := f.Pix[i], f.Pix[i+1], f.Pix[i+2]
			h := &hist[int(r>>3)<<10|int(g>>3)<<5|int(b>>3)]
			h.n++
			h.sr += uint64(r)
			h.sg += uint64(g)
			h.sb += uint64(b)
		}
	}
	var bins []bin
	for i, h := range hist {
		if h.n > 0 {
			h.key = [3]uint8{uint8(i >> 10), uint8(i >> 5 & 31), uint8(i & 31)}
			bins = append(bins, h)
		}
	}
	type box struct{ bins []bin }
	extent := func(b box) (axis int, size int, pop uint64) {
		lo, hi := [3]int{31, 31, 31}, [3]int{}
		for _, x := range b.bins {
			pop += x.n
			for a := 0; a < 3; a++ {
				lo[a] = min(lo[a], int(x.key[a]))
				hi[a] = max(hi[a], int(x.key[a]))
			}
		}
		for a := 0; a < 3; a++ {
			if hi[a]-lo[a] > size {
				axis, size = a, hi[a]-lo[a]
			}
		}
		return axis, size, pop
	}
	boxes := []box{{bins}}
	for len(boxes) < k {
		best, bestScore, bestAxis := -1, 0.0, 0
		for i, b := range boxes {
			axis, size, pop := extent(b)
			if len(b.bins) < 2 || size == 0 {
				continue
			}
			if s := float64(pop) * float64(size); s > bestScore {
				best, bestScore, bestAxis = i, s, axis
			}
		}
		if best < 0 {
			break
		}
		b := boxes[best].bins
		sort.Slice(b, func(i, j int) bool { return b[i].key[bestAxis] < b[j].key[bestAxis] })
		var total, acc uint64
		for _, x := range b {
			total += x.n
		}
		cut := 1
		for i, x := range b[:len(b)-1] {
			acc += x.n
			cut = i + 1
			if 2*acc >= total {
				break
			}
		}
		// Never cut between bins of equal coordinate on the axis: move the cut
		// to the nearest change so that both halves are separable.
		for cut < len(b) && b[cut].key[bestAxis] == b[cut-1].key[bestAxis] {
			cut++
		}
		if cut == len(b) {
			cut = 1
			for cut < len(b) && b[cut].key[bestAxis] == b[0].key[bestAxis] {
				cut++
			}
		}
		boxes[best] = box{b[:cut]}
		boxes = append(boxes, box{b[cut:]})
	}
	pal := make(color.Palette, len(boxes))
	for i, b := range boxes {
		var n, r, g, bl uint64
		for _, x := range b.bins {
			n += x.n
			r += x.sr
			g += x.sg
			bl += x.sb
		}
		pal[i] = color.RGBA{uint8((r + n/2) / n), uint8((g + n/2) / n), uint8((bl + n/2) / n), 0xFF}
	}
	return pal
}

// quantizer maps colours to the nearest palette entry (squared RGB distance),
// remembering answers since frames share most of their colours.
type quantizer struct {
	pal   color.Palette
	rgb   [][3]int32
	cache map[uint32]uint8
}

func newQuantizer(pal color.Palette) *quantizer {
	q := &quantizer{pal: pal, cache: make(map[uint32]uint8)}
	for _, c := range pal {
		r := c.(color.RGBA)
		q.rgb = append(q.rgb, [3]int32{int32(r.R), int32(r.G), int32(r.B)})
	}
	return q
}

func (q *quantizer) nearest(r, g, b uint8) uint8 {
	key := uint32(r)<<16 | uint32(g)<<8 | uint32(b)
	if i, ok := q.cache[key]; ok {
		return i
	}
	best, bestD := 0, int32(math.MaxInt32)
	for i, c := range q.rgb {
		dr, dg, db := c[0]-int32(r), c[1]-int32(g), c[2]-int32(b)
		if d := dr*dr + dg*dg + db*db; d < bestD {
			best, bestD = i, d
		}
	}
	q.cache[key] = uint8(best)
	return uint8(best)
}

// paletted quantises one frame, optionally with Floyd-Steinberg error
// diffusion (left to right; 7/16 right, 3/16 down-left, 5/16 down, 1/16
// down-right).
func (q *quantizer) paletted(f *preprocess.Image, dither bool) *image.Paletted {
	w, h := f.Width, f.Height
	m := image.NewPaletted(image.Rect(0, 0, w, h), q.pal)
	if !dither {
		for i := 0; i < w*h; i++ {
			m.Pix[i] = q.nearest(f.Pix[3*i], f.Pix[3*i+1], f.Pix[3*i+2])
		}
		return m
	}
	cur, next := make([]float32, 3*(w+2)), make([]float32, 3*(w+2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var v [3]uint8
			for c := 0; c < 3; c++ {
				v[c] = clip8(int(math.Round(float64(float32(f.Pix[3*(y*w+x)+c]) + cur[3*(x+1)+c]))))
			}
			idx := q.nearest(v[0], v[1], v[2])
			m.Pix[y*w+x] = idx
			for c := 0; c < 3; c++ {
				e := float32(int32(v[c]) - q.rgb[idx][c])
				cur[3*(x+2)+c] += e * 7 / 16
				next[3*x+c] += e * 3 / 16
				next[3*(x+1)+c] += e * 5 / 16
				next[3*(x+2)+c] += e * 1 / 16
			}
		}
		cur, next = next, cur
		for i := range next {
			next[i] = 0
		}
	}
	return m
}
