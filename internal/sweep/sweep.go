// Package sweep runs the article's experiments: one style transfer repeated over a
// grid of settings (style weight, content layer, total-variation weight, ...),
// declared in a small JSON file or by flags (RECIPE.md, section 6).
//
// A declaration (Spec) gives fixed settings and the axes to sweep. Points expands
// it into points, the first axis varying slowest; NewPlan keys each point by a
// hash of everything its result depends on (every transfer setting, the bytes of
// both images and of the model); Run runs the points of one shard that are not
// finished yet in the output folder, with one loaded model; Collect draws the
// finished points into a contact sheet, an animated GIF and a CSV summary.
//
// Output folder:
//
//	points/KEY.png   the point's image
//	points/KEY.json  its record: settings, inputs, loss terms, evaluations, seconds
//	points/KEY.done  the completion marker, written last
//	sheet.png        contact sheet: columns the first axis, rows the others
//	sweep.gif        every point in order, the first axis varying slowest
//	summary.csv      one row per point
//
// Each file is written atomically and the marker last, so a point whose marker
// exists is complete, and a point interrupted at any moment is run again.
package sweep

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
)

// Config is what one transfer needs: its settings and its two image files.
type Config struct {
	Settings       transfer.Settings
	Content, Style string
}

// Value is one parsed value of one parameter.
type Value struct {
	Param string
	// Text is the value's canonical form, as the summary and --list show it:
	// numbers in their shortest form, sizes as WxH, images as given.
	Text string
	// Label is how the contact sheet and the GIF show it (an image's base name).
	Label string
	apply func(*Config)
}

// Axis is a swept parameter and its values, in order.
type Axis struct {
	Param  string
	Values []Value
}

// Spec is a sweep's declaration: fixed settings over transfer.Defaults(), then the
// axes, whose every combination is a point.
type Spec struct {
	Description string
	Base        []Value // at most one per parameter, in Params order
	Axes        []Axis
}

// kind says how a parameter's values are written and whether it takes a range.
type kind int

const (
	kindNumber  kind = iota // a float, >= 0
	kindInteger             // a whole number
	kindText                // a name
)

type param struct {
	name string
	kind kind
	// parse checks text and returns the canonical text and the setter. dir
	// resolves relative image paths.
	parse func(text, dir string) (canonical string, apply func(*Config), err error)
	// format gives the parameter's current value in c, in canonical text.
	format func(c *Config) string
}

