package stylist

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/testmodels"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// fakeNets stand in for make fastnets' networks where a test needs no real
// painting: the 26-style network paints every pixel 9 times its style's
// number, the arbitrary one the painting's first pixel's red, each at the
// photo's size.
type fakeNets struct {
	mu       sync.Mutex
	stylized int // calls of Stylize
}

func (f *fakeNets) Multistyle(img *preprocess.Image, s fastnet.Styles) (*preprocess.Image, error) {
	n := 0
	for i, w := range s {
		if w == 1 {
			n = i
		}
	}
	out := preprocess.NewImage(img.Width, img.Height)
	for i := range out.Pix {
		out.Pix[i] = uint8(9 * n)
	}
	return out, nil
}

func (f *fakeNets) Stylize(content, painting *preprocess.Image, _ resample.Filter) (*preprocess.Image, error) {
	f.mu.Lock()
	f.stylized++
	f.mu.Unlock()
	out := preprocess.NewImage(content.Width, content.Height)
	for i := range out.Pix {
		out.Pix[i] = painting.Pix[0]
	}
	return out, nil
}

// newNetsServer is a server with the fake networks and run as its runner.
func newNetsServer(t *testing.T, run Runner, nets FastNets) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(Options{Data: t.TempDir(), Runner: run, Logf: t.Logf, FastNets: nets})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		ts.CloseClientConnections()
		ts.Close()
		s.Close()
	})
	return s, ts
}

