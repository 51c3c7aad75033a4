package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/frames"
	"github.com/neuralstyle/neuralstyle/internal/provenance"
	"github.com/neuralstyle/neuralstyle/internal/sweep"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/internal/video"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

func videoCommand() *cli.Command {
	return &cli.Command{
		Name:  "video",
		Usage: "paint a clip frame by frame in one style, each frame starting from the one before",
		UsageText: "neuralstyle video --style FILE --out DIR [--mode chained|independent] [--shard I/N|auto] [options] FOLDER | CLIP\n" +
			"neuralstyle video finish --style FILE --out DIR --mode independent [options] FOLDER",
		Description: "video styles the frames of a FOLDER (its image files in natural order: frame2 before\n" +
			"frame10; a gap in their numbers is an error unless --allow-gaps) or of a CLIP, which ffmpeg\n" +
			"reads (Debian's ffmpeg package). The first frame starts as --init says; in chained mode\n" +
			"(the default) each later frame starts from the previous frame's result, which keeps the\n" +
			"clip from flickering, and --next-iterations can shorten their runs; --temporal-weight W\n" +
			"also holds each frame's result to the previous one where the input did not change. Frames go to\n" +
			"DIR/frames/frame_000001.png ... as they finish, so a rerun resumes at the first frame\n" +
			"missing; DIR/video.json records the inputs and settings, and a rerun with others refuses\n" +
			"the folder. At the end: DIR/video.gif, and DIR/video.mp4 when ffmpeg is installed.\n" +
			"In independent mode without the temporal term, --shard I/N styles one of N parts of a\n" +
			"FOLDER's frames (a job array's task; --shard auto asks Slurm or Kubernetes: docs/cluster.md),\n" +
			"all writing to one DIR; the run that finishes the last frame writes the clip, and so does\n" +
			"'video finish' once every shard is done.",
		Flags:           videoFlags(true),
		Action:          runVideo,
		HideHelpCommand: true,
		Subcommands: []*cli.Command{{
			Name:      "finish",
			Usage:     "write the GIF and MP4 once every shard has styled its frames",
			UsageText: "neuralstyle video finish --style FILE --out DIR --mode independent [options] FOLDER",
			Description: "finish is the last step of a clip cut into shards (--shard, a job array): given the\n" +
				"FOLDER, style and flags as its shards had them, it writes DIR/video.gif, and DIR/video.mp4\n" +
				"when ffmpeg is installed, from the frames in DIR/frames: the files one machine writes.\n" +
				"While frames are missing it writes nothing and names them and their shards (exit code\n" +
				"1). One finish runs at a time in a folder. It loads no model (the session flags are\n" +
				"taken, and ignored, so that the shards' command line serves).",
			Flags:        videoFlags(false),
			Action:       runVideoFinish,
			OnUsageError: onUsageError,
		}},
	}
}

