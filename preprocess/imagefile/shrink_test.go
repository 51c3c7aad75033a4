package imagefile

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// TestDecodeShrink compares each shrinking decode (DecodeOptions.ShrinkTo)
// with Pillow's Image.draft("RGB", (S, S)), byte for byte: testdata/decode/
// shrink.json, made by scripts/vectors/decode_shrink_vectors.py. In a build with the
// pure-Go fallback, which cannot shrink, every JPEG must come out full size.
func TestDecodeShrink(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(decodeDir, "shrink.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Vectors []struct {
			File          string
			ShrinkTo      int `json:"shrink_to"`
			Width, Height int
			SHA256, Want  string
		}
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) < 60 {
		t.Fatalf("only %d vectors in shrink.json", len(v.Vectors))
	}
	shrunk := 0
	for _, vec := range v.Vectors {
		path := filepath.Join(decodeDir, vec.File)
		img, err := ReadFile(path, &DecodeOptions{ShrinkTo: vec.ShrinkTo})
		if err != nil {
			t.Fatal(err)
		}
		if !jpegExact {
			full, err := ReadFile(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if img.Width != full.Width || img.Height != full.Height {
				t.Errorf("%s, ShrinkTo %d: %dx%d from the pure-Go fallback, want the full %dx%d", vec.File, vec.ShrinkTo, img.Width, img.Height, full.Width, full.Height)
			}
			continue
		}
		if img.Width != vec.Width || img.Height != vec.Height {
			t.Errorf("%s, ShrinkTo %d: %dx%d, Pillow's draft %dx%d", vec.File, vec.ShrinkTo, img.Width, img.Height, vec.Width, vec.Height)
			continue
		}
		if sha256Hex(img.Pix) != vec.SHA256 {
			d, n := maxAbsDiff(img.Pix, readWant(t, filepath.Join(decodeDir, "want", vec.Want)))
			t.Errorf("%s, ShrinkTo %d: pixels differ from Pillow's draft: max %d, %d of %d values", vec.File, vec.ShrinkTo, d, n, len(img.Pix))
		}
		if img.Width*img.Height < 64*48 {
			shrunk++
		}
	}
	if jpegExact && shrunk < 40 {
		t.Errorf("only %d vectors were shrunk: the sizes no longer ask for reductions", shrunk)
	}
}

// TestJPEGScale: the reduction for a size, Pillow's rule in
// JpegImageFile.draft.
func TestJPEGScale(t *testing.T) {
	for _, tc := range []struct{ w, h, side, want int }{
		{7000, 7000, 512, 8}, // 875x875
		{4096, 4096, 512, 8}, // 512x512: exactly the size
		{4095, 4096, 512, 4}, // 1024x1024: 1/8 would leave 512x512 of a 4095 side, Pillow keeps 1/4
		{7000, 1000, 512, 1}, // 1/2 would leave a side of 500
		{1024, 1024, 512, 2},
		{1023, 1024, 512, 1},
		{300, 200, 0, 1}, // 0: full size
		{300, 200, 1000, 1},
	} {
		if got := jpegScale(tc.w, tc.h, tc.side); got != tc.want {
			t.Errorf("jpegScale(%d, %d, %d) = 1/%d, want 1/%d", tc.w, tc.h, tc.side, got, tc.want)
		}
	}
}

// TestDecodeShrinkOthers: formats that cannot shrink while decoding ignore
// ShrinkTo and give their full-size pixels.
func TestDecodeShrinkOthers(t *testing.T) {
	for _, name := range []string{"png_rgb_29x21.png", "gif_pillow_37x29.gif", "bmp_rgb_23x15.bmp", "tiff_rgb_raw.tif", "webp_lossy_64x48.webp"} {
		full := vectorImage(t, name)
		img, err := ReadFile(filepath.Join(decodeDir, name), &DecodeOptions{ShrinkTo: 2})
		if err != nil {
			t.Fatal(err)
		}
		if img.Width != full.Width || img.Height != full.Height || !bytes.Equal(img.Pix, full.Pix) {
			t.Errorf("%s with ShrinkTo 2: %dx%d, not the full-size %dx%d pixels", name, img.Width, img.Height, full.Width, full.Height)
		}
	}
}

// TestDecodeShrinkMemory: a 7000x7000 JPEG decoded for 512 pixels a side
// comes out 875x875 and never allocates the full size's pixels (147 MB of
// RGB): Go's allocations during the decode are counted (TotalAlloc), and
// libjpeg's own memory for a baseline file is a few rows.
func TestDecodeShrinkMemory(t *testing.T) {
	if !jpegExact {
		t.Skip("the pure-Go JPEG fallback cannot shrink while decoding")
	}
	const side = 7000
	var buf bytes.Buffer
	big := preprocess.NewImage(side, side)
	for y := range side {
		for x := range side {
			// Soft gradients: a compressed file far smaller than the result.
			p := big.Pix[3*(y*side+x):]
			p[0], p[1], p[2] = byte(x/32), byte(y/32), byte((x+y)/64)
		}
	}
	if err := EncodeJPEG(&buf, big, 75); err != nil {
		t.Fatal(err)
	}
	big = nil
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	img, err := Decode(bytes.NewReader(buf.Bytes()), "big.jpg", &DecodeOptions{ShrinkTo: 512})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if img.Width != 875 || img.Height != 875 {
		t.Fatalf("%dx%d, want 875x875 (1/8)", img.Width, img.Height)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	out := uint64(3 * 875 * 875)
	t.Logf("decoding a %dx%d JPEG (%d bytes) for 512 a side allocated %d bytes (the 875x875 RGB result is %d)", side, side, buf.Len(), alloc, out)
	// Measured: 4.3 MB (1.9 x the result): the compressed copy (io.ReadAll of the
	// reader, growing) and the result. Ten times the result (23 MB) is far
	// below the 147 MB of a full-size decode.
	if alloc > 10*out {
		t.Errorf("the decode allocated %d bytes, over ten times the 875x875 result's %d: it decoded at full size?", alloc, out)
	}
}
