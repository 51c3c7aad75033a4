package sweep

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
)

// The sheet's text is X11's 7x13 fixed font (basicfont), so no font file is
// needed and every label's width is 7 pixels a character.
var face = basicfont.Face7x13

const (
	margin     = 8  // around the sheet and between cells
	lineHeight = 15 // a text line: the font's 13 pixels and 2 between lines
	labelGap   = 4  // between a thumbnail and its labels
	maxLabel   = 48 // characters; longer labels end in ".."
	minHeader  = 60 // characters a header line may hold, however narrow the grid
	// wrapColumns is the most columns a sweep of one axis takes before wrapping.
	wrapColumns = 10
	// maxSheetPixels bounds the sheet (1 GiB as RGBA); beyond it, a smaller
	// thumbnail size is needed.
	maxSheetPixels = 1 << 28
)

var (
	background = color.RGBA{255, 255, 255, 255}
	ink        = color.RGBA{0, 0, 0, 255}
	missingBox = color.RGBA{221, 221, 221, 255}
)

// textLine is one line of text, its box's top-left corner at X, Y.
type textLine struct {
	X, Y int
	Text string
}

// cell is where one point goes on the sheet.
type cell struct {
	Point  int             // index into Plan.Points
	Box    image.Rectangle // the whole cell: thumbnail and labels
	Image  image.Rectangle // the thumbnail
	Labels []textLine      // one per axis: param=value
}

// layout is the contact sheet's geometry, computed from the points' settings
// alone, so that a point not finished yet keeps its place.
type layout struct {
	Width, Height int
	Columns, Rows int
	CellW, CellH  int // every cell's box, thumbnail and labels
	Header        []textLine
	Cells         []cell // in point order
}

// thumbSize is the size a point's image is shown at: its longest side at most
// thumb, never enlarged.
func thumbSize(p *Point, thumb int) (int, int) {
	w, h := p.Config.Settings.Width, p.Config.Settings.Height
	if max(w, h) <= thumb {
		return w, h
	}
	tw, th, err := resample.FitLongestSide(w, h, thumb)
	if err != nil { // only for sizes Validate refuses
		return w, h
	}
	return tw, th
}

func clip(s string) string {
	if len(s) > maxLabel {
		return s[:maxLabel-2] + ".."
	}
	return s
}

// sheetLayout places the points in a grid: one column per value of the first
// axis, one row per combination of the other axes (points are ordered with the
// first axis slowest, so point i is in column i/rows, row i%rows). Above the grid,
// a header gives the description and the fixed settings.
func sheetLayout(plan *Plan, thumb int) *layout {
	n := len(plan.Points)
	l := &layout{Columns: 1}
	if len(plan.Spec.Axes) > 0 {
		l.Columns = len(plan.Spec.Axes[0].Values)
	}
	// One axis of many values wraps, in reading order.
	wrapped := len(plan.Spec.Axes) <= 1 && n > wrapColumns
	if wrapped {
		l.Columns = wrapColumns
	}
	l.Rows = (n + l.Columns - 1) / l.Columns
	maxTW, maxTH, lines := 0, 0, max(1, len(plan.Spec.Axes))
	labels := make([][]string, len(plan.Points))
	for i := range plan.Points {
		p := &plan.Points[i]
		tw, th := thumbSize(p, thumb)
		maxTW, maxTH = max(maxTW, tw), max(maxTH, th)
		labels[i] = p.Label()
		if len(labels[i]) == 0 {
			labels[i] = []string{"point " + p.Key}
		}
		for j, s := range labels[i] {
			labels[i][j] = clip(s)
			maxTW = max(maxTW, len(labels[i][j])*face.Advance)
		}
	}
	l.CellW, l.CellH = maxTW, maxTH+labelGap+lines*lineHeight
	gridW := l.Columns*l.CellW + (l.Columns-1)*margin

	// Header, wrapped to the grid's width (or minHeader characters).
	chars := max(gridW/face.Advance, minHeader)
	l.Width = 2*margin + max(gridW, chars*face.Advance)
	var words []string
	if plan.Spec.Description != "" {
		words = append(words, strings.Fields(plan.Spec.Description)...)
		words = append(words, "|")
	}
	for _, v := range plan.Spec.Base {
		words = append(words, v.Param+"="+v.Label)
	}
	y := margin
	for _, line := range wrap(words, chars) {
		l.Header = append(l.Header, textLine{X: margin, Y: y, Text: line})
		y += lineHeight
	}
	if len(l.Header) > 0 {
		y += margin
	}

	for i := range plan.Points {
		col, row := i/l.Rows, i%l.Rows
		if wrapped {
			col, row = i%l.Columns, i/l.Columns
		}
		x0, y0 := margin+col*(l.CellW+margin), y+row*(l.CellH+margin)
		tw, th := thumbSize(&plan.Points[i], thumb)
		c := cell{Point: i, Box: image.Rect(x0, y0, x0+l.CellW, y0+l.CellH), Image: image.Rect(0, 0, tw, th).Add(image.Pt(x0+(l.CellW-tw)/2, y0+(maxTH-th)/2))}
		for j, s := range labels[i] {
			c.Labels = append(c.Labels, textLine{
				X: x0 + (l.CellW-len(s)*face.Advance)/2, Y: y0 + maxTH + labelGap + j*lineHeight, Text: s,
			})
		}
		l.Cells = append(l.Cells, c)
	}
	l.Height = y + l.Rows*l.CellH + (l.Rows-1)*margin + margin
	return l
}

