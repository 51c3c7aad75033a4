package stylist

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
	"github.com/neuralstyle/neuralstyle/internal/train"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// fakeNet stands in for a trained network: it paints every pixel value.
type fakeNet struct{ value uint8 }

func (f fakeNet) Stylize(photo *preprocess.Image) (*preprocess.Image, error) {
	out := preprocess.NewImage(photo.Width, photo.Height)
	for i := range out.Pix {
		out.Pix[i] = f.value
	}
	return out, nil
}

// TestTrainedNets: the gallery offers the trained networks beside the 26
// styles, each with the gallery photo painted by it; choosing one paints the
// instant picture with it; refining that picture optimises towards the
// painting the network learned, starting from the network's picture; a
// network whose painting is not at hand says so instead; the choices the
// form cannot paint are refused.
func TestTrainedNets(t *testing.T) {
	t.Parallel()
	painting := filepath.Join(t.TempDir(), "wave.png")
	paintingBytes := pngOf(t, 40, 30, 7)
	if err := os.WriteFile(painting, paintingBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	wave, err := NewTrainedNet("wave", fakeNet{77}, painting, "")
	if err != nil {
		t.Fatal(err)
	}
	lost, err := NewTrainedNet("lost", fakeNet{99}, "", "the painting it learned, gone.jpg, is not at hand")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewTrainedNet("../x", fakeNet{1}, "", ""); err == nil {
		t.Error("a network named ../x was offered")
	}
	var mu sync.Mutex
	var start *preprocess.Image // the refinement's start, painted by its Stylizer
	var style *preprocess.Image
	run := func(ctx context.Context, in transfer.Inputs, s transfer.Settings, obs transfer.Observer) (*transfer.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		style = in.Style
		if in.Stylizer != nil {
			var err error
			if start, err = in.Stylizer.Stylize(in.Content, in.Style, s.Resample); err != nil {
				return nil, err
			}
		}
		return &transfer.Result{Image: preprocess.NewImage(s.Width, s.Height)}, nil
	}
	s, err := New(Options{Data: t.TempDir(), Runner: run, Logf: t.Logf, FastNets: &fakeNets{}, Nets: []TrainedNet{wave, lost}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		s.Close()
	})

	_, page, _ := get(t, ts, "/")
	for _, name := range []string{"wave", "lost"} {
		if !strings.Contains(page, fmt.Sprintf(`value="net:%s" id="net-%s"><img src="/nets/%s.png"`, name, name, name)) {
			t.Errorf("the gallery lacks the trained network %s", name)
		}
	}
	code, body, hdr := get(t, ts, "/nets/wave.png")
	if img := decodePNG(t, body); code != 200 || hdr.Get("Content-Type") != "image/png" || img.Width != 112 || img.Pix[0] != 77 {
		t.Errorf("wave's thumbnail: status %d, %dx%d, value %d; want the gallery photo (112 wide) painted by it (77)", code, img.Width, img.Height, img.Pix[0])
	}
	for _, name := range []string{"nope.png", "wave", "../wave.png"} {
		if code, _, _ := get(t, ts, "/nets/"+name); code != 404 {
			t.Errorf("/nets/%s: status %d, want 404", name, code)
		}
	}

	id := submitOK(t, ts, map[string]string{"size": "32x24", "effort": "instant", "styles": "net:wave"}, images(t)[0])
	waitState(t, s, id, Done)
	_, body, _ = get(t, ts, fmt.Sprintf("/jobs/%d/result.png", id))
	if img := decodePNG(t, body); img.Width != 32 || img.Height != 24 || img.Pix[0] != 77 {
		t.Errorf("the instant picture: %dx%d, value %d; want wave's (77) at 32x24", img.Width, img.Height, img.Pix[0])
	}
	_, page, _ = get(t, ts, fmt.Sprintf("/jobs/%d", id))
	if !strings.Contains(page, `src="/nets/wave.png"`) || !strings.Contains(page, "the trained network wave") || !strings.Contains(page, `id="refine-quick"`) {
		t.Errorf("the instant job's page does not show the network, or offers no refinement")
	}
	refine := func(id int64) (*http.Response, string) {
		resp, err := noRedirect.PostForm(fmt.Sprintf("%s/jobs/%d/refine", ts.URL, id), url.Values{"effort": {"quick"}})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		return resp, b.String()
	}
	resp, _ := refine(id)
	var child int64
	if _, err := fmt.Sscanf(resp.Header.Get("Location"), "/jobs/%d", &child); resp.StatusCode != http.StatusSeeOther || err != nil {
		t.Fatalf("refine: status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	j := waitState(t, s, child, Done)
	sum := sha256.Sum256(paintingBytes)
	if j.Style != hex.EncodeToString(sum[:]) || j.Settings[netField] != "wave" || j.Settings["init"] != "stylized" {
		t.Errorf("the refining job: style %q, settings %v; want the painting wave learned, init stylized", j.Style, j.Settings)
	}
	_, page, _ = get(t, ts, fmt.Sprintf("/jobs/%d", child))
	if strings.Contains(page, `id="net-wave" checked`) || !strings.Contains(page, `id="style-none" checked`) {
		t.Errorf("the refining job's form chooses the network; want its painting, which the optimisation needs")
	}
	_, page, _ = get(t, ts, fmt.Sprintf("/jobs/%d", id))
	if !strings.Contains(page, `id="net-wave" checked`) {
		t.Errorf("the instant job's form does not choose its network again")
	}
	mu.Lock()
	if start == nil || start.Pix[0] != 77 || style == nil || style.Width != 40 {
		t.Errorf("the refinement started from %v with style %v; want wave's picture (77) and its 40x30 painting", start, style)
	}
	mu.Unlock()

	lostID := submitOK(t, ts, map[string]string{"size": "32x24", "effort": "instant", "styles": "net:lost"}, images(t)[0])
	waitState(t, s, lostID, Done)
	_, page, _ = get(t, ts, fmt.Sprintf("/jobs/%d", lostID))
	if !strings.Contains(page, `id="no-refine"`) || !strings.Contains(page, "gone.jpg, is not at hand") || strings.Contains(page, `id="refine-quick"`) {
		t.Errorf("the page of a network without its painting does not say why it cannot be refined")
	}
	if resp, body := refine(lostID); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "is not at hand") {
		t.Errorf("refine without the painting: status %d, %q; want 409 saying why", resp.StatusCode, body)
	}

	for _, tt := range []struct {
		fields map[string]string
		files  []upload
		says   string
	}{
		{map[string]string{"effort": "instant", "styles": "net:nope"}, images(t)[:1], "this server has none of that name"},
		{map[string]string{"effort": "quick", "styles": "net:wave"}, images(t)[:1], "painted instantly only"},
		{map[string]string{"effort": "instant", "styles": "net:wave"}, images(t), "both a style of the gallery and a painting were chosen"},
	} {
		tt.fields["size"] = "32x32"
		resp, body := submit(t, ts, tt.fields, tt.files...)
		if resp.StatusCode != 400 || !strings.Contains(body, tt.says) {
			t.Errorf("%v: status %d, %s; want 400 saying %q", tt.fields, resp.StatusCode, errorsOf(body), tt.says)
		}
	}
}

// TestOpenNets: OpenNets offers each folder neuralstyle train wrote (here one
// written from the width-8 graph's seeded initial state), with its thumbnail
// and the painting it learned, and skips the others with the reason logged:
// a folder that is not a network, one whose checkpoint is damaged, one with
// a name the page cannot carry, and one whose painting has changed (offered,
// without refinement).
func TestOpenNets(t *testing.T) {
	graph, err := testmodels.Build("train-random-seed1-w8", "-m", "savedmodel.train", "--out", "OUT",
		"--weights", "random", "--seed", "1", "--width", "8")
	if err != nil {
		t.Fatal(err)
	}
	opts := &tfgraph.Options{DisableGPU: true, IntraOpThreads: 1, InterOpThreads: 1}
	dir := t.TempDir()
	painting := filepath.Join(t.TempDir(), "painting.png")
	if err := os.WriteFile(painting, pngOf(t, 40, 30, 3), 0o644); err != nil {
		t.Fatal(err)
	}
	writeNet(t, graph, filepath.Join(dir, "good"), painting, opts)
	changed := filepath.Join(t.TempDir(), "changed.png")
	os.WriteFile(changed, pngOf(t, 40, 30, 4), 0o644)
	writeNet(t, graph, filepath.Join(dir, "moved"), changed, opts)
	os.WriteFile(changed, pngOf(t, 40, 30, 5), 0o644)
	writeNet(t, graph, filepath.Join(dir, "damaged"), painting, opts)
	ck := filepath.Join(dir, "damaged", train.CheckpointFile)
	raw, _ := os.ReadFile(ck)
	raw[len(raw)/2] ^= 1
	os.WriteFile(ck, raw, 0o644)
	writeNet(t, graph, filepath.Join(dir, "bad name"), painting, opts)
	os.Mkdir(filepath.Join(dir, "photos"), 0o755)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a folder"), 0o644)

	var logged []string
	nets, closeNets, err := OpenNets(dir, opts, func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) })
	if err != nil {
		t.Fatal(err)
	}
	defer closeNets()
	if len(nets) != 2 || nets[0].Name != "good" || nets[1].Name != "moved" {
		t.Fatalf("offered %v; want good and moved", nets)
	}
	if nets[0].Painting != painting || len(nets[0].thumb) == 0 {
		t.Errorf("good: painting %q, %d bytes of thumbnail; want %s and a thumbnail", nets[0].Painting, len(nets[0].thumb), painting)
	}
	if nets[1].Painting != "" || !strings.Contains(nets[1].NoRefine, "changed.png, has changed since") {
		t.Errorf("moved: painting %q, %q; want none, and why", nets[1].Painting, nets[1].NoRefine)
	}
	log := strings.Join(logged, "\n")
	for _, want := range []string{"bad name skipped: the folder's name", "damaged skipped: ", "photos skipped: not a network neuralstyle train wrote"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log %q lacks %q", log, want)
		}
	}
	if len(logged) != 3 {
		t.Errorf("%d lines logged, want 3 (notes.txt is not a folder): %q", len(logged), log)
	}
	if _, _, err := OpenNets(filepath.Join(dir, "absent"), opts, t.Logf); err == nil || CheckNetsDir(filepath.Join(dir, "absent")) == nil {
		t.Error("a folder that does not exist opened")
	}
}

// writeNet writes the folder neuralstyle train would of a network at its
// seeded initial state, learned from painting.
func writeNet(t *testing.T, graph, dir, painting string, opts *tfgraph.Options) {
	t.Helper()
	net, err := train.Load(graph, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	if err := net.Init(1); err != nil {
		t.Fatal(err)
	}
	state, err := net.State()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(painting)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	style := train.Source{Path: painting, SHA256: hex.EncodeToString(sum[:])}
	m := net.Meta
	ck := &train.Checkpoint{Header: train.Header{Format: train.CheckpointFormat, GraphFormat: m.Format, Network: m.Network,
		Width: m.Width, StateSize: m.StateSize, Settings: train.DefaultSettings(), Style: style}, State: state}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := train.CopyGraph(graph, filepath.Join(dir, train.GraphDir)); err != nil {
		t.Fatal(err)
	}
	if err := train.WriteCheckpoint(filepath.Join(dir, train.CheckpointFile), ck); err != nil {
		t.Fatal(err)
	}
	if err := train.WriteNet(dir, train.NetRecord{Network: m.Network, Width: m.Width, Style: style, Settings: ck.Settings}); err != nil {
		t.Fatal(err)
	}
}
