// Package sweep runs the article's experiments: one style transfer repeated over a
// grid of settings (style weight, content layer, total-variation weight, ...),
// declared in a small JSON file or by flags (docs/recipe.md, section 6).
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
	"path/filepath"
	"slices"
	"strings"

	"github.com/neuralstyle/neuralstyle/internal/settings"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// Config is what one transfer needs: its settings and its two image files.
type Config = transfer.Config

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

// params are the settings a sweep can set or sweep, in settings.Schema's order.
var params = sweepable()

func sweepable() []*settings.Setting {
	var out []*settings.Setting
	for i := range settings.Schema {
		if settings.Schema[i].Sweep {
			out = append(out, &settings.Schema[i])
		}
	}
	return out
}

// Params returns the names of the parameters a sweep can set or sweep, in the
// order of transfer's flags.
func Params() []string {
	names := make([]string, len(params))
	for i, p := range params {
		names[i] = p.Name
	}
	return names
}

func lookup(name string) (*settings.Setting, error) {
	for _, p := range params {
		if p.Name == name {
			return p, nil
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
	if p.Kind == settings.KindFile {
		text = resolvePaths(p, text, dir)
	}
	scratch := transfer.DefaultConfig()
	if err := p.Set(&scratch, text); err != nil {
		return Value{}, err
	}
	canonical := p.Format(&scratch)
	v := Value{Param: name, Text: canonical, Label: canonical, apply: func(c *Config) {
		p.Parse(c, canonical) // parsed once above: cannot fail
	}}
	if p.Kind == settings.KindFile {
		var names []string
		for _, path := range p.Paths(canonical) {
			names = append(names, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
		}
		v.Label = strings.Join(names, "+")
	}
	return v, nil
}

// resolvePaths makes each relative path of a file setting's text relative to
// dir ("" leaves them as they are).
func resolvePaths(p *settings.Setting, text, dir string) string {
	paths := p.Paths(text)
	for i, path := range paths {
		if dir != "" && !filepath.IsAbs(path) {
			paths[i] = filepath.Join(dir, path)
		}
	}
	return strings.Join(paths, ",")
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
	return slices.IndexFunc(params, func(p *settings.Setting) bool { return p.Name == name })
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
