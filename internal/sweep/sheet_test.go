package sweep

import (
	"image"
	"strings"
	"testing"
)

func layoutOf(t *testing.T, file string, thumb int) *layout {
	t.Helper()
	spec, err := Parse(strings.NewReader(file), "t.json", testdata)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(spec, "model")
	if err != nil {
		t.Fatal(err)
	}
	return sheetLayout(plan, thumb)
}

func TestSheetLayout(t *testing.T) {
	const images = `"content": "content.png", "style": "style.png"`
	for _, tc := range []struct {
		name          string
		file          string
		thumb         int
		columns, rows int
		// where point index i lands, as column, row
		at     map[int]image.Point
		thumb0 image.Point
	}{
		{"one axis of 12 wraps at 10",
			`{"settings": {` + images + `, "size": 64}, "axes": [{"param": "seed", "range": {"from": 1, "to": 12, "steps": 12}}]}`,
			256, 10, 2, map[int]image.Point{0: {0, 0}, 9: {9, 0}, 10: {0, 1}, 11: {1, 1}}, image.Pt(64, 64)},
		{"first axis across, the others down",
			`{"settings": {` + images + `, "size": "512x256"}, "axes": [{"param": "style-weight", "values": [1, 2, 3]}, {"param": "seed", "values": [1, 2]}, {"param": "tv-weight", "values": [0, 1]}]}`,
			128, 3, 4, map[int]image.Point{0: {0, 0}, 1: {0, 1}, 3: {0, 3}, 4: {1, 0}, 11: {2, 3}}, image.Pt(128, 64)},
		{"no axes: one cell",
			`{"settings": {` + images + `, "size": 16}}`,
			256, 1, 1, map[int]image.Point{0: {0, 0}}, image.Pt(16, 16)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := layoutOf(t, tc.file, tc.thumb)
			if l.Columns != tc.columns || l.Rows != tc.rows {
				t.Fatalf("%d columns, %d rows; want %d, %d", l.Columns, l.Rows, tc.columns, tc.rows)
			}
			if got := l.Cells[0].Image.Size(); got != tc.thumb0 {
				t.Errorf("thumbnail %v, want %v", got, tc.thumb0)
			}
			top := l.Cells[0].Box.Min
			for i, want := range tc.at {
				b := l.Cells[i].Box
				got := image.Pt((b.Min.X-top.X)/(l.CellW+margin), (b.Min.Y-top.Y)/(l.CellH+margin))
				if got != want {
					t.Errorf("point %d at column, row %v; want %v", i+1, got, want)
				}
			}
			// Every cell inside the sheet, none overlapping.
			sheet := image.Rect(0, 0, l.Width, l.Height)
			for i, c := range l.Cells {
				if !c.Box.In(sheet) || !c.Image.In(c.Box) {
					t.Errorf("cell %d %v (image %v) outside the sheet %v", i, c.Box, c.Image, sheet)
				}
				for _, lab := range c.Labels {
					r := image.Rect(lab.X, lab.Y, lab.X+len(lab.Text)*face.Advance, lab.Y+face.Height)
					if !r.In(c.Box) || r.Overlaps(c.Image) {
						t.Errorf("cell %d: label %q at %v outside its box %v or over its image", i, lab.Text, r, c.Box)
					}
				}
				for j := range i {
					if c.Box.Overlaps(l.Cells[j].Box) {
						t.Errorf("cells %d and %d overlap", j, i)
					}
				}
			}
		})
	}
}
