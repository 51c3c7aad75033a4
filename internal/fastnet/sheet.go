package fastnet

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// Tile is one picture of a contact sheet and the label drawn above it.
type Tile struct {
	Label string
	Image *preprocess.Image
}

// Sheet lays tiles out in rows of columns on white, each under its label, so a
// person can pick a style by its number. Tiles may differ in size; each cell is
// as large as the largest.
func Sheet(tiles []Tile, columns int) (*preprocess.Image, error) {
	if len(tiles) == 0 || columns < 1 {
		return nil, fmt.Errorf("fastnet: a sheet of %d tiles in %d columns", len(tiles), columns)
	}
	const pad, label = 6, 16
	cw, ch := 0, 0
	for _, t := range tiles {
		cw, ch = max(cw, t.Image.Width), max(ch, t.Image.Height)
	}
	columns = min(columns, len(tiles))
	rows := (len(tiles) + columns - 1) / columns
	w, h := pad+columns*(cw+pad), pad+rows*(ch+label+pad)
	if err := preprocess.CheckSize(w, h, -1); err != nil {
		return nil, fmt.Errorf("fastnet: sheet: %w", err)
	}
	canvas := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(canvas, canvas.Bounds(), image.White, image.Point{}, draw.Src)
	d := &font.Drawer{Dst: canvas, Src: image.NewUniform(color.Black), Face: basicfont.Face7x13}
	for i, t := range tiles {
		x, y := pad+(i%columns)*(cw+pad), pad+(i/columns)*(ch+label+pad)
		d.Dot = fixed.P(x+1, y+12)
		d.DrawString(t.Label)
		img := t.Image
		for r := 0; r < img.Height; r++ {
			for c := 0; c < img.Width; c++ {
				o := canvas.PixOffset(x+c, y+label+r)
				p := 3 * (r*img.Width + c)
				canvas.Pix[o], canvas.Pix[o+1], canvas.Pix[o+2] = img.Pix[p], img.Pix[p+1], img.Pix[p+2]
			}
		}
	}
	out := preprocess.NewImage(w, h)
	for i := 0; i < w*h; i++ {
		copy(out.Pix[3*i:3*i+3], canvas.Pix[4*i:4*i+3])
	}
	return out, nil
}
