package transfer

import (
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/tfgraph"
)

func TestChoosePrecision(t *testing.T) {
	cpuOnly := []tfgraph.Device{{Name: "/job:localhost/replica:0/task:0/device:CPU:0", Type: "CPU"}}
	withGPU := append(cpuOnly, tfgraph.Device{Name: "/job:localhost/replica:0/task:0/device:GPU:0", Type: "GPU"})
	plain := CPUFeatures{}
	avx := CPUFeatures{AVX512BF16: true}
	amx := CPUFeatures{AMXBF16: true}
	settings := func(p Precision, change func(*Settings)) *Settings {
		s := Defaults()
		s.Precision = p
		if change != nil {
			change(&s)
		}
		return &s
	}
	for _, c := range []struct {
		name    string
		s       *Settings
		masked  bool
		devices []tfgraph.Device
		cpu     CPUFeatures
		want    Precision
		msg     string // a part of the message; "" for none
	}{
		{"fp32 stays", settings(PrecisionFP32, nil), false, withGPU, amx, PrecisionFP32, ""},
		{"bf16 where it pays", settings(PrecisionBF16, nil), false, cpuOnly, avx, PrecisionBF16, ""},
		{"bf16 on a GPU", settings(PrecisionBF16, nil), false, withGPU, plain, PrecisionBF16, ""},
		{"bf16 without it still runs", settings(PrecisionBF16, nil), false, cpuOnly, plain, PrecisionBF16,
			"precision bf16: the CPU has neither AVX512-BF16 nor AMX-BF16 and TensorFlow sees no GPU, so TensorFlow emulates bfloat16: expect about 8 to 9.5 times"},
		{"auto, AVX512-BF16", settings(PrecisionAuto, nil), false, cpuOnly, avx, PrecisionBF16, "precision auto: bf16: the CPU has AVX512-BF16"},
		{"auto, AMX", settings(PrecisionAuto, nil), false, cpuOnly, amx, PrecisionBF16, "precision auto: bf16: the CPU has AMX-BF16"},
		{"auto, GPU", settings(PrecisionAuto, nil), false, withGPU, plain, PrecisionBF16, "precision auto: bf16: TensorFlow sees a GPU"},
		{"auto, neither", settings(PrecisionAuto, nil), false, cpuOnly, plain, PrecisionFP32,
			"precision auto: fp32: the CPU has neither AVX512-BF16 nor AMX-BF16 and TensorFlow sees no GPU, where bf16 takes about 8 to 9.5 times"},
		{"auto, recipe", settings(PrecisionAuto, func(s *Settings) { s.Graph = GraphRecipe }), false, cpuOnly, amx, PrecisionFP32, "bf16 runs the fast graph only"},
		{"auto, avg pooling", settings(PrecisionAuto, func(s *Settings) { s.Pooling = PoolingAvg }), false, cpuOnly, amx, PrecisionFP32, "with max pooling"},
		{"auto, masks", settings(PrecisionAuto, nil), true, cpuOnly, amx, PrecisionFP32, "no style masks"},
		{"auto, tiles", settings(PrecisionAuto, func(s *Settings) { s.Tile = TileAuto }), false, cpuOnly, amx, PrecisionFP32, "no tiles"},
	} {
		got, msg := ChoosePrecision(nil, c.s, c.masked, c.devices, c.cpu)
		if got != c.want {
			t.Errorf("%s: %s, want %s (%s)", c.name, got, c.want, msg)
		}
		if (c.msg == "") != (msg == "") || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: message %q, want one containing %q", c.name, msg, c.msg)
		}
	}
}

// TestAutoPrecisionRuns: --precision auto on the style model runs the
// precision it chooses for this machine and says it once, coarse to fine
// included.
func TestAutoPrecisionRuns(t *testing.T) {
	m := testModel(t)
	s := Defaults()
	s.Width, s.Height, s.Iterations, s.MaxFun = 32, 32, 1, 2
	s.Scales = []int{16}
	s.Precision = PrecisionAuto
	var notices []string
	in := Inputs{Content: testImage(32, 32, 1), Style: testImage(32, 32, 2)}
	res, err := Run(t.Context(), m, in, s, Observer{Notice: func(msg string) { notices = append(notices, msg) }})
	if err != nil {
		t.Fatal(err)
	}
	devices, err := m.Devices()
	if err != nil {
		t.Fatal(err)
	}
	want, msg := ChoosePrecision(m, &s, false, devices, HostCPU())
	if len(notices) != 1 || notices[0] != msg {
		t.Errorf("notices %q, want once %q", notices, msg)
	}
	if len(res.Iterations) != 2 {
		t.Errorf("%d iterations, want 2 (one per scale)", len(res.Iterations))
	}
	t.Logf("this machine: %s (%s)", want, msg)
}
