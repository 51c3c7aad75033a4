package stylist

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/settings"
)

// TestFormFields: the form offers every setting of a single transfer, and no
// file setting (uploads have their own fields) or video-only one (the temporal
// weight, which a single transfer refuses).
func TestFormFields(t *testing.T) {
	got := map[string]bool{}
	for _, f := range formFields(nil, nil, DefaultLimits()) {
		got[f.Name] = true
	}
	for _, s := range settings.Schema {
		want := s.Kind != settings.KindFile && !s.VideoOnly && !s.SeveralStyles
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

// TestFormHelp: the form's help speaks the form's words: no flag syntax
// (init said "image (--init-image)", long-side "use --size"), no backquotes,
// and no choice the form does not offer; the command line's help keeps its
// flags.
func TestFormHelp(t *testing.T) {
	for _, f := range formFields(nil, nil, DefaultLimits()) {
		if strings.Contains(f.Usage, "--") || strings.Contains(f.Usage, "`") {
			t.Errorf("%s: the form's help speaks flags: %q", f.Name, f.Usage)
		}
		s, _ := settings.Lookup(f.Name)
		for _, c := range s.Choices {
			if !slices.Contains(f.Choices, c) && (strings.Contains(f.Usage, ", "+c) || strings.Contains(f.Usage, "or "+c)) {
				t.Errorf("%s: the form's help names %q, which the form does not offer: %q", f.Name, c, f.Usage)
			}
		}
	}
	if s, _ := settings.Lookup("init"); !strings.Contains(s.Usage, "--init-image") {
		t.Errorf("init's command-line help lost its flag: %q", s.Usage)
	}
}

// TestFormWithinLimits: on a server of small limits the form's defaults are
// within them and say so, so that a first visitor's Paint with the defaults
// runs (512x512 and 10 iterations failed before); the form offers no
// "init: image", for which it has no upload; an upload and a bundled image
// chosen together are refused, not silently resolved.
func TestFormWithinLimits(t *testing.T) {
	t.Parallel()
	bundled := t.TempDir()
	if err := os.WriteFile(filepath.Join(bundled, "wave.png"), pngOf(t, 24, 24, 5), 0o644); err != nil {
		t.Fatal(err)
	}
	lim := Limits{UploadBytes: 1 << 20, MaxPixels: 1 << 20, MaxSide: 64, Iterations: 3, MaxFun: 20, Queued: 5}
	s, err := New(Options{Data: t.TempDir(), Runner: newGate().run, Logf: t.Logf, Limits: lim, Images: bundled})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { ts.Close(); s.Close() })
	_, page, _ := get(t, ts, "/")
	for _, want := range []string{`name="size" id="f-size" value="64x64"`, `name="iterations" id="f-iterations" value="3"`,
		"at most 64x64 on this server", "This server paints up to 64x64 pixels, 3 iterations of at most 20 evaluations each"} {
		if !strings.Contains(page, want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	if strings.Contains(page, "<option>image</option>") {
		t.Errorf("the form offers init: image, with no field for the image")
	}
	if strings.Contains(page, "<option>stylized</option>") {
		t.Errorf("the form offers init: stylized, which the server cannot run")
	}
	stylized := map[string]string{"size": "32x32", "init": "stylized"}
	if resp, body := submit(t, ts, stylized, images(t)...); resp.StatusCode != 400 || !strings.Contains(body, "init stylized: this server does not run") {
		t.Errorf("init stylized posted: status %d, %s; want 400 saying the server does not run it", resp.StatusCode, errorsOf(body))
	}
	// The form as the page fills it.
	fields := map[string]string{}
	for _, f := range formFields(nil, nil, s.opts.Limits) {
		if f.Input != "checkbox" || f.Value == "true" {
			fields[f.Name] = f.Value
		}
	}
	if resp, body := submit(t, ts, fields, images(t)...); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("Paint with the form's defaults: status %d: %s", resp.StatusCode, errorsOf(body))
	}
	both := map[string]string{"size": "32x32", "content-bundled": "wave.png"}
	resp, body := submit(t, ts, both, images(t)...)
	if want := "content: both an upload (&#34;photo.png&#34;) and a bundled image (&#34;wave.png&#34;) were chosen; choose one"; resp.StatusCode != 400 || !strings.Contains(body, want) {
		t.Errorf("an upload and a bundled image: status %d, %s; want 400 saying %q", resp.StatusCode, errorsOf(body), want)
	}
}

// TestFormErrorsSpeakTheForm: problems across settings, which the engine
// words for every front end, reach the page beside their fields without the
// command line's syntax (no --graph fast, --init image, --style-blend).
func TestFormErrorsSpeakTheForm(t *testing.T) {
	_, ts := newServer(t, t.TempDir(), newGate().run)
	for _, fields := range []map[string]string{
		{"style-scale": "2", "graph": "recipe"},
		{"long-side": "64", "graph": "recipe"},
		{"long-side": "64", "init": "style"},
		{"tile": "auto", "graph": "recipe"},
		{"scale-iterations": "3"},
		{"precision": "bf16", "pooling": "avg"},
	} {
		resp, page := submit(t, ts, fields, images(t)...)
		msg := errorsOf(page)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(msg, "error") {
			t.Errorf("%v: status %d, want 400 with an error: %s", fields, resp.StatusCode, msg)
			continue
		}
		if strings.Contains(msg, "--") {
			t.Errorf("%v: the page speaks the command line: %s", fields, msg)
		}
	}
}
