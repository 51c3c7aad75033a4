package transfer

import (
	"strings"
	"testing"
)

func TestValidateStylize(t *testing.T) {
	for _, tc := range []struct {
		net, styles, style string
		sheet              bool
		want               string // "" for valid
	}{
		{"", "7", "", false, ""},
		{"", "", "p.jpg", false, ""},
		{"", "", "", true, ""},
		{"", "", "", false, "net 26 needs styles"},
		{"26", "7", "p.jpg", false, "needs net arbitrary"},
		{"arbitrary", "7", "p.jpg", false, "net arbitrary takes a style image"},
		{"arbitrary", "", "", false, "needs a style image"},
		{"arbitrary", "", "a.jpg,b.jpg", false, "one painting"},
		{"arbitrary", "", "p.jpg", true, "a sheet draws the 26 styles"},
		{"", "7", "", true, "leave styles out"},
	} {
		c := DefaultConfig()
		c.Content, c.Style = "photo.jpg", strings.FieldsFunc(tc.style, func(r rune) bool { return r == ',' })
		c.Stylize.Net, c.Stylize.Styles = tc.net, tc.styles
		err := c.ValidateStylize(tc.sheet)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc, err, tc.want)
		}
	}
}
