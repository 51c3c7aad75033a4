package settings

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

func TestStopImprovementSetting(t *testing.T) {
	s, err := Lookup("stop-improvement")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Default(); got != "0" {
		t.Errorf("default %q, want 0 (off, the notebook's)", got)
	}
	for _, tt := range []struct{ in, want string }{
		{"0.02", ""}, {"0", ""}, {" 0.5 ", ""},
		{"-0.1", "-0.1: want a fraction from 0 (off) to below 1"},
		{"1", "1: want a fraction from 0 (off) to below 1"},
		{"NaN", "NaN: want a fraction from 0 (off) to below 1"},
		{"two", `stop-improvement "two": want a fraction such as 0.02`},
	} {
		c := transfer.DefaultConfig()
		err := s.Set(&c, tt.in)
		if got := errText(err); !strings.HasSuffix(got, tt.want) || (tt.want == "") != (err == nil) {
			t.Errorf("%q: error %q, want one ending %q", tt.in, got, tt.want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestPresets(t *testing.T) {
	if _, err := LookupPreset("fast"); err == nil || err.Error() != `preset "fast": want notebook or quick` {
		t.Errorf("unknown preset: %v", err)
	}

	// The notebook's preset is the defaults: applying it changes nothing.
	p, err := LookupPreset(DefaultPreset)
	if err != nil {
		t.Fatal(err)
	}
	c := transfer.DefaultConfig()
	c.Content, c.Style = "content.png", []string{"style.png"}
	fields, err := p.Apply(&c, nil)
	if err != nil {
		t.Fatal(err)
	}
	def := transfer.DefaultConfig()
	def.Content, def.Style = c.Content, c.Style
	if diff := cmp.Diff(Record(&def), Record(&c)); diff != "" {
		t.Errorf("the notebook preset changed the defaults (-want +got):\n%s", diff)
	}
	if got, want := DescribePreset(p.Name, fields),
		"preset notebook: iterations 10, maxfun 20, scales \"\", scale-iterations \"\", scale-content-weight fixed, lbfgs-memory reset, bounds none, init noise, precision fp32, stop-improvement 0"; got != want {
		t.Errorf("described as\n%s\nwant\n%s", got, want)
	}

	for _, tt := range []struct {
		name     string
		set      map[string]string // given explicitly
		want     map[string]string // the run's settings after the preset
		override string            // Overrides' message
	}{
		{"quick", nil, map[string]string{"init": "stylized", "iterations": "4", "bounds": "pixels", "precision": "auto", "stop-improvement": "0",
			"maxfun": "10", "scales": "0.25,0.5", "scale-iterations": "4,4", "lbfgs-memory": "keep"}, ""},
		// Explicit settings win, and are named where they contradict the preset.
		{"explicit", map[string]string{"init": "content", "stop-improvement": "0.000", "scales": "128", "scale-iterations": "2"},
			map[string]string{"init": "content", "stop-improvement": "0", "scales": "128", "scale-iterations": "2", "precision": "auto"},
			"preset quick: --scales 128 wins over its 0.25,0.5; --scale-iterations 2 wins over its 4,4; --init content wins over its stylized (given explicitly)"},
		// Scales of one's own leave out the preset's count per scale, which would not fit them.
		{"scales alone", map[string]string{"scales": "128"}, map[string]string{"scales": "128", "scale-iterations": "", "lbfgs-memory": "keep"},
			"preset quick: --scales 128 wins over its 0.25,0.5; its scale-iterations 4,4 is left out, as it goes with its scales (given explicitly)"},
		{"two", map[string]string{"iterations": "10", "precision": "fp32"}, map[string]string{"iterations": "10", "precision": "fp32"},
			"preset quick: --iterations 10 wins over its 4; --precision fp32 wins over its auto (given explicitly)"},
	} {
		c := transfer.DefaultConfig()
		c.Content, c.Style = "content.png", []string{"style.png"}
		var explicit []string
		for name, v := range tt.set {
			s, _ := Lookup(name)
			if err := s.Set(&c, v); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			explicit = append(explicit, name)
		}
		p, _ := LookupPreset("quick")
		fields, err := p.Apply(&c, explicit)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if err := Validate(&c); err != nil {
			t.Errorf("%s: the preset's run does not validate: %v", tt.name, err)
		}
		for name, want := range tt.want {
			s, _ := Lookup(name)
			if got := s.Format(&c); got != want {
				t.Errorf("%s: %s %q, want %q", tt.name, name, got, want)
			}
		}
		if got := Overrides(p.Name, fields); got != tt.override {
			t.Errorf("%s: overrides %q, want %q", tt.name, got, tt.override)
		}
	}
}

// TestPresetFallback: quick starts stylized, and where that start cannot be
// had its fallback replaces those of its values it names, saying why and what
// runs instead; the notebook's preset has none.
func TestPresetFallback(t *testing.T) {
	note, _ := LookupPreset("notebook")
	if note.Stylized() {
		t.Error("the notebook's preset starts stylized")
	}
	if q, msg := note.WithFallback(errors.New("x")); q != note || msg != "" {
		t.Errorf("the notebook's preset has a fallback: %q", msg)
	}
	quick, _ := LookupPreset("quick")
	if !quick.Stylized() {
		t.Fatal("quick does not start stylized")
	}
	for _, f := range quick.Fallback {
		if !slices.ContainsFunc(quick.Values, func(v PresetValue) bool { return v.Name == f.Name }) {
			t.Errorf("the fallback's %s is not one of quick's values: it would not apply", f.Name)
		}
	}
	q, msg := quick.WithFallback(errors.New("no feed-forward model at nets: make fastnets"))
	if want := "preset quick: no stylized start (no feed-forward model at nets: make fastnets); it runs iterations 10, scale-iterations 8,8, init noise instead"; msg != want {
		t.Errorf("says\n%s\nwant\n%s", msg, want)
	}
	c := transfer.DefaultConfig()
	c.Content, c.Style = "content.png", []string{"style.png"}
	fields, err := q.Apply(&c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := DescribePreset(q.Name, fields), "preset quick: iterations 10, maxfun 10, scales 0.25,0.5, scale-iterations 8,8, scale-content-weight area, lbfgs-memory keep, bounds pixels, "+
		"init noise, precision auto, stop-improvement 0"; got != want {
		t.Errorf("the fallback runs\n%s\nwant\n%s", got, want)
	}
	if i := slices.IndexFunc(quick.Values, func(v PresetValue) bool { return v.Name == "init" }); quick.Values[i].Value != "stylized" {
		t.Error("WithFallback changed the preset itself")
	}
}
