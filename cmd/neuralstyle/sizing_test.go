package main

import "testing"

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