// wrap joins words into lines of at most width characters (a longer word gets a
// line of its own, clipped).
func wrap(words []string, width int) []string {
	var lines []string
	cur := ""
	for _, w := range words {
		if len(w) > width {
			w = w[:width-2] + ".."
		}
		switch {
		case cur == "":
			cur = w
		case len(cur)+1+len(w) <= width:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// drawText draws a line of text in the sheet's font.
func drawText(dst draw.Image, t textLine) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(ink), Face: face, Dot: fixed.P(t.X, t.Y+face.Ascent)}
	d.DrawString(t.Text)
}

// drawThumb draws img scaled into r.
func drawThumb(dst *image.RGBA, r image.Rectangle, img *preprocess.Image) error {
	if img.Width != r.Dx() || img.Height != r.Dy() {
		var err error
		if img, err = resample.Resize(img, r.Dx(), r.Dy(), resample.Bicubic); err != nil {
			return err
		}
	}
	for y := 0; y < img.Height; y++ {
		row := dst.Pix[dst.PixOffset(r.Min.X, r.Min.Y+y):]
		src := img.Pix[3*y*img.Width:]
		for x := 0; x < img.Width; x++ {
			row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = src[3*x], src[3*x+1], src[3*x+2], 255
		}
	}
	return nil
}

// renderSheet draws the layout with the finished points' images (nil for a point
// not finished: a grey box).
func renderSheet(l *layout, images []*preprocess.Image) (*preprocess.Image, error) {
	if l.Width*l.Height > maxSheetPixels {
		return nil, fmt.Errorf("sweep: a contact sheet of %dx%d pixels is too large; use smaller thumbnails", l.Width, l.Height)
	}
	dst := image.NewRGBA(image.Rect(0, 0, l.Width, l.Height))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)
	for _, t := range l.Header {
		drawText(dst, t)
	}
	for _, c := range l.Cells {
		if img := images[c.Point]; img != nil {
			if err := drawThumb(dst, c.Image, img); err != nil {
				return nil, fmt.Errorf("sweep: sheet: %w", err)
			}
		} else {
			draw.Draw(dst, c.Image, image.NewUniform(missingBox), image.Point{}, draw.Src)
		}
		for _, t := range c.Labels {
			drawText(dst, t)
		}
	}
	return fromRGBA(dst), nil
}

// gifFrames draws each finished point's cell alone on a frame of one cell's
// size plus the margin, in point order.
func gifFrames(l *layout, images []*preprocess.Image) ([]*preprocess.Image, error) {
	var frames []*preprocess.Image
	for _, c := range l.Cells {
		img := images[c.Point]
		if img == nil {
			continue
		}
		box := c.Box.Inset(-margin)
		dst := image.NewRGBA(image.Rect(0, 0, box.Dx(), box.Dy()))
		draw.Draw(dst, dst.Bounds(), image.NewUniform(background), image.Point{}, draw.Src)
		shift := box.Min
		if err := drawThumb(dst, c.Image.Sub(shift), img); err != nil {
			return nil, fmt.Errorf("sweep: GIF: %w", err)
		}
		for _, t := range c.Labels {
			drawText(dst, textLine{X: t.X - shift.X, Y: t.Y - shift.Y, Text: t.Text})
		}
		frames = append(frames, fromRGBA(dst))
	}
	return frames, nil
}

func fromRGBA(src *image.RGBA) *preprocess.Image {
	b := src.Bounds()
	img := preprocess.NewImage(b.Dx(), b.Dy())
	for y := 0; y < b.Dy(); y++ {
		row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
		out := img.Pix[3*y*b.Dx():]
		for x := 0; x < b.Dx(); x++ {
			out[3*x], out[3*x+1], out[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
	return img
}
