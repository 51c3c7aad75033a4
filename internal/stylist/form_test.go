package stylist

import (
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// TestFormFields: the form offers every setting of a single transfer, and no
// file setting (uploads have their own fields) or video-only one (the temporal
// weight, which a single transfer refuses).
func TestFormFields(t *testing.T) {
	got := map[string]bool{}
	for _, f := range formFields(nil, nil) {
		got[f.Name] = true
	}
	for _, s := range transfer.Schema {
		want := s.Kind != transfer.KindFile && !s.VideoOnly && !s.SeveralStyles
		if got[s.Name] != want {
			t.Errorf("setting %s in the form: %v, want %v", s.Name, got[s.Name], want)
		}
	}
	if got["temporal-weight"] {
		t.Error("the form offers temporal-weight, which only video takes")
	}
	// The page takes one style image: blends and masks need several files.
	for _, name := range []string{"style-blend", "style-mask", "init-image"} {
		if got[name] {
			t.Errorf("the form offers %s, which needs files the page does not take", name)
		}
	}
}
