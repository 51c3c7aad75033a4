package transfer

import (
	"context"
	"slices"
	"testing"
)

// TestInputsInit: a run given the content image as Inputs.Init starts where
// --init content starts, so both give the same bits; and a different starting
// image gives a different result (the field is used).
func TestInputsInit(t *testing.T) {
	t.Parallel()
	model := testModel(t)
	in := referenceInputs(t)
	s := Defaults()
	s.Width, s.Height, s.Iterations, s.MaxFun = 32, 32, 1, 2
	run := func(in Inputs, s Settings) []float64 {
		t.Helper()
		res, err := Run(context.Background(), model, in, s, Observer{})
		if err != nil {
			t.Fatal(err)
		}
		return res.X
	}
	fromContent := s
	fromContent.Init = InitContent
	want := run(in, fromContent)
	given := in
	given.Init = in.Content
	s.Init = InitImage
	if got := run(given, s); !slices.Equal(got, want) {
		t.Error("Inputs.Init = the content image: result differs from --init content")
	}
	given.Init = in.Style
	if got := run(given, s); slices.Equal(got, want) {
		t.Error("Inputs.Init = the style image: same result as from the content image")
	}
}
