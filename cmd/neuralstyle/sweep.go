package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/provenance"
	"github.com/neuralstyle/neuralstyle/internal/score"
	"github.com/neuralstyle/neuralstyle/internal/sweep"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

func sweepCommand() *cli.Command {
	return &cli.Command{
		Name:  "sweep",
		Usage: "run the transfer over a grid of settings, as the article's weight and layer experiments do",
		UsageText: "neuralstyle sweep --out DIR [--SETTING V1,V2,...] [--shard I/N|auto] [--collect | --list] [options] [FILE]\n" +
			"neuralstyle sweep finish --out DIR [--SETTING V1,V2,...] [options] [FILE]",
		Description: "sweep runs one transfer per point of a grid of settings, in one process with the model\n" +
			"loaded once. The grid comes from a JSON sweep FILE (scripts/sweeps has the article's\n" +
			"experiments) or from the setting flags below, which take transfer's values; a comma-separated\n" +
			"list sweeps the setting (style-layers: lists separated by ';'). Flags override the file.\n" +
			"Each point's image and record go to DIR/points under a key that hashes its settings, its\n" +
			"images' bytes and the model's files; a rerun skips finished points, so an interrupted sweep\n" +
			"resumes. --shard I/N runs one of N parts (a job array's task; --shard auto asks Slurm or\n" +
			"Kubernetes which), all writing to one DIR; the run that finds every point finished writes\n" +
			"DIR/sheet.png (labelled contact sheet), DIR/sweep.gif and DIR/summary.csv, and so does\n" +
			"'sweep finish' once every shard is done (it refuses before, naming the points missing);\n" +
			"--collect writes them from whatever is finished. docs/cluster.md: Slurm and Kubernetes.",
		Flags:           sweepFlags(),
		Action:          runSweep,
		HideHelpCommand: true,
		Subcommands: []*cli.Command{{
			Name:      "finish",
			Usage:     "write the sheet, GIF and summary once every shard has finished its points",
			UsageText: "neuralstyle sweep finish --out DIR [--SETTING V1,V2,...] [options] [FILE]",
			Description: "finish is the last step of a sweep cut into shards (--shard, a job array): given the\n" +
				"sweep's FILE and flags as its shards had them, it writes DIR/sheet.png, DIR/sweep.gif\n" +
				"and DIR/summary.csv from the points in DIR, the same files a run on one machine writes\n" +
				"(the summary's seconds column aside, which times each run). While points are not\n" +
				"finished it writes nothing and names them and their shards (exit code 1); rerun their\n" +
				"tasks, then finish again. One finish runs at a time in a folder. It loads no model\n" +
				"(the session flags are taken, and ignored, so that the shards' command line serves).",
			Flags:        finishFlags(),
			Action:       runSweepFinish,
			OnUsageError: onUsageError,
		}},
	}
}

// sweepFlags are sweep's flags.
func sweepFlags() []cli.Flag {
	return append(append([]cli.Flag{
		modelFlag("build/model"),
		fastnetsFlag(),
		&cli.StringFlag{Name: "out", Usage: "output `DIR` (shared by all shards)", EnvVars: []string{"NEURALSTYLE_SWEEP_OUT"}},
		shardFlag("points"),
		reuseOutFlag(),
		&cli.BoolFlag{Name: "collect", Usage: "run nothing; write the sheet, GIF and summary from the finished points"},
		&cli.BoolFlag{Name: "list", Usage: "run nothing; list the points, their keys, shards and whether they are finished"},
		&cli.IntFlag{Name: "thumb", Usage: "longest side of an image on the contact sheet and in the GIF (never enlarged)", Value: 256},
		&cli.DurationFlag{Name: "gif-delay", Usage: "time each GIF frame shows", Value: 700 * time.Millisecond},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
		&cli.IntFlag{Name: "score", Usage: "score each point's image at `N` x N as neuralstyle score does, into the " +
			"record and summary.csv's score_* columns (one more evaluation of three images per point); 0: none"},
	}, sweepSettingFlags()...), sessionFlags()...)
}

