package video

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"time"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// The files a job's folder holds besides its record and frames.
const (
	MP4File  = "video.mp4"
	GIFFile  = "video.gif"
	InputDir = "input" // a clip's frames, as ffmpeg extracted them
)

// Clip is what WriteClip wrote.
type Clip struct {
	Files []string // the GIF, and the MP4 when ffmpeg is installed
	// NoMP4 is why no MP4 was written (ErrNoFFmpeg), for the person to read;
	// nil when one was.
	NoMP4 error
}

// WriteClip writes out's GIF of its n styled frames at fps frames a second,
// and its MP4 when ffmpeg is installed.
func WriteClip(ctx context.Context, out string, n int, fps float64) (*Clip, error) {
	imgs := make([]*preprocess.Image, n)
	for i := range n {
		img, err := imagefile.ReadFile(FramePath(out, i+1), nil)
		if err != nil {
			return nil, err
		}
		imgs[i] = img
	}
	// GIF delays are whole hundredths of a second, at least 1.
	delay := max(time.Duration(math.Round(100/fps))*10*time.Millisecond, 10*time.Millisecond)
	gif := filepath.Join(out, GIFFile)
	if err := imagefile.WriteGIF(gif, imgs, delay); err != nil {
		return nil, err
	}
	clip := &Clip{Files: []string{gif}}
	if _, _, err := FFmpeg(); err == nil {
		mp4 := filepath.Join(out, MP4File)
		if err := EncodeMP4(ctx, filepath.Join(out, FramesDir), fps, mp4); err != nil {
			return nil, err
		}
		clip.Files = append(clip.Files, mp4)
	} else if errors.Is(err, ErrNoFFmpeg) {
		clip.NoMP4 = err
	}
	return clip, nil
}
