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
	// their own: signals, resource limits (see runAsCommand).
	if os.Getenv(asCommandEnv) == "1" {
		os.Exit(run(os.Args, os.Stdout, os.Stderr))
	}
	var err error
	if tinyModel, err = testmodels.Tiny(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// neuralstyle runs the CLI in-process and returns its exit code and output.
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
	meta := `{"weights": {"source": "random", "seed": 1}, "weights_sha256": "abc123"}`
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
	want := map[string]any{"weights": map[string]any{"source": "random", "seed": 1.0}, "weights_sha256": "abc123"}
	if diff := cmp.Diff(want, got.Metadata); diff != "" {
		t.Errorf("metadata mismatch (-want +got):\n%s", diff)
	}
	if len(got.Signatures) != 5 {
		t.Errorf("got %d signatures, want 5", len(got.Signatures))
	}
	code, out, _ = neuralstyle("inspect", "--model", dir, "--device", "cpu")
	if code != 0 || !strings.Contains(out, "weights_sha256  abc123") || !strings.Contains(out, `weights         {"seed":1,"source":"random"}`) {
		t.Errorf("text inspect does not show the metadata:\n%s", out)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"inspect", "--model", "/nonexistent/model"}, exitFailure,
			"neuralstyle: tfgraph: load /nonexistent/model: no such directory\n"},
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
