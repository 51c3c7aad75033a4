package main

import (
	"context"
	"fmt"
	"github.com/neuralstyle/neuralstyle/internal/provenance"
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/sweep"
	"github.com/neuralstyle/neuralstyle/internal/train"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/internal/video"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// video --method stylize: every frame through the 26-style feed-forward
// network (internal/video's RunStylize) instead of an optimisation.

// methodSettings are the settings video adds for --method stylize:
// settings.Method's and settings.Stylize's net, styles and strength.
func methodSettings() []*settings.Setting {
	var out []*settings.Setting
	for i := range settings.Method {
		out = append(out, &settings.Method[i])
	}
	for i := range settings.Stylize {
		if s := &settings.Stylize[i]; s.Name == "net" || s.Name == "styles" || s.Name == "strength" {
			out = append(out, s)
		}
	}
	return out
}

func methodFlags() []cli.Flag {
	var flags []cli.Flag
	for _, s := range methodSettings() {
		u := s.Usage + " [$" + s.Env() + "]"
		flags = append(flags, &cli.StringFlag{Name: s.Name, Usage: "`" + s.Placeholder + "`: " + u, Value: s.Default(), Category: category(s.Category)})
	}
	return flags
}

// readMethod reads methodSettings from the flags, then the environment.
func readMethod(c *cli.Context) (transfer.Stylize, error) {
	cfg := transfer.DefaultConfig()
	cfg.Stylize.Strength = 1
	var problems []string
	for _, s := range methodSettings() {
		text, from := "", "--"
		switch {
		case c.IsSet(s.Name):
			text = c.String(s.Name)
		case os.Getenv(s.Env()) != "":
			text = os.Getenv(s.Env())
			from = s.Env() + "=" + text + ": "
		default:
			continue
		}
		if err := s.Set(&cfg, text); err != nil {
			problems = append(problems, from+err.Error())
		}
	}
	st := cfg.Stylize
	if len(problems) == 0 {
		switch {
		case st.Method != transfer.MethodStylize && (st.Net != "" || st.Styles != "" || st.Smoothing != 0 || st.Hold != 0 || c.IsSet("strength")):
			problems = append(problems, "--net, --styles, --strength, --smoothing and --hold paint with a feed-forward network: give --method stylize")
		case st.Net == transfer.NetArbitrary:
			problems = append(problems, "--net arbitrary: --method stylize paints with the 26-style network (--styles) or a trained one (--net DIR); the arbitrary network does not take batches or clips yet")
		case trainedMethodNet(st) && st.Styles != "":
			problems = append(problems, "--styles: a trained network (--net "+st.Net+") paints in the one style it learned; leave out --styles")
		case trainedMethodNet(st) && st.Smoothing != 0:
			problems = append(problems, "--smoothing: smooths the 26-style network's instance-norm statistics, which a trained network (--net "+st.Net+") does not give; leave it out (--hold applies)")
		case st.Method == transfer.MethodStylize && !trainedMethodNet(st) && st.Styles == "":
			problems = append(problems, "--styles: --method stylize needs the 26-style network's style, a number 0-25 or a blend such as 3:0.5,12:0.5 (or --net DIR, a network neuralstyle train wrote)")
		}
	}
	if len(problems) > 0 {
		return st, usagef("%s", strings.Join(problems, "\n"))
	}
	return st, nil
}

// trainedMethodNet says whether st paints with a network of neuralstyle train
// (--net DIR) rather than the 26-style one.
func trainedMethodNet(st transfer.Stylize) bool {
	return st.Net != "" && st.Net != transfer.Net26 && st.Net != transfer.NetArbitrary
}

// checkTrainedNet checks the folder of a trained network without loading it,
// for batch and video --method stylize --net DIR.
func checkTrainedNet(dir string) error {
	if _, _, err := train.CheckNet(dir); err != nil {
		return fmt.Errorf("--net %s: %w", dir, err)
	}
	return nil
}

// stylizing says whether video runs with --method stylize, so that its
// style image is not required.
func stylizing(c *cli.Context) bool {
	m := c.String("method")
	if !c.IsSet("method") {
		m = os.Getenv(settings.Method[0].Env())
	}
	return strings.EqualFold(strings.TrimSpace(m), transfer.MethodStylize)
}

// usesMethod says whether any of methodSettings is given, so that video
// checks them (and refuses them without --method stylize).
func usesMethod(c *cli.Context) bool {
	for _, s := range methodSettings() {
		if c.IsSet(s.Name) || os.Getenv(s.Env()) != "" {
			return true
		}
	}
	return false
}

// methodPositional are the settings video and batch leave out of readSettings: the
// content (the frames or photos), and with --method stylize the style image unless
// given (which runVideoStylize and runBatchStylize then refuse).
func methodPositional(c *cli.Context) []string {
	if stylizing(c) && !c.IsSet("style") && os.Getenv("NEURALSTYLE_STYLE") == "" {
		return []string{"content", "style"}
	}
	return []string{"content"}
}

// checkOptimizeMethod refuses the method's settings given without --method
// stylize.
func checkOptimizeMethod(c *cli.Context) error {
	if !usesMethod(c) {
		return nil
	}
	_, err := readMethod(c)
	return err
}

// runVideoStylize is runVideo's --method stylize, once the frames are listed.
func runVideoStylize(ctx context.Context, c *cli.Context, j *videoJob, stdout io.Writer) error {
	st, err := readMethod(c)
	if err != nil {
		return err
	}
	if len(j.job.Config.Style) > 0 {
		return usagef("--style %s: --method stylize paints with the 26-style network's --styles; the arbitrary network does not take clips yet", strings.Join(j.job.Config.Style, ","))
	}
	s := video.Stylize{Styles: st.Styles, Strength: st.Strength, Smoothing: st.Smoothing, Hold: st.Hold}
	dir := c.String("fastnets")
	if trainedMethodNet(st) {
		s.Net, dir = st.Net, st.Net
		if err := checkTrainedNet(dir); err != nil {
			return err
		}
	} else if _, err := fastnet.ReadMeta(dir); err != nil {
		return err
	}
	for i, f := range j.job.Frames {
		img, err := imagefile.ReadFile(f, j.job.Config.DecodeOptions())
		if err != nil {
			return fmt.Errorf("frame %d: %w", i+1, err)
		}
		if w, h, err := j.job.FrameSize(img.Width, img.Height); err != nil || w < 8 || h < 8 {
			return fmt.Errorf("frame %d (%s): a %dx%d frame is too small to stylise (%v); no frame was styled", i+1, f, w, h, err)
		}
	}
	if j.job.ModelID, err = provenance.ModelID(dir); err != nil {
		return err
	}
	rec, err := video.NewRecord(&j.job)
	if err != nil {
		return err
	}
	s.Note(rec)
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
	if s.Net != "" {
		fmt.Fprintf(stdout, "video: %d frames with the trained network %s (hold %g); %d finished before, %d to run\n",
			n, s.Net, s.Hold, n-len(todo), len(todo))
	} else {
		fmt.Fprintf(stdout, "video: %d frames with the feed-forward network (styles %s, smoothing %g, hold %g); %d finished before, %d to run\n",
			n, s.Styles, s.Smoothing, s.Hold, n-len(todo), len(todo))
	}
	if len(todo) > 0 {
		opts, err := sessionOptions(c)
		if err != nil {
			return err
		}
		progress := func(i, n int, elapsed time.Duration) {
			fmt.Fprintf(stdout, "frame %d/%d done in %s\n", i, n, roundDuration(elapsed))
		}
		start := time.Now()
		rep, err := paintClip(ctx, opts, dir, &j.job, s, j.out, progress)
		if err != nil {
			if ctx.Err() != nil && c.Context.Err() == nil {
				return interruptedError{fmt.Errorf("interrupted (%v); finished frames are kept, rerun to resume", err)}
			}
			return err
		}
		if rep.Ran > 0 {
			secs := time.Since(start).Seconds()
			fmt.Fprintf(stdout, "video: %d frames in %.1f s (%.2f frames per second)\n", rep.Ran, secs, float64(rep.Ran)/secs)
		}
	}
	if missing, err := j.job.Missing(j.out, video.Shard{}); err != nil || len(missing) > 0 {
		return err
	}
	return finishVideo(c, j, stdout, true)
}

// paintClip loads the network (the 26-style one in dir, or s.Net's trained
// one) and paints the clip's missing frames with it.
func paintClip(ctx context.Context, opts *tfgraph.Options, dir string, job *video.Job, s video.Stylize, out string,
	progress func(i, n int, elapsed time.Duration)) (*video.Report, error) {
	if s.Net == "" {
		model, err := fastnet.Load(dir, opts)
		if err != nil {
			return nil, err
		}
		defer model.Close()
		return video.RunStylize(ctx, model, job, s, out, progress)
	}
	net, _, err := train.OpenNet(s.Net, opts)
	if err != nil {
		return nil, fmt.Errorf("--net %s: %w", s.Net, err)
	}
	defer net.Close()
	clip, err := fastnet.NewClipOf(net.Stylize, fastnet.Temporal{Hold: s.Hold})
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	return video.RunClip(ctx, clip, job, s, out, progress)
}
