package imagefile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/neuralstyle/neuralstyle/preprocess"
)

const decodeDir = "testdata/decode"

// decodeVectors is testdata/decode/vectors.json, made by scripts/vectors/decode_vectors.py.
type decodeVectors struct {
	Versions map[string]string
	Vectors  []struct {
		File, SHA256, Want, Note string
		Width, Height            int
	}
	Refused []struct {
		File, Error   string
		PillowReadsIt bool `json:"pillow_reads_it"`
	}
	Shared []struct {
		Path, SHA256  string
		Width, Height int
	}
}

func loadDecodeVectors(t testing.TB) *decodeVectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(decodeDir, "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v decodeVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Vectors) < 50 {
		t.Fatalf("only %d vectors in vectors.json", len(v.Vectors))
	}
	return &v
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readWant reads an expected-pixels PNG with image/png alone.
func readWant(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	rgba, ok := m.(*image.RGBA)
	if !ok {
		t.Fatalf("%s: %T, want an RGB PNG", path, m)
	}
	w, h := rgba.Rect.Dx(), rgba.Rect.Dy()
	out := make([]byte, 0, 3*w*h)
	for i := 0; i < len(rgba.Pix); i += 4 {
		out = append(out, rgba.Pix[i:i+3]...)
	}
	return out
}

// maxAbsDiff returns the largest difference and the number of differing values.
func maxAbsDiff(a, b []byte) (maxd, n int) {
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		if d > 0 {
			n++
		}
		maxd = max(maxd, d)
	}
	return maxd, n
}

// TestDecodeVectors compares every vector with Pillow's pixels, byte for byte
// (JPEGs in a build with the pure-Go fallback: within fallbackJPEGMaxDiff).
func TestDecodeVectors(t *testing.T) {
	v := loadDecodeVectors(t)
	t.Logf("vectors from Pillow %s (libjpeg-turbo %s, libwebp %s); this build: %s",
		v.Versions["pillow"], v.Versions["libjpeg_turbo"], v.Versions["libwebp"], JPEGDecoder())
	for _, vec := range v.Vectors {
		t.Run(vec.File, func(t *testing.T) {
			img, err := ReadFile(filepath.Join(decodeDir, vec.File), nil)
			if err != nil {
				t.Fatal(err)
			}
			if img.Width != vec.Width || img.Height != vec.Height {
				t.Fatalf("size %dx%d, Pillow %dx%d", img.Width, img.Height, vec.Width, vec.Height)
			}
			if len(img.Pix) != 3*img.Width*img.Height {
				t.Fatalf("len(Pix) = %d for %dx%d", len(img.Pix), img.Width, img.Height)
			}
			isJPEG := strings.HasSuffix(vec.File, ".jpg")
			if sha256Hex(img.Pix) == vec.SHA256 {
				if isJPEG && !jpegExact {
					t.Logf("pure-Go JPEG decoder matched Pillow exactly")
				}
				return
			}
			want := readWant(t, filepath.Join(decodeDir, vec.Want))
			if sha256Hex(want) != vec.SHA256 {
				t.Fatalf("%s does not match the SHA-256 in vectors.json: regenerate the vectors", vec.Want)
			}
			d, n := maxAbsDiff(img.Pix, want)
			if isJPEG && !jpegExact {
				t.Logf("pure-Go JPEG decoder: max difference %d, %d of %d values differ", d, n, len(want))
				if d > fallbackJPEGMaxDiff {
					t.Errorf("pure-Go JPEG decoder: max difference %d (%d of %d values) exceeds %d", d, n, len(want), fallbackJPEGMaxDiff)
				}
				return
			}
			t.Errorf("pixels differ from Pillow's (%s): max %d, %d of %d values", vec.Note, d, n, len(want))
		})
	}
}

// TestDecodeSharedImages decodes the full-size shared images (when the
// checkout has them next to it) and compares with Pillow's SHA-256.
func TestDecodeSharedImages(t *testing.T) {
	dir := os.Getenv("NEURALSTYLE_SHARED_IMAGES")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "images")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no shared images at %s (set NEURALSTYLE_SHARED_IMAGES)", dir)
	}
	v := loadDecodeVectors(t)
	for _, s := range v.Shared {
		t.Run(s.Path, func(t *testing.T) {
			if strings.HasSuffix(s.Path, ".jpg") && !jpegExact {
				t.Skip("pure-Go JPEG decoder: not Pillow's pixels (see TestDecodeVectors)")
			}
			img, err := ReadFile(filepath.Join(dir, s.Path), nil)
			if err != nil {
				t.Fatal(err)
			}
			if img.Width != s.Width || img.Height != s.Height || sha256Hex(img.Pix) != s.SHA256 {
				t.Errorf("%dx%d sha256 %s, Pillow %dx%d %s", img.Width, img.Height, sha256Hex(img.Pix), s.Width, s.Height, s.SHA256)
			}
		})
	}
}

