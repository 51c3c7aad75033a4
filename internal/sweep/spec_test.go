package sweep

import (
	"slices"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

func TestFromConfig(t *testing.T) {
	cfg := transfer.DefaultConfig()
	cfg.Content, cfg.Style = "c.png", []string{"s.png"}
	cfg.StyleWeight = 7
	spec, err := FromConfig(&cfg, "seed", []string{"1", "2", "3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Axes) != 1 || spec.Axes[0].Param != "seed" || len(spec.Axes[0].Values) != 3 {
		t.Fatalf("axes %+v, want one of seed, 3 values", spec.Axes)
	}
	if len(spec.Base) != len(Params())-1 {
		t.Errorf("%d fixed settings, want every parameter but the axis (%d)", len(spec.Base), len(Params())-1)
	}
	points, err := spec.Points()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range points {
		if p.Config.StyleWeight != 7 || p.Config.Content != "c.png" || p.Config.Seed != uint32(i+1) {
			t.Errorf("point %d: style weight %g, content %s, seed %d", i+1, p.Config.StyleWeight, p.Config.Content, p.Config.Seed)
		}
	}
	// One value is a fixed setting, as in any sweep.
	spec, err = FromConfig(&cfg, "content", []string{"only.png"})
	if err != nil || len(spec.Axes) != 0 {
		t.Errorf("one content: axes %+v, %v", spec.Axes, err)
	}
	if _, err := FromConfig(&cfg, "seed", []string{"1", "1"}); err == nil {
		t.Error("a value twice: no error")
	}
}

func TestUnsweepable(t *testing.T) {
	cfg := transfer.DefaultConfig()
	if got := Unsweepable(&cfg); len(got) != 0 {
		t.Errorf("defaults: %q", got)
	}
	cfg.TemporalWeight = 1
	cfg.StyleWeight = 3 // a sweep carries it
	if got := Unsweepable(&cfg); !slices.Equal(got, []string{"temporal-weight"}) {
		t.Errorf("Unsweepable = %q, want temporal-weight", got)
	}
}
