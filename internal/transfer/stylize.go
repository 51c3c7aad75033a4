package transfer

import (
	"errors"
	"fmt"
	"strings"
)

// Stylize holds the settings of the feed-forward networks (neuralstyle
// stylize) that transfer has no use for. The photo, the painting (Style), the
// sizes, the filter, EXIF and original colours are the transfer's own settings.
type Stylize struct {
	Net      string // "26" or "arbitrary"; "" picks arbitrary when Style is given
	Styles   string // the 26-style network's styles or blend, as written
	Strength float64
	// Method is how batch and video paint: MethodOptimize ("" too) or
	// MethodStylize (the 26-style network, every frame in one pass).
	Method string
	// Smoothing is video --method stylize's share of the instance-norm
	// statistics kept from the frames before (fastnet.Clip), 0 for none.
	Smoothing float64
	// Hold is video --method stylize's share of the previous frame's picture
	// kept where the frame did not change (fastnet.Clip), 0 for none.
	Hold float64
}

// The ways of Stylize.Method.
const (
	MethodOptimize = "optimize"
	MethodStylize  = "stylize"
)

// The networks of Stylize.Net.
const (
	Net26        = "26"
	NetArbitrary = "arbitrary"
)

// StylizeNet is the network c runs: Stylize.Net, or the default by the images given.
func (c *Config) StylizeNet() string {
	if c.Stylize.Net != "" {
		return c.Stylize.Net
	}
	if len(c.Style) > 0 {
		return NetArbitrary
	}
	return Net26
}

// ValidateStylize reports the problems across stylize's settings, one line
// each, each a *SettingError; sheet is a sheet of all 26 styles.
func (c *Config) ValidateStylize(sheet bool) error {
	var errs []error
	add := func(setting string, err error) { errs = append(errs, &SettingError{Setting: setting, Err: err}) }
	if c.Content == "" {
		add("content", errors.New("not given; the photo to paint"))
	}
	switch c.StylizeNet() {
	case Net26:
		if len(c.Style) > 0 {
			add("style", fmt.Errorf("%s: a painting's style needs net arbitrary; net 26 takes styles", strings.Join(c.Style, ",")))
		}
		switch {
		case sheet && c.Stylize.Styles != "":
			add("styles", errors.New("a sheet draws all 26 styles; leave styles out"))
		case !sheet && c.Stylize.Styles == "":
			add("styles", errors.New("net 26 needs styles, a number 0-25 or a blend such as 3:0.5,12:0.5 (or a sheet to see them all)"))
		}
	case NetArbitrary:
		if c.Stylize.Styles != "" {
			add("styles", errors.New("picks among the 26 styles of net 26; net arbitrary takes a style image, the painting"))
		}
		if sheet {
			add("net", errors.New("a sheet draws the 26 styles of net 26, not net arbitrary"))
		}
		switch {
		case len(c.Style) == 0:
			add("style", errors.New("net arbitrary needs a style image, the painting"))
		case len(c.Style) > 1:
			add("style", fmt.Errorf("%s: the arbitrary network takes one painting", strings.Join(c.Style, ",")))
		}
	}
	return errors.Join(errs...)
}