// videoFlags are video's flags, and with run --shard; video finish takes the
// session flags, with no effect, so that the shards' command line serves.
func videoFlags(run bool) []cli.Flag {
	flags := append(append([]cli.Flag{modelFlag("build/model"), fastnetsFlag()}, settingFlags("content")...),
		&cli.StringFlag{Name: "out", Usage: "output `DIR`", EnvVars: []string{"NEURALSTYLE_VIDEO_OUT"}},
		&cli.StringFlag{Name: "mode", Usage: "chained (each frame starts from the previous result) or independent (each from --init)", Value: string(video.Chained)},
		&cli.IntFlag{Name: "next-iterations", Usage: "outer iterations of each frame after the first in chained mode (0: --iterations)"},
		&cli.Float64Flag{Name: "fps", Usage: "frames per second of the MP4 and GIF (0: the clip's own, or 24 for a folder)"},
		&cli.BoolFlag{Name: "allow-gaps", Usage: "style a folder whose frame numbers have gaps as it is"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors"},
	)
	if run {
		flags = append(flags, shardFlag("frames (independent mode, a folder)"))
	}
	flags = append(flags, methodFlags()...) // video --method stylize (video_stylize.go)
	return append(flags, sessionFlags()...)
}

// videoJob is a validated video command line.
type videoJob struct {
	job        video.Job
	input      string
	clip       bool // input is a video file, read by ffmpeg
	out, model string
	fps        float64
	styles     transfer.Inputs // the style images, decoded before the model loads
	source     string          // the scheduler's variables --shard auto read
}

func parseVideo(c *cli.Context) (*videoJob, error) {
	if c.NArg() != 1 {
		return nil, usagef("video takes one input, a folder of frames or a video file; got %d arguments", c.NArg())
	}
	cfg, err := readSettings(c, methodPositional(c)...)
	if err != nil {
		return nil, err
	}
	j := &videoJob{input: c.Args().First(), out: c.String("out"), model: c.String("model"), fps: c.Float64("fps")}
	j.job.Config = cfg
	if j.job.Mode, err = video.ParseMode(c.String("mode")); err != nil {
		return nil, usagef("--%v", err)
	}
	j.job.NextIterations = c.Int("next-iterations")
	if j.job.Shard, j.source, err = parseShardFlag(c); err != nil {
		return nil, err
	}
	if why := j.job.Shardable(); why != "" && (j.job.Shard.Count > 1 || finishing(c)) {
		what := "--shard " + j.job.Shard.String()
		if finishing(c) {
			what = "video finish"
		}
		return nil, usagef("%s: %s, so a clip in that mode runs on one machine (which writes the clip itself); "+
			"--mode independent without --temporal-weight can be cut into shards", what, why)
	}
	switch {
	case j.out == "":
		return nil, usagef("--out: give the output folder")
	case j.job.NextIterations < 0:
		return nil, usagef("--next-iterations %d: want 0 or more", j.job.NextIterations)
	case j.job.NextIterations > 0 && j.job.Mode != video.Chained:
		return nil, usagef("--next-iterations: only chained mode starts frames from the one before")
	case j.fps < 0 || math.IsNaN(j.fps) || math.IsInf(j.fps, 0) || j.fps > 1000:
		return nil, usagef("--fps %g: want 0 (automatic) or a rate up to 1000", j.fps)
	}
	st, err := os.Stat(j.input)
	if err != nil {
		return nil, fmt.Errorf("input %s: %v", j.input, pathless(err))
	}
	if !st.IsDir() {
		if j.job.Shard.Count > 1 || finishing(c) {
			return nil, usagef("input %s is a file: shards style a folder of frames, so that no two extract the clip at once; "+
				"extract it once (ffmpeg -i %s DIR/frame%%06d.png) and give DIR", j.input, j.input)
		}
		j.clip = true
		if _, _, err := video.FFmpeg(); err != nil {
			return nil, fmt.Errorf("input %s is a file: %w", j.input, err)
		}
	} else {
		if sameFile(j.input, j.out) {
			// Its results (video.gif, the styled frames) would be frames of
			// the next run.
			return nil, usagef("--out %s is the folder of frames %s: what video writes there would be read as frames when it runs again; give another --out, such as %s",
				j.out, j.input, filepath.Join(j.input, "styled"))
		}
		list, _, err := frames.List(j.input)
		if err != nil {
			return nil, err
		}
		if len(list) == 0 {
			return nil, usagef("input %s: no image files (%s)", j.input, strings.Join(frames.Extensions, " "))
		}
		if gaps := frames.Gaps(list); len(gaps) > 0 && !c.Bool("allow-gaps") {
			var lines []string
			for _, g := range gaps {
				lines = append(lines, "input "+j.input+": "+g.String())
			}
			return nil, usagef("%s\n(fill the gaps, or --allow-gaps to style the frames as they are)", strings.Join(lines, "\n"))
		}
		j.job.Frames = list
		if j.fps == 0 {
			j.fps = 24
		}
	}
	// The style images, their masks and a starting image, decoded once here so
	// that a bad one fails before the model loads.
	if j.styles, err = cfg.ReadStyleInputs(); err != nil {
		return nil, err
	}
	if err := checkOutputFolder("--out", j.out); err != nil {
		return nil, err
	}
	return j, nil
}

func runVideo(c *cli.Context) error {
	j, err := parseVideo(c)
	if err != nil {
		return err
	}
	stdout := reportWriter(c)
	ctx, stop := interruptContext(c, nil)
	defer stop()
	if j.clip {
		dir := filepath.Join(j.out, video.InputDir)
		fmt.Fprintf(stdout, "video: reading the frames of %s into %s with ffmpeg\n", j.input, dir)
		if j.fps == 0 {
			if j.fps, err = video.FrameRate(ctx, j.input); err != nil {
				return err
			}
		}
		if err := video.Extract(ctx, j.input, dir); err != nil {
			return err
		}
		if j.job.Frames, _, err = frames.List(dir); err != nil {
			return err
		}
		if len(j.job.Frames) == 0 {
			return fmt.Errorf("video: %s: ffmpeg found no frames", j.input)
		}
	}
	if stylizing(c) { // --method stylize (video_stylize.go)
		return runVideoStylize(ctx, c, j, stdout)
	}
	if err := checkOptimizeMethod(c); err != nil {
		return err
	}
	// Every frame is decoded once before the model loads, so a bad one fails
	// now, and its size is worked out as its turn will (with --long-side a
	// frame's shape sets it): one too small fails now, not after the frames
	// before it ran.
	for i, f := range j.job.Frames {
		img, err := imagefile.ReadFile(f, j.job.Config.DecodeOptions())
		if err != nil {
			return fmt.Errorf("frame %d: %w", i+1, err)
		}
		in := j.styles
		in.Content = img
		if _, err := j.job.Config.Settings.Plan(in, math.MaxUint64); err != nil {
			return fmt.Errorf("frame %d (%s): %v; no frame was styled", i+1, f, err)
		}
	}
	// The model's identity (its files, read before it loads) after the
	// frames, so that a bad frame is reported whatever the model.
	if j.job.ModelID, err = provenance.ModelID(j.model); err != nil {
		return err
	}
	rec, err := video.NewRecord(&j.job)
	if err != nil {
		return err
	}
	if err := video.Claim(j.out, rec); err != nil {
		return err
	}
	if err := sweep.ClaimShards(j.out, j.job.Shard); err != nil {
		return err
	}
	n := len(j.job.Frames)
	todo, err := j.job.Missing(j.out, j.job.Shard)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%d frames (%s)", n, j.job.Mode)
	mine := n
	if s := j.job.Shard; s.Count > 1 {
		mine = n/s.Count + min(1, max(0, n%s.Count-s.Index+1))
		what += fmt.Sprintf(", shard %s%s has %d", s, sourceNote(j.source), mine)
	}
	fmt.Fprintf(stdout, "video: %s; %d finished before, %d to run\n", what, mine-len(todo), len(todo))
	if len(todo) > 0 {
		if err := runFrames(ctx, c, j, stdout); err != nil {
			return err
		}
	}
	missing, err := j.job.Missing(j.out, video.Shard{})
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		fmt.Fprintf(stdout, "video: %d of %d frames finished; the run that finishes the last one writes the clip (or: video finish once all are)\n", n-len(missing), n)
		return nil
	}
	return finishVideo(c, j, stdout, true)
}

