package vggtensor

import (
	"fmt"
	"strings"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// Mode is a VGG mean-subtraction convention for Preprocess and Deprocess. The zero
// value is ModeRecipe, the notebook's.
type Mode int

const (
	// ModeRecipe is the notebook's arithmetic, its quirk included: the ImageNet
	// means of B, G, R (103.939, 116.779, 123.68) are subtracted from channels
	// 0, 1, 2 while the array is still RGB, and only then are the channels
	// reversed to BGR. So red is centred with the blue mean and blue with the
	// red mean. Deprocessing reverses the channels and adds the same means to
	// channels 0, 1, 2, which exactly inverts it.
	ModeRecipe Mode = iota
	// ModeCaffe is Keras' preprocess_input in "caffe" mode: reverse RGB to BGR,
	// then subtract 103.939, 116.779, 123.68 from B, G, R. Deprocessing adds
	// the means back to B, G, R and reverses to RGB.
	ModeCaffe
)

// vggMeans are the ImageNet channel means in B, G, R order, as Keras writes them.
var vggMeans = [3]float64{103.939, 116.779, 123.68}

func (m Mode) String() string {
	switch m {
	case ModeRecipe:
		return "recipe"
	case ModeCaffe:
		return "caffe"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode returns the mode named by s (case-insensitive): recipe or caffe.
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{ModeRecipe, ModeCaffe} {
		if strings.EqualFold(s, m.String()) {
			return m, nil
		}
	}
	return 0, fmt.Errorf("vggtensor: unknown VGG preprocessing mode %q (want recipe or caffe)", s)
}

// PixelBounds returns, for a network input of n values (shape 1 x H x W x 3) in
// mode m, the bounds of each value that keep its pixel within 0..255 once
// Deprocess adds the mean back: -mean and 255 - mean of its channel.
func PixelBounds(n int, m Mode) (lower, upper []float64, err error) {
	means, err := m.outMeans()
	if err != nil {
		return nil, nil, err
	}
	lower, upper = make([]float64, n), make([]float64, n)
	for i := range lower {
		lower[i], upper[i] = -means[i%3], 255-means[i%3]
	}
	return lower, upper, nil
}

// outMeans returns the means that Preprocess subtracts from, and Deprocess adds
// to, the network's channels 0, 1, 2 (B, G, R) in mode m.
func (m Mode) outMeans() ([3]float64, error) {
	switch m {
	case ModeRecipe:
		// R - mean[0] ends up in channel 2, B - mean[2] in channel 0.
		return [3]float64{vggMeans[2], vggMeans[1], vggMeans[0]}, nil
	case ModeCaffe:
		return vggMeans, nil
	}
	return [3]float64{}, fmt.Errorf("vggtensor: unknown VGG preprocessing mode %v", m)
}

// Preprocess returns the network input for img: a float32 array of shape
// (1, Height, Width, 3) in row-major order, channels B, G, R, with the means of
// mode m subtracted. The values are NumPy's, bit for bit: the notebook subtracts
// Python floats from a float32 array, which NumPy does in float32 arithmetic
// (float32(pixel) - float32(mean)).
func Preprocess(img *preprocess.Image, m Mode) ([]float32, error) {
	if err := img.Check(); err != nil {
		return nil, fmt.Errorf("vggtensor: preprocess: %w", err)
	}
	means, err := m.outMeans()
	if err != nil {
		return nil, err
	}
	b, g, r := float32(means[0]), float32(means[1]), float32(means[2])
	out := make([]float32, len(img.Pix))
	for i := 0; i+2 < len(img.Pix); i += 3 {
		p := img.Pix[i : i+3 : i+3]
		o := out[i : i+3 : i+3]
		o[0] = float32(p[2]) - b
		o[1] = float32(p[1]) - g
		o[2] = float32(p[0]) - r
	}
	return out, nil
}

// Deprocess turns network-space data x of shape (1, h, w, 3) (channels B, G, R,
// means subtracted as in mode m) back into an image, as the notebook's
// deprocess_image does with the optimizer's float64 array: add the means in
// float64, clip to [0, 255] and truncate toward zero (NumPy's astype('uint8')).
// NaN becomes 0, as NumPy's cast gives on x86-64.
//
// Truncation makes the round trip Preprocess, float64, Deprocess lose one level
// on most red and blue values, in both modes: float32(103.939) and
// float32(123.68) are slightly above the float64 means, so p - float32(mean) +
// mean lands just below p. The notebook does the same (adding the means in
// float32 instead would give p back).
func Deprocess(x []float64, w, h int, m Mode) (*preprocess.Image, error) {
	means, err := m.outMeans()
	if err != nil {
		return nil, err
	}
	if err := checkTensorSize(len(x), w, h); err != nil {
		return nil, err
	}
	img := preprocess.NewImage(w, h)
	for i := 0; i+2 < len(x); i += 3 {
		v := x[i : i+3 : i+3]
		p := img.Pix[i : i+3 : i+3]
		p[0] = toUint8(v[2] + means[2])
		p[1] = toUint8(v[1] + means[1])
		p[2] = toUint8(v[0] + means[0])
	}
	return img, nil
}

// toUint8 is np.clip(v, 0, 255).astype('uint8').
func toUint8(v float64) uint8 {
	switch {
	case v != v: // NaN
		return 0
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v)
}

func checkTensorSize(n, w, h int) error {
	if err := preprocess.CheckSize(w, h, preprocess.DefaultMaxPixels); err != nil {
		return fmt.Errorf("vggtensor: deprocess: %w", err)
	}
	if n != 3*w*h {
		return fmt.Errorf("vggtensor: deprocess: %d values for a %dx%d image, want %d (shape 1x%dx%dx3)", n, w, h, 3*w*h, h, w)
	}
	return nil
}
