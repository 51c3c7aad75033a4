package sweep

import (
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// SetText is Set of values given as texts, each as transfer's flag of the
// parameter takes it (relative image paths stay as they are).
func (s *Spec) SetText(name string, texts ...string) error {
	values := make([]Value, len(texts))
	for i, text := range texts {
		var err error
		if values[i], err = ParseValue(name, text, ""); err != nil {
			return err
		}
	}
	return s.Set(values...)
}

// FromConfig declares the sweep of one transfer: every parameter fixed at
// cfg's value, but axis (when not ""), which takes values, as SetText reads
// them. The batch of photos (axis content) and the Stylist's sweep of one
// setting are such sweeps. Settings a sweep cannot carry are not looked at:
// see Unsweepable.
func FromConfig(cfg *transfer.Config, axis string, values []string) (*Spec, error) {
	spec := &Spec{}
	for _, p := range params {
		if p.Name == axis {
			continue
		}
		if err := spec.SetText(p.Name, p.Format(cfg)); err != nil {
			return nil, err
		}
	}
	if axis != "" {
		if err := spec.SetText(axis, values...); err != nil {
			return nil, err
		}
	}
	return spec, nil
}

// Unsweepable names the settings of cfg, in settings.Schema's order, that a
// sweep cannot carry and that are not at their defaults: a sweep built from
// cfg would run without them, so a caller refuses them.
func Unsweepable(cfg *transfer.Config) []string {
	var names []string
	for i := range settings.Schema {
		s := &settings.Schema[i]
		if !s.Sweep && s.Format(cfg) != s.Default() {
			names = append(names, s.Name)
		}
	}
	return names
}
