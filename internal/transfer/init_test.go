package transfer

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/testmodels"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/color"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/tfgraph"
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

// fastnetsModel loads make fastnets' export (NEURALSTYLE_FASTNETS, which make
// test sets, or build/fastnets/model); a plain go test without it skips.
func fastnetsModel(t *testing.T) *fastnet.Model {
	t.Helper()
	dir := testmodels.FastNets()
	if dir == "" {
		t.Skip("no feed-forward model: run make fastnets (make test does)")
	}
	m, err := fastnet.Load(dir, &tfgraph.Options{DisableGPU: true, IntraOpThreads: 1, InterOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestInitStylized: --init stylized starts from the arbitrary network's
// picture of the content resized to the run's size: the first evaluation's
// loss equals, bit for bit, that of a run given that picture as its starting
// image (Inputs.Init, preprocessed as every start is), and differs from the
// content start's. Then, with the colour control that turns the content grey,
// the network paints the grey content the loss sees.
func TestInitStylized(t *testing.T) {
	t.Parallel()
	model := testModel(t)
	net := fastnetsModel(t)
	in := referenceInputs(t)
	s := Defaults()
	s.Width, s.Height, s.Iterations, s.MaxFun = 40, 32, 1, 2
	firstLoss := func(in Inputs, s Settings) float32 {
		t.Helper()
		var first float32
		obs := Observer{Evaluation: func(i, e int, tm Terms, _ time.Duration) {
			if i == 0 && e == 1 {
				first = tm.Loss
			}
		}}
		if _, err := Run(context.Background(), model, in, s, obs); err != nil {
			t.Fatal(err)
		}
		return first
	}
	stylized := s
	stylized.Init = InitStylized
	withNet := in
	withNet.Stylizer = net
	got := firstLoss(withNet, stylized)

	resized, err := resample.Resize(in.Content, s.Width, s.Height, s.Resample)
	if err != nil {
		t.Fatal(err)
	}
	pic, err := net.Stylize(resized, in.Style, s.Resample)
	if err != nil {
		t.Fatal(err)
	}
	given := in
	given.Init = pic
	fromImage := s
	fromImage.Init = InitImage
	if want := firstLoss(given, fromImage); got != want {
		t.Errorf("init stylized: first loss %v, want %v, the loss of the network's picture given as the start", got, want)
	}
	fromContent := s
	fromContent.Init = InitContent
	if c := firstLoss(in, fromContent); c == got {
		t.Errorf("init stylized: first loss %v, the content start's", got)
	}

	// The grey content under --color-transfer luminance.
	stylized.ColorTransfer = ColorLuminance
	rec := &recordingStylizer{net: net}
	withNet.Stylizer = rec
	firstLoss(withNet, stylized)
	if rec.content == nil || !slices.Equal(rec.content.Pix, color.Luminance(resized).Pix) {
		t.Error("init stylized with color-transfer luminance: the network was not given the grey content the loss sees")
	}
}

// recordingStylizer keeps the content it was asked to paint.
type recordingStylizer struct {
	net     Stylizer
	content *preprocess.Image
}

func (r *recordingStylizer) Stylize(content, style *preprocess.Image, f resample.Filter) (*preprocess.Image, error) {
	r.content = content
	return r.net.Stylize(content, style, f)
}

// wrongSize paints a picture of another size than it is given.
type wrongSize struct{}

func (wrongSize) Stylize(content, style *preprocess.Image, f resample.Filter) (*preprocess.Image, error) {
	return preprocess.NewImage(content.Width+4, content.Height), nil
}

// TestInitStylizedErrors: init stylized with no network, with several style
// images, or with a network that paints the wrong size fails with a message
// saying so; the first two before any evaluation.
func TestInitStylizedErrors(t *testing.T) {
	t.Parallel()
	model := testModel(t)
	in := referenceInputs(t)
	s := Defaults()
	s.Width, s.Height, s.Iterations, s.MaxFun = 32, 32, 1, 2
	s.Init = InitStylized
	evaluated := false
	obs := Observer{Evaluation: func(int, int, Terms, time.Duration) { evaluated = true }}
	two := Inputs{Content: in.Content, Styles: []*preprocess.Image{in.Style, in.Style}, Stylizer: wrongSize{}}
	sized := in
	sized.Stylizer = wrongSize{}
	for _, c := range []struct {
		in   Inputs
		want string
	}{
		{in, "init stylized: no feed-forward network given to paint the start (make fastnets)"},
		{two, "init stylized: the feed-forward network paints in one style, and 2 style images are given"},
		{sized, "stylized start: the network painted 36x32 for a 32x32 run"},
	} {
		_, err := Run(context.Background(), model, c.in, s, obs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one saying %q", err, c.want)
		}
	}
	if evaluated {
		t.Error("a refused run evaluated the loss")
	}
}
