package transfer

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Config is everything one transfer needs: its settings and the image files it
// reads. Command lines, sweep files and web forms all fill one through the
// settings package's schema.
type Config struct {
	Settings
	Content string   // the content image's file
	Style   []string // the style images' files, one or several
	// StyleMask lists mask files, one per style; InitImage is the starting
	// image's file (issue 12's controls).
	StyleMask []string
	InitImage string
	// Stylize: the feed-forward networks' own settings (stylize.go).
	Stylize Stylize
}

// DefaultConfig returns the notebook's settings and no images.
func DefaultConfig() Config { return Config{Settings: Defaults(), Stylize: Stylize{Strength: 1}} }

// SettingError is a problem with one setting's value, named as the settings
// schema names it ("style-scale"). Each front end says the name in its own
// terms: a command line as --style-scale, a web form as the field's label.
type SettingError struct {
	Setting string
	Err     error
}

// Error reads as the setting's name and the problem: `style-weight "abc": not
// a number`, `content-layer: unknown layer "x"`, or the problem alone when it
// starts with the name already ("size 4x4 is too small").
func (e *SettingError) Error() string {
	msg := e.Err.Error()
	switch {
	case strings.HasPrefix(msg, e.Setting):
		return msg
	case strings.HasPrefix(msg, `"`):
		return e.Setting + " " + msg
	}
	return e.Setting + ": " + msg
}

func (e *SettingError) Unwrap() error { return e.Err }

// Problem is the setting's problem without its name, for a front end that
// shows the name its own way; the text after the name when Err starts with it.
func (e *SettingError) Problem() string {
	msg := e.Err.Error()
	if rest, ok := strings.CutPrefix(msg, e.Setting); ok && rest != "" {
		return strings.TrimLeft(rest, " :")
	}
	return msg
}

// settingError is err as the problem of setting; nil stays nil, and an error
// that already names a setting keeps its name.
func settingError(setting string, err error) error {
	var se *SettingError
	if err == nil || errors.As(err, &se) {
		return err
	}
	return &SettingError{Setting: setting, Err: err}
}

// check is one setting's check across the values of c. early: the value is
// checked as soon as it is given too (CheckEarly): its check reads settings
// listed before it, or later ones whose default it can be checked against
// (Validate checks again once all are in).
type check struct {
	setting string
	check   func(c *Config) error
	early   bool
}

// checks run in the settings' help order, so that problems are listed in it.
var checks = []check{
	{"size", func(c *Config) error { return checkSize(c.Width, c.Height) }, false},
	{"long-side", checkLongSide, true},
	{"content-weight", func(c *Config) error { return checkWeight(c.ContentWeight) }, true},
	{"style-weight", func(c *Config) error { return checkWeight(c.StyleWeight) }, true},
	{"tv-weight", func(c *Config) error { return checkWeight(c.TVWeight) }, true},
	{"content-layer", func(c *Config) error { _, err := layerIndex(c.ContentLayer); return err }, true},
	{"style-layers", func(c *Config) error { return checkStyleLayers(&c.Settings) }, true},
	{"iterations", func(c *Config) error { return checkCount(c.Iterations) }, true},
	{"maxfun", func(c *Config) error { return checkCount(c.MaxFun) }, true},
	{"lbfgs-memory", func(c *Config) error { return oneOf(c.Memory, MemoryReset, MemoryKeep) }, true},
	{"bounds", func(c *Config) error { return oneOf(c.Bounds, BoundsNone, BoundsPixels) }, true},
	{"scale-content-weight", func(c *Config) error { return oneOf(c.ScaleContent, ScaleContentFixed, ScaleContentArea) }, true},
	{"stop-improvement", checkStopImprovement, true},
	{"init", func(c *Config) error {
		return oneOf(c.Init, InitNoise, InitContent, InitStyle, InitStylized, InitImage)
	}, true},
	{"graph", func(c *Config) error { return oneOf(c.Graph, GraphFast, GraphRecipe) }, true},
	{"scales", func(c *Config) error { return checkScales(&c.Settings) }, true},
	{"scale-iterations", func(c *Config) error { return checkScaleIterations(&c.Settings) }, false},
	{"tile", checkTile, true},
	{"precision", checkPrecisionSetting, false},
	{"style-blend", checkBlend, true},
	{"style-scale", checkStyleScale, false},
	{"style-mask", checkMasks, false},
	{"init-image", checkInitImage, false},
	{"color-transfer", func(c *Config) error {
		return oneOf(c.ColorTransfer, ColorNone, ColorLuminance, ColorHistogram)
	}, true},
	{"optimizer", func(c *Config) error { return oneOf(c.Optimizer, OptimizerLBFGS, OptimizerAdam) }, true},
	{"learning-rate", checkRate, true},
	{"pooling", func(c *Config) error { return oneOf(c.Pooling, PoolingMax, PoolingAvg) }, true},
	{"temporal-weight", checkTemporal, true},
}

