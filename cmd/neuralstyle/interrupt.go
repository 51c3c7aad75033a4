package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/outputs"
)

// interruptContext is cancelled by the first Ctrl-C (or SIGTERM), so a run can stop
// cleanly and save what it has. A second one ends the process at once: before
// that, outs (which may be nil) discards its staged files, or, when it is
// renaming them into place, finishes first; either way the message says which,
// and no temporary file is left behind.
func interruptContext(c *cli.Context, outs *outputs.Set) (context.Context, context.CancelFunc) {
	return watchInterrupts(c.Context, c.App.ErrWriter, outs, func() { os.Exit(exitInterrupted) })
}

func watchInterrupts(parent context.Context, stderr io.Writer, outs *outputs.Set, exit func()) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	finished := make(chan struct{})
	go func() {
		select {
		case <-sig:
			cancel()
		case <-finished:
			return
		}
		select {
		case <-sig:
			what := "what was finished is kept"
			if outs != nil {
				what = outs.Discard()
			}
			fmt.Fprintf(stderr, "\nneuralstyle: interrupted twice: stopped at once; %s\n", what)
			exit()
		case <-finished:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(sig)
			close(finished)
			cancel()
		})
	}
}
