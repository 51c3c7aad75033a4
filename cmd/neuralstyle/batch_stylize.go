package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/color"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
)

// batch --method stylize: every photo through the 26-style feed-forward
// network (fastnet.RunBatch) to DIR/NAME.png, skipping those already there.
// It writes no sheet, GIF or summary (the optimisation's batch is a sweep with
// records per photo; this one is not).

// runBatchStylize is runBatch's --method stylize.
func runBatchStylize(c *cli.Context, j *batchJob, stdout io.Writer) error {
	st, err := readMethod(c)
	if err != nil {
		return err
	}
	cfg := j.cfg
	if len(cfg.Style) > 0 {
		return usagef("--style %s: --method stylize paints with the 26-style network's --styles", strings.Join(cfg.Style, ","))
	}
	if j.shard.Count > 1 {
		return usagef("--shard: batch --method stylize runs on one machine (a photo takes a fraction of a second)")
	}
	styles, err := fastnet.ParseStyles(st.Styles)
	if err != nil {
		return usagef("--styles %v", err)
	}
	dir := c.String("fastnets")
	if _, err := fastnet.ReadMeta(dir); err != nil {
		return err
	}
	var photos []fastnet.Photo
	for in, out := range j.names {
		photos = append(photos, fastnet.Photo{In: in, Out: out})
	}
	sort.Slice(photos, func(a, b int) bool { return photos[a].In < photos[b].In })
	for _, err := range j.bad {
		fmt.Fprintf(c.App.ErrWriter, "neuralstyle: skipped: %v\n", err)
	}
	fmt.Fprintf(stdout, "batch: %d photos with the feed-forward network (styles %s)\n", len(photos), st.Styles)
	opts, err := sessionOptions(c)
	if err != nil {
		return err
	}
	model, err := fastnet.Load(dir, opts)
	if err != nil {
		return err
	}
	defer model.Close()
	b := fastnet.Batch{
		Styles: styles,
		Prepare: func(path string) (*preprocess.Image, error) {
			img, err := imagefile.ReadFile(path, cfg.DecodeOptions())
			if err != nil {
				return nil, err
			}
			w, h := cfg.Width, cfg.Height
			if cfg.LongSide > 0 {
				if w, h, err = resample.FitLongestSide(img.Width, img.Height, cfg.LongSide); err != nil {
					return nil, err
				}
			}
			if w == img.Width && h == img.Height {
				return img, nil
			}
			return resample.Resize(img, w, h, cfg.Resample)
		},
		Finish: func(photo, painted *preprocess.Image) (*preprocess.Image, error) {
			var err error
			if cfg.OriginalColors {
				if painted, err = color.OriginalColors(painted, photo); err != nil {
					return nil, err
				}
			}
			if st.Strength < 1 {
				return fastnet.Blend(photo, painted, st.Strength)
			}
			return painted, nil
		},
		Done: func(i, n int, p fastnet.Photo, elapsed time.Duration) {
			fmt.Fprintf(stdout, "%s -> %s (%s)\n", p.In, p.Out, roundDuration(elapsed))
		},
	}
	ran, err := model.RunBatch(c.Context, photos, b)
	fmt.Fprintf(stdout, "batch: %d painted, %d there before\n", ran, len(photos)-ran)
	if len(j.bad) > 0 {
		return fmt.Errorf("%d of %d photos could not be read (the others were done)%s", len(j.bad), j.photos, joinErr(err))
	}
	return err
}

func joinErr(err error) string {
	if err == nil {
		return ""
	}
	return "; " + err.Error()
}
