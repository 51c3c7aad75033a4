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
}

// A PresetValue is one setting of a preset: its name and its text.
type PresetValue struct{ Name, Value string }

// DefaultPreset is the notebook's run.
const DefaultPreset = "notebook"

// Presets are the runs a person picks by name. The notebook's values are the
// defaults (Defaults), so choosing it changes nothing. quick's come from
// scripts/experiments/time_to_quality.py's measurements at 512 on the HED weights
// (docs/time-to-quality.md). On the first pair the content start's loss fell to
// the notebook's final one within three iterations, the third the first to gain
// less than 5%, and coarse to fine (a quarter and half the size first) got there
// later. On the second pair the content start did not get there in five
// iterations: quick is fast, but reached the notebook's loss on one of the two
// pairs measured.
var Presets = []Preset{
	{Name: "notebook", Usage: "the notebook's run: noise start, 10 x 20 evaluations, float32",
		Values: []PresetValue{{"iterations", "10"}, {"init", "noise"}, {"precision", "fp32"}, {"stop-improvement", "0"}}},
	{Name: "quick", Usage: "the notebook's loss in a fraction of its time: the content as the start, bf16 where the CPU " +
		"or a GPU runs it faster, and stop after an iteration that gains less than 5% (at most 5 iterations)",
		Values: []PresetValue{{"iterations", "5"}, {"init", "content"}, {"precision", "auto"}, {"stop-improvement", "0.05"}}},
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
		if slices.Contains(explicit, v.Name) {
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
		if f.Overridden {
			parts[i] += fmt.Sprintf(" (--%s %s given: it wins)", f.Name, quoteEmpty(f.Given))
		}
	}
	return "preset " + name + ": " + strings.Join(parts, ", ")
}

// Overrides says, for a person, which explicit settings win over the preset's
// values; "" when none contradicts it.
func Overrides(name string, fields []PresetField) string {
	var parts []string
	for _, f := range fields {
		if f.Overridden {
			parts = append(parts, fmt.Sprintf("--%s %s wins over its %s", f.Name, quoteEmpty(f.Given), quoteEmpty(f.Value)))
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
