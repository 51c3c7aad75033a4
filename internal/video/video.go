// Package video styles a clip frame by frame. Each frame after the first starts
// from the previous frame's result rather than from noise, so the optimiser
// keeps what the two frames share and the styled clip flickers less; the
// independent mode starts every frame from the settings' own start, as a batch
// would, for comparison. With a temporal weight (transfer.Settings.TemporalWeight)
// each frame after the first also pays for moving away from the previous
// frame's result where its input did not change. The style's Gram targets are
// computed once, for the first frame run.
//
// Output folder:
//
//	frames/frame_000001.png ...   the styled frames, in the clip's order
//	video.json                    what the frames were made from (see Record)
//	video.gif, video.mp4          the styled clip (WriteClip; the MP4 needs ffmpeg)
//	input/                        a clip's frames, as ffmpeg extracted them
//
// Frames are written atomically as each finishes, so a run interrupted at any
// moment resumes at the first frame missing; the frame before it, read back
// from its PNG, starts it, exactly as in an uninterrupted run (which starts
// each frame from the previous result's 8-bit image too).
package video

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/neuralstyle/neuralstyle/atomicfile"
	"github.com/neuralstyle/neuralstyle/internal/provenance"
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"github.com/neuralstyle/neuralstyle/internal/sweep"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Mode says where each frame after the first starts.
type Mode string

const (
	// Chained starts each frame from the previous frame's result.
	Chained Mode = "chained"
	// Independent starts each frame as the settings say (--init), as if each
	// were a separate transfer.
	Independent Mode = "independent"
)

// ParseMode reads "chained" or "independent".
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Chained, Independent:
		return m, nil
	}
	return "", fmt.Errorf("mode %q: want chained or independent", s)
}

// Job is a clip to style.
type Job struct {
	Frames []string        // the input frames, in order
	Config transfer.Config // settings and style image; Content is unused
	Mode   Mode
	// NextIterations, when positive, replaces the settings' iterations for the
	// frames after the first in chained mode: they start near their result.
	NextIterations int
	ModelID        string
	// Shard, in independent mode without the temporal term, is the part of
	// the frames this run styles: frames dealt out in turn, frame 1 to shard 1
	// (the zero Shard: every frame).
	Shard sweep.Shard
	// Stylizer paints the frames' start with init stylized (make fastnets'
	// networks); in chained mode only the first frame's.
	Stylizer transfer.Stylizer
}

// Shardable says why the job's frames cannot be cut into shards, or "" when
// they can: chained frames, and the temporal term, need the frame before.
func (job *Job) Shardable() string {
	switch {
	case job.Mode == Chained:
		return "chained mode starts each frame from the previous frame's result"
	case job.Config.TemporalWeight != 0:
		return "the temporal term holds each frame to the previous frame's result"
	}
	return ""
}

// ShardOf is the shard (from 1) of frame i (from 1) when the frames are cut
// into n shards.
func ShardOf(i, n int) int {
	if n <= 1 {
		return 1
	}
	return (i-1)%n + 1
}

// Missing lists the frames (from 1) of the job not written in out, among
// those of shard s (the zero Shard: all).
func (job *Job) Missing(out string, s Shard) ([]int, error) {
	var missing []int
	for i := range job.Frames {
		if s.Count > 1 && ShardOf(i+1, s.Count) != s.Index {
			continue
		}
		_, err := os.Stat(FramePath(out, i+1))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			missing = append(missing, i+1)
		case err != nil:
			return nil, fmt.Errorf("video: %w", err)
		}
	}
	return missing, nil
}

// Shard is sweep's: one of Count parts, Index from 1.
type Shard = sweep.Shard

// Record is what video.json holds: everything the frames depend on, so a
// rerun with other inputs or settings refuses the folder instead of mixing
// two clips.
type Record struct {
	Format         string            `json:"format"`
	Settings       map[string]string `json:"settings"`
	Mode           Mode              `json:"mode"`
	NextIterations int               `json:"next_iterations,omitempty"`
	StyleSHA256    string            `json:"style_sha256"`
	Model          string            `json:"model_sha256"`
	Frames         []FrameRecord     `json:"frames"`
}

