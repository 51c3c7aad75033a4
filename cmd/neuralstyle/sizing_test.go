package main

import (
	"strings"
	"testing"
)

func TestParseBytes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint64
		bad  bool
	}{
		{"8GiB", 8 << 30, false},
		{"8G", 8 << 30, false},
		{"512 MiB", 512 << 20, false},
		{"1.5GB", 1_500_000_000, false},
		{"2000000000", 2_000_000_000, false},
		{"0", 0, true},
		{"-1G", 0, true},
		{"8 parsecs", 0, true},
		{"GiB", 0, true},
	} {
		got, err := parseBytes(tt.in)
		if tt.bad != (err != nil) || got != tt.want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d (error: %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// TestTransferDryRun: --dry-run prints the plan and stops before the model loads
// (the model path does not exist); --max-memory refuses with the estimate.
func TestTransferDryRun(t *testing.T) {
	content, style := "testdata/chelsea.jpg", "testdata/chelsea.jpg" // 226x150
	base := []string{"transfer", "--model", "/nonexistent/model", "--content", content, "--style", style, "--out", t.TempDir() + "/out.png", "--dry-run"}
	for _, tt := range []struct {
		args []string
		code int
		out  []string
		err  string
	}{
		// A limit given, so that the plan does not depend on this machine's free memory.
		{[]string{"--long-side", "1600", "--scales", "400,800", "--max-memory", "64GiB"}, 0,
			[]string{"size 1600x1062, style image 1600x1062\n", "scales (long side) 400 (10 iterations), 800 (10 iterations), 1600 (10 iterations)\n", "the whole image at once (no tiles)\n", "peak memory about "}, ""},
		{[]string{"--long-side", "1600", "--scales", "400,800", "--scale-iterations", "6,3", "--iterations", "1", "--max-memory", "64GiB"}, 0,
			[]string{"scales (long side) 400 (6 iterations), 800 (3 iterations), 1600 (1 iteration)\n"}, ""},
		{[]string{"--long-side", "1600", "--scales", "400,800", "--scale-iterations", "6"}, exitUsage, nil,
			"neuralstyle: --scale-iterations: 1 counts for 2 scales before the final size (long side 1600): want one each"},
		{[]string{"--size", "4096", "--tile", "512", "--max-memory", "1TiB"}, 0,
			[]string{"size 4096x4096", "tiles of 512x512 pixels plus a 96-pixel halo\n", "of 1.0 TiB available (--max-memory)\n"}, ""},
		{[]string{"--size", "2048", "--max-memory", "4GiB"}, exitFailure,
			[]string{"peak memory about "}, "neuralstyle: size 2048x2048 needs about "},
		{[]string{"--size", "2048", "--max-memory", "lots"}, exitUsage, nil, "neuralstyle: --max-memory \"lots\": want a size such as 8GiB"},
		// No tile fits: the plan printed is the smallest tile's, not "the
		// whole image at once ... about 0 bytes" (issue 28).
		{[]string{"--size", "8000", "--tile", "auto", "--max-memory", "4GiB"}, exitFailure,
			[]string{"size 8000x8000", "tiles of 16x16 pixels plus a 96-pixel halo\n", "peak memory about 62.5 GiB of 4.0 GiB available (--max-memory)\n"},
			"neuralstyle: size 8000x8000: even tiles of 16 pixels need about 62.5 GiB of memory, but 4.0 GiB is available (--max-memory): choose a smaller size"},
	} {
		code, out, errOut := neuralstyle(append(append([]string(nil), base...), tt.args...)...)
		if code != tt.code || !strings.HasPrefix(errOut, tt.err) || (tt.err == "" && errOut != "") {
			t.Errorf("%v: exit %d, stderr %q; want exit %d, stderr starting %q", tt.args, code, errOut, tt.code, tt.err)
		}
		for _, want := range tt.out {
			if !strings.Contains(out, want) {
				t.Errorf("%v: output lacks %q:\n%s", tt.args, want, out)
			}
		}
	}
}
