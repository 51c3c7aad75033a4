package fastnet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

func TestParseStyles(t *testing.T) {
	s, err := ParseStyles("7")
	if err != nil || s[7] != 1 {
		t.Fatalf("7: %v %v", s, err)
	}
	s, err = ParseStyles(" 3:0.5, 12:1.5 ")
	if err != nil || s[3] != 0.25 || s[12] != 0.75 {
		t.Fatalf("blend: %v %v", s, err)
	}
	s, err = ParseStyles("3,3:2")
	if err != nil || s[3] != 1 {
		t.Fatalf("repeated style adds up: %v %v", s, err)
	}
	for text, want := range map[string]string{
		"26":         "from 0 to 25",
		"-1":         "from 0 to 25",
		"x":          "from 0 to 25",
		"3:abc":      "weight",
		"3:-1":       "weight",
		"3:NaN":      "weight",
		"3:0,4:0":    "sum to zero",
		"3:0.5,":     "empty entry",
		"":           "empty entry",
		"3:0.5;12:1": "weight",
	} {
		if _, err := ParseStyles(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %q", text, err, want)
		}
	}
}

func TestBlendAndMix(t *testing.T) {
	a, b := preprocess.NewImage(2, 1), preprocess.NewImage(2, 1)
	for i := range b.Pix {
		b.Pix[i] = 200
	}
	for _, c := range []struct {
		s    float64
		want uint8
	}{{0, 0}, {1, 200}, {0.25, 50}} {
		out, err := Blend(a, b, c.s)
		if err != nil || out.Pix[0] != c.want {
			t.Errorf("strength %v: %v %v, want %d", c.s, out.Pix[0], err, c.want)
		}
	}
	if _, err := Blend(a, preprocess.NewImage(1, 1), 1); err == nil {
		t.Error("blend of different sizes: no error")
	}
	if v := MixVectors([]float32{0, 2}, []float32{4, 2}, 0.25); v[0] != 1 || v[1] != 2 {
		t.Errorf("MixVectors: %v", v)
	}
}

func TestSheetLayout(t *testing.T) {
	var tiles []Tile
	for i := 0; i < 27; i++ {
		img := preprocess.NewImage(10, 8)
		for k := range img.Pix {
			img.Pix[k] = uint8(i)
		}
		tiles = append(tiles, Tile{Label: "x", Image: img})
	}
	s, err := Sheet(tiles, 7)
	if err != nil {
		t.Fatal(err)
	}
	// 7 columns of 10+6 plus 6; 4 rows of 8+16+6 plus 6.
	if s.Width != 6+7*16 || s.Height != 6+4*30 {
		t.Fatalf("sheet %dx%d", s.Width, s.Height)
	}
	// Tile 8 (row 1, column 1) has value 8 at its top-left pixel, under its label.
	x, y := 6+16, 6+30+16
	if p := s.Pix[3*(y*s.Width+x)]; p != 8 {
		t.Errorf("tile 8's pixel %d", p)
	}
	// The label row of the first tile has dark text pixels on white.
	dark := 0
	for yy := 6; yy < 6+16; yy++ {
		for xx := 6; xx < 16; xx++ {
			if s.Pix[3*(yy*s.Width+xx)] < 128 {
				dark++
			}
		}
	}
	if dark == 0 {
		t.Error("no label drawn")
	}
	if _, err := Sheet(nil, 7); err == nil {
		t.Error("empty sheet: no error")
	}
}

func TestReadMetaErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadMeta(filepath.Join(dir, "absent")); err == nil || !strings.Contains(err.Error(), "make fastnets") {
		t.Errorf("absent: %v", err)
	}
	if _, err := ReadMeta(dir); err == nil || !strings.Contains(err.Error(), "make fastnets") {
		t.Errorf("no record: %v", err)
	}
	os.WriteFile(filepath.Join(dir, metadataFile), []byte("{"), 0o644)
	if _, err := ReadMeta(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged: %v", err)
	}
	os.WriteFile(filepath.Join(dir, metadataFile), []byte(`{"kind":"vgg16-style"}`), 0o644)
	if _, err := ReadMeta(dir); err == nil || !strings.Contains(err.Error(), "not the feed-forward") {
		t.Errorf("wrong kind: %v", err)
	}
	os.WriteFile(filepath.Join(dir, metadataFile), []byte(`{"kind":"fastnets","num_styles":26,"style_vector":100,"style_size":256}`), 0o644)
	if _, err := ReadMeta(dir); err == nil || !strings.Contains(err.Error(), "saved_model.pb") {
		t.Errorf("no graph: %v", err)
	}
}
