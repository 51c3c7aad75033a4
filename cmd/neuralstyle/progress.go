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

type quietProgress struct{}

func (quietProgress) start(int)                                          {}
func (quietProgress) evaluation(int, int, transfer.Terms, time.Duration) {}
func (quietProgress) done(transfer.Iteration)                            {}
func (quietProgress) finish()                                            {}

// barProgress redraws one line on a terminal after every evaluation: the
// iteration, a bar over all expected evaluations, the loss and the time left.
type barProgress struct {
	w           io.Writer
	iterations  int
	perCall     int // expected evaluations per iteration: maxfun
	begun       time.Time
	evaluations int // over the whole run
	lastWidth   int
}

func newBarProgress(w io.Writer, s transfer.Settings) *barProgress {
	return &barProgress{w: w, iterations: s.TotalIterations(), perCall: s.MaxFun, begun: time.Now()}
}

func (p *barProgress) start(int) {}

func (p *barProgress) evaluation(i, e int, t transfer.Terms, _ time.Duration) {
	p.evaluations++
	total := p.iterations * p.perCall
	done := min(i*p.perCall+min(e, p.perCall), total)
	const width = 24
	filled := width * done / total
	elapsed := time.Since(p.begun)
	left := "?"
	if p.evaluations > 0 {
		per := elapsed / time.Duration(p.evaluations)
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
	fmt.Fprintf(p.w, "\r%s\riteration %d: loss %g, %d evaluations, %s\n",
		strings.Repeat(" ", p.lastWidth), it.Iteration, it.Loss, it.Evaluations, roundDuration(it.Elapsed))
	p.lastWidth = 0
}

func (p *barProgress) finish() {
	if p.lastWidth > 0 {
		fmt.Fprintln(p.w)
	}
}

func roundDuration(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Second)
}
