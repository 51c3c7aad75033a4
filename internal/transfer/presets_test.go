package transfer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestImprovedLessThan(t *testing.T) {
	for _, tt := range []struct {
		first, last, r float64
		want           bool
	}{
		{100, 99, 0, false},    // off: the notebook runs every iteration
		{100, 100, 0, false},   // off, even without any gain
		{100, 99, 0.02, true},  // 1% < 2%
		{100, 98, 0.02, false}, // 2% is not less than 2%
		{100, 90, 0.02, false},
		{100, 101, 0.02, true}, // a loss that rose gained nothing
		{0, 0, 0.02, false},    // no loss to gain on: keep going
	} {
		if got := improvedLessThan(tt.first, tt.last, tt.r); got != tt.want {
			t.Errorf("improvedLessThan(%g, %g, %g) = %v, want %v", tt.first, tt.last, tt.r, got, tt.want)
		}
	}
}

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
		c := DefaultConfig()
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

// TestStopImprovement: a tolerance ends the run after the first iteration that
// gains less than it, and changes nothing before (the same losses, bit for bit);
// coarse scales run their budgets; Adam's outer iterations stop the same way.
func TestStopImprovement(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the model")
	}
	m := testModel(t)
	ref := referenceInputs(t)
	in := Inputs{Content: ref.Content, Style: ref.Style}

	// gains runs s and returns each iteration's loss and its gain, from its first evaluation's loss.
	gains := func(s Settings) (losses, gains []float64) {
		t.Helper()
		var first float64
		res, err := Run(context.Background(), m, in, s, Observer{Evaluation: func(_, e int, t Terms, _ time.Duration) {
			if e == 1 {
				first = float64(t.Loss)
			}
		}, Done: func(it Iteration) error {
			losses = append(losses, it.Loss)
			gains = append(gains, (first-it.Loss)/first)
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Iterations) != len(losses) {
			t.Fatalf("%d iterations in the result, %d seen", len(res.Iterations), len(losses))
		}
		return losses, gains
	}

	s := controlSettings()
	s.Iterations, s.MaxFun = 6, 3
	all, g := gains(s)
	t.Logf("gains per iteration without a tolerance: %.3g", g)
	if len(all) != 6 {
		t.Fatalf("StopImprovement 0 ran %d iterations, want all 6", len(all))
	}
	// A tolerance just above iteration 3's gain (measured above: the gains
	// fall from 0.117 to 0.094, so no earlier iteration gains less) stops the
	// run after the first iteration that gains less than it.
	s.StopImprovement = g[3] * (1 + 1e-4)
	stop := 0
	for g[stop] >= s.StopImprovement {
		stop++
	}
	if stop == len(g)-1 {
		t.Fatalf("tolerance %.3g: would stop only at the last iteration (gains %.3g)", s.StopImprovement, g)
	}
	got, _ := gains(s)
	if diff := cmp.Diff(all[:stop+1], got); diff != "" {
		t.Errorf("tolerance %.3g: losses (-want: without a tolerance, up to iteration %d; +got):\n%s", s.StopImprovement, stop, diff)
	}

	// Coarse to fine: the coarse scale runs its 2 iterations whatever it gains;
	// the final size stops after its first.
	s = Defaults()
	s.Width, s.Height, s.Scales, s.ScaleIterations = 32, 32, []int{16}, []int{2}
	s.Iterations, s.MaxFun, s.StopImprovement = 4, 2, 0.999
	if got, _ := gains(s); len(got) != 3 {
		t.Errorf("scales: %d iterations, want 2 at the coarse scale and 1 at the final size", len(got))
	}

	s = controlSettings()
	s.Optimizer, s.Iterations, s.MaxFun, s.StopImprovement = OptimizerAdam, 3, 2, 0.999
	if got, _ := gains(s); len(got) != 1 {
		t.Errorf("adam: %d iterations, want 1", len(got))
	}
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
	c := DefaultConfig()
	c.Content, c.Style = "content.png", "style.png"
	fields, err := p.Apply(&c, nil)
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	def.Content, def.Style = c.Content, c.Style
	if diff := cmp.Diff(def.Record(), c.Record()); diff != "" {
		t.Errorf("the notebook preset changed the defaults (-want +got):\n%s", diff)
	}
	if got, want := DescribePreset(p.Name, fields),
		"preset notebook: iterations 10, init noise, precision fp32, stop-improvement 0"; got != want {
		t.Errorf("described as\n%s\nwant\n%s", got, want)
	}

	for _, tt := range []struct {
		name     string
		set      map[string]string // given explicitly
		want     map[string]string // the run's settings after the preset
		override string            // Overrides' message
	}{
		{"quick", nil, map[string]string{"init": "content", "iterations": "5", "precision": "auto", "stop-improvement": "0.05",
			"maxfun": "20", "scales": ""}, ""},
		// Explicit settings win, and are named where they contradict the preset.
		{"explicit", map[string]string{"init": "noise", "stop-improvement": "0.050", "scales": "128", "scale-iterations": "2"},
			map[string]string{"init": "noise", "stop-improvement": "0.05", "scales": "128", "scale-iterations": "2", "precision": "auto"},
			"preset quick: --init noise wins over its content (given explicitly)"},
		{"two", map[string]string{"iterations": "10", "precision": "fp32"}, map[string]string{"iterations": "10", "precision": "fp32"},
			"preset quick: --iterations 10 wins over its 5; --precision fp32 wins over its auto (given explicitly)"},
	} {
		c := DefaultConfig()
		c.Content, c.Style = "content.png", "style.png"
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
		if err := c.Validate(); err != nil {
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