// params lists the parameters in the order of transfer's flags, whose names they
// carry.
var params = []param{
	imageParam("content", func(c *Config) *string { return &c.Content }),
	imageParam("style", func(c *Config) *string { return &c.Style }),
	{name: "size", kind: kindText,
		parse: func(text, _ string) (string, func(*Config), error) {
			w, h, err := transfer.ParseSize(text)
			if err != nil {
				return "", nil, err
			}
			return fmt.Sprintf("%dx%d", w, h), func(c *Config) { c.Settings.Width, c.Settings.Height = w, h }, nil
		},
		format: func(c *Config) string { return fmt.Sprintf("%dx%d", c.Settings.Width, c.Settings.Height) }},
	weightParam("content-weight", func(s *transfer.Settings) *float64 { return &s.ContentWeight }),
	weightParam("style-weight", func(s *transfer.Settings) *float64 { return &s.StyleWeight }),
	weightParam("tv-weight", func(s *transfer.Settings) *float64 { return &s.TVWeight }),
	{name: "content-layer", kind: kindText,
		parse: func(text, _ string) (string, func(*Config), error) {
			name := strings.TrimSpace(text)
			if err := checkLayer(name); err != nil {
				return "", nil, fmt.Errorf("content-layer: %w", err)
			}
			return name, func(c *Config) { c.Settings.ContentLayer = name }, nil
		},
		format: func(c *Config) string { return c.Settings.ContentLayer }},
	{name: "style-layers", kind: kindText,
		parse: func(text, _ string) (string, func(*Config), error) {
			layers, weights, err := transfer.ParseStyleLayers(text)
			if err != nil {
				return "", nil, err
			}
			if len(layers) == 0 {
				return "", nil, fmt.Errorf("style-layers %q: no layers", text)
			}
			for i, name := range layers {
				if err := checkLayer(name); err != nil {
					return "", nil, fmt.Errorf("style-layers: %w", err)
				}
				if slices.Index(layers, name) != i {
					return "", nil, fmt.Errorf("style-layers: %s is listed twice", name)
				}
			}
			for i, w := range weights {
				if err := checkWeight(w); err != nil {
					return "", nil, fmt.Errorf("style-layers: weight of %s: %w", layers[i], err)
				}
			}
			c := Config{Settings: transfer.Settings{StyleLayers: layers, StyleLayerWeights: weights}}
			return formatStyleLayers(&c), func(c *Config) {
				c.Settings.StyleLayers = slices.Clone(layers)
				c.Settings.StyleLayerWeights = slices.Clone(weights)
			}, nil
		},
		format: formatStyleLayers},
	intParam("iterations", 1, math.MaxInt32, func(s *transfer.Settings, v int64) { s.Iterations = int(v) },
		func(s *transfer.Settings) int64 { return int64(s.Iterations) }),
	intParam("maxfun", 1, math.MaxInt32, func(s *transfer.Settings, v int64) { s.MaxFun = int(v) },
		func(s *transfer.Settings) int64 { return int64(s.MaxFun) }),
	intParam("seed", 0, math.MaxUint32, func(s *transfer.Settings, v int64) { s.Seed = uint32(v) },
		func(s *transfer.Settings) int64 { return int64(s.Seed) }),
	choiceParam("init", []string{string(transfer.InitNoise), string(transfer.InitContent), string(transfer.InitStyle)},
		func(s *transfer.Settings, v string) { s.Init = transfer.Init(v) }, func(s *transfer.Settings) string { return string(s.Init) }),
	choiceParam("graph", []string{string(transfer.GraphRecipe), string(transfer.GraphFast)},
		func(s *transfer.Settings, v string) { s.Graph = transfer.Graph(v) }, func(s *transfer.Settings) string { return string(s.Graph) }),
	{name: "resample", kind: kindText,
		parse: func(text, _ string) (string, func(*Config), error) {
			f, err := resample.ParseFilter(strings.TrimSpace(text))
			if err != nil {
				return "", nil, fmt.Errorf("resample: %w", err)
			}
			return f.String(), func(c *Config) { c.Settings.Resample = f }, nil
		},
		format: func(c *Config) string { return c.Settings.Resample.String() }},
	{name: "preprocess", kind: kindText,
		parse: func(text, _ string) (string, func(*Config), error) {
			m, err := vggtensor.ParseMode(strings.TrimSpace(text))
			if err != nil {
				return "", nil, fmt.Errorf("preprocess: %w", err)
			}
			return m.String(), func(c *Config) { c.Settings.Preprocess = m }, nil
		},
		format: func(c *Config) string { return c.Settings.Preprocess.String() }},
}

// Params returns the names of the parameters a sweep can set or sweep, in the
// order of transfer's flags.
func Params() []string {
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.name
	}
	return names
}

func lookup(name string) (*param, error) {
	for i := range params {
		if params[i].name == name {
			return &params[i], nil
		}
	}
	return nil, fmt.Errorf("unknown setting %q; the settings are %s", name, strings.Join(Params(), ", "))
}

// ParseValue reads one value of the parameter name from its text, as transfer's
// flag of that name takes it. dir resolves relative image paths ("" for the
// working directory).
func ParseValue(name, text, dir string) (Value, error) {
	p, err := lookup(name)
	if err != nil {
		return Value{}, err
	}
	canonical, apply, err := p.parse(text, dir)
	if err != nil {
		return Value{}, err
	}
	v := Value{Param: name, Text: canonical, Label: canonical, apply: apply}
	if name == "content" || name == "style" {
		v.Label = strings.TrimSuffix(filepath.Base(canonical), filepath.Ext(canonical))
	}
	return v, nil
}

func imageParam(name string, field func(*Config) *string) param {
	return param{name: name, kind: kindText,
		parse: func(text, dir string) (string, func(*Config), error) {
			path := strings.TrimSpace(text)
			if path == "" {
				return "", nil, fmt.Errorf("%s: empty image path", name)
			}
			if dir != "" && !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			return path, func(c *Config) { *field(c) = path }, nil
		},
		format: func(c *Config) string { return *field(c) }}
}