// FrameRecord names one input frame.
type FrameRecord struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

const recordFormat = "neuralstyle-video/1"

// RecordFile and FramesDir are where a job's record and frames go in its folder.
const (
	RecordFile = "video.json"
	FramesDir  = "frames"
)

// FramePath is the path of the i-th styled frame (from 1) in out.
func FramePath(out string, i int) string {
	return filepath.Join(out, FramesDir, fmt.Sprintf("frame_%06d.png", i))
}

// FramePattern is FramePath's name as ffmpeg's image2 pattern.
const FramePattern = "frame_%06d.png"

// NewRecord hashes the job's inputs into its record.
func NewRecord(job *Job) (*Record, error) {
	rec := &Record{Format: recordFormat, Settings: map[string]string{}, Mode: job.Mode, Model: job.ModelID}
	if job.Mode == Chained {
		rec.NextIterations = job.NextIterations
	}
	for _, f := range settings.Record(&job.Config) {
		if f.Name != "content" {
			rec.Settings[f.Name] = f.Value
		}
	}
	var hashes []string
	for _, path := range job.Config.Style {
		h, err := provenance.HashFile(path)
		if err != nil {
			return nil, fmt.Errorf("video: style image %s: %w", path, err)
		}
		hashes = append(hashes, h)
	}
	rec.StyleSHA256 = strings.Join(hashes, ",")
	for _, path := range job.Frames {
		h, err := provenance.HashFile(path)
		if err != nil {
			return nil, fmt.Errorf("video: frame %s: %w", path, err)
		}
		rec.Frames = append(rec.Frames, FrameRecord{Name: filepath.Base(path), SHA256: h})
	}
	return rec, nil
}