// finishFlags are sweep finish's: sweep's, less those that pick what to run.
// TensorFlow's session flags stay, with no effect, so that the shards'
// command line can be reused as it is.
func finishFlags() []cli.Flag {
	skip := map[string]bool{"shard": true, "collect": true, "list": true, "score": true}
	var flags []cli.Flag
	for _, f := range sweepFlags() {
		if !skip[f.Names()[0]] {
			flags = append(flags, f)
		}
	}
	return flags
}

// reuseOutFlag lets sweep and batch write into a folder another sweep or
// batch used (sweep.Claim).
func reuseOutFlag() cli.Flag {
	return &cli.BoolFlag{Name: "reuse-out", Usage: "write into an --out that holds another sweep's or batch's results: its pictures stay, its sheet, summary and GIF are replaced (without it, such a folder is refused)"}
}

// sweepJob is a validated command line.
type sweepJob struct {
	plan          *sweep.Plan
	out, model    string
	shard         sweep.Shard
	shardSource   string // the scheduler's variables --shard auto read
	collect, list bool
	collectOpts   sweep.CollectOptions
	scoreSize     int
	reuseOut      bool // --reuse-out: claim a folder of another sweep (sweep.Claim)
}

func parseSweep(c *cli.Context) (*sweepJob, error) {
	if c.NArg() > 1 {
		if strings.HasPrefix(c.Args().Get(1), "-") {
			return nil, usagef("flags go before the sweep file: neuralstyle sweep %s ... %s", c.Args().Get(1), c.Args().First())
		}
		return nil, usagef("sweep takes one sweep file, got %q", c.Args().Slice())
	}
	spec := &sweep.Spec{}
	if file := c.Args().First(); file != "" {
		var err error
		if spec, err = sweep.ParseFile(file); err != nil {
			return nil, usageError{err}
		}
	}
	for _, name := range sweep.Params() {
		if !c.IsSet(name) {
			continue
		}
		sep := sweepSeparator(name, c.String(name))
		var texts []string
		for _, item := range strings.Split(c.String(name), sep) {
			if sep == ";" && strings.TrimSpace(item) == "" {
				continue // "a.jpg,b.jpg;" is one list
			}
			texts = append(texts, item)
		}
		if err := spec.SetText(name, texts...); err != nil {
			return nil, usagef("--%s: %v", name, err)
		}
	}
	j := &sweepJob{
		out: c.String("out"), model: c.String("model"), collect: c.Bool("collect"), list: c.Bool("list"), reuseOut: c.Bool("reuse-out"),
		collectOpts: sweep.CollectOptions{Thumb: c.Int("thumb"), GIFDelay: c.Duration("gif-delay")},
		scoreSize:   c.Int("score"),
	}
	var err error
	if j.shard, j.shardSource, err = parseShardFlag(c); err != nil {
		return nil, err
	}
	switch {
	case j.collect && j.list:
		return nil, usagef("--collect and --list: give one")
	case j.out == "" && !j.list:
		return nil, usagef("--out: give the sweep's output folder")
	case j.collectOpts.Thumb < 8 || j.collectOpts.Thumb > 4096:
		return nil, usagef("--thumb %d: want 8 to 4096", j.collectOpts.Thumb)
	case j.scoreSize != 0 && (j.scoreSize < score.MinSize || j.scoreSize > score.MaxSize):
		return nil, usagef("--score %d: want 0 (none) or %d to %d", j.scoreSize, score.MinSize, score.MaxSize)
	case j.collectOpts.GIFDelay < 10*time.Millisecond:
		return nil, usagef("--gif-delay %v: GIF delays are at least 10ms", j.collectOpts.GIFDelay)
	}
	if _, err := spec.Points(); err != nil {
		return nil, usageError{err}
	}
	if err := checkSweepOut(j.out, !j.list && !j.collect && !finishing(c)); err != nil {
		return nil, err
	}
	// The key hashes the model's files, so they are read (not loaded) even when
	// nothing runs.
	id, err := provenance.ModelID(j.model)
	if err != nil {
		return nil, err
	}
	if j.plan, err = sweep.NewPlan(spec, id); err != nil {
		return nil, err
	}
	return j, nil
}

