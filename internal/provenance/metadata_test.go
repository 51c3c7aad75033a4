package provenance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadMetadata: a missing folder, a folder without the record and a
// damaged record each get their own error, naming what and how to make it;
// a good record decodes.
func TestReadMetadata(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	damaged := filepath.Join(dir, "damaged")
	good := filepath.Join(dir, "good")
	for _, d := range []string{empty, damaged, good} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(damaged, MetadataFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(good, MetadataFile), []byte(`{"kind": "k"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ dir, want string }{
		{filepath.Join(dir, "absent"), "no thing at " + filepath.Join(dir, "absent") + ": make it"},
		{empty, empty + " has no neuralstyle.json, so it is not a thing: make it"},
		{damaged, filepath.Join(damaged, MetadataFile) + ": damaged ("},
	} {
		var v struct{ Kind string }
		if err := ReadMetadata(tt.dir, "thing", "make it", &v); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.dir, err, tt.want)
		}
	}
	var v struct{ Kind string }
	if err := ReadMetadata(good, "thing", "make it", &v); err != nil || v.Kind != "k" {
		t.Errorf("good record: %v, %+v", err, v)
	}
}
