package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
)

// TestMnistSignals stops a training with SIGINT and with SIGTERM, as the other
// commands stop: the first signal ends it cleanly with exit code 130.
func TestMnistSignals(t *testing.T) {
	model, err := testmodels.Build("mnist-linear-seed1", "-m", "savedmodel.mnist", "--model", "linear", "--out", "OUT", "--seed", "1")
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd := exec.Command(os.Args[0], "mnist", "--model", model, "--steps", "100000000", "--device", "cpu", "--progress", "0")
		cmd.Env = append(os.Environ(), "NEURALSTYLE_TEST_MAIN=1")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The first line comes once the signals are handled and training starts.
		r := bufio.NewReader(stderr)
		first, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(first, "mnist linear: 100000000 steps") {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%v: first line %q, %v", sig, first, err)
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(r)
		err = cmd.Wait()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		if code != exitInterrupted || !strings.Contains(string(rest), "neuralstyle: mnist: interrupted after ") {
			t.Errorf("%v: exit %d (%v), stderr %q; want exit %d, interrupted", sig, code, err, rest, exitInterrupted)
		}
	}
}