// decodePNG decodes a served PNG.
func decodePNG(t *testing.T, body string) *preprocess.Image {
	t.Helper()
	img, err := imagefile.Decode(strings.NewReader(body), "served.png", nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestLanes: an instant picture is painted, and a quick optimisation starts,
// while a long optimisation runs and another waits behind it; each lane's
// queue counts its own places.
func TestLanes(t *testing.T) {
	t.Parallel()
	g := newGate()
	s, ts := newNetsServer(t, g.run, &fakeNets{})
	long := submitOK(t, ts, tiny("32x32"), images(t)...)
	if w := <-g.started; w != 32 {
		t.Fatalf("the first job started at width %d", w)
	}
	waiting := submitOK(t, ts, tiny("40x32"), images(t)...)

	instant := map[string]string{"size": "24x16", "effort": "instant", "styles": "7"}
	id := submitOK(t, ts, instant, images(t)[0])
	j := waitState(t, s, id, Done)
	if !j.HasResult || j.Effort != EffortInstant {
		t.Fatalf("instant job: %+v", j)
	}
	code, body, _ := get(t, ts, fmt.Sprintf("/jobs/%d/result.png", id))
	if img := decodePNG(t, body); code != 200 || img.Width != 24 || img.Height != 16 || img.Pix[0] != 63 {
		t.Errorf("the instant picture: status %d, %dx%d, first value %d; want 24x16 in style 7 (63)", code, img.Width, img.Height, img.Pix[0])
	}
	_, page, _ := get(t, ts, fmt.Sprintf("/jobs/%d", id))
	for _, want := range []string{"Instant picture, job", "Keep it: download the image", `src="/styles/7.png"`, "painted instantly only"} {
		if !strings.Contains(page, want) {
			t.Errorf("the instant job's page lacks %q", want)
		}
	}

	quick := tiny("48x32")
	quick["effort"] = "quick"
	qid := submitOK(t, ts, quick, images(t)...)
	if w := <-g.started; w != 48 {
		t.Fatalf("started a job at width %d, want the quick one (48) while the long one runs", w)
	}
	for id, want := range map[int64]State{long: Running, waiting: Queued, qid: Running} {
		if j, _ := s.store.get(id); j.State != want {
			t.Errorf("job %d is %s, want %s", id, j.State, want)
		}
	}
	if n, err := s.store.lanePosition(&Job{ID: waiting}); err != nil || n != 1 {
		t.Errorf("the waiting long job's place: %d (%v), want 1 in its lane", n, err)
	}
	close(g.open)
	waitState(t, s, waiting, Done)
}

// TestPreview: an optimisation chosen on the page shows its instant picture
// while it waits; a quick one gets quick's settings and starts from that
// picture (init stylized, with the networks as its painter).
func TestPreview(t *testing.T) {
	t.Parallel()
	g := newGate()
	var mu sync.Mutex
	painters := map[int]bool{} // by width
	run := func(ctx context.Context, in transfer.Inputs, set transfer.Settings, obs transfer.Observer) (*transfer.Result, error) {
		mu.Lock()
		painters[set.Width] = in.Stylizer != nil
		mu.Unlock()
		return g.run(ctx, in, set, obs)
	}
	nets := &fakeNets{}
	s, ts := newNetsServer(t, run, nets)
	first := submitOK(t, ts, tiny("32x32"), images(t)...)
	<-g.started

	fields := map[string]string{"size": "40x24", "effort": "notebook"}
	id := submitOK(t, ts, fields, images(t)...)
	waitFor(t, "the instant picture of the waiting job", func() bool {
		j, _ := s.store.get(id)
		return j.Preview == PreviewDone
	})
	if j, _ := s.store.get(id); j.State != Queued {
		t.Fatalf("job %d is %s; want it waiting behind job %d", id, j.State, first)
	}
	code, body, _ := get(t, ts, fmt.Sprintf("/jobs/%d/preview.png", id))
	painting := pngOf(t, 40, 30, 2)
	red := decodePNG(t, string(painting)).Pix[0]
	if img := decodePNG(t, body); code != 200 || img.Width != 40 || img.Height != 24 || img.Pix[0] != red {
		t.Errorf("preview: status %d, %dx%d, value %d; want the painting's manner (%d) at 40x24", code, img.Width, img.Height, img.Pix[0], red)
	}
	_, page, _ := get(t, ts, fmt.Sprintf("/jobs/%d", id))
	if !strings.Contains(page, fmt.Sprintf(`src="/jobs/%d/preview.png"`, id)) || !strings.Contains(page, "the instant picture; the optimisation waits its turn") {
		t.Errorf("the waiting job's page does not show its instant picture")
	}

	quick := map[string]string{"size": "48x24", "effort": "quick", "iterations": "9"}
	qid := submitOK(t, ts, quick, images(t)...)
	<-g.started
	j, _ := s.store.get(qid)
	want := effortSettings(EffortQuick, true)
	if j.Settings["iterations"] != want["iterations"] || j.Settings["stop-improvement"] != want["stop-improvement"] || j.Settings["init"] != "stylized" {
		t.Errorf("quick job's settings %v, want quick's (%v) starting from the instant picture", j.Settings, want)
	}
	close(g.open)
	// The notebook's job runs in the long lane after the first: the painters
	// are read once both lanes are done (reading them after the quick job
	// alone failed 2 runs in 8 on a loaded machine).
	waitState(t, s, qid, Done)
	waitState(t, s, id, Done)
	mu.Lock()
	defer mu.Unlock()
	if want := map[int]bool{32: false, 40: false, 48: true}; fmt.Sprint(painters) != fmt.Sprint(want) {
		t.Errorf("runs given a painter of the start, by width: %v; want %v (only the quick one's)", painters, want)
	}
}

// TestRefine: a finished instant picture of a painting is refined by a new
// job that starts from it (its page shows it at once); other jobs, other
// efforts and a gallery style's picture are refused.
func TestRefine(t *testing.T) {
	t.Parallel()
	g := newGate()
	close(g.open)
	s, ts := newNetsServer(t, g.run, &fakeNets{})
	id := submitOK(t, ts, map[string]string{"size": "32x32", "effort": "instant"}, images(t)...)
	waitState(t, s, id, Done)
	_, page, _ := get(t, ts, fmt.Sprintf("/jobs/%d", id))
	if !strings.Contains(page, `id="refine-quick"`) || !strings.Contains(page, `id="refine-notebook"`) {
		t.Fatalf("the instant job's page offers no refinement")
	}
	refine := func(id int64, effort string) (*http.Response, string) {
		resp, err := noRedirect.PostForm(fmt.Sprintf("%s/jobs/%d/refine", ts.URL, id), url.Values{"effort": {effort}})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		return resp, b.String()
	}
	resp, _ := refine(id, "quick")
	var child int64
	if _, err := fmt.Sscanf(resp.Header.Get("Location"), "/jobs/%d", &child); resp.StatusCode != http.StatusSeeOther || err != nil {
		t.Fatalf("refine: status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	j := waitState(t, s, child, Done)
	if j.Parent != id || j.Effort != EffortQuick || j.Settings["init"] != "stylized" || j.Settings["iterations"] != effortSettings(EffortQuick, true)["iterations"] {
		t.Errorf("the refining job: parent %d, effort %s, settings %v", j.Parent, j.Effort, j.Settings)
	}
	g.mu.Lock()
	if g.runs[32].Init != transfer.InitStylized {
		t.Errorf("the refinement ran from %q, want stylized", g.runs[32].Init)
	}
	g.mu.Unlock()
	parent, _ := os.ReadFile(filepath.Join(s.jobDir(id), resultFile))
	start, _ := os.ReadFile(filepath.Join(s.jobDir(child), previewFile))
	if len(parent) == 0 || !bytes.Equal(parent, start) {
		t.Errorf("the refining job's start shown (%d bytes) is not the instant picture (%d bytes)", len(start), len(parent))
	}

	gallery := submitOK(t, ts, map[string]string{"size": "32x32", "effort": "instant", "styles": "3"}, images(t)[0])
	waitState(t, s, gallery, Done)
	for _, tt := range []struct {
		id     int64
		effort string
		code   int
		says   string
	}{
		{id, "instant", 400, "choose quick or the notebook's"},
		{id, "", 400, "choose quick or the notebook's"},
		{child, "quick", 409, "only a finished instant picture is"},
		{gallery, "notebook", 409, "needs the painting itself"},
		{9999, "quick", 404, "No such job"},
	} {
		resp, body := refine(tt.id, tt.effort)
		if resp.StatusCode != tt.code || !strings.Contains(body, tt.says) {
			t.Errorf("refine job %d (%q): status %d, %q; want %d saying %q", tt.id, tt.effort, resp.StatusCode, body, tt.code, tt.says)
		}
	}
}

// TestStyleGallery: the page offers the 26 styles, each a thumbnail the
// server paints from the gallery photo; the choices the form cannot paint
// are refused before anything is queued.
func TestStyleGallery(t *testing.T) {
	t.Parallel()
	s, ts := newNetsServer(t, newGate().run, &fakeNets{})
	_, page, _ := get(t, ts, "/")
	for n := range fastnet.NumStyles {
		if !strings.Contains(page, fmt.Sprintf(`<img src="/styles/%d.png" alt="style %d"`, n, n)) {
			t.Errorf("the gallery lacks style %d", n)
		}
		code, body, hdr := get(t, ts, fmt.Sprintf("/styles/%d.png", n))
		img, err := png.Decode(strings.NewReader(body))
		if code != 200 || hdr.Get("Content-Type") != "image/png" || err != nil || img.Bounds().Dx() != 112 {
			t.Fatalf("style %d's thumbnail: status %d, %q, %v", n, code, hdr.Get("Content-Type"), err)
		}
		if r, _, _, _ := img.At(0, 0).RGBA(); r>>8 != uint32(9*n) {
			t.Errorf("style %d's thumbnail is painted in another style (%d)", n, r>>8)
		}
	}
	for _, name := range []string{"26.png", "-1.png", "07.png", "7", "x.png"} {
		if code, _, _ := get(t, ts, "/styles/"+name); code != 404 {
			t.Errorf("/styles/%s: status %d, want 404", name, code)
		}
	}
	if !strings.Contains(page, `id="effort-quick" checked`) {
		t.Errorf("with the networks, the form does not start at quick (issue 24: the page defaults to the quick preset)")
	}
	if strings.Contains(page, `id="no-fastnets"`) {
		t.Errorf("the page says the networks are missing")
	}
	for _, tt := range []struct {
		fields map[string]string
		files  []upload
		says   string
	}{
		{map[string]string{"effort": "quick", "styles": "3"}, images(t)[:1], "a style of the gallery is painted instantly only"},
		{map[string]string{"effort": "instant", "styles": "3"}, images(t), "both a style of the gallery and a painting were chosen"},
		{map[string]string{"effort": "instant", "styles": "26"}, images(t)[:1], "style of the gallery &#34;26&#34;: want a number from 0 to 25"},
		{map[string]string{"effort": "slow"}, images(t), "how long: &#34;slow&#34; is not a choice"},
		{map[string]string{"effort": "notebook", "init": "stylized", "sweep-param": "style-weight", "sweep-values": "1 2"}, images(t), "a sweep does not start from the instant picture"},
		{map[string]string{"effort": "instant", "sweep-param": "style-weight", "sweep-values": "1 2"}, images(t), "a sweep paints each picture by optimisation"},
	} {
		tt.fields["size"] = "32x32"
		resp, body := submit(t, ts, tt.fields, tt.files...)
		if resp.StatusCode != 400 || !strings.Contains(body, tt.says) {
			t.Errorf("%v: status %d, %s; want 400 saying %q", tt.fields, resp.StatusCode, errorsOf(body), tt.says)
		}
	}
	if jobs, _ := s.store.list(false, 10, Queued, Running, Done); len(jobs) != 0 {
		t.Errorf("%d jobs queued by refused forms", len(jobs))
	}
}

// TestWithoutFastNets: a server without the networks says so, and how to get
// them, where the gallery and the instant choice would be, offers the
// optimisation alone, and refuses what needs the networks.
func TestWithoutFastNets(t *testing.T) {
	t.Parallel()
	s, err := New(Options{Data: t.TempDir(), Runner: newGate().run, Logf: t.Logf,
		FastNetsMissing: "none usable in build/fastnets/model; build them with make fastnets and start the server again"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	_, page, _ := get(t, ts, "/")
	for _, want := range []string{`id="no-fastnets"`, "build them with make fastnets", `id="effort-instant" disabled`, `id="effort-quick" checked`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, `src="/styles/`) {
		t.Errorf("the page shows a gallery of styles without the networks")
	}
	if code, body, _ := get(t, ts, "/styles/3.png"); code != 404 || !strings.Contains(body, "make fastnets") {
		t.Errorf("/styles/3.png: status %d, %q; want 404 naming make fastnets", code, body)
	}
	for _, fields := range []map[string]string{{"effort": "instant"}, {"effort": "instant", "styles": "3"}} {
		fields["size"] = "32x32"
		resp, body := submit(t, ts, fields, images(t)...)
		if resp.StatusCode != 400 || !strings.Contains(body, "no feed-forward networks") || !strings.Contains(body, "make fastnets") {
			t.Errorf("%v: status %d, %s; want 400 naming make fastnets", fields, resp.StatusCode, errorsOf(body))
		}
	}
	// The notebook's and quick run as before, quick with its preset's
	// fallback (it cannot start stylized) and no instant picture.
	id := submitOK(t, ts, map[string]string{"size": "32x32", "effort": "quick"}, images(t)...)
	quick := effortSettings(EffortQuick, false)
	if j, _ := s.store.get(id); j.Preview != "" || j.Settings["init"] != quick["init"] || quick["init"] == "stylized" || j.Settings["iterations"] != quick["iterations"] {
		t.Errorf("quick without the networks: preview %q, settings %v", j.Preview, j.Settings)
	}
}

// TestFormLayout: the form asks first for the photo, the painting and how
// long to spend; every numeric setting is under Advanced, and no help on the
// page speaks the command line's flags.
func TestFormLayout(t *testing.T) {
	t.Parallel()
	_, ts := newNetsServer(t, newGate().run, &fakeNets{})
	_, page, _ := get(t, ts, "/")
	order := []string{`<legend>Your photo</legend>`, `<legend>A painting</legend>`, `id="styles"`, `<legend>How long to spend</legend>`,
		`<details id="advanced">`, `id="f-size"`, `id="f-iterations"`, `id="f-maxfun"`, `id="f-seed"`, `id="f-graph"`, `id="f-optimizer"`, `id="submit"`}
	at := -1
	for _, want := range order {
		i := strings.Index(page, want)
		if i < at {
			t.Errorf("%s comes before what the form shows before it (%d < %d)", want, i, at)
		}
		if i < 0 {
			t.Errorf("the form lacks %s", want)
		}
		at = i
	}
	if i := strings.Index(page, "(--"); i >= 0 {
		t.Errorf("the page speaks flags: %q", page[max(0, i-60):min(len(page), i+40)])
	}
	if !strings.Contains(page, "<option>stylized</option>") {
		t.Errorf("with the networks, the starting image offers no stylized")
	}
}

// BenchmarkInstantPicture is the time from Paint (the form's request) to the
// instant picture written, through the server, at the form's default size
// (512x512) with the real networks of make fastnets, for a style of the
// gallery and for a painting (the bundled photo and painting): what the page
// waits before it shows the picture, less the page's own loading. The
// gallery's painting warms the networks up first, as it does when a server
// starts. Run with NEURALSTYLE_BENCH_THREADS intra-op threads (default 2).
func BenchmarkInstantPicture(b *testing.B) {
	dir := testmodels.FastNets()
	if dir == "" {
		b.Skip("no make fastnets model")
	}
	root, err := testmodels.Root()
	if err != nil {
		b.Fatal(err)
	}
	threads := 2
	if t := os.Getenv("NEURALSTYLE_BENCH_THREADS"); t != "" {
		threads, _ = strconv.Atoi(t)
	}
	m, err := fastnet.Load(dir, &tfgraph.Options{DisableGPU: true, IntraOpThreads: threads, InterOpThreads: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	s, err := New(Options{Data: b.TempDir(), Runner: newGate().run, Logf: func(string, ...any) {}, FastNets: m})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer func() { ts.Close(); s.Close() }()
	<-s.gallery.ready
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(root, "scripts", "examples", name))
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	photo := upload{"content", "grace_hopper.jpg", read("grace_hopper.jpg")}
	painting := upload{"style", "wave.jpg", read("wave.jpg")}
	for _, c := range []struct {
		name   string
		fields map[string]string
		files  []upload
	}{
		{"gallery", map[string]string{"effort": "instant", "styles": "7"}, []upload{photo}},
		{"painting", map[string]string{"effort": "instant"}, []upload{photo, painting}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				id := submitOK(b, ts, c.fields, c.files...)
				if j := waitState(b, s, id, Done); !j.HasResult {
					b.Fatalf("job %d: no picture", id)
				}
			}
		})
	}
}
