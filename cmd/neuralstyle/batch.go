package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/batch"
	"github.com/neuralstyle/neuralstyle/internal/frames"
	"github.com/neuralstyle/neuralstyle/internal/outputs"
	"github.com/neuralstyle/neuralstyle/internal/provenance"
	"github.com/neuralstyle/neuralstyle/internal/sweep"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

func batchCommand() *cli.Command {
	return &cli.Command{
		Name:  "batch",
		Usage: "paint every photo of a folder (or a list of photos) in one style, the model loaded once",
		UsageText: "neuralstyle batch --style FILE --out DIR [--shard I/N|auto] [options] PHOTO... | FOLDER\n" +
			"neuralstyle batch finish --style FILE --out DIR [options] PHOTO... | FOLDER",
		Description: "batch runs transfer on each photo, with the settings transfer's flags give, in one\n" +
			"process. It is a sweep whose axis is the content image: each photo's result and record go\n" +
			"to DIR/points under a key hashing its settings, the photo's and the style's bytes and the\n" +
			"model, and a copy to DIR/NAME.png (the photo's name). A rerun skips finished photos, so an\n" +
			"interrupted batch resumes; --shard I/N runs one of N parts, all writing to one DIR (--shard\n" +
			"auto asks Slurm or Kubernetes which part: docs/cluster.md). A\n" +
			"folder gives its image files (by extension) in natural order. Photos that cannot be read\n" +
			"are reported before the model loads and skipped; the others are done, and the exit code\n" +
			"is 1 when any photo failed. The run that finds every photo finished writes DIR/sheet.png\n" +
			"(contact sheet), DIR/sweep.gif and DIR/summary.csv, and so does 'batch finish' once\n" +
			"every shard is done.",
		Flags:           batchFlags(true),
		Action:          runBatch,
		HideHelpCommand: true,
		Subcommands: []*cli.Command{{
			Name:      "finish",
			Usage:     "write the sheet, GIF and summary once every shard has finished its photos",
			UsageText: "neuralstyle batch finish --style FILE --out DIR [options] PHOTO... | FOLDER",
			Description: "finish is the last step of a batch cut into shards (--shard, a job array): given the\n" +
				"photos, style and flags as its shards had them, it writes DIR/sheet.png, DIR/sweep.gif\n" +
				"and DIR/summary.csv from the results in DIR (the files a run on one machine writes,\n" +
				"the summary's seconds column aside), and copies any result missing from DIR/NAME.png.\n" +
				"While photos are not finished it writes nothing and names them and their shards (exit\n" +
				"code 1). One finish runs at a time in a folder. It loads no model (the session flags\n" +
				"are taken, and ignored, so that the shards' command line serves).",
			Flags:        batchFlags(false),
			Action:       runBatchFinish,
			OnUsageError: onUsageError,
		}},
	}
}

// batchFlags are batch's flags, and with run --shard. batch finish takes the
// session flags, with no effect, so that the shards' command line serves.
func batchFlags(run bool) []cli.Flag {
	flags := append(append([]cli.Flag{modelFlag("build/model"), fastnetsFlag()}, settingFlags("content")...),
		&cli.StringFlag{Name: "out", Usage: "output `DIR` (shared by all shards)", EnvVars: []string{"NEURALSTYLE_BATCH_OUT"}},
		&cli.IntFlag{Name: "thumb", Usage: "longest side of an image on the contact sheet (never enlarged)", Value: 256},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
		reuseOutFlag(),
	)
	if run {
		flags = append(flags, shardFlag("photos"))
	}
	flags = append(flags, methodFlags()...) // batch --method stylize (batch_stylize.go)
	// A batch paints many photos: it defaults to the quick preset (time to
	// quality, docs/time-to-quality.md); --preset notebook is the notebook's run.
	for _, f := range flags {
		if f, ok := f.(*cli.StringFlag); ok && f.Name == "preset" {
			f.Value = batchPreset
		}
	}
	return append(flags, sessionFlags()...)
}

// batchPreset is batch's default --preset.
const batchPreset = "quick"

// batchJob is a validated batch command line.
type batchJob struct {
	*batch.Batch
	out, model string
	shard      sweep.Shard
	source     string // the scheduler's variables --shard auto read
	thumb      int
	photos     int               // photos given (folders expanded)
	names      map[string]string // photo path -> its output file
	bad        []error           // photos that cannot be read, one error each
	others     int               // files in the folders that are not images
	cfg        transfer.Config   // the settings (batch --method stylize reads them)
}

