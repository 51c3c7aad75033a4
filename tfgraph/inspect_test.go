package tfgraph

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestScanSavedModel: streaming saved_model.pb past its graphs gives the
// MetaGraphDefs (less their graphs) that parseSavedModel does, and a file cut
// short inside a field is an error, never a shorter MetaGraph. (Its first 2
// bytes, saved_model_schema_version, are a whole SavedModel with no
// MetaGraph, which readMetaGraph refuses as such.)
func TestScanSavedModel(t *testing.T) {
	for _, dir := range []string{tinyModel, vggModelDir(t)} {
		path := filepath.Join(dir, "saved_model.pb")
		raw, err := os.ReadFile(path)
		must(t, err)
		want, err := parseSavedModel(raw)
		must(t, err)
		got, err := scanSavedModel(path)
		must(t, err)
		if len(got) != len(want) {
			t.Fatalf("%s: %d MetaGraphs, want %d", dir, len(got), len(want))
		}
		for i := range want {
			if !proto.Equal(want[i].def, got[i].def) {
				t.Errorf("%s: MetaGraphDef %d differs (-parse +scan):\n%s", dir, i, cmp.Diff(want[i].def, got[i].def, protocmp.Transform()))
			}
			if len(got[i].graph.nodes) != 0 || len(got[i].graph.functions) != 0 {
				t.Errorf("%s: the scan kept %d nodes and %d functions of the graph", dir, len(got[i].graph.nodes), len(got[i].graph.functions))
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(tinyModel, "saved_model.pb"))
	must(t, err)
	for _, n := range []int{1, 3, 100, len(raw) / 2, len(raw) - 1} {
		cut := filepath.Join(t.TempDir(), "saved_model.pb")
		must(t, os.WriteFile(cut, raw[:n], 0o644))
		if mgs, err := scanSavedModel(cut); err == nil {
			t.Errorf("saved_model.pb cut to %d of %d bytes: no error (%d MetaGraphs)", n, len(raw), len(mgs))
		}
	}
}
