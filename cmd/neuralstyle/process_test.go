package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
)

// asCommandEnv makes the test binary run its arguments as neuralstyle does.
const asCommandEnv = "NEURALSTYLE_TEST_AS_COMMAND"

// command returns the test binary set up to run args as the neuralstyle
// command, behind the prefix (e.g. prlimit and its options).
func command(t *testing.T, prefix []string, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argv := append(append(append([]string{}, prefix...), self), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), asCommandEnv+"=1", "TF_CPP_MIN_LOG_LEVEL=3")
	return cmd
}

// TestMemoryLimit runs features under a 5 GB address-space limit, where a
// 9000x9000 image ended in SIGILL and a 1500x1500 one in SIGABRT (std::bad_alloc)
// before the estimate: both must be a clear refusal before the model loads.
func TestMemoryLimit(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("no prlimit (util-linux)")
	}
	model := classifierModel(t)
	dir := t.TempDir()
	for size, want := range map[string]string{
		// Refused for its resident memory or for its address space, whichever
		// bound this machine reaches first.
		"9000": "--size 9000x9000: features needs about",
		// Fits the memory of any machine that runs the tests; not 5 GB of
		// address space.
		"1500": "--size 1500x1500: features needs about 10.7 GiB of address space but the address-space limit (ulimit -v) allows 4.7 GiB",
	} {
		out := filepath.Join(dir, "f.npy")
		cmd := command(t, []string{"prlimit", "--as=5000000000", "--"},
			"features", "--model", model, "--device", "cpu", "--size", size, "--out", out, testImage)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if ws.Signaled() || cmd.ProcessState.ExitCode() != exitFailure || !strings.Contains(stderr.String(), want) {
			t.Errorf("--size %s under prlimit --as=5000000000: %v, stderr %q; want exit 1 and %q", size, err, stderr.String(), want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("--size %s: refused, but wrote %s", size, out)
		}
	}
}

// TestTransferMemoryLimit: a transfer too large for the memory the process may
// use is refused before the model loads, with the size it asked for, not
// aborted by TensorFlow (the estimate is package memory's, measured per graph).
func TestTransferMemoryLimit(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("no prlimit (util-linux)")
	}
	data := "../../scripts/testdata/transfer/"
	out := filepath.Join(t.TempDir(), "o.png")
	// The model folder does not exist: the refusal must come before it is read.
	cmd := command(t, []string{"prlimit", "--as=5000000000", "--"}, "transfer", "--model", filepath.Join(t.TempDir(), "no-model"),
		"--device", "cpu", "--content", data+"content.png", "--style", data+"style.png", "--size", "4096", "--out", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	want := "--size 4096x4096: transfer needs about"
	if ws.Signaled() || cmd.ProcessState.ExitCode() != exitFailure || !strings.Contains(stderr.String(), want) {
		t.Errorf("transfer --size 4096 under prlimit --as=5000000000: %v, stderr %q; want exit 1 and %q", err, stderr.String(), want)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("refused, but wrote %s", out)
	}
}

// transferProcess starts a 32x32 transfer that runs long enough to be
// interrupted, with every output, and waits until its first iteration starts.
func transferProcess(t *testing.T, dir string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	model, err := testmodels.VGG16()
	if err != nil {
		t.Fatal(err)
	}
	data := "../../scripts/testdata/transfer/"
	cmd := command(t, nil, "transfer", "--model", model, "--device", "cpu", "--threads", "1", "--inter-threads", "1",
		"--content", data+"content.png", "--style", data+"style.png", "--size", "32", "--iterations", "50", "--maxfun", "20",
		"--out", filepath.Join(dir, "o.png"), "--gif", filepath.Join(dir, "o.gif"), "--log", filepath.Join(dir, "log.jsonl"),
		"--frames", filepath.Join(dir, "frames"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	started := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := false
		for sc.Scan() {
			if !ok && sc.Text() == "Start of iteration 0" {
				ok = true
				started <- true
			}
		}
		if !ok {
			started <- false
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case ok := <-started:
		if !ok {
			cmd.Wait()
			t.Fatalf("the transfer never started: %s", stderr.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("no first iteration after 2 minutes")
	}
	return cmd, &stderr
}

// leftovers lists temporary files under dir.
func leftovers(dir string) []string {
	var tmps []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			tmps = append(tmps, p)
		}
		return nil
	})
	return tmps
}

// TestInterruptTwice sends two interrupts 30 ms apart during the first
// iteration. Before, the process died with no message and left a 0-byte
// temporary GIF. Now it says it stopped, and either wrote every output or none:
// the existing --out is kept whole unless all outputs were written.
func TestInterruptTwice(t *testing.T) {
	dir := t.TempDir()
	sentinel := []byte("sentinel: must survive unless every output is written\n")
	out := filepath.Join(dir, "o.png")
	if err := os.WriteFile(out, sentinel, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, stderr := transferProcess(t, dir)
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	time.Sleep(30 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || !strings.Contains(stderr.String(), "interrupted twice: stopped at once; ") {
		t.Fatalf("exit %d, stderr %q; want exit 130 and a message", code, stderr.String())
	}
	if tmps := leftovers(dir); len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
	got, _ := os.ReadFile(out)
	_, gifErr := os.Stat(filepath.Join(dir, "o.gif"))
	_, logErr := os.Stat(filepath.Join(dir, "log.jsonl"))
	switch {
	case bytes.Equal(got, sentinel):
		if gifErr == nil || logErr == nil || !strings.Contains(stderr.String(), "wrote nothing") {
			t.Errorf("--out kept, but other outputs written or not said: %q", stderr.String())
		}
	default:
		if gifErr != nil || logErr != nil || !strings.Contains(stderr.String(), "the outputs were already written") {
			t.Errorf("--out replaced, but not every output written (gif: %v, log: %v): %q", gifErr, logErr, stderr.String())
		}
	}
}

// TestInterruptFirstIteration sends one interrupt during iteration 0. Before,
// no log and no GIF were written; now the log's last line says where the run
// stopped and the GIF holds the image reached.
func TestInterruptFirstIteration(t *testing.T) {
	dir := t.TempDir()
	cmd, stderr := transferProcess(t, dir)
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || !strings.Contains(stderr.String(), "interrupted; wrote what the run reached: ") {
		t.Fatalf("exit %d, stderr %q; want exit 130 and what was written", code, stderr.String())
	}
	if tmps := leftovers(dir); len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
	for _, name := range []string{"o.png", "o.gif", "log.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "log.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var last logLine
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("log %q: %v", data, err)
	}
	if !last.Partial || !strings.HasPrefix(last.Status, "interrupted") || last.Evaluations < 1 {
		t.Errorf("last log line %+v: want a partial, interrupted iteration with its evaluations", last)
	}
}
