package settings

import (
	"fmt"
	"slices"
	"strings"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// A Preset is a named set of setting values: what a run is meant to spend. A
// setting given explicitly wins over the preset's value for it.
type Preset struct {
	Name  string
	Usage string
	// Values are the preset's settings, as Setting.Set reads them, in the
	// order --dry-run prints them.
	Values []PresetValue
	// Fallback, for a preset whose Values start from the feed-forward network's
	// picture (init stylized), replaces their values where a run cannot have
	// that start: no feed-forward networks (make fastnets), or several style
	// images, which the network cannot paint. The command says so
	// (WithFallback's line) and runs these instead.
	Fallback []PresetValue
}

// A PresetValue is one setting of a preset: its name and its text.
type PresetValue struct{ Name, Value string }

// DefaultPreset is the notebook's run.
const DefaultPreset = "notebook"

// Presets are the runs a person picks by name. The notebook's values are the
// defaults (Defaults), so choosing it changes nothing. quick's come from
// scripts/experiments/time_to_quality.py's measurements at 512 on the HED weights,
// three content/style pairs (docs/time-to-quality.md): the fastest combination
// measured that reached the notebook's final loss on every pair. It starts from
// the feed-forward network's picture at a quarter of the size, runs one
// L-BFGS-B at each of a quarter, a half and the whole size, its memory kept
// between outer iterations (the notebook's restarts cost a quarter to
// almost half of its evaluations), the pixels bounded to 0..255 (unbounded,
// the picture clipped out-of-range values and its loss stayed 1% above the
// notebook's on the second pair), in bf16 where the CPU has it (auto). Without
// the feed-forward networks the same ladder starts from noise, with more
// evaluations: the fallback.
var Presets = []Preset{
	{Name: "notebook", Usage: "the notebook's run: noise start, 10 x 20 evaluations at the final size, each L-BFGS-B call from an empty memory, no bounds, float32",
		Values: []PresetValue{{"iterations", "10"}, {"maxfun", "20"}, {"scales", ""}, {"scale-iterations", ""}, {"scale-content-weight", "fixed"}, {"lbfgs-memory", "reset"},
			{"bounds", "none"}, {"init", "noise"}, {"precision", "fp32"}, {"stop-improvement", "0"}}},
	{Name: "quick", Usage: "the notebook's loss sooner: coarse to fine (a quarter and a half of the size, 4 x 10 evaluations each, then 4 x 10 at the size) " +
		"from the feed-forward network's picture (make fastnets), one L-BFGS-B run per size within 0..255, the content weighed by each size's area, bf16 where the CPU has it; " +
		"without the networks, or with several styles, from noise with 8 x 10 at each coarse size and 10 x 10 at the size",
		Values: []PresetValue{{"iterations", "4"}, {"maxfun", "10"}, {"scales", "0.25,0.5"}, {"scale-iterations", "4,4"}, {"scale-content-weight", "area"}, {"lbfgs-memory", "keep"},
			{"bounds", "pixels"}, {"init", "stylized"}, {"precision", "auto"}, {"stop-improvement", "0"}},
		Fallback: []PresetValue{{"iterations", "10"}, {"scale-iterations", "8,8"}, {"init", "noise"}}},
}

// tied are the settings whose preset value only goes with the preset's value
// of another: given that other explicitly, a preset leaves this one at its
// default (a count per scale does not fit scales of a person's own).
var tied = map[string]string{"scale-iterations": "scales"}

// Stylized reports whether p starts from the feed-forward network's picture,
// so that a run without it takes p's Fallback.
func (p *Preset) Stylized() bool {
	return slices.Contains(p.Values, PresetValue{"init", string(transfer.InitStylized)})
}

// WithFallback returns p with Fallback's values in place of Values' (p itself
// when it has no Fallback), and the line that says so: why (the reason the
// stylized start cannot be had) and what runs instead.
func (p *Preset) WithFallback(why error) (*Preset, string) {
	if len(p.Fallback) == 0 {
		return p, ""
	}
	q := *p
	q.Values = slices.Clone(p.Values)
	instead := make([]string, len(p.Fallback))
	for i, f := range p.Fallback {
		instead[i] = f.Name + " " + quoteEmpty(f.Value)
		for j := range q.Values {
			if q.Values[j].Name == f.Name {
				q.Values[j].Value = f.Value
			}
		}
	}
	return &q, fmt.Sprintf("preset %s: no stylized start (%v); it runs %s instead", p.Name, why, strings.Join(instead, ", "))
}

// PresetNames lists the presets' names in order.
func PresetNames() []string {
	names := make([]string, len(Presets))
	for i, p := range Presets {
		names[i] = p.Name
	}
	return names
}

// LookupPreset returns the preset called name; an unknown name is refused,
// naming those that exist.
func LookupPreset(name string) (*Preset, error) {
	for i := range Presets {
		if Presets[i].Name == name {
			return &Presets[i], nil
		}
	}
	return nil, fmt.Errorf("preset %q: want %s", name, strings.Join(PresetNames(), " or "))
}

// A PresetField is one of a preset's settings as it applies to a run.
type PresetField struct {
	Name, Value string
	// Overridden: the setting was given explicitly with another value, Given,
	// which wins.
	Overridden bool
	Given      string
	// LeftOut names the explicit setting that the preset's value goes with
	// (tied): the preset's value is not applied.
	LeftOut string
}

// Apply sets c's settings to the preset's values, except those named in
// explicit (given on the command line, in the environment, in a form), and
// returns each of the preset's settings with its value, saying which explicit
// settings contradict it.
func (p *Preset) Apply(c *transfer.Config, explicit []string) ([]PresetField, error) {
	out := make([]PresetField, 0, len(p.Values))
	for _, v := range p.Values {
		s, err := Lookup(v.Name)
		if err != nil {
			return nil, err
		}
		f := PresetField{Name: v.Name, Value: v.Value}
		if other, ok := tied[v.Name]; ok && slices.Contains(explicit, other) && !slices.Contains(explicit, v.Name) {
			f.LeftOut = other
		} else if slices.Contains(explicit, v.Name) {
			if got := s.Format(c); got != canonical(s, f.Value) {
				f.Overridden, f.Given = true, got
			}
		} else if err := s.Set(c, f.Value); err != nil {
			return nil, fmt.Errorf("preset %s: %w", p.Name, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// canonical is text as s formats it, so that "0.020" and "0.02" compare equal.
func canonical(s *Setting, text string) string {
	c := transfer.DefaultConfig()
	if s.Parse(&c, text) != nil {
		return text
	}
	return s.Format(&c)
}

// DescribePreset is one line for a person: the preset's settings and values,
// and which explicit settings win over them.
func DescribePreset(name string, fields []PresetField) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.Name + " " + quoteEmpty(f.Value)
		switch {
		case f.Overridden:
			parts[i] += fmt.Sprintf(" (--%s %s given: it wins)", f.Name, quoteEmpty(f.Given))
		case f.LeftOut != "":
			parts[i] += fmt.Sprintf(" (left out: --%s given)", f.LeftOut)
		}
	}
	return "preset " + name + ": " + strings.Join(parts, ", ")
}

// Overrides says, for a person, which explicit settings win over the preset's
// values; "" when none contradicts it.
func Overrides(name string, fields []PresetField) string {
	var parts []string
	for _, f := range fields {
		switch {
		case f.Overridden:
			parts = append(parts, fmt.Sprintf("--%s %s wins over its %s", f.Name, quoteEmpty(f.Given), quoteEmpty(f.Value)))
		case f.LeftOut != "":
			parts = append(parts, fmt.Sprintf("its %s %s is left out, as it goes with its %s", f.Name, quoteEmpty(f.Value), f.LeftOut))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "preset " + name + ": " + strings.Join(parts, "; ") + " (given explicitly)"
}

func quoteEmpty(v string) string {
	if v == "" {
		return `""`
	}
	return v
}