func parseBatch(c *cli.Context) (*batchJob, error) {
	if c.NArg() == 0 {
		return nil, usagef("batch: give the photos, or a folder of them")
	}
	cfg, err := readSettings(c, methodPositional(c)...)
	if err != nil {
		return nil, err
	}
	if err := checkOptimizeMethod(c); !stylizing(c) && err != nil { // batch_stylize.go
		return nil, err
	}
	j := &batchJob{out: c.String("out"), model: c.String("model"), thumb: c.Int("thumb"), cfg: cfg}
	if j.out == "" {
		return nil, usagef("--out: give the output folder")
	}
	if j.shard, j.source, err = parseShardFlag(c); err != nil {
		return nil, err
	}
	if j.thumb < 8 || j.thumb > 4096 {
		return nil, usagef("--thumb %d: want 8 to 4096", j.thumb)
	}
	photos, err := j.expand(c.Args().Slice())
	if err != nil {
		return nil, err
	}
	// Each photo is decoded once here, so a bad one is known before the model
	// loads; it is decoded again when its turn comes, so that a large folder is
	// never held in memory at once.
	var good []string
	for _, p := range photos {
		if _, err := imagefile.ReadFile(p, cfg.DecodeOptions()); err != nil {
			j.bad = append(j.bad, err)
			continue
		}
		good = append(good, p)
	}
	// Names that clash are refused before the style images are read.
	if j.names, err = batch.Names(good, j.out); err != nil {
		return nil, nameError(err)
	}
	// The style images, their masks and a starting image, decoded once here so
	// that a bad one fails before the model loads.
	if _, err := cfg.ReadStyleInputs(); err != nil {
		return nil, err
	}
	if err := checkOutputFolder("--out", j.out); err != nil {
		return nil, err
	}
	if stylizing(c) { // --method stylize needs no plan (batch_stylize.go)
		return j, nil
	}
	// A setting a sweep cannot carry would be lost: refuse it rather than run
	// without it.
	if names := sweep.Unsweepable(&cfg); len(names) > 0 && len(good) > 0 {
		return nil, usagef("--%s: batch cannot set it yet", names[0])
	}
	id := ""
	if len(good) > 0 {
		if id, err = provenance.ModelID(j.model); err != nil {
			return nil, err
		}
	}
	if j.Batch, err = batch.New(&cfg, good, j.out, id); err != nil {
		return nil, nameError(err)
	}
	return j, nil
}

// expand lists the photos of the arguments: files as given, folders' image
// files in natural order; a path given twice counts once. A path that does not
// exist is a bad photo, not the end of the batch.
func (j *batchJob) expand(args []string) ([]string, error) {
	var photos []string
	seen := map[string]bool{}
	add := func(p string) {
		if p = filepath.Clean(p); !seen[p] {
			seen[p] = true
			photos = append(photos, p)
		}
	}
	for _, arg := range args {
		st, err := os.Stat(arg)
		switch {
		case err != nil:
			j.photos++
			j.bad = append(j.bad, fmt.Errorf("photo %s: %w", arg, pathless(err)))
		case st.IsDir():
			if sameFile(arg, j.out) {
				// Its results would be photos of the next run, which then
				// refuses (photo1.jpg and photo1.png would both write).
				return nil, usagef("--out %s is the folder of photos %s: its results would be read as photos when the batch runs again; give another --out, such as %s",
					j.out, arg, filepath.Join(arg, "styled"))
			}
			list, others, err := frames.List(arg)
			if err != nil {
				return nil, err
			}
			j.others += others
			for _, p := range list {
				add(p)
			}
		default:
			add(arg)
		}
	}
	j.photos += len(photos)
	return photos, nil
}

func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// checkOutputFolder makes the output folder and writes a file in it, so an
// unwritable one fails before the model loads.
func checkOutputFolder(flag, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s %s: %v", flag, dir, pathless(err))
	}
	if err := outputs.WritableFolder(dir); err != nil {
		return fmt.Errorf("%s %s: %v", flag, dir, err)
	}
	return nil
}

