// Package color is the colour arithmetic of the transfer's colour controls: keeping
// the content's colours (jcjohnson/neural-style's -original_colors: the result's
// luminance with the content's chroma, in YUV) and the two methods of Gatys et al.
// 2016, "Preserving color in neural artistic style transfer" (arXiv 1606.05897):
// luminance-only transfer, with the style's luminance matched to the content's mean
// and deviation, and colour histogram matching, where the style image's colours get
// the content's mean and covariance.
//
// Everything works on 8-bit RGB images and returns new ones, rounded to nearest and
// clamped to 0..255.
package color

import (
	"fmt"
	"math"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// YUV as torch's image.rgb2yuv and image.yuv2rgb compute it (BT.601 luma), which
// jcjohnson/neural-style's -original_colors uses.
func rgbToYUV(r, g, b float64) (y, u, v float64) {
	y = 0.299*r + 0.587*g + 0.114*b
	u = -0.14713*r - 0.28886*g + 0.436*b
	v = 0.615*r - 0.51499*g - 0.10001*b
	return
}

func yuvToRGB(y, u, v float64) (r, g, b float64) {
	return y + 1.13983*v, y - 0.39465*u - 0.58060*v, y + 2.03211*u
}

func to8(v float64) uint8 {
	switch {
	case !(v > 0): // also NaN
		return 0
	case v >= 255:
		return 255
	}
	return uint8(math.Round(v))
}

func sameSize(a, b *preprocess.Image, what string) error {
	if a.Width != b.Width || a.Height != b.Height {
		return fmt.Errorf("color: %s: images of %dx%d and %dx%d, want the same size", what, a.Width, a.Height, b.Width, b.Height)
	}
	return nil
}

// OriginalColors returns result's luminance with content's chroma: each pixel's Y
// from result and U, V from content, converted back to RGB.
func OriginalColors(result, content *preprocess.Image) (*preprocess.Image, error) {
	if err := sameSize(result, content, "original colours"); err != nil {
		return nil, err
	}
	out := preprocess.NewImage(result.Width, result.Height)
	for i := 0; i < len(out.Pix); i += 3 {
		y, _, _ := rgbToYUV(float64(result.Pix[i]), float64(result.Pix[i+1]), float64(result.Pix[i+2]))
		_, u, v := rgbToYUV(float64(content.Pix[i]), float64(content.Pix[i+1]), float64(content.Pix[i+2]))
		r, g, b := yuvToRGB(y, u, v)
		out.Pix[i], out.Pix[i+1], out.Pix[i+2] = to8(r), to8(g), to8(b)
	}
	return out, nil
}

// luma returns the Y of every pixel.
func luma(img *preprocess.Image) []float64 {
	out := make([]float64, img.Width*img.Height)
	for i := range out {
		out[i], _, _ = rgbToYUV(float64(img.Pix[3*i]), float64(img.Pix[3*i+1]), float64(img.Pix[3*i+2]))
	}
	return out
}

func grey(w, h int, y []float64) *preprocess.Image {
	out := preprocess.NewImage(w, h)
	for i, v := range y {
		g := to8(v)
		out.Pix[3*i], out.Pix[3*i+1], out.Pix[3*i+2] = g, g, g
	}
	return out
}

// Luminance returns the image's luminance Y as a grey RGB image (Y in all three
// channels), the input of luminance-only transfer.
func Luminance(img *preprocess.Image) *preprocess.Image {
	return grey(img.Width, img.Height, luma(img))
}

func meanStd(v []float64) (mean, std float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

// MatchLuminance returns style's luminance as a grey image, shifted and scaled to
// the mean and standard deviation of content's luminance (Gatys et al. 2016,
// section 2.1: L_s' = σ_c / σ_s (L_s − μ_s) + μ_c). A style of one flat grey
// (σ_s = 0) becomes content's mean. The images may differ in size.
func MatchLuminance(style, content *preprocess.Image) *preprocess.Image {
	ls := luma(style)
	ms, ss := meanStd(ls)
	mc, sc := meanStd(luma(content))
	scale := 0.0
	if ss > 0 {
		scale = sc / ss
	}
	for i, v := range ls {
		ls[i] = scale*(v-ms) + mc
	}
	return grey(style.Width, style.Height, ls)
}

// histogramRidge is added to the diagonal of each colour covariance (in 8-bit units
// squared) so that a flat or two-colour image still has a Cholesky factor; it is
// far below any visible spread (a standard deviation of 0.03 levels).
const histogramRidge = 1e-3

// MatchHistogram returns style with its colours transformed to content's colour
// mean and covariance (Gatys et al. 2016, section 2.2, with the Cholesky
// factors): p' = L_c L_s⁻¹ (p − μ_s) + μ_c for every pixel p of style, where
// L L^T is each image's RGB covariance. The images may differ in size.
func MatchHistogram(style, content *preprocess.Image) *preprocess.Image {
	ms, cs := colorStats(style)
	mc, cc := colorStats(content)
	ls, lc := cholesky3(cs), cholesky3(cc)
	a := mul3(lc, inverseLower3(ls))
	out := preprocess.NewImage(style.Width, style.Height)
	for i := 0; i < len(out.Pix); i += 3 {
		p := [3]float64{float64(style.Pix[i]) - ms[0], float64(style.Pix[i+1]) - ms[1], float64(style.Pix[i+2]) - ms[2]}
		for c := range 3 {
			out.Pix[i+c] = to8(a[c][0]*p[0] + a[c][1]*p[1] + a[c][2]*p[2] + mc[c])
		}
	}
	return out
}

type mat3 [3][3]float64

func colorStats(img *preprocess.Image) (mean [3]float64, cov mat3) {
	n := float64(img.Width * img.Height)
	for i := 0; i < len(img.Pix); i += 3 {
		for c := range 3 {
			mean[c] += float64(img.Pix[i+c])
		}
	}
	for c := range 3 {
		mean[c] /= n
	}
	for i := 0; i < len(img.Pix); i += 3 {
		for r := range 3 {
			for c := range 3 {
				cov[r][c] += (float64(img.Pix[i+r]) - mean[r]) * (float64(img.Pix[i+c]) - mean[c])
			}
		}
	}
	for r := range 3 {
		for c := range 3 {
			cov[r][c] /= n
		}
		cov[r][r] += histogramRidge
	}
	return mean, cov
}

// cholesky3 returns the lower-triangular L with L L^T = a, for a symmetric
// positive definite a.
func cholesky3(a mat3) mat3 {
	var l mat3
	for i := range 3 {
		for j := 0; j <= i; j++ {
			s := a[i][j]
			for k := range j {
				s -= l[i][k] * l[j][k]
			}
			if i == j {
				l[i][i] = math.Sqrt(math.Max(s, histogramRidge))
			} else {
				l[i][j] = s / l[j][j]
			}
		}
	}
	return l
}

func inverseLower3(l mat3) mat3 {
	var inv mat3
	for i := range 3 {
		inv[i][i] = 1 / l[i][i]
		for j := range i {
			s := 0.0
			for k := j; k < i; k++ {
				s += l[i][k] * inv[k][j]
			}
			inv[i][j] = -s / l[i][i]
		}
	}
	return inv
}

func mul3(a, b mat3) mat3 {
	var c mat3
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				c[i][j] += a[i][k] * b[k][j]
			}
		}
	}
	return c
}

// Still is true where the luminance of a and b (the same size) differs by less
// than threshold of 255, there and at the eight neighbours: the pixels of a
// frame that did not change from the frame before. Video's temporal term and
// the feed-forward clip's hold keep the previous result there.
func Still(a, b *preprocess.Image, threshold int) []bool {
	la, lb := Luminance(a), Luminance(b)
	w, h := a.Width, a.Height
	moved := make([]bool, w*h)
	for i := range moved {
		d := int(la.Pix[3*i]) - int(lb.Pix[3*i])
		moved[i] = d >= threshold || -d >= threshold
	}
	still := make([]bool, w*h)
	for y := range h {
		for x := range w {
			s := true
			for dy := -1; dy <= 1 && s; dy++ {
				for dx := -1; dx <= 1; dx++ {
					yy, xx := y+dy, x+dx
					if yy >= 0 && yy < h && xx >= 0 && xx < w && moved[yy*w+xx] {
						s = false
						break
					}
				}
			}
			still[y*w+x] = s
		}
	}
	return still
}
