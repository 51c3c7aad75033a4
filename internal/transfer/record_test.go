package transfer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
)

// TestCheckRecord: the exporter's record of the test model agrees with Go's
// copies of its constants, and a record that differs in any of them is refused
// with what differs.
func TestCheckRecord(t *testing.T) {
	t.Parallel()
	dir, err := testmodels.VGG16()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkRecord(dir); err != nil {
		t.Errorf("the test model's own record: %v", err)
	}

	raw, err := os.ReadFile(filepath.Join(dir, recordFile))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(r map[string]any)
		want string // "" for no error
	}{
		{"as exported", func(map[string]any) {}, ""},
		{"min side", func(r map[string]any) { r["min_side"] = 32 }, "min_side 32, want 16"},
		{"layer order", func(r map[string]any) {
			l := r["layers"].([]any)
			l[0], l[1] = l[1], l[0]
		}, "layers [block1_conv2 block1_conv1"},
		{"content layer", func(r map[string]any) {
			r["notebook"].(map[string]any)["content_layer"] = "block4_conv2"
		}, "notebook layers block4_conv2"},
		{"style layers", func(r map[string]any) {
			r["notebook"].(map[string]any)["style_layers"] = []string{"block1_conv1"}
		}, "and [block1_conv1], want"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var r map[string]any
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatal(err)
			}
			c.edit(r)
			out, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, recordFile), out, 0o644); err != nil {
				t.Fatal(err)
			}
			err = checkRecord(d)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "make model")):
				t.Errorf("error %v, want one containing %q and saying make model", err, c.want)
			}
		})
	}

	t.Run("no record", func(t *testing.T) {
		if err := checkRecord(t.TempDir()); err != nil {
			t.Errorf("a model without neuralstyle.json: %v, want no error", err)
		}
	})
	t.Run("not JSON", func(t *testing.T) {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, recordFile), []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := checkRecord(d); err == nil || !strings.Contains(err.Error(), recordFile) {
			t.Errorf("a broken record: %v, want an error naming %s", err, recordFile)
		}
	})
}
