package transfer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// recordFile is the exporter's record beside saved_model.pb (savedmodel/export.py
// writes it from savedmodel/stylemodel.py's constants).
const recordFile = "neuralstyle.json"

// modelRecord is the part of the record that Go also knows: the conv layers in
// network order, the smallest image side and the notebook's layers. Go keeps its
// own copies (Layers, minImageSide, NotebookContentLayer, NotebookStyleLayers)
// because sizes and layers are checked before any model loads; checkRecord holds
// them to the record when a model loads, so the two cannot drift apart unseen.
type modelRecord struct {
	Layers []struct {
		Name string `json:"name"`
	} `json:"layers"`
	MinSide  int `json:"min_side"`
	Notebook struct {
		ContentLayer string   `json:"content_layer"`
		StyleLayers  []string `json:"style_layers"`
	} `json:"notebook"`
}

// checkRecord reports where dir's record disagrees with Go's copies of the
// model's constants. A model without a record passes: its signatures are checked
// anyway, and the record only says what the exporter built.
func checkRecord(dir string) error {
	path := filepath.Join(dir, recordFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var r modelRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	layers := make([]string, len(r.Layers))
	for i, l := range r.Layers {
		layers[i] = l.Name
	}
	var diffs []string
	if !slices.Equal(layers, Layers) {
		diffs = append(diffs, fmt.Sprintf("layers %v, want %v", layers, Layers))
	}
	if r.MinSide != minImageSide {
		diffs = append(diffs, fmt.Sprintf("min_side %d, want %d", r.MinSide, minImageSide))
	}
	if r.Notebook.ContentLayer != NotebookContentLayer || !slices.Equal(r.Notebook.StyleLayers, NotebookStyleLayers) {
		diffs = append(diffs, fmt.Sprintf("notebook layers %s and %v, want %s and %v",
			r.Notebook.ContentLayer, r.Notebook.StyleLayers, NotebookContentLayer, NotebookStyleLayers))
	}
	if diffs != nil {
		return fmt.Errorf("%s: not the style model this neuralstyle was built for: %s; export it again (make model)",
			path, strings.Join(diffs, "; "))
	}
	return nil
}
