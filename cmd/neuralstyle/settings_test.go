package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/settings"
	"github.com/neuralstyle/neuralstyle/internal/testmodels"
)

// TestTransferSettingErrors: a bad setting is a usage error that names where the
// value came from (the flag or the environment variable), and every problem of
// a command line is reported at once, before any model loads (the model path
// here does not exist, so reaching it would give another error).
func TestTransferSettingErrors(t *testing.T) {
	data := "../../scripts/testdata/transfer/"
	base := []string{"transfer", "--model", filepath.Join(t.TempDir(), "no-model"), "--content", data + "content.png", "--style", data + "style.png"}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"size from the environment", nil, map[string]string{"NEURALSTYLE_SIZE": "abc"},
			[]string{`NEURALSTYLE_SIZE=abc: size "abc": want WxH`}},
		{"too small from the environment", nil, map[string]string{"NEURALSTYLE_SIZE": "8"},
			[]string{"NEURALSTYLE_SIZE=8: size 8x8 is too small"}},
		{"flag over environment", []string{"--size", "9x9"}, map[string]string{"NEURALSTYLE_SIZE": "abc"},
			[]string{"--size 9x9 is too small"}},
		{"every problem at once", []string{"--content-weight", "-1", "--iterations", "0", "--init", "sky"}, nil,
			[]string{"--content-weight: -1: want a finite number >= 0", `--iterations "0": want a whole number from 1`, `--init "sky": want noise, content, style`}},
		{"every check after parsing", []string{"--size", "8", "--style-weight", "1e39"}, nil,
			[]string{"--size 8x8 is too small", "--style-weight: 1e+39: too large for the model's float32"}},
		{"unknown layer", []string{"--style-layers", "block1_conv2,block9_conv1"}, nil,
			[]string{`--style-layers: unknown layer "block9_conv1"`}},
		{"weight from the environment", nil, map[string]string{"NEURALSTYLE_TV_WEIGHT": "x"},
			[]string{`NEURALSTYLE_TV_WEIGHT=x: tv-weight "x": not a number`}},
		{"bad exif", []string{"--exif", "maybe"}, nil, []string{`--exif "maybe": want apply or ignore`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			code, _, stderr := neuralstyle(append(append([]string(nil), base...), tc.args...)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d: %s", code, exitUsage, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	// No content image at all.
	code, _, stderr := neuralstyle("transfer", "--style", data+"style.png")
	if code != exitUsage || !strings.Contains(stderr, "--content: give the content image") {
		t.Errorf("no --content: exit %d, %s", code, stderr)
	}
}

// TestTransferLogSettings: the log's first line records every setting of the
// schema as its flag takes it, environment included.
func TestTransferLogSettings(t *testing.T) {
	model, err := testmodels.VGG16()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data := "../../scripts/testdata/transfer/"
	t.Setenv("NEURALSTYLE_TV_WEIGHT", "0.5")
	code, _, stderr := neuralstyle("transfer", "--model", model, "--device", "cpu", "--threads", "1", "--quiet",
		"--content", data+"content.png", "--style", data+"style.png", "--size", "32x16", "--iterations", "1", "--maxfun", "1",
		"--exif", "ignore", "--out", filepath.Join(dir, "o.png"), "--log", filepath.Join(dir, "log.jsonl"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	var first struct{ Settings map[string]string }
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	for _, s := range settings.Schema {
		if _, ok := first.Settings[s.Name]; !ok {
			t.Errorf("log's settings lack %s: %s", s.Name, lines[0])
		}
	}
	for k, v := range map[string]string{"size": "32x16", "tv-weight": "0.5", "exif": "ignore", "iterations": "1", "content-weight": "0.025"} {
		if first.Settings[k] != v {
			t.Errorf("log's %s = %q, want %q", k, first.Settings[k], v)
		}
	}
	if len(lines) != 2 || !strings.Contains(lines[1], `"iteration":0`) {
		t.Errorf("log has %d lines, want the settings and one iteration:\n%s", len(lines), raw)
	}
}

// TestSweepSeparator: a sweep flag's values are separated by ',' or, for lists,
// by ';'; --style takes ',' between single styles as it always did, and ';'
// between lists of several.
func TestSweepSeparator(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"style-weight", "1,2", ","},
		{"content", "a.jpg,b.jpg", ","},
		{"style", "a.jpg,b.jpg", ","},
		{"style", "a.jpg,b.jpg;c.jpg", ";"},
		{"style-mask", "m1.png,m2.png", ";"},
		{"style-blend", "1,0;0.5,0.5", ";"},
		{"style-layers", "block1_conv1,block2_conv1", ";"},
	} {
		if got := sweepSeparator(tc.name, tc.text); got != tc.want {
			t.Errorf("--%s %s: separator %q, want %q", tc.name, tc.text, got, tc.want)
		}
	}
}

// TestTransferPrecisionAuto: --precision auto says which precision it chose
// and why, once, the --log file's settings record the choice (not "auto"), and
// --quiet keeps it quiet.
func TestTransferPrecisionAuto(t *testing.T) {
	model, err := testmodels.VGG16()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data := "../../scripts/testdata/transfer/"
	args := []string{"transfer", "--model", model, "--device", "cpu", "--threads", "1", "--precision", "auto",
		"--content", data + "content.png", "--style", data + "style.png", "--size", "32x16", "--iterations", "1", "--maxfun", "1",
		"--exif", "ignore", "--out", filepath.Join(dir, "o.png")}
	log := filepath.Join(dir, "o.jsonl")
	code, _, stderr := neuralstyle(append(args, "--log", log)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	said := regexp.MustCompile(`precision auto: (bf16|fp32): `).FindStringSubmatch(stderr)
	if n := strings.Count(stderr, "precision auto: "); n != 1 || said == nil {
		t.Fatalf("stderr says the choice %d times, want once as \"precision auto: bf16|fp32: why\":\n%s", n, stderr)
	}
	logged, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var first struct {
		Settings map[string]string `json:"settings"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(string(logged), "\n", 2)[0]), &first); err != nil {
		t.Fatal(err)
	}
	if got := first.Settings["precision"]; got != said[1] {
		t.Errorf("the log records precision %q, want the choice said, %q", got, said[1])
	}
	code, _, stderr = neuralstyle(append(args, "--quiet")...)
	if code != 0 || strings.Contains(stderr, "precision") {
		t.Errorf("--quiet: exit %d, stderr %q", code, stderr)
	}
}

func TestReleaseModel(t *testing.T) {
	root := t.TempDir()
	release := filepath.Join(root, "neuralstyle-1.0-linux-amd64")
	bare := filepath.Join(root, "bare")
	for _, d := range []string{filepath.Join(release, "bin"), filepath.Join(release, "model"), filepath.Join(bare, "bin"), filepath.Join(bare, "model", "saved_model.pb"), filepath.Join(root, "elsewhere")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(release, "bin", "neuralstyle"), filepath.Join(release, "model", "saved_model.pb"), filepath.Join(bare, "bin", "neuralstyle")} {
		if err := os.WriteFile(f, nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(root, "elsewhere", "neuralstyle")
	if err := os.Symlink(filepath.Join(release, "bin", "neuralstyle"), link); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ exe, want string }{
		{filepath.Join(release, "bin", "neuralstyle"), filepath.Join(release, "model")},
		{link, filepath.Join(release, "model")},           // a link on PATH to the release's binary
		{filepath.Join(bare, "bin", "neuralstyle"), ""},   // saved_model.pb is a folder
		{filepath.Join(root, "elsewhere", "missing"), ""}, // no model beside
		{filepath.Join(root, "bin", "neuralstyle"), ""},   // no release at all
	}
	for _, tt := range tests {
		if got := releaseDir(tt.exe, "model"); got != tt.want {
			t.Errorf("releaseDir(%s, model) = %q, want %q", tt.exe, got, tt.want)
		}
	}
	// The feed-forward networks the same way, once the release has them.
	exe := filepath.Join(release, "bin", "neuralstyle")
	if got := releaseDir(exe, "fastnets"); got != "" {
		t.Errorf("releaseDir(%s, fastnets) = %q in a release without them", exe, got)
	}
	if err := os.MkdirAll(filepath.Join(release, "fastnets"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(release, "fastnets", "saved_model.pb"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := releaseDir(exe, "fastnets"), filepath.Join(release, "fastnets"); got != want {
		t.Errorf("releaseDir(%s, fastnets) = %q, want %q", exe, got, want)
	}
}

// TestRunsPrecisionAuto: batch, sweep and video, which run a transfer per
// photo, point or frame, say what --precision auto chose once, as transfer does.
func TestRunsPrecisionAuto(t *testing.T) {
	t.Parallel()
	for name, args := range map[string][]string{
		"batch": batchArgs(t, filepath.Join(t.TempDir(), "out"), "--precision", "auto", photoFolder(t, 2)),
		"sweep": sweepArgs(t, filepath.Join(t.TempDir(), "sweep"), "--precision", "auto"),
		"video": videoArgs(t, filepath.Join(t.TempDir(), "styled"), "--precision", "auto", frameFolder(t, 1, 2)),
	} {
		code, _, stderr := neuralstyle(args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		if n := strings.Count(stderr, "precision auto: "); n != 1 {
			t.Errorf("%s: stderr says the choice %d times, want once:\n%s", name, n, stderr)
		}
	}
}