func runSweep(c *cli.Context) error {
	job, err := parseSweep(c)
	if err != nil {
		return err
	}
	stdout := reportWriter(c)
	switch {
	case job.list:
		return listSweep(stdout, job)
	case job.collect:
		return collectSweep(stdout, job)
	}
	if err := sweep.Claim(job.out, job.plan, sweep.ClaimOptions{Reuse: job.reuseOut}); err != nil {
		return err
	}
	opts, err := sessionOptions(c)
	if err != nil {
		return err
	}
	all := job.plan.Shard(job.shard)
	pending, err := job.plan.Pending(job.out, job.shard)
	if err != nil {
		return err
	}
	total := len(job.plan.Shard(sweep.Shard{}))
	what := fmt.Sprintf("%d points", total)
	if job.shard.Count > 1 {
		what += fmt.Sprintf(", shard %s%s has %d", job.shard, sourceNote(job.shardSource), len(all))
	}
	if err := sweep.ClaimShards(job.out, job.shard); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sweep: %s; %d finished before, %d to run\n", what, len(all)-len(pending), len(pending))

	if len(pending) > 0 {
		if err := runPoints(c, job, opts, stdout); err != nil {
			return err
		}
	}
	done, total, err := job.plan.Status(job.out)
	if err != nil {
		return err
	}
	if done < total {
		fmt.Fprintf(stdout, "sweep: %d of %d points finished; the run that finishes the last one writes the sheet, GIF and summary (or: sweep finish once all are)\n", done, total)
		return nil
	}
	return finishSweep(stdout, job, true)
}

func runSweepFinish(c *cli.Context) error {
	job, err := parseSweep(c)
	if err != nil {
		return err
	}
	return finishSweep(reportWriter(c), job, false)
}

// finishing reports whether c is sweep or batch finish.
func finishing(c *cli.Context) bool { return c.Command.Name == "finish" }

