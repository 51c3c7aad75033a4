package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	// Imported as mem: inspect.go has a function named memory.
	mem "github.com/neuralstyle/neuralstyle/internal/memory"
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// sizingFlags are transfer's flags about memory: they change what a run may use,
// not what it computes, so they are no settings (no sweep key, no log entry).
func sizingFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "dry-run", Usage: "print the sizes, tiles and estimated peak memory, and stop before the model loads"},
		&cli.StringFlag{Name: "max-memory", Usage: "refuse a run whose estimated peak memory exceeds `BYTES` (e.g. 8GiB, 512MiB; default: what this process may use)", EnvVars: []string{"NEURALSTYLE_MAX_MEMORY"}},
	}
}

// planTransfer plans the run once (transfer.Prepare: settings against the
// decoded images, sizes per scale, tiles, signatures, memory), before the model
// loads. With --dry-run it prints the settings and the plan and reports that
// the command should stop there.
func planTransfer(c *cli.Context, job *transferJob, in transfer.Inputs) (plan *transfer.Plan, stop bool, err error) {
	limit := transfer.MemoryLimit{Source: "--max-memory"}
	if v := c.String("max-memory"); v != "" {
		if limit.Bytes, err = parseBytes(v); err != nil {
			return nil, false, usagef("--max-memory %w", err)
		}
	}
	plan, err = transfer.Prepare(job.config.Settings, in, limit)
	if c.Bool("dry-run") {
		if plan != nil {
			printPlan(c.App.Writer, &job.config, plan)
		}
		return plan, true, flagErrors(err)
	}
	if plan == nil { // the settings and images do not make a run
		return nil, false, flagErrors(err)
	}
	// The whole image's workload first, also against the address-space limit
	// (package memory's measured estimate for the graph); tiles need less, and
	// the plan's estimate of them and --max-memory decide.
	if plan.Tile == 0 || plan.Tile >= plan.Width && plan.Tile >= plan.Height {
		work := mem.TransferFast
		if plan.Settings.Graph == transfer.GraphRecipe {
			work = mem.TransferRecipe
		}
		what := fmt.Sprintf("--size %dx%d: transfer", plan.Width, plan.Height)
		if plan.Settings.LongSide > 0 {
			what = fmt.Sprintf("--long-side %d (%dx%d): transfer", plan.Settings.LongSide, plan.Width, plan.Height)
		}
		if err := checkMemory(work, plan.Width, plan.Height, what, "give a smaller size, or --tile auto"); err != nil {
			return nil, false, err
		}
	}
	if err != nil {
		return nil, false, flagErrors(err)
	}
	return plan, false, nil
}

// printPlan writes what --dry-run says: every setting with its value, as its
// flag takes it, then the plan.
func printPlan(w io.Writer, cfg *transfer.Config, plan *transfer.Plan) {
	fmt.Fprintln(w, "settings:")
	for _, f := range settings.Record(cfg) {
		if f.Value != "" {
			fmt.Fprintf(w, "  --%s %s\n", f.Name, f.Value)
		}
	}
	if plan.Settings.Tile != cfg.Tile {
		fmt.Fprintf(w, "  (tile auto: %d)\n", plan.Settings.Tile)
	}
	fmt.Fprint(w, plan)
}

// parseBytes reads a byte count: a number with an optional unit, B, KB/MB/GB/TB
// (powers of 1000) or KiB/MiB/GiB/TiB and K/M/G/T (powers of 1024).
func parseBytes(v string) (uint64, error) {
	s := strings.TrimSpace(v)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	}
	f, err := strconv.ParseFloat(num, 64)
	units := map[string]float64{
		"": 1, "b": 1,
		"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	}
	mult, ok := units[unit]
	if err != nil || !ok || f <= 0 || f*mult >= math.MaxUint64 {
		return 0, fmt.Errorf("%q: want a size such as 8GiB, 512MiB or 2000000000", v)
	}
	return uint64(f * mult), nil
}
