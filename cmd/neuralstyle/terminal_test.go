package main

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
	"testing"
	"unsafe"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// openPTY opens a pseudo-terminal pair (Linux /dev/ptmx) and returns its terminal
// side, or skips the test when the system has none.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Skipf("unlock pty: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Skipf("pty number: %v", e)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pty: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty
}

func TestChooseProgress(t *testing.T) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	file, err := os.Create(t.TempDir() + "/stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()

	s := transfer.Defaults()
	var stdout bytes.Buffer
	// 2>/dev/null, 2>file, 2>&1 | less: the notebook's lines go to stdout.
	for name, stderr := range map[string]*os.File{"/dev/null": devNull, "file": file, "pipe": w} {
		p, ok := chooseProgress(false, &stdout, stderr, s).(*plainProgress)
		if !ok || p.w != &stdout {
			t.Errorf("stderr on %s: got %T, want the plain lines on stdout", name, p)
		}
	}
	if _, ok := chooseProgress(false, &stdout, &stdout, s).(*plainProgress); !ok {
		t.Errorf("stderr not a file: want the plain lines")
	}
	if _, ok := chooseProgress(true, &stdout, devNull, s).(quietProgress); !ok {
		t.Errorf("--quiet: want no progress")
	}
	tty := openPTY(t)
	if _, ok := chooseProgress(false, &stdout, tty, s).(*barProgress); !ok {
		t.Errorf("stderr on a terminal: want the bar")
	}
	if _, ok := chooseProgress(true, &stdout, tty, s).(quietProgress); !ok {
		t.Errorf("--quiet on a terminal: want no progress")
	}
}
