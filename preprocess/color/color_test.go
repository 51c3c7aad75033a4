package color

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// randomImage draws each channel uniformly from [lo, hi]; a channel tint shifts it.
func randomImage(seed uint64, w, h int, lo, hi int, tint [3]int) *preprocess.Image {
	r := rand.New(rand.NewPCG(seed, 1))
	img := preprocess.NewImage(w, h)
	for i := range img.Pix {
		v := lo + r.IntN(hi-lo+1) + tint[i%3]
		img.Pix[i] = uint8(max(0, min(255, v)))
	}
	return img
}

func yuvOf(img *preprocess.Image, i int) (y, u, v float64) {
	return rgbToYUV(float64(img.Pix[3*i]), float64(img.Pix[3*i+1]), float64(img.Pix[3*i+2]))
}

func TestOriginalColors(t *testing.T) {
	result := randomImage(1, 40, 30, 60, 200, [3]int{})
	content := randomImage(2, 40, 30, 50, 200, [3]int{30, -10, -20})
	out, err := OriginalColors(result, content)
	if err != nil {
		t.Fatal(err)
	}
	// Rounding each channel to 8 bits moves U by at most 0.5·(0.14713+0.28886+0.436)
	// = 0.436, V by 0.615 and Y by 0.5, and torch's coefficients are inverses only
	// to 0.0052 of a level (measured over the RGB cube). Measured over these 1200
	// pixels: U 0.4367, V 0.100, Y 0.499.
	const du, dv, dy = 0.44, 0.62, 0.5
	checked := 0
	for i := range out.Width * out.Height {
		if p := out.Pix[3*i : 3*i+3]; p[0] == 0 || p[0] == 255 || p[1] == 0 || p[1] == 255 || p[2] == 0 || p[2] == 255 {
			continue // clamped: the chroma cannot be kept there
		}
		checked++
		yo, uo, vo := yuvOf(out, i)
		_, uc, vc := yuvOf(content, i)
		yr, _, _ := yuvOf(result, i)
		if math.Abs(uo-uc) > du || math.Abs(vo-vc) > dv || math.Abs(yo-yr) > dy {
			t.Fatalf("pixel %d: YUV %.3f %.3f %.3f, want Y %.3f of the result and U, V %.3f %.3f of the content", i, yo, uo, vo, yr, uc, vc)
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d unclamped pixels", checked)
	}
	// The content's own luminance gives the content back, to rounding.
	same, _ := OriginalColors(content, content)
	for i, v := range same.Pix {
		if d := int(v) - int(content.Pix[i]); d < -1 || d > 1 {
			t.Fatalf("OriginalColors(content, content) moved value %d from %d to %d", i, content.Pix[i], v)
		}
	}
	if _, err := OriginalColors(result, randomImage(3, 40, 31, 0, 255, [3]int{})); err == nil || !strings.Contains(err.Error(), "40x30 and 40x31") {
		t.Errorf("size mismatch: error %v", err)
	}
}

func stats(v []float64) (mean, std float64) { return meanStd(v) }

func TestLuminance(t *testing.T) {
	img := randomImage(4, 16, 16, 0, 255, [3]int{})
	g := Luminance(img)
	for i := range 16 * 16 {
		y, _, _ := yuvOf(img, i)
		if p := g.Pix[3*i : 3*i+3]; p[0] != p[1] || p[1] != p[2] || float64(p[0]) != math.Round(y) {
			t.Fatalf("pixel %d: %v, want Y %.2f rounded in all channels", i, p, y)
		}
	}
}

func TestMatchLuminance(t *testing.T) {
	style := randomImage(5, 50, 40, 0, 120, [3]int{}) // dark, narrow
	content := randomImage(6, 30, 20, 80, 240, [3]int{10, 0, -30})
	out := MatchLuminance(style, content)
	if out.Width != 50 || out.Height != 40 {
		t.Fatalf("size %dx%d, want the style's", out.Width, out.Height)
	}
	mo, so := stats(luma(out))
	mc, sc := stats(luma(content))
	// Rounding to 8 bits adds a uniform error of deviation 0.29 at most. Measured:
	// mean 0.0006 and deviation 0.0033 off.
	if math.Abs(mo-mc) > 0.05 || math.Abs(so-sc) > 0.05 {
		t.Errorf("luminance mean %.3f deviation %.3f, want the content's %.3f %.3f", mo, so, mc, sc)
	}
	flat := MatchLuminance(preprocess.NewImage(4, 4), content)
	if v := flat.Pix[0]; float64(v) != math.Round(mc) {
		t.Errorf("a flat style becomes %d, want the content's mean %.2f", v, mc)
	}
}

func TestMatchHistogram(t *testing.T) {
	style := randomImage(7, 60, 50, 40, 140, [3]int{40, 0, -30})
	// A content whose channels are correlated: G follows R.
	content := randomImage(8, 40, 40, 90, 170, [3]int{})
	for i := 0; i < len(content.Pix); i += 3 {
		content.Pix[i+1] = uint8((int(content.Pix[i]) + int(content.Pix[i+1])) / 2)
	}
	out := MatchHistogram(style, content)
	mo, co := colorStats(out)
	mc, cc := colorStats(content)
	// Measured: means within 0.007, covariances within 0.27 (of entries up to
	// 559): the rounding of each value to 8 bits.
	for r := range 3 {
		if math.Abs(mo[r]-mc[r]) > 0.05 {
			t.Errorf("mean of channel %d %.3f, want %.3f", r, mo[r], mc[r])
		}
		for c := range 3 {
			if math.Abs(co[r][c]-cc[r][c]) > 1 {
				t.Errorf("covariance [%d][%d] %.2f, want %.2f", r, c, co[r][c], cc[r][c])
			}
		}
	}
}

func TestCholesky(t *testing.T) {
	a := mat3{{4, 2, 0.6}, {2, 5, 1}, {0.6, 1, 3}}
	l := cholesky3(a)
	var lt mat3
	for i := range 3 {
		for j := range 3 {
			lt[i][j] = l[j][i]
		}
	}
	id := mul3(l, inverseLower3(l))
	for i, row := range mul3(l, lt) {
		for j, v := range row {
			if math.Abs(v-a[i][j]) > 1e-12 {
				t.Errorf("L L^T [%d][%d] = %v, want %v", i, j, v, a[i][j])
			}
			if want := float64(boolInt(i == j)); math.Abs(id[i][j]-want) > 1e-12 {
				t.Errorf("L L^-1 [%d][%d] = %v", i, j, id[i][j])
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestStill: a pixel whose luminance moved by the threshold or more makes it
// and its eight neighbours not still; a smaller move changes nothing.
func TestStill(t *testing.T) {
	for _, tt := range []struct {
		name  string
		delta int // added to every channel of the pixel at row 0, column 2 of a 5x4 grey image
		want  string
	}{
		{"unchanged", 0, "11111 11111 11111 11111"},
		{"under the threshold", 7, "11111 11111 11111 11111"},
		{"at the threshold", 8, "10001 10001 11111 11111"},
		{"darker", -40, "10001 10001 11111 11111"},
	} {
		a, b := preprocess.NewImage(5, 4), preprocess.NewImage(5, 4)
		for i := range a.Pix {
			a.Pix[i], b.Pix[i] = 100, 100
		}
		for ch := range 3 {
			b.Pix[3*(0*5+2)+ch] = uint8(100 + tt.delta) // row 0, column 2
		}
		var got strings.Builder
		for i, s := range Still(a, b, 8) {
			if i > 0 && i%5 == 0 {
				got.WriteByte(' ')
			}
			got.WriteByte("01"[map[bool]int{false: 0, true: 1}[s]])
		}
		if got.String() != tt.want {
			t.Errorf("%s: still %s, want %s", tt.name, got.String(), tt.want)
		}
	}
}
