package video

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNoFFmpeg says that ffmpeg, which reads and writes video files, is not
// installed; frames in a folder need no ffmpeg.
var ErrNoFFmpeg = errors.New("ffmpeg is not installed: reading and writing video files needs it (Debian and Ubuntu: apt-get install ffmpeg; or give a folder of frames)")

// FFmpeg returns the paths of ffmpeg and ffprobe, or ErrNoFFmpeg.
func FFmpeg() (ffmpeg, ffprobe string, err error) {
	if ffmpeg, err = exec.LookPath("ffmpeg"); err != nil {
		return "", "", ErrNoFFmpeg
	}
	if ffprobe, err = exec.LookPath("ffprobe"); err != nil {
		return "", "", ErrNoFFmpeg
	}
	return ffmpeg, ffprobe, nil
}

// FrameRate returns the frames per second of clip's first video stream.
func FrameRate(ctx context.Context, clip string) (float64, error) {
	_, ffprobe, err := FFmpeg()
	if err != nil {
		return 0, err
	}
	out, err := command(ctx, ffprobe, "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=avg_frame_rate", "-of", "default=noprint_wrappers=1:nokey=1", clip)
	if err != nil {
		return 0, fmt.Errorf("video: %s: %w", clip, err)
	}
	text := strings.TrimSpace(out)
	if text == "" {
		return 0, fmt.Errorf("video: %s: no video stream", clip)
	}
	num, den, ok := strings.Cut(text, "/")
	n, err1 := strconv.ParseFloat(num, 64)
	d := 1.0
	var err2 error
	if ok {
		d, err2 = strconv.ParseFloat(den, 64)
	}
	if err1 != nil || err2 != nil || n <= 0 || d <= 0 {
		return 0, fmt.Errorf("video: %s: frame rate %q unreadable", clip, text)
	}
	return n / d, nil
}

// Extract writes clip's frames as dir/frame_000001.png ... with ffmpeg. dir is
// filled in a staging folder beside it and renamed at the end, so an existing
// dir is complete and a rerun reuses it.
func Extract(ctx context.Context, clip, dir string) error {
	ffmpeg, _, err := FFmpeg()
	if err != nil {
		return err
	}
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	stage := dir + ".partial"
	if err := os.RemoveAll(stage); err != nil {
		return fmt.Errorf("video: %w", err)
	}
	if err := os.MkdirAll(stage, 0o755); err != nil {
		return fmt.Errorf("video: %w", err)
	}
	if _, err := command(ctx, ffmpeg, "-nostdin", "-v", "error", "-i", clip, "-map", "0:v:0", "-vsync", "passthrough",
		filepath.Join(stage, FramePattern)); err != nil {
		os.RemoveAll(stage)
		return fmt.Errorf("video: reading %s: %w", clip, err)
	}
	if err := os.Rename(stage, dir); err != nil {
		return fmt.Errorf("video: %w", err)
	}
	return nil
}

// EncodeMP4 writes the frames dir/frame_%06d.png as an H.264 MP4 at fps frames
// per second (yuv420p, which players expect; odd sides padded by a pixel). The
// file is written beside dst and renamed, so dst is never half written.
func EncodeMP4(ctx context.Context, dir string, fps float64, dst string) error {
	ffmpeg, _, err := FFmpeg()
	if err != nil {
		return err
	}
	tmp := strings.TrimSuffix(dst, filepath.Ext(dst)) + ".partial.mp4"
	_, err = command(ctx, ffmpeg, "-nostdin", "-v", "error", "-y", "-framerate", strconv.FormatFloat(fps, 'g', -1, 64),
		"-i", filepath.Join(dir, FramePattern), "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", "18", "-movflags", "+faststart", tmp)
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("video: writing %s: %w", dst, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("video: %w", err)
	}
	return nil
}

// command runs a program and returns its standard output; its error carries
// the program's last lines of standard error.
func command(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if lines := strings.Split(msg, "\n"); len(lines) > 3 {
			msg = strings.Join(lines[len(lines)-3:], "\n")
		}
		if msg != "" {
			return "", fmt.Errorf("%s: %w: %s", filepath.Base(name), err, msg)
		}
		return "", fmt.Errorf("%s: %w", filepath.Base(name), err)
	}
	return stdout.String(), nil
}