// finishSweep writes the sheet, GIF and summary once every point is finished.
// After a run (last), another process finishing the folder at the same time
// writes the same files, so that is no error.
func finishSweep(w io.Writer, job *sweepJob, last bool) error {
	col, err := sweep.Finish(job.plan, job.out, job.collectOpts)
	if last && errors.Is(err, sweep.ErrFinishing) {
		fmt.Fprintf(w, "sweep: every point is finished; %v\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "sweep: wrote %s, %s and %s in %s from %d of %d points\n",
		sweep.SheetFile, sweep.GIFFile, sweep.SummaryFile, job.out, col.Finished, col.Total)
	return nil
}

// runPoints loads the model and runs the shard's unfinished points.
func runPoints(c *cli.Context, job *sweepJob, opts *tfgraph.Options, stdout io.Writer) error {
	pending, err := job.plan.Pending(job.out, job.shard)
	if err != nil {
		return err
	}
	// Everything that can fail fast does so before the model loads.
	if err := job.plan.Images(pending); err != nil {
		return err
	}
	configs := make([]transfer.Config, len(pending))
	for i, p := range pending {
		configs[i] = p.Config
	}
	models, err := loadJob(c, opts, configs)
	if err != nil {
		return err
	}
	defer models.Close()

	ctx, stop := interruptContext(c, nil)
	defer stop()
	obs := sweepProgress(c, stdout, job.plan)
	rep, err := sweep.Run(ctx, models.Model, job.plan, sweep.Options{Out: job.out, Shard: job.shard, Observer: obs, ScoreSize: job.scoreSize, Stylizer: models.Stylizer})
	if err != nil {
		return jobError(c, ctx, err, "points")
	}
	if n := len(rep.Failed); n > 0 {
		return fmt.Errorf("%d of %d points failed (a rerun tries them again): %w", n, len(pending), errors.Join(rep.Failed...))
	}
	return nil
}

// sweepProgress prints a line as each point starts and ends, with the points
// left; in between, transfer's bar on a terminal, or a line per iteration.
func sweepProgress(c *cli.Context, w io.Writer, plan *sweep.Plan) sweep.Observer {
	if c.Bool("quiet") {
		return sweep.Observer{}
	}
	total := len(plan.Points)
	var bar *barProgress
	left := 0
	obs := sweep.Observer{
		Point: func(p *sweep.Point, i, n int) {
			left = n - i
			fmt.Fprintf(w, "point %d/%d %s  [%d of %d to run, key %s]\n", p.Index, total, strings.Join(p.Label(), " "), i, n, p.Key)
			if isTerminal(c.App.ErrWriter) {
				bar = newBarProgress(c.App.ErrWriter, p.Config.Settings)
			}
		},
		Finished: func(p *sweep.Point, r *sweep.Record) {
			if bar != nil {
				bar.finish()
			}
			fmt.Fprintf(w, "point %d/%d done in %s: loss %g (content %g, style %g, tv %g), %d evaluations; %d left\n",
				p.Index, total, roundDuration(time.Duration(r.Seconds*float64(time.Second))), r.Loss, r.Content, r.Style, r.TV, r.Evaluations, left)
		},
		Failed: func(p *sweep.Point, err error) {
			if bar != nil {
				bar.finish()
			}
			fmt.Fprintf(w, "point %d/%d failed: %v; %d left\n", p.Index, total, err, left)
		},
	}
	obs.Transfer.Evaluation = func(i, e int, t transfer.Terms, elapsed time.Duration) {
		if bar != nil {
			bar.evaluation(i, e, t, elapsed)
		}
	}
	obs.Transfer.Done = func(it transfer.Iteration) error {
		if bar != nil {
			bar.done(it)
		} else {
			fmt.Fprintf(w, "  iteration %d: loss %g, %d evaluations, %s\n", it.Iteration, it.Loss, it.Evaluations, roundDuration(it.Elapsed))
		}
		return nil
	}
	return obs
}

func collectSweep(w io.Writer, job *sweepJob) error {
	if st, err := os.Stat(job.out); err == nil && st.IsDir() {
		if err := sweep.Claim(job.out, job.plan, sweep.ClaimOptions{Reuse: job.reuseOut}); err != nil {
			return err
		}
	}
	col, err := sweep.Collect(job.plan, job.out, job.collectOpts)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "sweep: wrote %s, %s and %s in %s from %d of %d points\n",
		sweep.SheetFile, sweep.GIFFile, sweep.SummaryFile, job.out, col.Finished, col.Total)
	return nil
}

// listSweep prints one line per point: index, key, shard, status, values.
func listSweep(w io.Writer, job *sweepJob) error {
	n := max(job.shard.Count, 1)
	shardOf := job.plan.ShardOf(n)
	pending := map[string]bool{}
	if job.out != "" {
		ps, err := job.plan.Pending(job.out, sweep.Shard{})
		if err != nil {
			return err
		}
		for _, p := range ps {
			pending[p.Key] = true
		}
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "POINT\tKEY\tSHARD\tSTATUS\tVALUES")
	for _, p := range job.plan.Points {
		status := "-"
		if job.out != "" {
			status = "finished"
			if pending[p.Key] {
				status = "pending"
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%d/%d\t%s\t%s\n", p.Index, p.Key, shardOf[p.Key], n, status, strings.Join(p.Label(), " "))
	}
	return tw.Flush()
}

// reportWriter is where a command's progress lines go: stdout, or nowhere with
// --quiet.
func reportWriter(c *cli.Context) io.Writer {
	if c.Bool("quiet") {
		return io.Discard
	}
	return c.App.Writer
}