// Claim checks that out holds no frames made from other inputs or settings, and
// writes rec there: a fresh folder is claimed, a folder of the same job resumed.
func Claim(out string, rec *Record) error {
	data, err := os.ReadFile(filepath.Join(out, RecordFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("video: %w", err)
	default:
		var old Record
		if err := json.Unmarshal(data, &old); err != nil {
			return fmt.Errorf("video: %s: %w", filepath.Join(out, RecordFile), err)
		}
		if diff := rec.differences(&old); diff != "" {
			return fmt.Errorf("video: %s holds frames made with %s; give another --out, or remove %s to start again",
				out, diff, filepath.Join(out, FramesDir))
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Join(out, FramesDir), 0o755); err != nil {
		return fmt.Errorf("video: %w", err)
	}
	data, err = json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("video: %w", err)
	}
	return atomicfile.Write(filepath.Join(out, RecordFile), func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

// differences says how old differs from rec, or "" when it does not.
func (rec *Record) differences(old *Record) string {
	if old.Format != rec.Format {
		return "another version of neuralstyle (" + old.Format + ")"
	}
	for _, name := range sortedKeys(rec.Settings, old.Settings) {
		if rec.Settings[name] != old.Settings[name] {
			return fmt.Sprintf("--%s %s (now %s)", name, old.Settings[name], rec.Settings[name])
		}
	}
	switch {
	case old.Mode != rec.Mode:
		return fmt.Sprintf("--mode %s (now %s)", old.Mode, rec.Mode)
	case old.NextIterations != rec.NextIterations:
		return fmt.Sprintf("--next-iterations %d (now %d)", old.NextIterations, rec.NextIterations)
	case old.StyleSHA256 != rec.StyleSHA256:
		return "another style image"
	case old.Model != rec.Model:
		return "another model"
	case len(old.Frames) != len(rec.Frames):
		return fmt.Sprintf("%d input frames (now %d)", len(old.Frames), len(rec.Frames))
	}
	for i := range rec.Frames {
		if old.Frames[i] != rec.Frames[i] {
			return fmt.Sprintf("another input frame %d (%s, now %s)", i+1, old.Frames[i].Name, rec.Frames[i].Name)
		}
	}
	return ""
}

func sortedKeys(a, b map[string]string) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// Observer follows a run. Each field may be nil.
type Observer struct {
	// Frame is called before the i-th frame (from 1) of n runs.
	Frame    func(i, n int, input string)
	Transfer transfer.Observer
	// Finished is called once a frame is written.
	Finished func(i, n int, res *transfer.Result, elapsed time.Duration)
}

// Report says what a run did.
type Report struct {
	Ran, Skipped int
}

// Run styles the job's frames missing from out, in order, on model, writing
// each as it finishes. out must have been claimed (Claim). When ctx is
// cancelled it returns ctx's error after the current evaluation; the frame
// interrupted is not written, and a later run does it again.
func Run(ctx context.Context, model *tfgraph.Model, job *Job, out string, obs Observer) (*Report, error) {
	if why := job.Shardable(); job.Shard.Count > 1 && why != "" {
		return nil, fmt.Errorf("video: shard %s: %s", job.Shard, why)
	}
	decode := job.Config.DecodeOptions()
	// The style images, their masks and a starting image: the same for every frame.
	base, err := job.Config.ReadStyleInputs()
	if err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	base.Stylizer = job.Stylizer
	rep := &Report{}
	n := len(job.Frames)
	// The style's Gram targets are computed for the first frame and reused.
	grams := transfer.NewGramCache()
	temporal := job.Config.TemporalWeight != 0
	// The previous frame's result and input, in chained mode or with the
	// temporal term; nil after a skipped frame, read back when needed.
	var prev, prevContent *preprocess.Image
	for i, input := range job.Frames {
		dst := FramePath(out, i+1)
		if job.Shard.Count > 1 && ShardOf(i+1, job.Shard.Count) != job.Shard.Index {
			continue // another shard's (independent frames: nothing carries over)
		}
		if _, err := os.Stat(dst); err == nil {
			rep.Skipped++
			prev, prevContent = nil, nil
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		content, err := imagefile.ReadFile(input, decode)
		if err != nil {
			return rep, fmt.Errorf("video: frame %d: %w", i+1, err)
		}
		settings := job.Config.Settings
		settings.TemporalWeight = 0 // the first frame has none before it
		in := base
		in.Content, in.Grams = content, grams
		if i > 0 && (job.Mode == Chained || temporal) && prev == nil {
			if prev, err = imagefile.ReadFile(FramePath(out, i), nil); err != nil {
				return rep, fmt.Errorf("video: the result of frame %d, which starts frame %d: %w", i, i+1, err)
			}
		}
		if job.Mode == Chained && i > 0 {
			in.Init = prev
			settings.Init = transfer.InitImage // the previous frame's result
			if job.NextIterations > 0 {
				settings.Iterations = job.NextIterations
			}
		}
		if temporal && i > 0 {
			if prevContent == nil {
				if prevContent, err = imagefile.ReadFile(job.Frames[i-1], decode); err != nil {
					return rep, fmt.Errorf("video: frame %d: %w", i, err)
				}
			}
			settings.TemporalWeight = job.Config.TemporalWeight
			in.Previous, in.PreviousContent = prev, prevContent
		}
		if obs.Frame != nil {
			obs.Frame(i+1, n, input)
		}
		start := time.Now()
		res, err := transfer.Run(ctx, model, in, settings, obs.Transfer)
		if err != nil {
			if ctx.Err() != nil {
				return rep, fmt.Errorf("frame %d: %w", i+1, ctx.Err())
			}
			return rep, fmt.Errorf("video: frame %d (%s): %w", i+1, input, err)
		}
		if err := imagefile.WritePNG(dst, res.Image); err != nil {
			return rep, fmt.Errorf("video: %w", err)
		}
		prev, prevContent = res.Image, content
		rep.Ran++
		if obs.Finished != nil {
			obs.Finished(i+1, n, res, time.Since(start))
		}
	}
	return rep, nil
}