func runVideoFinish(c *cli.Context) error {
	j, err := parseVideo(c)
	if err != nil {
		return err
	}
	return finishVideo(c, j, reportWriter(c), false)
}

// finishVideo writes the clip once every frame is styled, one process at a
// time per folder. After a run (last), another process finishing the folder
// at the same time writes the same files, so that is no error.
func finishVideo(c *cli.Context, j *videoJob, stdout io.Writer, last bool) error {
	unlock, err := sweep.LockFinish(j.out)
	if last && errors.Is(err, sweep.ErrFinishing) {
		fmt.Fprintf(stdout, "video: every frame is styled; %v\n", err)
		return nil
	}
	if err != nil {
		return err
	}
	defer unlock()
	missing, err := j.job.Missing(j.out, video.Shard{})
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		shards, err := sweep.RecordedShards(j.out)
		if err != nil {
			return err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "video: %d of %d frames in %s are not styled:", len(missing), len(j.job.Frames), j.out)
		for k, i := range missing {
			if k == 20 {
				fmt.Fprintf(&b, "\n  ... and %d more", len(missing)-k)
				break
			}
			fmt.Fprintf(&b, "\n  frame %d (%s)", i, filepath.Base(j.job.Frames[i-1]))
			if shards > 1 {
				fmt.Fprintf(&b, ", shard %d/%d", video.ShardOf(i, shards), shards)
			}
		}
		b.WriteString("\nrun (or rerun) their tasks first, then finish again; nothing was written")
		return errors.New(b.String())
	}
	return writeClip(c, j, stdout)
}

// runFrames loads the model and styles the frames not yet written.
func runFrames(ctx context.Context, c *cli.Context, j *videoJob, stdout io.Writer) error {
	opts, err := sessionOptions(c)
	if err != nil {
		return err
	}
	models, err := loadJob(c, opts, []transfer.Config{j.job.Config})
	if err != nil {
		return err
	}
	defer models.Close()
	j.job.Stylizer = models.Stylizer
	var bar *barProgress
	obs := video.Observer{
		Frame: func(i, n int, input string) {
			if !c.Bool("quiet") && isTerminal(c.App.ErrWriter) {
				bar = newBarProgress(c.App.ErrWriter, j.job.Config.Settings)
			}
		},
		Finished: func(i, n int, res *transfer.Result, elapsed time.Duration) {
			if bar != nil {
				bar.finish()
			}
			loss, temporal := 0.0, ""
			if k := len(res.Iterations); k > 0 {
				last := res.Iterations[k-1]
				loss = last.Loss
				// Its share of the loss, to choose the weight by.
				if j.job.Config.TemporalWeight != 0 && i > 1 {
					temporal = fmt.Sprintf(" (temporal term %g)", last.Terms.Temporal)
				}
			}
			fmt.Fprintf(stdout, "frame %d/%d done in %s: loss %g%s\n", i, n, roundDuration(elapsed), loss, temporal)
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
		}
		return nil
	}
	_, err = video.Run(ctx, models.Model, &j.job, j.out, obs)
	if bar != nil {
		bar.finish()
	}
	return jobError(c, ctx, err, "frames")
}

// writeClip writes the GIF, and the MP4 when ffmpeg is installed, from the
// styled frames.
func writeClip(c *cli.Context, j *videoJob, stdout io.Writer) error {
	clip, err := video.WriteClip(c.Context, j.out, len(j.job.Frames), j.fps)
	if err != nil {
		return err
	}
	if clip.NoMP4 != nil {
		fmt.Fprintf(c.App.ErrWriter, "neuralstyle: no MP4: %v\n", clip.NoMP4)
	}
	fmt.Fprintf(stdout, "video: wrote %s (%d frames at %g fps)\n", strings.Join(clip.Files, " and "), len(j.job.Frames), j.fps)
	return nil
}
