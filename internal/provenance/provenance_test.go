package provenance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModelID(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	id := func() string {
		t.Helper()
		s, err := ModelID(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	write("saved_model.pb", "graph")
	write("variables/variables.index", "index")
	write("neuralstyle.json", `{"exported_at": "09:00"}`)
	first := id()
	write("neuralstyle.json", `{"exported_at": "10:00"}`)
	if id() != first {
		t.Error("the exporter's record changes the model's ID")
	}
	write("variables/variables.index", "indey")
	if id() == first {
		t.Error("other variables keep the model's ID")
	}
	write("variables/variables.index", "index")
	if id() != first {
		t.Error("ID not reproducible")
	}
	if err := os.Rename(filepath.Join(dir, "variables/variables.index"), filepath.Join(dir, "variables/other.index")); err != nil {
		t.Fatal(err)
	}
	if id() == first {
		t.Error("a renamed file keeps the model's ID")
	}
	if _, err := ModelID(filepath.Join(dir, "none")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing model: %v", err)
	}
}
