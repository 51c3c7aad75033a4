package fastnet

import (
	"strings"
	"testing"
)

// TestBF16 paints one photo with the convolutions in bfloat16 and in float32:
// the pictures differ (the setting is taken) by no more than bf16Bound (max)
// and bf16MeanBound (mean) of 255, and FP32 again gives float32's picture.
// Measured (tensorflow-cpu 2.18.1, the AMX Xeon of docs/feedforward.md, 256x200,
// styles 3 and 16 blended): max 11, mean 0.50 of 255 (bfloat16's 8-bit
// mantissa on the convolutions' inputs and weights; the sums stay float32).
func TestBF16(t *testing.T) {
	const bf16Bound, bf16MeanBound = 20, 1.0 // of 255; about twice the measured
	m := loadModel(t)
	var s Styles
	s[3], s[16] = 0.5, 0.5
	img := photo(t, 256, 200)
	fp32, err := m.Multistyle(img, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetPrecision(BF16); err != nil {
		t.Fatal(err)
	}
	bf16, err := m.Multistyle(img, s)
	if err != nil {
		t.Fatal(err)
	}
	worst, sum := 0, 0
	for i := range fp32.Pix {
		d := int(fp32.Pix[i]) - int(bf16.Pix[i])
		worst = max(worst, d, -d)
		sum += max(d, -d)
	}
	mean := float64(sum) / float64(len(fp32.Pix))
	t.Logf("bf16 against fp32: max %d, mean %.3f of 255", worst, mean)
	if worst == 0 {
		t.Error("bf16 gave float32's picture: the setting was not taken")
	}
	if worst > bf16Bound || mean > bf16MeanBound {
		t.Errorf("bf16 differs from fp32 by max %d, mean %.3f of 255 (bounds %d, %.1f)", worst, mean, bf16Bound, bf16MeanBound)
	}
	if err := m.SetPrecision(FP32); err != nil {
		t.Fatal(err)
	}
	again, err := m.Multistyle(img, s)
	if err != nil {
		t.Fatal(err)
	}
	if string(again.Pix) != string(fp32.Pix) {
		t.Error("FP32 after BF16: not float32's picture")
	}
	if err := m.SetPrecision(Precision(2)); err == nil || !strings.Contains(err.Error(), "want FP32 or BF16") {
		t.Errorf("precision 2: %v", err)
	}
}
