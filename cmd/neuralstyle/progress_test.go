package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// fakeClock is a barProgress clock that the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestBar(w *bytes.Buffer, iterations, maxfun int) (*barProgress, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := transfer.Defaults()
	s.Iterations, s.MaxFun = iterations, maxfun
	p := newBarProgress(w, s)
	p.now, p.begun = clock.now, clock.t
	return p, clock
}

// lastLine is the bar as the terminal shows it now: the text after the last
// carriage return or newline.
func lastLine(s string) string {
	s = s[strings.LastIndexAny(s, "\r\n")+1:]
	return strings.TrimRight(s, " ")
}

var leftRE = regexp.MustCompile(`left (\S+)$`)

// TestBarProgress runs a 3-iteration, maxfun-4 run on a fake clock: 60 s of
// loading and set-up before the first evaluation ends, then 1 s per
// evaluation. The bar and the line each iteration ends with count from 1; no
// time left is guessed during the first iteration; after it, the estimate is
// the evaluations left at 1 s each (the old estimate, the whole elapsed time
// over the evaluations done, said 60 s for 4 left at the second iteration's
// first evaluation).
func TestBarProgress(t *testing.T) {
	var w bytes.Buffer
	p, clock := newTestBar(&w, 3, 4)
	clock.advance(60 * time.Second)
	var lefts []string
	for i := range 3 {
		p.start(i)
		for e := 1; e <= 4; e++ {
			if i > 0 || e > 1 {
				clock.advance(time.Second)
			}
			p.evaluation(i, e, transfer.Terms{Loss: 1}, 0)
			line := lastLine(w.String())
			if want := "iteration " + string(rune('1'+i)) + "/3 ["; !strings.HasPrefix(line, want) {
				t.Errorf("iteration %d evaluation %d: bar %q, want it to begin %q", i, e, line, want)
			}
			m := leftRE.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("bar %q shows no time left", line)
			}
			lefts = append(lefts, m[1])
		}
		p.done(transfer.Iteration{Iteration: i, Loss: 2, Evaluations: 4, Elapsed: 4 * time.Second})
		want := "iteration " + string(rune('1'+i)) + "/3: loss 2, 4 evaluations, 4s\n"
		if !strings.HasSuffix(w.String(), want) {
			t.Errorf("iteration %d ends with %q, want %q", i, lastLine(strings.TrimSuffix(w.String(), "\n")), want)
		}
	}
	// Evaluations 5 to 12 of 12; each has taken 1 s since the first.
	want := []string{"?", "?", "?", "?", "~7s", "~6s", "~5s", "~4s", "~3s", "~2s", "~1s", "~0s"}
	if strings.Join(lefts, " ") != strings.Join(want, " ") {
		t.Errorf("time left per evaluation %v, want %v", lefts, want)
	}
	p.finish()
	clock.advance(time.Second)
	p.wrote("out.png, out.gif")
	if got, want := lastLine(strings.TrimSuffix(w.String(), "\n")), "wrote out.png, out.gif in 1m12s"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
}

// TestWrote: only the bar (a terminal) ends a run with what it wrote; the
// notebook's plain lines and --quiet do not, and nothing written says nothing.
func TestWrote(t *testing.T) {
	var w bytes.Buffer
	(&plainProgress{w: &w}).wrote("out.png")
	quietProgress{}.wrote("out.png")
	p, _ := newTestBar(&w, 1, 1)
	p.wrote("")
	if w.Len() != 0 {
		t.Errorf("wrote %q, want nothing", w.String())
	}
	p.wrote("out.png")
	if got := w.String(); got != "wrote out.png in 0s\n" {
		t.Errorf("bar wrote %q", got)
	}
}
