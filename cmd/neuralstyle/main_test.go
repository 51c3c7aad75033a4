package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
)

var tinyModel string

func TestMain(m *testing.M) {
	// The test binary doubles as the command, for tests that need a process of
	// their own: signals, resource limits (see command in process_test.go).
	if os.Getenv(asCommandEnv) == "1" {
		os.Exit(run(os.Args, os.Stdout, os.Stderr))
	}
	// The test binary stands in for the built program when a test runs it with
	// this variable (runMain), so that tests see a fresh process's stderr.
	if os.Getenv("NEURALSTYLE_TEST_MAIN") == "1" {
		main()
	}
	var err error
	if tinyModel, err = testmodels.Tiny(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// neuralstyle runs the CLI in-process and returns its exit code and output.
// Each run loads its own model, in sessions of one thread when a test asks for
// them, so the long tests (more than about 20 s) are parallel: two share a
// 2-core machine. Tests that set the environment or time signals stay serial;
// Go runs them before the parallel ones.
func neuralstyle(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(append([]string{"neuralstyle"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestInspect(t *testing.T) {
	code, out, errOut := neuralstyle("inspect", "--model", tinyModel, "--device", "cpu")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"TensorFlow:  2.18.", "device:CPU:0", "Signatures:",
		"  affine\n", "in   x      float32  [?,3]", "out  total  float32  []",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
}

func TestInspectJSONAndMetadata(t *testing.T) {
	// A copy of the tiny model with an exporter's record beside it.
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(tinyModel)); err != nil {
		t.Fatal(err)
	}
	meta := `{"format": "f/1", "weights": {"source": "random", "seed": 1, "sha256": "abc123"},
		"layers": [{"name": "conv1", "channels": 64}, {"name": "conv2", "channels": 128, "note": [1, 2]}],
		"notebook": {"style_layers": ["conv1", "conv2"], "tv_weight": 1.0},
		"signatures": {"affine": {"inputs": {"x": {"dtype": "float32", "shape": [-1, 3]}}}},
		"exported_at": "2026-11-28T19:42:41+00:00"}`
	if err := os.WriteFile(dir+"/"+metadataFile, []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := neuralstyle("inspect", "--model", dir, "--json", "--device", "cpu")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		TensorFlow string
		Metadata   map[string]any
		Signatures []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	var want map[string]any
	if err := json.Unmarshal([]byte(meta), &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got.Metadata); diff != "" {
		t.Errorf("metadata mismatch (-want +got):\n%s", diff)
	}
	if len(got.Signatures) != 5 {
		t.Errorf("got %d signatures, want 5", len(got.Signatures))
	}
	// For people: the record in its order, values that fit on a line first and
	// aligned, records indented below their key, lists of records as tables, the
	// signatures once (as loaded).
	code, out, _ = neuralstyle("inspect", "--model", dir, "--device", "cpu")
	wantText := `
Metadata (neuralstyle.json):
  format       f/1
  signatures   (as loaded: see Signatures)
  exported_at  2026-11-28T19:42:41+00:00
  weights:
    source  random
    seed    1
    sha256  abc123
  layers (2):
    name   channels  note
    conv1  64
    conv2  128       1, 2
  notebook:
    style_layers  conv1, conv2
    tv_weight     1.0

Devices:
  name `
	if code != 0 || !strings.Contains(out, wantText) || strings.Contains(out, "dtype") {
		t.Errorf("text inspect does not show the metadata as\n%s\ngot:\n%s", wantText, out)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"inspect", "--model", "/nonexistent/model"}, exitFailure,
			"neuralstyle: tfgraph: load /nonexistent/model: no such directory; give the model's folder with --model, " +
				"or export one in the checkout with make model (make help lists the others)\n"},
		{[]string{"inspect", "--bogus"}, exitUsage, "neuralstyle: flag provided but not defined: -bogus (see --help)\n"},
		{[]string{"inspect", "--model", tinyModel, "--device", "tpu"}, exitUsage,
			"neuralstyle: --device \"tpu\": want cpu, gpu, or GPU indices such as 0 or 0,1\n"},
		{[]string{"inspect", "--model", tinyModel, "extra"}, exitUsage,
			"neuralstyle: inspect takes no arguments, got \"extra\"\n"},
		{[]string{"frobnicate"}, exitUsage, "neuralstyle: no command \"frobnicate\"; see 'neuralstyle help'\n"},
	}
	for _, tt := range tests {
		code, out, errOut := neuralstyle(tt.args...)
		if code != tt.code || errOut != tt.want || out != "" {
			t.Errorf("neuralstyle %v: exit %d, stderr %q, stdout %q; want exit %d, stderr %q, no stdout",
				tt.args, code, errOut, out, tt.code, tt.want)
		}
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := neuralstyle("--help")
	if code != 0 || !strings.Contains(out, "inspect") || !strings.Contains(out, "USAGE:") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	for _, c := range commands() {
		code, out, _ := neuralstyle(c.Name, "--help")
		if code != 0 || !strings.Contains(out, "OPTIONS:") || !strings.Contains(out, c.Usage) {
			t.Errorf("%s --help: exit %d\n%s", c.Name, code, out)
		}
	}
}
