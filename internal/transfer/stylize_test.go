package transfer

import (
	"strings"
	"testing"
)

func stylizeSetting(t *testing.T, name string) *Setting {
	t.Helper()
	for i := range StylizeSchema {
		if StylizeSchema[i].Name == name {
			return &StylizeSchema[i]
		}
	}
	t.Fatalf("no stylize setting %q", name)
	return nil
}

func TestStylizeSchema(t *testing.T) {
	c := DefaultConfig()
	if c.Stylize.Strength != 1 || c.StylizeNet() != Net26 {
		t.Fatalf("defaults: %+v, net %s", c.Stylize, c.StylizeNet())
	}
	for name, text := range map[string]string{"net": "arbitrary", "styles": "3:0.5,12:0.5", "strength": "0.25"} {
		s := stylizeSetting(t, name)
		if err := s.Set(&c, text); err != nil {
			t.Fatalf("%s %q: %v", name, text, err)
		}
		if got := s.Format(&c); got != text {
			t.Errorf("%s: formats %q, want %q", name, got, text)
		}
	}
	for name, text := range map[string]string{"net": "12", "styles": "26", "strength": "2"} {
		if err := stylizeSetting(t, name).Set(&c, text); err == nil || !strings.HasPrefix(err.Error(), name) {
			t.Errorf("%s %q: error %v, want one naming the setting", name, text, err)
		}
	}
}

func TestValidateStylize(t *testing.T) {
	for _, tc := range []struct {
		net, styles, style string
		sheet              bool
		want               string // "" for valid
	}{
		{"", "7", "", false, ""},
		{"", "", "p.jpg", false, ""},
		{"", "", "", true, ""},
		{"", "", "", false, "needs --styles"},
		{"26", "7", "p.jpg", false, "needs --net arbitrary"},
		{"arbitrary", "7", "p.jpg", false, "--net arbitrary takes --style"},
		{"arbitrary", "", "", false, "needs --style FILE"},
		{"arbitrary", "", "a.jpg,b.jpg", false, "one painting"},
		{"arbitrary", "", "p.jpg", true, "--sheet draws the 26 styles"},
		{"", "7", "", true, "leave out --styles"},
	} {
		c := DefaultConfig()
		c.Content, c.Style = "photo.jpg", tc.style
		c.Stylize.Net, c.Stylize.Styles = tc.net, tc.styles
		err := c.ValidateStylize(tc.sheet)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc, err, tc.want)
		}
	}
}