func runBatch(c *cli.Context) error {
	job, err := parseBatch(c)
	if err != nil {
		return err
	}
	stdout := reportWriter(c)
	if stylizing(c) { // --method stylize (batch_stylize.go)
		return runBatchStylize(c, job, stdout)
	}
	for _, err := range job.bad {
		fmt.Fprintf(c.App.ErrWriter, "neuralstyle: skipped: %v\n", err)
	}
	what := fmt.Sprintf("%d photos", job.photos)
	if len(job.bad) > 0 {
		what += fmt.Sprintf(" (%d unreadable, skipped)", len(job.bad))
	}
	if job.others > 0 {
		what += fmt.Sprintf("; %d other files in the folders left alone", job.others)
	}
	var runErr error
	if job.Plan != nil {
		all := job.Plan.Shard(job.shard)
		pending, err := job.Plan.Pending(job.out, job.shard)
		if err != nil {
			return err
		}
		if job.shard.Count > 1 {
			what += fmt.Sprintf(", shard %s%s has %d", job.shard, sourceNote(job.source), len(all))
		}
		if err := sweep.Claim(job.out, job.Plan, sweep.ClaimOptions{Reuse: c.Bool("reuse-out"), Open: []string{"content"}}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "batch: %s; %d finished before, %d to run\n", what, len(all)-len(pending), len(pending))
		if err := sweep.ClaimShards(job.out, job.shard); err != nil {
			return err
		}
		if err := job.Publish(); err != nil {
			return err
		}
		if len(pending) > 0 {
			runErr = runBatchPhotos(c, job, stdout)
			var ie interruptedError
			if errors.As(runErr, &ie) {
				return runErr
			}
		}
		done, total, err := job.Plan.Status(job.out)
		if err != nil {
			return errors.Join(runErr, err)
		}
		if done == total {
			if err := finishBatch(stdout, job, true); err != nil {
				return errors.Join(runErr, err)
			}
		}
	} else {
		fmt.Fprintf(stdout, "batch: %s; none to run\n", what)
	}
	if len(job.bad) > 0 {
		return errors.Join(fmt.Errorf("%d of %d photos could not be read (the others were done)", len(job.bad), job.photos), runErr)
	}
	return runErr
}

func runBatchFinish(c *cli.Context) error {
	if stylizing(c) {
		// Such a batch has no shards and writes no sheet: nothing to finish.
		return usagef("batch finish: --method stylize paints every photo in one run, with no shards and no sheet to finish; " +
			"run 'neuralstyle batch --method stylize' again instead (it skips the photos painted before)")
	}
	job, err := parseBatch(c)
	if err != nil {
		return err
	}
	if job.Plan == nil {
		return fmt.Errorf("batch: none of the %d photos can be read: %w", job.photos, errors.Join(job.bad...))
	}
	if len(job.bad) > 0 {
		return fmt.Errorf("batch: %d of %d photos cannot be read, so their shards cannot have run them; "+
			"finish with the photos the shards had: %w", len(job.bad), job.photos, errors.Join(job.bad...))
	}
	return finishBatch(reportWriter(c), job, false)
}

// finishBatch writes the sheet, GIF and summary once every photo is finished,
// and any result missing from its photo's name. After a run (last), another
// process finishing the folder at the same time writes the same files, so
// that is no error.
func finishBatch(w io.Writer, job *batchJob, last bool) error {
	col, err := sweep.Finish(job.Plan, job.out, sweep.CollectOptions{Thumb: job.thumb})
	if last && errors.Is(err, sweep.ErrFinishing) {
		fmt.Fprintf(w, "batch: every photo is finished; %v\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	if err := job.Publish(); err != nil {
		return err
	}
	fmt.Fprintf(w, "batch: wrote %s in %s from %d photos\n", sweep.SheetFile, job.out, col.Finished)
	return nil
}

// runBatchPhotos loads the model and runs the shard's unfinished photos,
// copying each result to its photo's name as it finishes.
func runBatchPhotos(c *cli.Context, job *batchJob, stdout io.Writer) error {
	opts, err := sessionOptions(c)
	if err != nil {
		return err
	}
	configs := make([]transfer.Config, len(job.Plan.Points))
	for i, p := range job.Plan.Points {
		configs[i] = p.Config
	}
	models, err := loadJob(c, opts, configs)
	if err != nil {
		return err
	}
	defer models.Close()
	ctx, stop := interruptContext(c, nil)
	defer stop()
	obs := sweepProgress(c, stdout, job.Plan)
	rep, err := job.Run(ctx, models.Model, sweep.Options{Shard: job.shard, Observer: obs, Stylizer: models.Stylizer})
	if err != nil {
		if err := jobError(c, ctx, err, "photos"); errors.As(err, new(interruptedError)) {
			return err
		}
		return errors.Join(err, rep.Publish)
	}
	if n := len(rep.Failed); n > 0 {
		return errors.Join(fmt.Errorf("%d of %d photos failed (a rerun tries them again)", n, rep.Ran+n), errors.Join(rep.Failed...), rep.Publish)
	}
	return rep.Publish
}
