package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
)

// fakeFastnets is a folder whose record passes fastnet.ReadMeta (a run that
// loads it would fail): what a preset's check for the feed-forward networks reads.
func fakeFastnets(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	meta, err := json.Marshal(fastnet.Meta{Kind: "fastnets", NumStyles: fastnet.NumStyles, StyleVector: fastnet.StyleVector, StyleSize: fastnet.StyleSize})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"neuralstyle.json": meta, "saved_model.pb": nil} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestPreset: --preset picks a named set of settings, refuses an unknown name
// naming those that exist, prints its values with --dry-run, and says once which
// explicit settings win over it. quick starts stylized where the feed-forward
// networks are (--fastnets), and says what it runs instead where they are not
// or several styles are given. None of the cases loads a model (noModel).
func TestPreset(t *testing.T) {
	nets, none := fakeFastnets(t), filepath.Join(t.TempDir(), "none")
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
			"preset notebook: iterations 10, maxfun 20, scales \"\", scale-iterations \"\", scale-content-weight fixed, lbfgs-memory reset, bounds none, init noise, precision fp32, stop-improvement 0\n", "", ""},
		{"quick", []string{"--preset", "quick", "--fastnets", nets, "--size", "256", "--dry-run"}, 0,
			"preset quick: iterations 4, maxfun 10, scales 0.25,0.5, scale-iterations 4,4, scale-content-weight area, lbfgs-memory keep, bounds pixels, init stylized, precision auto, stop-improvement 0\nsettings:\n",
			"", "no stylized start"},
		{"quick without the networks", []string{"--preset", "quick", "--fastnets", none, "--dry-run"}, 0,
			"preset quick: iterations 10, maxfun 10, scales 0.25,0.5, scale-iterations 8,8, scale-content-weight area, lbfgs-memory keep, bounds pixels, init noise, precision auto, stop-improvement 0\n",
			"preset quick: no stylized start (no feed-forward model at " + none + ": build it with make fastnets", ""},
		{"quick without the networks, quiet", []string{"--preset", "quick", "--fastnets", none, "--quiet"}, exitFailure, "",
			"; it runs iterations 10, scale-iterations 8,8, init noise instead\n", ""},
		{"quick with two styles", []string{"--preset", "quick", "--fastnets", nets, "--style", "testdata/chelsea.jpg,testdata/chelsea.jpg", "--dry-run"}, 0,
			"init noise", "preset quick: no stylized start (2 style images; the network paints one)", ""},
		{"quick overridden, dry run", []string{"--preset", "quick", "--fastnets", none, "--init", "noise", "--dry-run"}, 0,
			"init stylized (--init noise given: it wins)", "", "wins over"},
		// The notice comes before the model loads (and here fails to).
		{"quick overridden", []string{"--preset", "quick", "--init", "noise", "--stop-improvement", "0.05"}, exitFailure, "",
			"preset quick: --init noise wins over its stylized; --stop-improvement 0.05 wins over its 0 (given explicitly)\n", "no stylized start"},
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
	base := []string{"batch", "--model", noModel, "--fastnets", fakeFastnets(t), "--device", "cpu", "--style", "testdata/chelsea.jpg", "--iterations", "5"}
	for _, tt := range []struct {
		name, preset, err, errNot string
	}{
		{"default", "", "preset quick: --iterations 5 wins over its 4 (given explicitly)", ""},
		{"notebook", "notebook", "preset notebook: --iterations 5 wins over its 10 (given explicitly)", "quick"},
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