// Validate reports every problem with the settings of c, one line each, each
// a *SettingError: the checks of each setting and those across settings. The
// checks that count image files (style-blend, style-mask, init-image) see them
// only when c names a content image; a run checks its decoded images itself
// (CheckInputs).
func (c *Config) Validate() error {
	var errs []error
	for _, k := range checks {
		if err := k.check(c); err != nil {
			errs = append(errs, settingError(k.setting, err))
		}
	}
	return errors.Join(errs...)
}

// CheckEarly reports the problem of one setting's value in c as soon as it is
// given, for the settings whose check can run before the settings listed
// after them are in c; Validate checks every setting once all are.
func (c *Config) CheckEarly(setting string) error {
	for _, k := range checks {
		if k.setting == setting && k.early {
			return settingError(setting, k.check(c))
		}
	}
	return nil
}

// Validate checks the settings before any work starts; it reports every
// problem, one line each (the images are Config's).
func (s *Settings) Validate() error {
	c := &Config{Settings: *s}
	return c.Validate()
}

// oneOf checks that v is one of choices.
func oneOf[T ~string](v T, choices ...T) error {
	if slices.Contains(choices, v) {
		return nil
	}
	names := make([]string, len(choices))
	for i, c := range choices {
		names[i] = string(c)
	}
	return fmt.Errorf("%q: want %s", string(v), strings.Join(names, ", "))
}

// checkCount checks an iteration count: the model's loop counts in int32.
func checkCount(n int) error {
	if n < 1 || n > math.MaxInt32 {
		return fmt.Errorf("%d: want a whole number from 1 to %d", n, math.MaxInt32)
	}
	return nil
}

func checkStyleLayers(s *Settings) error {
	if len(s.StyleLayers) == 0 {
		return errors.New("no style layers")
	}
	for i, name := range s.StyleLayers {
		if _, err := layerIndex(name); err != nil {
			return err
		}
		if slices.Index(s.StyleLayers, name) != i {
			return fmt.Errorf("%s is listed twice", name)
		}
	}
	if s.StyleLayerWeights != nil && len(s.StyleLayerWeights) != len(s.StyleLayers) {
		return fmt.Errorf("%d style layer weights for %d style layers", len(s.StyleLayerWeights), len(s.StyleLayers))
	}
	for i, w := range s.StyleLayerWeights {
		if err := checkWeight(w); err != nil {
			return fmt.Errorf("weight of %s: %w", s.StyleLayers[i], err)
		}
	}
	return nil
}

// maxPixels bounds the combination image: 8192x8192, far beyond what fits a
// GPU's memory with VGG16.
const maxPixels = 1 << 26

func checkSize(w, h int) error {
	if w < minImageSide || h < minImageSide {
		return fmt.Errorf("size %dx%d is too small: the model runs VGG16 to block5_conv3, behind four 2x2 pools, and needs at least %dx%d",
			w, h, minImageSide, minImageSide)
	}
	if w*h > maxPixels {
		return fmt.Errorf("size %dx%d has more than %d pixels", w, h, maxPixels)
	}
	return nil
}

func checkWeight(w float64) error {
	if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
		return fmt.Errorf("%v: want a finite number >= 0", w)
	}
	if w > math.MaxFloat32 {
		return fmt.Errorf("%v: too large for the model's float32", w)
	}
	return nil
}

// checkPrecisionSetting: bf16 runs the fast graph with max pooling and no
// masks (the model's *_bf16 signatures).
func checkPrecisionSetting(c *Config) error {
	if err := oneOf(c.Precision, PrecisionFP32, PrecisionBF16, PrecisionAuto); err != nil {
		return err
	}
	switch {
	case c.Precision != PrecisionBF16:
	case c.Graph != GraphFast:
		return fmt.Errorf("bf16 runs the fast graph only, not graph %s", c.Graph)
	case c.Pooling != PoolingMax || len(c.StyleMask) > 0:
		return errors.New("bf16 runs max pooling without style masks; choose precision fp32 for average pooling or style masks")
	}
	return nil
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
