package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/train"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/color"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// batch --method stylize: every photo through the 26-style feed-forward
// network, or a trained one with --net DIR (fastnet.RunBatch), to
// DIR/NAME.png, skipping those already there. It writes no sheet, GIF or summary (the optimisation's batch is a sweep with
// records per photo; this one is not).

// runBatchStylize is runBatch's --method stylize.
func runBatchStylize(c *cli.Context, j *batchJob, stdout io.Writer) error {
	st, err := readMethod(c)
	if err != nil {
		return err
	}
	cfg := j.cfg
	if len(cfg.Style) > 0 {
		return usagef("--style %s: --method stylize paints with the 26-style network's --styles or a trained network's (--net DIR) style", strings.Join(cfg.Style, ","))
	}
	if j.shard.Count > 1 {
		return usagef("--shard: batch --method stylize runs on one machine (a photo takes a fraction of a second)")
	}
	var styles fastnet.Styles
	dir := c.String("fastnets")
	if trainedMethodNet(st) {
		dir = st.Net
		if err := checkTrainedNet(dir); err != nil {
			return err
		}
	} else {
		if styles, err = fastnet.ParseStyles(st.Styles); err != nil {
			return usagef("--styles %v", err)
		}
		if _, err := fastnet.ReadMeta(dir); err != nil {
			return err
		}
	}
	var photos []fastnet.Photo
	for in, out := range j.names {
		photos = append(photos, fastnet.Photo{In: in, Out: out})
	}
	sort.Slice(photos, func(a, b int) bool { return photos[a].In < photos[b].In })
	for _, err := range j.bad {
		fmt.Fprintf(c.App.ErrWriter, "neuralstyle: skipped: %v\n", err)
	}
	if trainedMethodNet(st) {
		fmt.Fprintf(stdout, "batch: %d photos with the trained network %s\n", len(photos), st.Net)
	} else {
		fmt.Fprintf(stdout, "batch: %d photos with the feed-forward network (styles %s)\n", len(photos), st.Styles)
	}
	opts, err := sessionOptions(c)
	if err != nil {
		return err
	}
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
	ran, err := paintBatch(c.Context, opts, st, dir, photos, b)
	fmt.Fprintf(stdout, "batch: %d painted, %d there before\n", ran, len(photos)-ran)
	if len(j.bad) > 0 {
		return fmt.Errorf("%d of %d photos could not be read (the others were done)%s", len(j.bad), j.photos, joinErr(err))
	}
	return err
}

// paintBatch loads the network (the 26-style one in dir, or st.Net's trained
// one) and paints the photos with it.
func paintBatch(ctx context.Context, opts *tfgraph.Options, st transfer.Stylize, dir string, photos []fastnet.Photo, b fastnet.Batch) (int, error) {
	if !trainedMethodNet(st) {
		model, err := fastnet.Load(dir, opts)
		if err != nil {
			return 0, err
		}
		defer model.Close()
		return model.RunBatch(ctx, photos, b)
	}
	net, _, err := train.OpenNet(st.Net, opts)
	if err != nil {
		return 0, fmt.Errorf("--net %s: %w", st.Net, err)
	}
	defer net.Close()
	b.Paint = net.Stylize
	return fastnet.RunBatch(ctx, photos, b)
}

func joinErr(err error) string {
	if err == nil {
		return ""
	}
	return "; " + err.Error()
}
