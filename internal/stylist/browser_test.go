package stylist

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/testmodels"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// chromium finds the browser the end-to-end test drives: $NEURALSTYLE_CHROMIUM,
// or Debian's chromium, which `make browser` installs for the tests (and only
// for them).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("NEURALSTYLE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium for the browser test: run `make browser` (apt-get install chromium) or set NEURALSTYLE_CHROMIUM")
	return ""
}

// picture draws a small test image: a sky-to-ground gradient with a sun, or
// coloured diagonal stripes for the style.
func picture(t *testing.T, path string, stripes bool) {
	const n = 64
	m := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			var c color.RGBA
			switch {
			case stripes:
				c = []color.RGBA{{30, 60, 160, 255}, {240, 200, 40, 255}, {20, 20, 30, 255}}[(x+y)/6%3]
			case (x-40)*(x-40)+(y-18)*(y-18) < 90:
				c = color.RGBA{250, 210, 60, 255}
			case y < 40:
				c = color.RGBA{uint8(90 + y*2), uint8(140 + y), 230, 255}
			default:
				c = color.RGBA{40, uint8(100 + y), 50, 255}
			}
			m.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, m)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// browserNets are the networks the browser test paints with: make fastnets'
// real ones where they exist (NEURALSTYLE_FASTNETS, or the checkout's
// build/fastnets/model), else fakeNets, which test the page all the same.
func browserNets(t *testing.T) (FastNets, string) {
	dir := testmodels.FastNets()
	if dir == "" {
		t.Log("no make fastnets model: the page paints with fake networks")
		return &fakeNets{}, "fake"
	}
	m, err := fastnet.Load(dir, &tfgraph.Options{DisableGPU: true, IntraOpThreads: 2, InterOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, dir
}

// TestBrowser drives the page in a real browser: the gallery of the 26
// styles loads; a photo and a painting chosen, Paint shows the instant
// picture (the feed-forward network's), whose page refines it by a quick
// optimisation from it, streaming progress events until the result; a sweep
// of two style weights from that job's page shows its contact sheet and
// pictures; the front page's gallery lists them. It takes screenshots on the
// way, into a temporary folder, or into $STYLIST_SCREENSHOTS (make
// screenshots).
func TestBrowser(t *testing.T) {
	exe := chromium(t)
	nets, netsFrom := browserNets(t)
	s, ts := newNetsServer(t, modelRunner(t), nets)
	dir := t.TempDir()
	content, style := filepath.Join(dir, "photo.png"), filepath.Join(dir, "painting.png")
	picture(t, content, false)
	picture(t, style, true)
	// The bundled public-domain photo and painting, where the checkout has
	// them, make screenshots a person can judge the networks by.
	if root, err := testmodels.Root(); err == nil {
		photo, painting := filepath.Join(root, "scripts", "examples", "grace_hopper.jpg"), filepath.Join(root, "scripts", "examples", "wave.jpg")
		if fileExists(photo) && fileExists(painting) {
			content, style = photo, painting
		}
	}
	shots := os.Getenv("STYLIST_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1000, 760))
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil { // starts the browser, outside any timeout
		t.Fatalf("start %s: %v", exe, err)
	}
	ctx, cancel := context.WithTimeout(browser, 4*time.Minute)
	defer cancel()

	shot := func(name string) {
		t.Helper()
		b, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s: %d bytes", filepath.Join(shots, name), len(b))
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	poll := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](js,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(3*time.Minute))); err != nil {
			t.Fatalf("waiting until %s: %v", what, err)
		}
	}
	eval := func(js string) bool {
		t.Helper()
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}

	step("open the page", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible("#job-form"))
	poll("the gallery's 26 styles have loaded",
		`[...document.querySelectorAll('#styles img')].length === 26 && [...document.querySelectorAll('#styles img')].every(i => i.complete && i.naturalWidth === 112)`)
	if !eval(`document.getElementById('effort-quick').checked && !document.getElementById('advanced').open`) {
		t.Error("the form does not open at quick (the quick preset), with Advanced folded")
	}
	// Choosing a style of the gallery chooses instant; choosing a painting
	// of one's own chooses none in the gallery.
	step("choose a style, then the notebook's", chromedp.Click("#effort-notebook"), chromedp.Click(`#styles img[alt="style 7"]`))
	if !eval(`document.getElementById('style-7').checked && document.getElementById('effort-instant').checked`) {
		t.Error("choosing style 7 of the gallery did not choose it, and instant")
	}
	step("choose the images",
		chromedp.SetUploadFiles("#content", []string{content}),
		chromedp.SetUploadFiles("#style", []string{style}))
	poll("both previews show", `[...document.querySelectorAll('img.preview')].every(i => !i.hidden && i.complete && i.naturalWidth > 0)`)
	if !eval(`document.getElementById('style-none').checked`) {
		t.Error("choosing a painting left a style of the gallery chosen")
	}
	shot("stylist-form.png")

	// Small, so that the refinement is quick on the random-weights model.
	step("set the size under Advanced", chromedp.Click("#advanced > summary"), chromedp.SetValue("#f-size", "128x128"))
	start := time.Now()
	step("paint", chromedp.Click("#submit"), chromedp.WaitVisible("#job[data-instant]"))
	poll("the instant picture shows", `document.getElementById('current').complete && document.getElementById('current').naturalWidth === 128 && !document.getElementById('current').hidden`)
	t.Logf("the instant picture (%s, 128x128) showed %.2f s after Paint", netsFrom, time.Since(start).Seconds())
	poll("the page offers to refine it", `!document.getElementById('refine').hidden`)
	shot("stylist-instant.png")

	step("refine it", chromedp.Click("#refine-quick"), chromedp.WaitVisible("#job:not([data-instant])"))
	// The start shows at once, then the iterations, by the page's own event
	// stream.
	poll("the page shows the refinement running with an iteration's image",
		`document.getElementById('state').textContent === 'running' && !document.getElementById('current').hidden && document.getElementById('current').src.includes('result.png')`)
	shot("stylist-running.png")
	poll("the job is done", `document.getElementById('state').textContent === 'done'`)
	poll("the last image has loaded", `document.getElementById('current').complete && document.getElementById('current').naturalWidth === 128`)
	shot("stylist-done.png")
	seen, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('job').dataset.eventsSeen || '0'`))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	fmt.Sscan(seen, &n)
	if n < 3 {
		t.Errorf("the page saw %d progress events, want at least 3 (running, iterations, done)", n)
	}
	if eval(`document.getElementById('download').hidden || document.getElementById('download-gif').hidden`) {
		t.Errorf("download links hidden after the job finished")
	}
	jobs, _ := s.store.list(false, 10, Done)
	if len(jobs) != 2 || jobs[0].Effort != EffortInstant || jobs[1].Parent != jobs[0].ID || jobs[1].Settings["init"] != "stylized" {
		t.Fatalf("finished jobs %v, want the instant picture and its refinement from it", jobs)
	}
	// The quick preset's iterations, all run: those at its coarser scales too.
	refined, err := s.config(jobs[1])
	if err != nil {
		t.Fatal(err)
	}
	if total := refined.TotalIterations(); jobs[1].Iteration != total || total <= 4 {
		t.Fatalf("the refinement ran %d iterations, want the quick preset's %d over its scales", jobs[1].Iteration, total)
	}

	// A sweep from the job's rerun form: two style weights, two iterations
	// each, from the photo (a sweep does not start from the instant
	// picture); its page reloads when it ends to list the pictures.
	step("start a sweep",
		chromedp.Click("#rerun > summary"), // the rerun form is folded
		chromedp.Click("#effort-notebook"),
		chromedp.Click("#advanced > summary"),
		chromedp.Click("details.sweep summary"),
		chromedp.SetValue("#sweep-param", "style-weight"),
		chromedp.SetValue("#sweep-values", "1 1000"),
		chromedp.SetValue("#f-iterations", "2"),
		chromedp.SetValue("#f-maxfun", "4"),
		chromedp.SetValue("#f-init", "content"),
		chromedp.Click("#submit"), chromedp.WaitVisible("#job[data-sweep]"))
	sweeps, _ := s.store.list(false, 10, Queued, Running, Done)
	if len(sweeps) != 3 || sweeps[2].Sweep == nil {
		t.Fatalf("jobs %v, want the two jobs and a sweep", sweeps)
	}
	if j := waitState(t, s, sweeps[2].ID, Done); j.Iteration != 2 {
		t.Fatalf("the sweep painted %d pictures, want 2", j.Iteration)
	}
	// The page reloads itself when the sweep ends; load it afresh after that.
	time.Sleep(time.Second)
	step("open the finished sweep", chromedp.Navigate(fmt.Sprintf("%s/jobs/%d", ts.URL, sweeps[2].ID)), chromedp.WaitVisible("#points"))
	poll("the sweep's page lists its two pictures and shows its contact sheet",
		`document.querySelectorAll('#points a').length === 2 && document.getElementById('current').complete && document.getElementById('current').naturalWidth > 128`)
	// The contact sheet and the table of pictures below it in one view.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('points').scrollIntoView({block: 'end'}), true`)); err != nil {
		t.Fatal(err)
	}
	shot("stylist-sweep.png")

	step("reload the front page", chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(fmt.Sprintf("#job-%d", jobs[1].ID)))
	step("find the instant picture and the sweep in the gallery", chromedp.WaitVisible(fmt.Sprintf("#job-%d", jobs[0].ID)), chromedp.WaitVisible(fmt.Sprintf("#job-%d", sweeps[2].ID)))
	poll("the gallery image has loaded", fmt.Sprintf(`document.querySelector('#job-%d img').complete && document.querySelector('#job-%d img').naturalWidth === 128`, jobs[1].ID, jobs[1].ID))
	step("scroll to the gallery", chromedp.ScrollIntoView("#gallery"))
	shot("stylist-gallery.png")
}