// TestDecodeRefused: variants Decode does not read, or that are broken, give
// the documented error.
func TestDecodeRefused(t *testing.T) {
	v := loadDecodeVectors(t)
	sentinels := map[string]error{"ErrUnsupported": ErrUnsupported, "io.ErrUnexpectedEOF": io.ErrUnexpectedEOF}
	for _, r := range v.Refused {
		t.Run(r.File, func(t *testing.T) {
			_, err := ReadFile(filepath.Join(decodeDir, r.File), nil)
			if !errors.Is(err, sentinels[r.Error]) {
				t.Fatalf("error %v, want %s", err, r.Error)
			}
			if !strings.Contains(err.Error(), r.File) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestDecodeIgnoreOrientation(t *testing.T) {
	upright, err := ReadFile(filepath.Join(decodeDir, "jpeg_orient1.jpg"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for o := 2; o <= 8; o++ {
		name := filepath.Join(decodeDir, "jpeg_orient"+string(rune('0'+o))+".jpg")
		raw, err := ReadFile(name, &DecodeOptions{IgnoreOrientation: true})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(upright, raw); diff != "" {
			t.Errorf("%s with IgnoreOrientation differs from the upright file (-want +got):\n%.300s", name, diff)
		}
		turned, err := ReadFile(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cmp.Equal(upright, turned) {
			t.Errorf("%s: orientation %d not applied", name, o)
		}
	}
}

// TestOrientationTable checks orient against Pillow's transpose table on a 3x2
// image whose pixels are all different.
func TestOrientationTable(t *testing.T) {
	// Pixels a b c / d e f, one byte value per pixel (repeated in R, G, B).
	src := &preprocess.Image{Width: 3, Height: 2}
	for _, v := range []byte("abcdef") {
		src.Pix = append(src.Pix, v, v, v)
	}
	tests := []struct {
		o    int
		w    int
		want string
	}{
		{1, 3, "abcdef"},
		{2, 3, "cbafed"}, // FLIP_LEFT_RIGHT
		{3, 3, "fedcba"}, // ROTATE_180
		{4, 3, "defabc"}, // FLIP_TOP_BOTTOM
		{5, 2, "adbecf"}, // TRANSPOSE
		{6, 2, "daebfc"}, // ROTATE_270 (90 degrees clockwise)
		{7, 2, "fcebda"}, // TRANSVERSE
		{8, 2, "cfbead"}, // ROTATE_90 (counter-clockwise)
		{9, 3, "abcdef"}, // out of range: unchanged
	}
	for _, tc := range tests {
		got := orient(src, tc.o)
		var s []byte
		for i := 0; i < len(got.Pix); i += 3 {
			s = append(s, got.Pix[i])
		}
		if got.Width != tc.w || string(s) != tc.want {
			t.Errorf("orientation %d: %dx%d %q, want width %d %q", tc.o, got.Width, got.Height, s, tc.w, tc.want)
		}
	}
}

func TestExifOrientationParsing(t *testing.T) {
	entry := func(le bool, typ uint16, count uint32, val []byte) []byte {
		var b []byte
		p16 := func(v uint16) {
			if le {
				b = append(b, byte(v), byte(v>>8))
			} else {
				b = append(b, byte(v>>8), byte(v))
			}
		}
		p32 := func(v uint32) {
			if le {
				b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
			} else {
				b = append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
			}
		}
		if le {
			b = append(b, "II*\x00"...)
		} else {
			b = append(b, "MM\x00*"...)
		}
		p32(8)
		p16(1)
		p16(0x0112)
		p16(typ)
		p32(count)
		return append(append(b, val...), 0, 0, 0, 0)
	}
	tests := []struct {
		name string
		exif []byte
		xmp  string
		want int
	}{
		{"none", nil, "", 1},
		{"short LE", entry(true, 3, 1, []byte{6, 0, 0, 0}), "", 6},
		{"short BE", entry(false, 3, 1, []byte{0, 8, 0, 0}), "", 8},
		{"Exif prefix", append([]byte("Exif\x00\x00"), entry(true, 3, 1, []byte{3, 0, 0, 0})...), "", 3},
		{"long", entry(true, 4, 1, []byte{5, 0, 0, 0}), "", 5},
		{"byte: Pillow reads bytes, no match", entry(true, 1, 1, []byte{6, 0, 0, 0}), "", 1},
		{"two shorts: first counts", entry(true, 3, 2, []byte{7, 0, 2, 0}), "", 7},
		{"out of range", entry(true, 3, 1, []byte{9, 0, 0, 0}), "", 1},
		{"not TIFF", []byte("Exif\x00\x00garbage!"), "", 1},
		{"offset past the end", entry(true, 5, 1, []byte{0xff, 0, 0, 0}), "", 1},
		{"xmp when no tag", nil, `<x tiff:Orientation="6"/>`, 6},
		{"xmp element form", nil, `<tiff:Orientation>8</tiff:Orientation>`, 8},
		{"tag wins over xmp", entry(true, 3, 1, []byte{1, 0, 0, 0}), `tiff:Orientation="6"`, 1},
	}
	for _, tc := range tests {
		if got := orientation(tc.exif, tc.xmp); got != tc.want {
			t.Errorf("%s: orientation %d, want %d", tc.name, got, tc.want)
		}
	}
}

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(decodeDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeErrors: bad input of every kind gives a wrapped sentinel and a
// message naming the file.
func TestDecodeErrors(t *testing.T) {
	pngData := readVector(t, "png_rgb_29x21.png")
	zeroPNG := append([]byte(nil), pngData...)
	copy(zeroPNG[16:20], []byte{0, 0, 0, 0})
	zeroGIF := append([]byte(nil), readVector(t, "gif_offset.gif")...)
	copy(zeroGIF[6:10], []byte{0, 0, 0, 0})
	copy(zeroGIF[bytes.IndexByte(zeroGIF, 0x2c)+1:], make([]byte, 8)) // frame at 0,0 of size 0x0
	zeroJPEG := patchJPEGSize(t, readVector(t, "jpeg_420_64x48.jpg"), 0, 48)
	rleBMP := append([]byte(nil), readVector(t, "bmp_p_23x15.bmp")...)
	rleBMP[30] = 1 // BI_RLE8
	badHuffman := append([]byte(nil), readVector(t, "jpeg_420_64x48.jpg")...)
	badHuffman[bytes.Index(badHuffman, []byte{0xFF, 0xC4})+5] = 0xFF // 255 codes of length 1
	tests := []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"empty.png", nil, ErrFormat, "empty file"},
		{"notes.txt", []byte("just some text, not an image"), ErrFormat, "not a recognised image format"},
		{"photo.heic", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), ErrUnsupported, "HEIF"},
		{"scan.jp2", []byte("\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00\x00\x14ftypjp2 "), ErrUnsupported, "JPEG 2000"},
		{"zero.png", zeroPNG, preprocess.ErrDimensions, "0x21"},
		{"zero.gif", zeroGIF, preprocess.ErrDimensions, "0x0"},
		{"zero.jpg", zeroJPEG, preprocess.ErrDimensions, "0x48"},
		{"huffman.jpg", badHuffman, ErrCorrupt, "Huffman"},
		{"crc.png", flipByte(pngData, len(pngData)-20), ErrCorrupt, "checksum"},
		{"short.png", pngData[:20], io.ErrUnexpectedEOF, "truncated PNG"},
		{"rle.bmp", rleBMP, ErrUnsupported, "unsupported BMP variant"},
		{"animated.webp", readVector(t, "refuse_webp_animated.webp"), ErrUnsupported, "animated"},
	}
	if !jpegExact {
		tests[7].msg = "invalid JPEG format"
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Decode(bytes.NewReader(tc.data), tc.name, nil)
			if err == nil {
				t.Fatalf("decoded a %dx%d image", img.Width, img.Height)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v does not wrap %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "imagefile: decode "+tc.name+": ") || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q: want the prefix %q and %q", err, "imagefile: decode "+tc.name+": ", tc.msg)
			}
		})
	}
}

func flipByte(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0xFF
	return c
}

// TestDecodeTruncated cuts every vector short: each cut must be an error that
// says the file is truncated (or corrupt, where the cut leaves a well-formed
// but inconsistent file), never a panic or a silently partial image.
func TestDecodeTruncated(t *testing.T) {
	v := loadDecodeVectors(t)
	for _, vec := range v.Vectors {
		data := readVector(t, vec.File)
		for _, n := range []int{len(data) / 3, len(data) / 2, len(data) - 9} {
			img, err := Decode(bytes.NewReader(data[:n]), vec.File, nil)
			if err == nil {
				t.Errorf("%s cut to %d of %d bytes: decoded %dx%d", vec.File, n, len(data), img.Width, img.Height)
				continue
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s cut to %d of %d bytes: %v", vec.File, n, len(data), err)
			}
		}
	}
}

// TestDecodeLimit checks the pixel limit on one file of each format.
func TestDecodeLimit(t *testing.T) {
	for _, name := range []string{"jpeg_420_64x48.jpg", "png_rgb_29x21.png", "gif_pillow_37x29.gif",
		"bmp_rgb_23x15.bmp", "tiff_rgb_raw.tif", "webp_lossy_64x48.webp", "webp_lossless.webp"} {
		data := readVector(t, name)
		img, err := Decode(bytes.NewReader(data), name, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := int64(img.Width * img.Height)
		for _, tc := range []struct {
			limit int64
			ok    bool
		}{{n - 1, false}, {n, true}, {-1, true}, {1, false}} {
			_, err := Decode(bytes.NewReader(data), name, &DecodeOptions{MaxPixels: tc.limit})
			if tc.ok && err != nil {
				t.Errorf("%s with MaxPixels %d: %v", name, tc.limit, err)
			}
			if !tc.ok && !errors.Is(err, preprocess.ErrTooLarge) {
				t.Errorf("%s with MaxPixels %d: error %v, want preprocess.ErrTooLarge", name, tc.limit, err)
			}
		}
	}
}

// TestDecodeBombs: headers announcing 40000x40000 pixels (1.6 G, over the
// default limit) are refused without allocating anything of that size.
func TestDecodeBombs(t *testing.T) {
	const side = 40000
	bombs := map[string][]byte{
		"bomb.jpg":  patchJPEGSize(t, readVector(t, "jpeg_420_64x48.jpg"), side, side),
		"bomb.png":  patchPNGSize(readVector(t, "png_rgb_29x21.png"), side, side),
		"bomb.gif":  patchLE16(readVector(t, "gif_pillow_37x29.gif"), 6, side, side),
		"bomb.bmp":  patchLE32(readVector(t, "bmp_rgb_23x15.bmp"), 18, side, side),
		"bomb.tif":  patchTIFFSize(t, readVector(t, "tiff_rgb_raw.tif"), side, side),
		"bomb.webp": patchLE16(readVector(t, "webp_lossy_64x48.webp"), 26, 16383, 16383),
	}
	for name, data := range bombs {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := Decode(bytes.NewReader(data), name, nil)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, preprocess.ErrTooLarge) {
			t.Errorf("%s: error %v, want preprocess.ErrTooLarge", name, err)
		}
		// The refusal costs copies of the small file, nothing proportional to
		// the announced size (1.6 G pixels would be 4.8 GB of RGB).
		if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
			t.Errorf("%s: %d bytes allocated before refusing", name, got)
		}
	}
}

func patchPNGSize(b []byte, w, h uint32) []byte {
	c := append([]byte(nil), b...)
	for i, v := range []uint32{w, h} {
		c[16+4*i], c[17+4*i], c[18+4*i], c[19+4*i] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	return c
}

func patchLE16(b []byte, at int, w, h int) []byte {
	c := append([]byte(nil), b...)
	c[at], c[at+1], c[at+2], c[at+3] = byte(w), byte(w>>8), byte(h), byte(h>>8)
	return c
}

func patchLE32(b []byte, at int, w, h int) []byte {
	c := append([]byte(nil), b...)
	for i, v := range []int{w, h} {
		c[at+4*i], c[at+4*i+1], c[at+4*i+2], c[at+4*i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	return c
}

// patchJPEGSize rewrites the frame header's height and width.
func patchJPEGSize(t testing.TB, b []byte, w, h int) []byte {
	c := append([]byte(nil), b...)
	for i := 2; i+9 < len(c); {
		if c[i] != 0xFF {
			t.Fatal("lost in the JPEG markers")
		}
		m, n := c[i+1], int(c[i+2])<<8|int(c[i+3])
		if m == 0xC0 || m == 0xC1 || m == 0xC2 {
			c[i+5], c[i+6], c[i+7], c[i+8] = byte(h>>8), byte(h), byte(w>>8), byte(w)
			return c
		}
		i += 2 + n
	}
	t.Fatal("no SOF marker")
	return nil
}

// patchTIFFSize rewrites ImageWidth and ImageLength (SHORT or LONG) in the
// first IFD of a little-endian TIFF.
func patchTIFFSize(t testing.TB, b []byte, w, h int) []byte {
	c := append([]byte(nil), b...)
	ifd := int(le32(c[4:]))
	n := le16(c[ifd:])
	done := 0
	for e := ifd + 2; e < ifd+2+12*n; e += 12 {
		tag := le16(c[e:])
		if tag != 256 && tag != 257 {
			continue
		}
		v := w
		if tag == 257 {
			v = h
		}
		c[e+2], c[e+3] = 4, 0 // LONG
		c[e+4], c[e+5], c[e+6], c[e+7] = 1, 0, 0, 0
		c[e+8], c[e+9], c[e+10], c[e+11] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		done++
	}
	if done != 2 {
		t.Fatal("no ImageWidth/ImageLength in the TIFF")
	}
	return c
}
