package transfer

import (
	"fmt"

	"golang.org/x/sys/cpu"

	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// CPUFeatures are the CPU's bfloat16 instructions, which make TensorFlow's
// bfloat16 convolutions faster than float32 ones. Without them TensorFlow
// emulates bfloat16 and the convolutions are slower instead: measured 8.2x to
// 9.5x float32's time per evaluation on an AVX2 AMD EPYC (README, Speed).
type CPUFeatures struct {
	AVX512BF16 bool // AVX512_BF16
	AMXBF16    bool // AMX-BF16
}

// HostCPU reads this machine's CPU features.
func HostCPU() CPUFeatures {
	return CPUFeatures{AVX512BF16: cpu.X86.HasAVX512BF16, AMXBF16: cpu.X86.HasAMXBF16}
}

// HasBF16 reports whether the CPU has native bfloat16 arithmetic.
func (c CPUFeatures) HasBF16() bool { return c.AVX512BF16 || c.AMXBF16 }

// bf16Slowdown is what bfloat16 costs where the CPU lacks it (see CPUFeatures).
const bf16Slowdown = "8 to 9.5 times float32's time per evaluation"

// ChoosePrecision resolves s.Precision for a run on devices with cpu: auto
// becomes bf16 where the run can use the bfloat16 signatures (the fast graph,
// max pooling, no style masks, no tiles; a model that has them) and TensorFlow
// sees a GPU or the CPU has AVX512-BF16 or AMX-BF16, fp32 otherwise. fp32 and
// bf16 stay as asked. The message says what auto chose and why, or warns that
// bf16 on a CPU without bfloat16 instructions is slower; it is empty for fp32
// asked for, and for bf16 where it pays.
func ChoosePrecision(m *tfgraph.Model, s *Settings, masked bool, devices []tfgraph.Device, c CPUFeatures) (Precision, string) {
	gpu := false
	for _, d := range devices {
		if d.Type == "GPU" {
			gpu = true
		}
	}
	hardware := "the CPU has neither AVX512-BF16 nor AMX-BF16 and TensorFlow sees no GPU"
	switch {
	case gpu:
		hardware = "TensorFlow sees a GPU"
	case c.AMXBF16 && c.AVX512BF16:
		hardware = "the CPU has AVX512-BF16 and AMX-BF16"
	case c.AMXBF16:
		hardware = "the CPU has AMX-BF16"
	case c.AVX512BF16:
		hardware = "the CPU has AVX512-BF16"
	}
	pays := gpu || c.HasBF16()
	switch s.Precision {
	case PrecisionBF16:
		if pays {
			return PrecisionBF16, ""
		}
		return PrecisionBF16, fmt.Sprintf("precision bf16: %s, so TensorFlow emulates bfloat16: expect about %s (precision auto picks fp32 here)", hardware, bf16Slowdown)
	case PrecisionAuto:
	default:
		return s.Precision, ""
	}
	if s.Graph != GraphFast || s.Pooling != PoolingMax || masked || s.Tile != 0 {
		return PrecisionFP32, "precision auto: fp32: bf16 runs the fast graph only, with max pooling, no style masks and no tiles"
	}
	if m != nil {
		for _, name := range []string{sigFastTargets + bf16Suffix, sigFast + bf16Suffix} {
			if _, err := m.Signature(name); err != nil {
				return PrecisionFP32, fmt.Sprintf("precision auto: fp32: %s has no bfloat16 signatures (export it again for them)", m.Dir())
			}
		}
	}
	if pays {
		return PrecisionBF16, "precision auto: bf16: " + hardware
	}
	return PrecisionFP32, fmt.Sprintf("precision auto: fp32: %s, where bf16 takes about %s", hardware, bf16Slowdown)
}
