package preprocess

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckSize(t *testing.T) {
	cases := []struct {
		w, h  int
		limit int64
		want  error
		msg   string
	}{
		{1, 1, DefaultMaxPixels, nil, ""},
		{512, 512, -1, nil, ""},
		{MaxSide, 1, -1, nil, ""},
		{0, 5, -1, ErrDimensions, "0x5"},
		{5, -1, -1, ErrDimensions, "5x-1"},
		{MaxSide + 1, 1, -1, ErrTooLarge, "per side"},
		{1, MaxSide + 1, DefaultMaxPixels, ErrTooLarge, "per side"},
		{29, 21, 500, ErrTooLarge, "29x21 is 609 pixels, over the limit of 500"},
		{29, 21, 609, nil, ""},
		{10000, 10000, DefaultMaxPixels, ErrTooLarge, "over the limit of 89478485"},
	}
	for _, c := range cases {
		err := CheckSize(c.w, c.h, c.limit)
		if c.want == nil {
			if err != nil {
				t.Errorf("CheckSize(%d, %d, %d) = %v, want nil", c.w, c.h, c.limit, err)
			}
			continue
		}
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("CheckSize(%d, %d, %d) = %v, want %v containing %q", c.w, c.h, c.limit, err, c.want, c.msg)
		}
	}
}

func TestImageCheck(t *testing.T) {
	cases := []struct {
		name string
		img  *Image
		msg  string // empty: valid
	}{
		{"valid", NewImage(3, 2), ""},
		{"nil", nil, "nil image"},
		{"empty", &Image{}, "invalid image dimensions: 0x0"},
		{"short Pix", &Image{Width: 2, Height: 2, Pix: make([]uint8, 11)}, "2x2 image has 11 bytes of pixels, want 12"},
		{"huge side", &Image{Width: MaxSide + 1, Height: 1}, "per side"},
	}
	for _, c := range cases {
		err := c.img.Check()
		if c.msg == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.msg)
		}
	}
}
