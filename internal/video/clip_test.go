package video

import (
	"context"
	"image/gif"
	"os"
	"path/filepath"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

func TestWriteClip(t *testing.T) {
	out := t.TempDir()
	if err := os.Mkdir(filepath.Join(out, FramesDir), 0o755); err != nil {
		t.Fatal(err)
	}
	const n = 3
	for i := range n {
		img := preprocess.NewImage(16, 8)
		for k := range img.Pix {
			img.Pix[k] = uint8(80 * i)
		}
		if err := imagefile.WritePNG(FramePath(out, i+1), img); err != nil {
			t.Fatal(err)
		}
	}
	// 7 fps is 14.3 hundredths of a second a frame: the GIF rounds to 14.
	clip, err := WriteClip(context.Background(), out, n, 7)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(out, GIFFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g, err := gif.DecodeAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Image) != n || g.Delay[0] != 14 {
		t.Errorf("GIF: %d frames, delay %d, want %d frames, delay 14", len(g.Image), g.Delay[0], n)
	}
	_, _, ffErr := FFmpeg()
	wantFiles := 1
	if ffErr == nil {
		wantFiles = 2
		if st, err := os.Stat(filepath.Join(out, MP4File)); err != nil || st.Size() == 0 {
			t.Errorf("ffmpeg is installed, but no MP4: %v", err)
		}
	}
	if len(clip.Files) != wantFiles || clip.Files[0] != filepath.Join(out, GIFFile) {
		t.Errorf("Files = %q, want the GIF and %d more", clip.Files, wantFiles-1)
	}
	if (clip.NoMP4 != nil) != (ffErr != nil) {
		t.Errorf("NoMP4 = %v with ffmpeg's %v", clip.NoMP4, ffErr)
	}

	// A frame missing is an error.
	os.Remove(FramePath(out, 2))
	if _, err := WriteClip(context.Background(), out, n, 7); err == nil {
		t.Error("WriteClip with frame 2 missing: no error")
	}
}
