package tfgraph

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	corepb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestParseSavedModel: the index of saved_model.pb holds what a full decode
// does: the MetaGraphDef less its graph, every node, every function (by name,
// its bytes decoding to the library's FunctionDef) and every gradient.
func TestParseSavedModel(t *testing.T) {
	for _, dir := range []string{tinyModel, vggModelDir(t)} {
		raw, err := os.ReadFile(filepath.Join(dir, "saved_model.pb"))
		if err != nil {
			t.Fatal(err)
		}
		var sm corepb.SavedModel
		if err := proto.Unmarshal(raw, &sm); err != nil {
			t.Fatal(err)
		}
		got, err := parseSavedModel(raw)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(sm.GetMetaGraphs()) {
			t.Fatalf("%s: %d MetaGraphs, want %d", dir, len(got), len(sm.GetMetaGraphs()))
		}
		for i, want := range sm.GetMetaGraphs() {
			g := want.GetGraphDef()
			rest := proto.Clone(want).(*corepb.MetaGraphDef)
			rest.GraphDef = nil
			if !proto.Equal(rest, got[i].def) {
				t.Errorf("%s: MetaGraphDef less its graph differs (-want +got):\n%s", dir, cmp.Diff(rest, got[i].def, protocmp.Transform()))
			}
			idx := got[i].graph
			if len(idx.order) != len(g.GetNode()) || len(idx.nodes) != len(g.GetNode()) {
				t.Errorf("%s: %d nodes indexed, want %d", dir, len(idx.order), len(g.GetNode()))
			}
			for j, n := range g.GetNode() {
				if j < len(idx.order) && idx.order[j] != n.GetName() {
					t.Errorf("%s: node %d is %q, want %q", dir, j, idx.order[j], n.GetName())
				}
				if !proto.Equal(idx.nodes[n.GetName()], n) {
					t.Errorf("%s: node %q differs", dir, n.GetName())
				}
			}
			lib := g.GetLibrary()
			if len(idx.functions) != len(lib.GetFunction()) {
				t.Errorf("%s: %d functions indexed, want %d", dir, len(idx.functions), len(lib.GetFunction()))
			}
			// Each function's bytes have its encoded size; every 16th decodes to it
			// (decoding all of the style model's 4,708 takes seconds).
			for j, f := range lib.GetFunction() {
				name := f.GetSignature().GetName()
				b, ok := idx.functions[name]
				if !ok || len(b) != proto.Size(f) {
					t.Errorf("%s: function %q: indexed %t, %d bytes, want %d", dir, name, ok, len(b), proto.Size(f))
					continue
				}
				if j%16 == 0 {
					decoded := f.ProtoReflect().New().Interface()
					if err := proto.Unmarshal(b, decoded); err != nil || !proto.Equal(decoded, f) {
						t.Errorf("%s: function %q: indexed bytes decode to another function (%v)", dir, name, err)
					}
				}
			}
			if len(idx.gradients) != len(lib.GetGradient()) {
				t.Errorf("%s: %d gradients indexed, want %d", dir, len(idx.gradients), len(lib.GetGradient()))
			}
			for _, gd := range lib.GetGradient() {
				if !proto.Equal(idx.gradients[gd.GetFunctionName()], gd) {
					t.Errorf("%s: gradient of %q differs", dir, gd.GetFunctionName())
				}
			}
		}
	}
}

// TestLoadImportsOnFirstRun: Load imports no signature's nodes; a run imports
// that signature's and no other's.
func TestLoadImportsOnFirstRun(t *testing.T) {
	m := loadTiny(t, &Options{DisableGPU: true})
	node := func(sig, out string) string {
		s, err := m.lookup(sig)
		if err != nil {
			t.Fatal(err)
		}
		name, _, _, err := tensorNode(s.def.GetOutputs()[out].GetName())
		if err != nil {
			t.Fatal(err)
		}
		return name
	}
	affine, fixed := node("affine", "y"), node("fixed", "t")
	if m.graph.Operation(affine) != nil || m.graph.Operation(fixed) != nil {
		t.Fatalf("after Load the graph has %q or %q; no signature has run", affine, fixed)
	}
	if _, err := m.Run("fixed", map[string]*Tensor{"m": NewTensor(2, 2)}); err != nil {
		t.Fatal(err)
	}
	if m.graph.Operation(fixed) == nil {
		t.Errorf("after running fixed the graph lacks its %q", fixed)
	}
	if m.graph.Operation(affine) != nil {
		t.Errorf("running fixed imported affine's %q", affine)
	}
	out, err := m.Run("affine", map[string]*Tensor{"x": {Shape: []int64{1, 3}, Data: []float32{1, 2, 3}}, "w": Scalar(10)})
	if err != nil {
		t.Fatal(err)
	}
	if got := out["y"].Data; !cmp.Equal(got, []float32{11, 21, 31}) {
		t.Errorf("affine after fixed: y = %v, want [11 21 31]", got)
	}
}

// TestLoadImportsOnlyWhatRuns: on the style model, Load imports the functions
// that restore the variables, and running the notebook's fast graph adds its
// own: a small part of the library, which holds every signature's VGG16.
func TestLoadImportsOnlyWhatRuns(t *testing.T) {
	dir := vggModelDir(t)
	m, err := Load(dir, &Options{DisableGPU: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	total := len(m.imports.index.functions)
	atLoad := len(m.imports.functions)
	if atLoad == 0 || atLoad > 4 {
		t.Errorf("Load imported %d of the library's %d functions; want the restore function and the few it calls", atLoad, total)
	}
	in := map[string]*Tensor{
		"content": NewTensor(1, 32, 32, 3), "style": NewTensor(1, 32, 32, 3),
		"content_weights": NewTensor(13), "style_weights": NewTensor(13),
	}
	if _, err := m.Run("notebook_fast_targets", in); err != nil {
		t.Fatal(err)
	}
	after := len(m.imports.functions)
	if after <= atLoad || after > total/5 {
		t.Errorf("after notebook_fast_targets %d of %d functions are imported (%d at Load); want a few more than at Load, at most a fifth of the library", after, total, atLoad)
	}
	t.Logf("functions imported: %d at Load, %d after notebook_fast_targets, of %d", atLoad, after, total)
}

// TestConcurrentFirstRuns: signatures run for the first time from several
// goroutines at once each import once and give their results.
func TestConcurrentFirstRuns(t *testing.T) {
	m := loadTiny(t, &Options{DisableGPU: true})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = m.Run("fixed", map[string]*Tensor{"m": NewTensor(2, 2)})
			} else {
				_, err = m.Run("image", map[string]*Tensor{"image": NewTensor(1, 4, 4, 3)})
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
