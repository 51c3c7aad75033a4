package transfer

import (
	"strings"
	"testing"
)

// TestValidateAll: Validate reports every problem, one line each, each starting
// with its setting's name.
func TestValidateAll(t *testing.T) {
	s := Defaults()
	s.Width, s.ContentWeight, s.Iterations, s.Graph, s.StyleLayers = 4, -1, 0, "slow", []string{"block1_conv2", "block1_conv2"}
	err := s.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, prefix := range []string{"size 4x512 is too small", "content-weight: -1", "style-layers: block1_conv2 is listed twice", "iterations: 0", `graph "slow"`} {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, prefix)
		}
		if !found {
			t.Errorf("no line starts with %q:\n%v", prefix, err)
		}
	}
	if len(lines) != 5 {
		t.Errorf("%d lines, want 5:\n%v", len(lines), err)
	}
}
