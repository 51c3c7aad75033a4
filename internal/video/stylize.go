package video

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/color"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
)

// Stylize paints a clip with the 26-style feed-forward network instead of the
// optimisation (--method stylize): every frame in one forward pass, so a clip
// takes seconds per second of video, not hours. Frames go where Run puts
// them, and a rerun resumes the same way; the smoothing of the statistics
// and the hold (fastnet.Clip) restart at the first frame a rerun paints.
type Stylize struct {
	// Net is the folder of a network neuralstyle train wrote, "" for the
	// 26-style network (RunClip paints with it).
	Net       string
	Styles    string  // the 26-style network's styles or blend, as written
	Strength  float64 // 0 the frame to 1 the full style, a mix of pixels
	Smoothing float64 // fastnet.Temporal's: the share of the statistics kept from the frames before
	Hold      float64 // fastnet.Temporal's: the share of the previous picture kept where the frame did not change
}

// Note adds s to rec's settings, so a rerun with other ones refuses the folder.
func (s Stylize) Note(rec *Record) {
	rec.Settings["method"] = "stylize"
	if s.Net != "" {
		rec.Settings["net"] = s.Net
	}
	rec.Settings["styles"] = s.Styles
	rec.Settings["strength"] = strconv.FormatFloat(s.Strength, 'g', -1, 64)
	rec.Settings["smoothing"] = strconv.FormatFloat(s.Smoothing, 'g', -1, 64)
	rec.Settings["hold"] = strconv.FormatFloat(s.Hold, 'g', -1, 64)
}

// FrameSize is the size job's settings give a w x h frame: --long-side, or
// --size.
func (job *Job) FrameSize(w, h int) (int, int, error) {
	if long := job.Config.LongSide; long > 0 {
		return resample.FitLongestSide(w, h, long)
	}
	return job.Config.Width, job.Config.Height, nil
}

// RunStylize paints the job's frames missing from out, in order, with model,
// writing each as it finishes (out claimed as for Run). finished, when not
// nil, is called after each frame is written. Cancelling ctx stops it between
// frames.
func RunStylize(ctx context.Context, model *fastnet.Model, job *Job, s Stylize, out string,
	finished func(i, n int, elapsed time.Duration)) (*Report, error) {
	styles, err := fastnet.ParseStyles(s.Styles)
	if err != nil {
		return nil, fmt.Errorf("video: styles %w", err)
	}
	clip, err := model.NewClip(styles, fastnet.Temporal{Smoothing: s.Smoothing, Hold: s.Hold})
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	return RunClip(ctx, clip, job, s, out, finished)
}

// Painter paints a clip's frames in order: a fastnet.Clip.
type Painter interface {
	Next(frame *preprocess.Image) (*preprocess.Image, error)
}

// RunClip is RunStylize with the frames painted by clip (of the 26-style
// network or of a trained one: fastnet.NewClipOf); s gives the strength.
func RunClip(ctx context.Context, clip Painter, job *Job, s Stylize, out string,
	finished func(i, n int, elapsed time.Duration)) (*Report, error) {
	decode := job.Config.DecodeOptions()
	rep := &Report{}
	n := len(job.Frames)
	for i, input := range job.Frames {
		dst := FramePath(out, i+1)
		if job.Shard.Count > 1 && ShardOf(i+1, job.Shard.Count) != job.Shard.Index {
			continue
		}
		if _, err := os.Stat(dst); err == nil {
			rep.Skipped++
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		start := time.Now()
		frame, err := imagefile.ReadFile(input, decode)
		if err != nil {
			return rep, fmt.Errorf("video: frame %d: %w", i+1, err)
		}
		if frame, err = job.resize(frame); err != nil {
			return rep, fmt.Errorf("video: frame %d (%s): %w", i+1, input, err)
		}
		painted, err := clip.Next(frame)
		if err != nil {
			return rep, fmt.Errorf("video: frame %d (%s): %w", i+1, input, err)
		}
		if job.Config.OriginalColors {
			if painted, err = color.OriginalColors(painted, frame); err != nil {
				return rep, fmt.Errorf("video: frame %d: %w", i+1, err)
			}
		}
		if s.Strength < 1 {
			if painted, err = fastnet.Blend(frame, painted, s.Strength); err != nil {
				return rep, fmt.Errorf("video: frame %d: %w", i+1, err)
			}
		}
		if err := imagefile.WritePNG(dst, painted); err != nil {
			return rep, fmt.Errorf("video: %w", err)
		}
		rep.Ran++
		if finished != nil {
			finished(i+1, n, time.Since(start))
		}
	}
	return rep, nil
}

// resize brings a frame to the job's size with its filter.
func (job *Job) resize(frame *preprocess.Image) (*preprocess.Image, error) {
	w, h, err := job.FrameSize(frame.Width, frame.Height)
	if err != nil {
		return nil, err
	}
	if w < 8 || h < 8 {
		return nil, fmt.Errorf("a %dx%d frame is too small to stylise: want at least 8x8", w, h)
	}
	if w == frame.Width && h == frame.Height {
		return frame, nil
	}
	return resample.Resize(frame, w, h, job.Config.Resample)
}
