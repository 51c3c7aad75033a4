package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFilterTFLog(t *testing.T) {
	const (
		notice  = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
		info    = "I0000 00:00:1795895158.198597   10318 mlir_graph_optimization_pass.cc:401] MLIR V1 optimization pass is not enabled\n"
		warn    = "W1128 19:45:58.198597   10318 file.cc:12] a warning\n"
		errl    = "E1128 19:45:58.198597   10318 file.cc:12] an error\n"
		fatal   = "F1128 19:45:58.198597   10318 file.cc:12] Check failed: x\n"
		tsl     = "2026-11-28 19:45:57.239739: E tensorflow/core/framework/op_kernel.cc:1] an error\n"
		tslInfo = "2026-11-28 19:45:57.362703: I tensorflow/core/platform/cpu_feature_guard.cc:210] This TensorFlow binary is optimized.\n" +
			"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.\n"
		tslWarn = "2026-11-28 19:45:57.362703: W tensorflow/core/framework/op_kernel.cc:1] a warning\n"
		other   = "Illegal instruction 00:00: not a log line]\n"
	)
	tests := []struct {
		in    string
		level int
		want  string
	}{
		{notice, 2, ""},
		{notice, 0, notice},
		{info, 2, ""},
		{info, 1, ""},
		{info, 0, info},
		{warn, 2, ""},
		{warn, 1, warn},
		{errl, 2, errl},
		{errl, 3, ""},
		{fatal, 3, fatal},
		{notice + info, 2, ""},
		{notice + errl, 2, errl},
		// A message's later lines go with its first.
		{info + "  second line of the message\n" + errl + "  more of the error\n", 2, errl + "  more of the error\n"},
		{tsl, 3, ""},
		{tsl, 2, tsl},
		{tslInfo, 2, ""},
		{tslInfo, 0, tslInfo},
		{tslWarn, 2, ""},
		{tslWarn, 1, tslWarn},
		{tslInfo + errl, 2, errl},
		// Other text always passes.
		{other, 3, other},
		{"no newline", 2, "no newline"},
		{"I1128 19:45", 2, "I1128 19:45"},
	}
	for _, tt := range tests {
		if got := filterTFLog(tt.in, tt.level); got != tt.want {
			t.Errorf("filter(%q, level %d) = %q, want %q", tt.in, tt.level, got, tt.want)
		}
	}
}

// runMain runs the program (this test binary standing in, see TestMain) in a new
// process with args and the environment without TensorFlow's and neuralstyle's
// logging variables plus env.
func runMain(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TF_CPP_MIN_LOG_LEVEL=") && !strings.HasPrefix(kv, "NEURALSTYLE_VERBOSE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "NEURALSTYLE_TEST_MAIN=1")
	cmd.Env = append(cmd.Env, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

func TestTensorFlowLogLines(t *testing.T) {
	inspect := []string{"inspect", "--model", tinyModel, "--device", "cpu"}
	// inspect runs no graph (it checks the variables without restoring them), so
	// the cases that need Abseil's line run one: a layer of the classifier at 16x16.
	features := []string{"features", "--model", classifierModel(t), "--device", "cpu", "--layer", "block1_conv1",
		"--size", "16", "--out", filepath.Join(t.TempDir(), "f.npy"), testImage}
	// An INFO line of each of TensorFlow's two logging systems: its own (tsl),
	// oneDNN's notice, printed while the library initialises (TF_ENABLE_ONEDNN_OPTS=1
	// prints it on every CPU), and its Abseil logging's, printed when a session first
	// runs a graph. tfgraph reads the SavedModel itself, so TensorFlow's "Reading
	// SavedModel from" is no longer among them.
	tfLines := []string{"oneDNN custom operations are on", "mlir_graph_optimization_pass"}
	quiet := []struct {
		env  []string
		args []string
	}{
		{nil, []string{"--help"}},
		// oneDNN's notice comes while the library initialises, before main.
		{[]string{"TF_ENABLE_ONEDNN_OPTS=1"}, []string{"--help"}},
		{nil, inspect},
		{[]string{"TF_CPP_MIN_LOG_LEVEL="}, inspect},
		{[]string{"TF_CPP_MIN_LOG_LEVEL=2"}, inspect},
		{[]string{"NEURALSTYLE_VERBOSE=0"}, inspect},
		{[]string{"NEURALSTYLE_VERBOSE=1"}, append([]string{"--verbose=false"}, inspect...)},
		{nil, features},
	}
	for _, tt := range quiet {
		code, out, errOut := runMain(t, tt.env, tt.args...)
		if code != 0 || errOut != "" || out == "" {
			t.Errorf("%v neuralstyle %v: exit %d, stderr %q, %d bytes of output; want exit 0, only our output",
				tt.env, tt.args, code, errOut, len(out))
		}
	}
	verbose := []struct {
		env  []string
		args []string
	}{
		{nil, append([]string{"--verbose"}, features...)},
		{[]string{"NEURALSTYLE_VERBOSE=true"}, features},
		{[]string{"TF_CPP_MIN_LOG_LEVEL=0"}, features},
		{[]string{"TF_CPP_MIN_LOG_LEVEL=2"}, append([]string{"--verbose"}, features...)},
	}
	code, _, errOut := runMain(t, []string{"TF_ENABLE_ONEDNN_OPTS=1"}, "--verbose", "--help")
	if code != 0 || !strings.Contains(errOut, "oneDNN custom operations are on") {
		t.Errorf("TF_ENABLE_ONEDNN_OPTS=1 neuralstyle --verbose --help: exit %d, stderr lacks oneDNN's notice:\n%s", code, errOut)
	}
	for _, tt := range verbose {
		code, _, errOut := runMain(t, append([]string{"TF_ENABLE_ONEDNN_OPTS=1"}, tt.env...), tt.args...)
		for _, want := range tfLines {
			if code != 0 || !strings.Contains(errOut, want) {
				t.Errorf("%v neuralstyle %v: exit %d, stderr lacks TensorFlow's %q:\n%s", tt.env, tt.args, code, want, errOut)
			}
		}
	}
	// An error still says what went wrong, once.
	code, _, errOut = runMain(t, nil, "inspect", "--model", "/nonexistent/model")
	if want := "neuralstyle: tfgraph: load /nonexistent/model: no such directory; give the model's folder with --model, " +
		"or export one in the checkout with make model (make help lists the others)\n"; code != exitFailure || errOut != want {
		t.Errorf("inspect of a missing model: exit %d, stderr %q; want exit %d, %q", code, errOut, exitFailure, want)
	}
}
