package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// transferProgress shows a run's progress.
type transferProgress interface {
	start(iteration int)
	evaluation(iteration, evaluation int, t transfer.Terms, elapsed time.Duration)
	done(it transfer.Iteration)
	finish()
	// wrote ends a run whose outputs are in place, naming them.
	wrote(paths string)
}

// plainProgress prints the notebook's lines, for logs and pipes.
type plainProgress struct{ w io.Writer }

func (p *plainProgress) start(i int)                                        { fmt.Fprintf(p.w, "Start of iteration %d\n", i) }
func (p *plainProgress) evaluation(int, int, transfer.Terms, time.Duration) {}
func (p *plainProgress) done(it transfer.Iteration) {
	fmt.Fprintf(p.w, "Current loss value: %g\n", it.Loss)
	fmt.Fprintf(p.w, "Iteration %d completed in %s\n", it.Iteration, roundDuration(it.Elapsed))
}
func (p *plainProgress) finish() {}

// wrote says nothing: the plain lines are the notebook's, and a script that
// reads them knows what it asked for.
func (p *plainProgress) wrote(string) {}

type quietProgress struct{}

func (quietProgress) start(int)                                          {}
func (quietProgress) evaluation(int, int, transfer.Terms, time.Duration) {}
func (quietProgress) done(transfer.Iteration)                            {}
func (quietProgress) finish()                                            {}
func (quietProgress) wrote(string)                                       {}

// barProgress redraws one line on a terminal after every evaluation: the
// iteration, a bar over all expected evaluations, the loss and the time left.
// Iterations count from 1 in the bar and in the line each one ends with (the
// notebook's plain lines count from 0, as it printed them).
//
// The time left is the mean time of the evaluations after the first, times the
// evaluations left, and is shown once the first iteration has ended. The clock
// starts after the first evaluation: before it come the model's load, the style
// targets and TensorFlow's one-off graph setup, which made the first estimates
// several times the run's length (38 minutes left for a 9-minute run); and an
// iteration's worth of evaluations steadies the mean.
type barProgress struct {
	w           io.Writer
	now         func() time.Time
	iterations  int
	perCall     int // expected evaluations per iteration: maxfun
	begun       time.Time
	evaluations int       // over the whole run
	firstEnd    time.Time // when the first evaluation ended
	ended       int       // iterations ended
	lastWidth   int
}

func newBarProgress(w io.Writer, s transfer.Settings) *barProgress {
	return &barProgress{w: w, now: time.Now, iterations: s.TotalIterations(), perCall: s.MaxFun, begun: time.Now()}
}

func (p *barProgress) start(int) {}

func (p *barProgress) evaluation(i, e int, t transfer.Terms, _ time.Duration) {
	now := p.now()
	p.evaluations++
	if p.evaluations == 1 {
		p.firstEnd = now
	}
	total := p.iterations * p.perCall
	done := min(i*p.perCall+min(e, p.perCall), total)
	const width = 24
	filled := width * done / total
	elapsed := now.Sub(p.begun)
	left := "?"
	if p.ended > 0 && p.evaluations > 1 {
		per := now.Sub(p.firstEnd) / time.Duration(p.evaluations-1)
		left = "~" + roundDuration(per*time.Duration(total-done)).String()
	}
	line := fmt.Sprintf("iteration %d/%d [%s%s] evaluation %d  loss %.5g  elapsed %s  left %s",
		i+1, p.iterations, strings.Repeat("#", filled), strings.Repeat("-", width-filled), e,
		t.Loss, roundDuration(elapsed), left)
	pad := max(0, p.lastWidth-len(line))
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
	p.lastWidth = len(line)
}

func (p *barProgress) done(it transfer.Iteration) {
	p.ended++
	fmt.Fprintf(p.w, "\r%s\riteration %d/%d: loss %g, %d evaluations, %s\n",
		strings.Repeat(" ", p.lastWidth), it.Iteration+1, p.iterations, it.Loss, it.Evaluations, roundDuration(it.Elapsed))
	p.lastWidth = 0
}

func (p *barProgress) finish() {
	if p.lastWidth > 0 {
		fmt.Fprintln(p.w)
		p.lastWidth = 0
	}
}

func (p *barProgress) wrote(paths string) {
	if paths != "" {
		fmt.Fprintf(p.w, "wrote %s in %s\n", paths, roundDuration(p.now().Sub(p.begun)))
	}
}

func roundDuration(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Second)
}
