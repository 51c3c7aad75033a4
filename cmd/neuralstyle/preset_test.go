package main

import (
	"strings"
	"testing"
)

// TestPreset: --preset picks a named set of settings, refuses an unknown name
// naming those that exist, prints its values with --dry-run, and says once which
// explicit settings win over it. None of the cases loads a model (noModel).
func TestPreset(t *testing.T) {
	base := []string{"transfer", "--model", noModel, "--device", "cpu", "--content", "testdata/chelsea.jpg",
		"--style", "testdata/chelsea.jpg", "--out", t.TempDir() + "/out.png"}
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		out    string // a fragment of stdout
		err    string // a fragment of stderr
		errNot string // not in stderr
	}{
		{"unknown", []string{"--preset", "fast", "--dry-run"}, exitUsage, "", `neuralstyle: --preset "fast": want notebook or quick`, ""},
		{"notebook by default", []string{"--dry-run"}, 0,
			"preset notebook: iterations 10, init noise, precision fp32, stop-improvement 0\n", "", ""},
		{"quick", []string{"--preset", "quick", "--size", "256", "--dry-run"}, 0,
			"preset quick: iterations 5, init content, precision auto, stop-improvement 0.05\nsettings:\n", "", ""},
		{"quick overridden, dry run", []string{"--preset", "quick", "--init", "noise", "--dry-run"}, 0,
			"init content (--init noise given: it wins)", "", "wins over"},
		// The notice comes before the model loads (and here fails to).
		{"quick overridden", []string{"--preset", "quick", "--init", "noise", "--stop-improvement", "0.05"}, exitFailure, "",
			"preset quick: --init noise wins over its content (given explicitly)\n", ""},
		{"quick overridden, quiet", []string{"--preset", "quick", "--init", "noise", "--quiet"}, exitFailure, "", "", "wins over"},
		// The default preset says nothing of the settings a command line gives.
		{"notebook by default, overridden", []string{"--init", "content"}, exitFailure, "", "", "preset"},
		{"explicit settings still checked", []string{"--preset", "quick", "--graph", "recipe", "--precision", "bf16"}, exitUsage, "",
			"--precision: bf16 runs the fast graph only, not graph recipe", ""},
	} {
		code, out, errOut := neuralstyle(append(append([]string(nil), base...), tt.args...)...)
		if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) ||
			(tt.errNot != "" && strings.Contains(errOut, tt.errNot)) {
			t.Errorf("%s: exit %d, stdout\n%s\nstderr\n%s\nwant exit %d, stdout with %q, stderr with %q and without %q",
				tt.name, code, out, errOut, tt.code, tt.out, tt.err, tt.errNot)
		}
	}
}

// TestBatchPreset: batch defaults to the quick preset (its values apply, and an
// explicit setting that contradicts it is named), and --preset notebook is
// one flag away.
func TestBatchPreset(t *testing.T) {
	base := []string{"batch", "--model", noModel, "--device", "cpu", "--style", "testdata/chelsea.jpg", "--iterations", "3"}
	for _, tt := range []struct {
		name, preset, err, errNot string
	}{
		{"default", "", "preset quick: --iterations 3 wins over its 5 (given explicitly)", ""},
		{"notebook", "notebook", "preset notebook: --iterations 3 wins over its 10 (given explicitly)", "quick"},
	} {
		args := append(append([]string(nil), base...), "--out", t.TempDir())
		if tt.preset != "" {
			args = append(args, "--preset", tt.preset)
		}
		_, _, errOut := neuralstyle(append(args, "testdata/chelsea.jpg")...)
		if !strings.Contains(errOut, tt.err) || (tt.errNot != "" && strings.Contains(errOut, tt.errNot)) {
			t.Errorf("%s: stderr\n%s\nwant it with %q and without %q", tt.name, errOut, tt.err, tt.errNot)
		}
	}
}