func weightParam(name string, field func(*transfer.Settings) *float64) param {
	return param{name: name, kind: kindNumber,
		parse: func(text, _ string) (string, func(*Config), error) {
			w, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
			if err != nil {
				return "", nil, fmt.Errorf("%s %q: not a number", name, text)
			}
			if err := checkWeight(w); err != nil {
				return "", nil, fmt.Errorf("%s: %w", name, err)
			}
			return formatFloat(w), func(c *Config) { *field(&c.Settings) = w }, nil
		},
		format: func(c *Config) string { return formatFloat(*field(&c.Settings)) }}
}

func intParam(name string, lo, hi int64, set func(*transfer.Settings, int64), get func(*transfer.Settings) int64) param {
	return param{name: name, kind: kindInteger,
		parse: func(text, _ string) (string, func(*Config), error) {
			v, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
			if err != nil || v < lo || v > hi {
				return "", nil, fmt.Errorf("%s %q: want a whole number from %d to %d", name, text, lo, hi)
			}
			return strconv.FormatInt(v, 10), func(c *Config) { set(&c.Settings, v) }, nil
		},
		format: func(c *Config) string { return strconv.FormatInt(get(&c.Settings), 10) }}
}

func choiceParam(name string, choices []string, set func(*transfer.Settings, string), get func(*transfer.Settings) string) param {
	return param{name: name, kind: kindText,
		parse: func(text, _ string) (string, func(*Config), error) {
			v := strings.ToLower(strings.TrimSpace(text))
			if !slices.Contains(choices, v) {
				return "", nil, fmt.Errorf("%s %q: want %s", name, text, strings.Join(choices, ", "))
			}
			return v, func(c *Config) { set(&c.Settings, v) }, nil
		},
		format: func(c *Config) string { return get(&c.Settings) }}
}

func checkLayer(name string) error {
	if !slices.Contains(transfer.Layers, name) {
		return fmt.Errorf("unknown layer %q; VGG16's conv layers are %s", name, strings.Join(transfer.Layers, ", "))
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

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func formatStyleLayers(c *Config) string {
	parts := make([]string, len(c.Settings.StyleLayers))
	for i, name := range c.Settings.StyleLayers {
		parts[i] = name
		if c.Settings.StyleLayerWeights != nil {
			parts[i] += ":" + formatFloat(c.Settings.StyleLayerWeights[i])
		}
	}
	return strings.Join(parts, ",")
}

// Set fixes the parameter to one value, or sweeps it over several: one value
// replaces any axis of the parameter by a fixed setting; several replace the
// parameter's axis in place, or add an axis after the others. Command-line flags
// override a sweep file this way.
func (s *Spec) Set(values ...Value) error {
	if len(values) == 0 {
		return fmt.Errorf("sweep: no values")
	}
	name := values[0].Param
	for _, v := range values {
		if v.Param != name {
			return fmt.Errorf("sweep: values of %s and %s in one Set", name, v.Param)
		}
	}
	if err := checkDistinct(name, values); err != nil {
		return err
	}
	s.Base = slices.DeleteFunc(s.Base, func(v Value) bool { return v.Param == name })
	i := slices.IndexFunc(s.Axes, func(a Axis) bool { return a.Param == name })
	if len(values) == 1 {
		if i >= 0 {
			s.Axes = slices.Delete(s.Axes, i, i+1)
		}
		s.Base = append(s.Base, values[0])
		slices.SortFunc(s.Base, func(a, b Value) int { return paramIndex(a.Param) - paramIndex(b.Param) })
		return nil
	}
	if i >= 0 {
		s.Axes[i].Values = values
	} else {
		s.Axes = append(s.Axes, Axis{Param: name, Values: values})
	}
	return nil
}

func paramIndex(name string) int {
	return slices.IndexFunc(params, func(p param) bool { return p.name == name })
}

func checkDistinct(name string, values []Value) error {
	seen := map[string]bool{}
	for _, v := range values {
		if seen[v.Text] {
			return fmt.Errorf("%s: value %s is listed twice", name, v.Text)
		}
		seen[v.Text] = true
	}
	return nil
}
