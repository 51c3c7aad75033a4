package transfer

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
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

// MethodSchema lists the settings batch and video add to StylizeSchema's to
// paint with the feed-forward network instead of optimising.
var MethodSchema = []Setting{
	{Name: "method", Kind: KindChoice, Choices: []string{MethodOptimize, MethodStylize}, Placeholder: "METHOD", Env: envName("method"),
		Usage: "optimize (the notebook's optimisation) or stylize (the 26-style feed-forward network with --styles: a frame in a fraction of a second)",
		Parse: func(c *Config, v string) error {
			v = strings.ToLower(strings.TrimSpace(v))
			if v != MethodOptimize && v != MethodStylize {
				return fmt.Errorf("%q: want optimize or stylize", v)
			}
			c.Stylize.Method = v
			return nil
		},
		Format: func(c *Config) string { return c.Stylize.Method }},
	{Name: "smoothing", Kind: KindNumber, Placeholder: "S", Env: envName("smoothing"),
		Usage: "video --method stylize: the share (0 to 0.99) of the instance-norm statistics kept from the frames before, against flicker; 0 paints every frame alone",
		Parse: func(c *Config, v string) error {
			s, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(s) || s < 0 || s > 0.99 {
				return fmt.Errorf("%q: want a number from 0 to 0.99", v)
			}
			c.Stylize.Smoothing = s
			return nil
		},
		Format: func(c *Config) string { return formatFloat(c.Stylize.Smoothing) }},
	{Name: "hold", Kind: KindNumber, Placeholder: "H", Env: envName("hold"),
		Usage: "video --method stylize: the share (0 to 1) of the previous frame's picture kept where the frame did not change (luminance moved under 8 of 255 there and around), against flicker",
		Parse: func(c *Config, v string) error {
			h, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(h) || h < 0 || h > 1 {
				return fmt.Errorf("%q: want a number from 0 to 1", v)
			}
			c.Stylize.Hold = h
			return nil
		},
		Format: func(c *Config) string { return formatFloat(c.Stylize.Hold) }},
}

// The networks of Stylize.Net.
const (
	Net26        = "26"
	NetArbitrary = "arbitrary"
)

// StylizeSchema lists the settings only stylize has, in the order help shows
// them, in the form of Schema's entries so that a front end reads them the
// same way.
var StylizeSchema = []Setting{
	{Name: "net", Kind: KindChoice, Choices: []string{Net26, NetArbitrary}, Placeholder: "NET", Env: envName("net"),
		Usage: "26 (the 26-style network, with --styles) or arbitrary (any painting, with --style); default: arbitrary with --style, else 26",
		Parse: func(c *Config, v string) error {
			v = strings.ToLower(strings.TrimSpace(v))
			if v != Net26 && v != NetArbitrary && v != "" {
				return fmt.Errorf("%q: want 26 or arbitrary", v)
			}
			c.Stylize.Net = v
			return nil
		},
		Format: func(c *Config) string { return c.Stylize.Net }},
	{Name: "styles", Kind: KindText, List: true, Placeholder: "SPEC", Env: envName("styles"),
		Usage: "the 26-style network's style: a number 0-25, or a blend such as 3:0.5,12:0.5 (weights scaled to sum to 1)",
		Parse: func(c *Config, v string) error {
			if _, err := fastnet.ParseStyles(v); err != nil {
				return err
			}
			c.Stylize.Styles = strings.TrimSpace(v)
			return nil
		},
		Format: func(c *Config) string { return c.Stylize.Styles }},
	{Name: "strength", Kind: KindNumber, Placeholder: "S", Env: envName("strength"),
		Usage: "from 0 (the photo) to 1 (the full style): a mix of pixels for --net 26, of the photo's and the painting's style vectors for --net arbitrary",
		Parse: func(c *Config, v string) error {
			s, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(s) || s < 0 || s > 1 {
				return fmt.Errorf("%q: want a number from 0 (the photo) to 1 (the full style)", v)
			}
			c.Stylize.Strength = s
			return nil
		},
		Format: func(c *Config) string { return formatFloat(c.Stylize.Strength) }},
}

// StylizeNet is the network c runs: Stylize.Net, or the default by the images given.
func (c *Config) StylizeNet() string {
	if c.Stylize.Net != "" {
		return c.Stylize.Net
	}
	if c.Style != "" {
		return NetArbitrary
	}
	return Net26
}

// ValidateStylize reports the problems across stylize's settings, one line
// each, naming the setting; sheet is stylize --sheet (all 26 styles).
func (c *Config) ValidateStylize(sheet bool) error {
	var errs []error
	if c.Content == "" {
		errs = append(errs, errors.New("content: not given; the photo to paint"))
	}
	switch c.StylizeNet() {
	case Net26:
		if c.Style != "" {
			errs = append(errs, fmt.Errorf("style %s: a painting's style needs --net arbitrary; --net 26 takes --styles", c.Style))
		}
		switch {
		case sheet && c.Stylize.Styles != "":
			errs = append(errs, errors.New("styles: --sheet draws all 26 styles; leave out --styles"))
		case !sheet && c.Stylize.Styles == "":
			errs = append(errs, errors.New("styles: --net 26 needs --styles, a number 0-25 or a blend such as 3:0.5,12:0.5 (or --sheet to see them all)"))
		}
	case NetArbitrary:
		if c.Stylize.Styles != "" {
			errs = append(errs, errors.New("styles: picks among the 26 styles of --net 26; --net arbitrary takes --style PAINTING"))
		}
		if sheet {
			errs = append(errs, errors.New("net: --sheet draws the 26 styles of --net 26, not --net arbitrary"))
		}
		switch {
		case c.Style == "":
			errs = append(errs, errors.New("style: --net arbitrary needs --style FILE, the painting"))
		case strings.Contains(c.Style, ","):
			errs = append(errs, fmt.Errorf("style %s: the arbitrary network takes one painting", c.Style))
		}
	}
	return errors.Join(errs...)
}
