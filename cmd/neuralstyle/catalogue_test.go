package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/testmodels"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// The catalogue: hostile but fair command lines (issue 17), each with the exit
// code and a fragment of the message it must give, and sentinel files that must
// come through unchanged. A case marked early must fail before any model loads:
// its --model is a folder that does not exist, so a check made after the load
// would report the missing model instead of the fragment.
//
// Each case gets a verdict: clear (right code and message; early or after the
// work), unclear (wrong code or message), panic, crash (killed by a signal, in
// the binary mode), hang (no answer within catalogueTimeout), data lost (a
// sentinel changed). The test fails on anything but "clear". With
// NEURALSTYLE_CATALOGUE_BIN=path it runs the cases through that binary instead
// and only logs the verdicts: how the counts before and after a change were
// measured.

// catalogueTimeout is a hang: the slowest case, a 32x32 transfer, takes about
// 3 s on a loaded 2-core machine.
const catalogueTimeout = 90 * time.Second

// noModel is the --model of early cases.
const noModel = "/nonexistent/model-loaded-too-early"

type catalogueCase struct {
	name string
	// args are the command line after "neuralstyle"; in them, D/ stands for the
	// case's folder and the model placeholders below for the test models.
	args  []string
	code  int
	want  string // a fragment of stderr
	early bool   // the check must come before the model loads
	// files are created in the case's folder before the run: name -> content.
	// Each one is a sentinel: after the run it must hold the same bytes, unless
	// it is listed in replaced.
	files    map[string]string
	replaced []string
	// setup runs after files are created, with the case's folder.
	setup func(t *testing.T, dir string)
	// absent are files that must not exist after the run.
	absent []string
}

const (
	styleModel = "<vgg16>"
	classModel = "<classifier>"
	damaged    = "<damaged>"
	content    = "<content>"
	style      = "<style>"
)

// tinyTransfer is a transfer of 32x32, one iteration of at most two evaluations.
func tinyTransfer(model string, extra ...string) []string {
	args := []string{"transfer", "--model", model, "--device", "cpu", "--threads", "1", "--inter-threads", "1",
		"--content", content, "--style", style, "--size", "32", "--iterations", "1", "--maxfun", "2", "--quiet"}
	return append(args, extra...)
}

func catalogue() []catalogueCase {
	sentinel := "sentinel: must survive\n"
	return []catalogueCase{
		// Outputs that are inputs or each other.
		{name: "out is content", args: tinyTransfer(noModel, "--out", "D/c.png", "--content", "D/c.png"),
			code: exitUsage, want: "--out D/c.png is the same file as --content", early: true,
			setup: copyImage("c.png")},
		{name: "out is style by another name", args: tinyTransfer(noModel, "--style", "D/s.png", "--out", "D/sub/../s.png"),
			code: exitUsage, want: "is the same file as --style", early: true,
			setup: func(t *testing.T, dir string) { copyImage("s.png")(t, dir); os.Mkdir(filepath.Join(dir, "sub"), 0o755) }},
		{name: "out is a hard link to content", args: tinyTransfer(noModel, "--content", "D/c.png", "--out", "D/link.png"),
			code: exitUsage, want: "--out D/link.png is the same file as --content", early: true,
			setup: func(t *testing.T, dir string) {
				copyImage("c.png")(t, dir)
				must(t, os.Link(filepath.Join(dir, "c.png"), filepath.Join(dir, "link.png")))
			}},
		{name: "out is a symlink to style", args: tinyTransfer(noModel, "--style", "D/s.png", "--out", "D/sym.png"),
			code: exitUsage, want: "is the same file as --style", early: true,
			setup: func(t *testing.T, dir string) {
				copyImage("s.png")(t, dir)
				must(t, os.Symlink("s.png", filepath.Join(dir, "sym.png")))
			}},
		{name: "log is out", args: tinyTransfer(noModel, "--out", "D/o.png", "--log", "D/o.png"),
			code: exitUsage, want: "--log D/o.png is the same file as --out", early: true,
			files: map[string]string{"o.png": sentinel}},
		{name: "gif is log", args: tinyTransfer(noModel, "--out", "D/o.png", "--gif", "D/x.gif", "--log", "D/x.gif"),
			code: exitUsage, want: "--log D/x.gif is the same file as --gif", early: true},
		{name: "out is a frame", args: tinyTransfer(noModel, "--out", "D/f/iteration_000.png", "--frames", "D/f"),
			code: exitUsage, want: "the folder receives a file of that name", early: true,
			setup: func(t *testing.T, dir string) { must(t, os.Mkdir(filepath.Join(dir, "f"), 0o755)) }},

		// Output targets that cannot be written.
		{name: "out is a folder", args: tinyTransfer(noModel, "--out", "D/dir.png"),
			code: exitUsage, want: "--out D/dir.png is a folder", early: true,
			setup: func(t *testing.T, dir string) { must(t, os.Mkdir(filepath.Join(dir, "dir.png"), 0o755)) }},
		{name: "log is /dev/null", args: tinyTransfer(noModel, "--out", "D/o.png", "--log", "/dev/null"),
			code: exitUsage, want: "--log /dev/null is not a regular file (a character device)", early: true},
		{name: "out in a missing folder", args: tinyTransfer(noModel, "--out", "D/no/o.png"),
			code: exitFailure, want: "--out D/no/o.png: folder D/no does not exist", early: true},
		{name: "out in a folder that cannot be written", args: tinyTransfer(noModel, "--out", "/proc/self/o.png"),
			code: exitFailure, want: "--out /proc/self/o.png: cannot write in folder /proc/self", early: true},
		{name: "gif in a folder that cannot be written", args: tinyTransfer(noModel, "--out", "D/o.png", "--gif", "/proc/self/o.gif"),
			code: exitFailure, want: "--gif /proc/self/o.gif: cannot write in folder /proc/self", early: true},
		{name: "out of an unknown format", args: tinyTransfer(noModel, "--out", "D/o.bmp"),
			code: exitUsage, want: `--out D/o.bmp: cannot write ".bmp" files`, early: true},
		{name: "frames is a file", args: tinyTransfer(noModel, "--out", "D/o.png", "--frames", "D/frames"),
			code: exitUsage, want: "--frames D/frames is a file, not a folder", early: true,
			files: map[string]string{"frames": sentinel}},

		// Bad inputs and flags.
		{name: "content missing", args: tinyTransfer(noModel, "--content", "D/absent.png", "--out", "D/o.png"),
			code: exitFailure, want: "absent.png", early: true, absent: []string{"o.png"}},
		{name: "content not an image", args: tinyTransfer(noModel, "--content", "D/c.png", "--out", "D/o.png"),
			code: exitFailure, want: "not a recognised image format", early: true,
			files: map[string]string{"c.png": "no image here"}},
		{name: "content empty", args: tinyTransfer(noModel, "--content", "D/c.png", "--out", "D/o.png"),
			code: exitFailure, want: "D/c.png", early: true, files: map[string]string{"c.png": ""}},
		{name: "content a TIFF with a damaged offset", args: tinyTransfer(noModel, "--content", "D/c.tif", "--out", "D/o.png"),
			code: exitFailure, want: "corrupt or truncated TIFF file (it points past its end)", early: true,
			setup: damagedTIFF("c.tif")},
		{name: "size not a number", args: tinyTransfer(noModel, "--out", "D/o.png", "--size", "abc"),
			code: exitUsage, want: "--size", early: true},
		{name: "quality 0", args: tinyTransfer(noModel, "--out", "D/o.png", "--quality", "0"),
			code: exitUsage, want: "--quality 0: want 1 to 100", early: true},
		{name: "gif delay too short", args: tinyTransfer(noModel, "--out", "D/o.png", "--gif-delay", "1ms"),
			code: exitUsage, want: "--gif-delay 1ms", early: true},
		{name: "device not a device", args: tinyTransfer(noModel, "--out", "D/o.png", "--device", "tpu"),
			code: exitUsage, want: `--device "tpu"`, early: true},

		// Models.
		{name: "model missing", args: tinyTransfer("D/nomodel", "--out", "D/o.png"),
			code: exitFailure, want: "no such directory", files: map[string]string{"o.png": sentinel}},
		{name: "model variables truncated", args: []string{"inspect", "--device", "cpu", "--model", damaged},
			code: exitFailure, want: "the model's variables are damaged: export it again"},
		{name: "GPU that is not there", args: []string{"inspect", "--model", styleModel, "--device", "7"},
			code: exitFailure, want: "GPU 7 asked for, but TensorFlow sees"},

		// Runs that fail or succeed after the work.
		{name: "failed run replaces nothing", args: tinyTransfer(styleModel, "--style-weight", "1e37",
			"--out", "D/o.png", "--gif", "D/o.gif", "--log", "D/log.jsonl", "--frames", "D/frames"),
			code: exitFailure, want: "weights too large for float32?); wrote nothing; existing files are as they were",
			files: map[string]string{"o.png": sentinel, "o.gif": sentinel, "log.jsonl": sentinel, "frames/iteration_000.png": sentinel}},
		{name: "finished run replaces its outputs", args: tinyTransfer(styleModel,
			"--out", "D/o.png", "--gif", "D/o.gif", "--log", "D/log.jsonl", "--frames", "D/frames"),
			code: 0, files: map[string]string{"o.png": sentinel, "o.gif": sentinel, "log.jsonl": sentinel, "frames/iteration_000.png": sentinel},
			replaced: []string{"o.png", "o.gif", "log.jsonl", "frames/iteration_000.png"}},

		// features.
		{name: "features out in a missing folder", args: []string{"features", "--model", classModel, "--device", "cpu", "--out", "D/no/f.npy", content},
			code: exitFailure, want: "--out D/no/f.npy: folder D/no does not exist", early: true},
		{name: "features out is the image", args: []string{"features", "--model", classModel, "--device", "cpu", "--out", "D/c.png", "D/c.png"},
			code: exitUsage, want: "--out D/c.png is the same file as IMAGE", early: true, setup: copyImage("c.png")},
		{name: "features out is a folder", args: []string{"features", "--model", classModel, "--device", "cpu", "--out", "D/", content},
			code: exitUsage, want: "--out D/ is a folder", early: true},
		{name: "features larger than any memory", args: []string{"features", "--model", classModel, "--device", "cpu", "--size", "9000", "--out", "D/f.npy", content},
			code: exitFailure, want: "--size 9000x9000: features needs about", early: true, absent: []string{"f.npy"}},
		{name: "features bad layer keeps out", args: []string{"features", "--model", classModel, "--layer", "fc9", "--out", "D/f.npy", content},
			code: exitUsage, want: `--layer "fc9"`, files: map[string]string{"f.npy": sentinel}},

		// sweep.
		{name: "sweep file is an array", args: []string{"sweep", "--model", noModel, "--list", "D/s.json"},
			code: exitUsage, want: "a sweep file is one JSON object", early: true, files: map[string]string{"s.json": "[]"}},
		{name: "sweep out is a file", args: []string{"sweep", "--model", noModel, "--out", "D/file", "--content", content, "--style", style, "--size", "32"},
			code: exitUsage, want: "--out D/file is a file, not a folder", early: true, files: map[string]string{"file": sentinel}},
		{name: "sweep list with a huge shard count", args: []string{"sweep", "--model", styleModel, "--list", "--shard", "1/1000000000000",
			"--content", content, "--style", style, "--size", "32,64"},
			code: 0},
		{name: "sweep shard auto outside a scheduler", args: []string{"sweep", "--model", noModel, "--out", "D/sw", "--shard", "auto", "--content", content, "--style", style, "--size", "32"},
			code: exitUsage, want: "no scheduler's shard in the environment", early: true, absent: []string{"sw"}},
		{name: "sweep finish before the shards", args: []string{"sweep", "finish", "--model", styleModel, "--out", "D/sw", "--content", content, "--style", style, "--size", "32,64"},
			code: exitFailure, want: "2 of 2 points in D/sw are not finished", files: map[string]string{"sw/sheet.png": sentinel}, absent: []string{"sw/summary.csv"}},
		{name: "sweep shard count disagrees", args: []string{"sweep", "--model", styleModel, "--out", "D/sw", "--shard", "1/2", "--content", content, "--style", style, "--size", "32"},
			code: exitFailure, want: "D/sw is written by 3 shards", files: map[string]string{"sw/shards.json": `{"format":"neuralstyle-shards/1","count":3}` + "\n"},
			absent: []string{"sw/points"}},
		{name: "sweep out in a missing folder", args: []string{"sweep", "--model", noModel, "--out", "D/no/sweep", "--content", content, "--style", style, "--size", "32"},
			code: exitFailure, want: "--out D/no/sweep: folder D/no does not exist", early: true},

		// Issue 28: outputs into the inputs' folder, sizes known before the
		// model loads, and messages.
		{name: "batch out is the photo folder", args: []string{"batch", "--model", noModel, "--style", style, "--size", "32", "--out", "D/p", "D/p"},
			code: exitUsage, want: "--out D/p is the folder of photos D/p: its results would be read as photos", early: true,
			setup: copyImage("p/photo1.png"), absent: []string{"p/photo1.png.tmp", "p/sheet.png"}},
		{name: "video out is the frame folder", args: []string{"video", "--model", noModel, "--style", style, "--size", "32", "--out", "D/f", "D/f"},
			code: exitUsage, want: "--out D/f is the folder of frames D/f: what video writes there would be read as frames", early: true,
			setup: copyImage("f/frame_001.png"), absent: []string{"f/video.gif", "f/frames"}},
		{name: "video frame too small for the long side", args: []string{"video", "--model", noModel, "--style", style, "--long-side", "32", "--out", "D/o", "D/f"},
			code: exitFailure, want: "frame 4 (D/f/frame_004.png): long-side 32: content image 100x40: size 32x13 is too small", early: true,
			setup: framesOf("f", [][2]int{{100, 100}, {100, 100}, {100, 100}, {100, 40}}), absent: []string{"o/frames/frame_0001.png"}},
		{name: "score without content", args: []string{"score", "--model", noModel, "--style", style, "D/o.png"},
			code: exitUsage, want: "score needs --content: the transfer's content and style images", early: true},
		{name: "score without output", args: []string{"score", "--model", noModel, "--content", content, "--style", style},
			code: exitUsage, want: "score takes one OUTPUT image, the transfer's result, got 0 arguments", early: true},
		{name: "transfer dry run with no tile that fits", args: tinyTransfer(noModel, "--out", "D/o.png", "--size", "8000", "--tile", "auto", "--max-memory", "4GiB", "--dry-run"),
			code: exitFailure, want: "size 8000x8000: even tiles of 16 pixels need about 62.5 GiB of memory, but 4.0 GiB is available", early: true},
		{name: "sweep into another sweep's folder", args: []string{"sweep", "--model", styleModel, "--device", "cpu", "--threads", "1", "--out", "D/s",
			"--content", content, "--style", style, "--size", "32", "--iterations", "1", "--maxfun", "2", "--style-weight", "0.1,1"},
			code: exitFailure, want: `sweep: D/s holds another sweep ("another": style-weight=1,2); give another --out, or --reuse-out`,
			files: map[string]string{"s/spec.json": anotherSweep, "s/sheet.png": sentinel, "s/summary.csv": sentinel}, absent: []string{"s/points"}},
		{name: "batch into another sweep's folder", args: []string{"batch", "--model", styleModel, "--device", "cpu", "--threads", "1", "--out", "D/b",
			"--style", style, "--size", "32", "--iterations", "1", "--maxfun", "2", content},
			code: exitFailure, want: `sweep: D/b holds another sweep ("another": style-weight=1,2); give another --out, or --reuse-out`,
			files: map[string]string{"b/spec.json": anotherSweep, "b/sheet.png": sentinel, "b/summary.csv": sentinel}, absent: []string{"b/points", "b/content.png"}},
		{name: "serve upload limit that overflows", args: []string{"serve", "--model", noModel, "--max-upload", "99999999999999"},
			code: exitUsage, want: "--max-upload 99999999999999: want the largest job request in MiB, from 1 to 1048576", early: true},

		// classify and mnist.
		{name: "classify missing image", args: []string{"classify", "--model", classModel, "D/absent.jpg"},
			code: exitFailure, want: "absent.jpg", early: true},
		{name: "mnist missing model", args: []string{"mnist", "--model", "D/nomodel"},
			code: exitUsage, want: "D/nomodel\": not one of linear, nn-zero, nn, convnet, nor a directory"},
	}
}

func copyImage(name string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		data, err := os.ReadFile("../../scripts/testdata/transfer/content.png")
		must(t, err)
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
}

// anotherSweep is the sweep.ClaimFile of a sweep of style weights 1 and 2.
const anotherSweep = `{"format": "neuralstyle-sweep-folder/1", "description": "another", "settings": ["style-weight=1,2"], "identity": ["style-weight=1,2"]}`

// framesOf writes frames frame_001.png ... of the given sizes into folder dir.
func framesOf(dir string, sizes [][2]int) func(t *testing.T, root string) {
	return func(t *testing.T, root string) {
		must(t, os.MkdirAll(filepath.Join(root, dir), 0o755))
		for i, wh := range sizes {
			img := &preprocess.Image{Width: wh[0], Height: wh[1], Pix: make([]byte, wh[0]*wh[1]*3)}
			for k := range img.Pix {
				img.Pix[k] = byte(k * (i + 3))
			}
			must(t, imagefile.WritePNG(filepath.Join(root, dir, fmt.Sprintf("frame_%03d.png", i+1)), img))
		}
	}
}

// damagedTIFF writes a TIFF whose strip offset points 2 GB past its end (a
// single strip; its offset is the value of tag 273 in the first directory).
func damagedTIFF(name string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		d, err := os.ReadFile("../../preprocess/imagefile/testdata/decode/tiff_rgb_raw.tif")
		must(t, err)
		var bo binary.ByteOrder = binary.BigEndian
		if string(d[:2]) == "II" {
			bo = binary.LittleEndian
		}
		ifd := bo.Uint32(d[4:8])
		n := int(bo.Uint16(d[ifd:]))
		found := false
		for i := range n {
			e := int(ifd) + 2 + 12*i
			if bo.Uint16(d[e:]) == 273 && bo.Uint32(d[e+4:]) == 1 {
				bo.PutUint32(d[e+8:], 0x7fffff00)
				found = true
			}
		}
		if !found {
			t.Fatal("tiff_rgb_raw.tif: no single strip offset")
		}
		must(t, os.WriteFile(filepath.Join(dir, name), d, 0o644))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// catalogueModels builds the models the cases name, and a copy of the tiny model
// whose variables are cut in half.
func catalogueModels(t *testing.T) map[string]string {
	vgg, err := testmodels.VGG16()
	must(t, err)
	bad := filepath.Join(t.TempDir(), "damaged")
	must(t, os.CopyFS(bad, os.DirFS(tinyModel)))
	data := filepath.Join(bad, "variables", "variables.data-00000-of-00001")
	st, err := os.Stat(data)
	must(t, err)
	must(t, os.Truncate(data, st.Size()/2))
	return map[string]string{
		styleModel: vgg,
		classModel: classifierModel(t),
		damaged:    bad,
		content:    "../../scripts/testdata/transfer/content.png",
		style:      "../../scripts/testdata/transfer/style.png",
	}
}

type verdict string

const (
	clearEarly verdict = "clear before work"
	clearLate  verdict = "clear after work"
	unclear    verdict = "unclear"
	panicked   verdict = "panic"
	crashed    verdict = "crash"
	hung       verdict = "hang"
	dataLost   verdict = "data lost"
)

// TestCatalogue runs every case in-process (or through NEURALSTYLE_CATALOGUE_BIN)
// and counts the verdicts.
func TestCatalogue(t *testing.T) {
	t.Parallel()
	bin := os.Getenv("NEURALSTYLE_CATALOGUE_BIN")
	models := catalogueModels(t)
	counts := map[verdict]int{}
	cases := catalogue()
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			v, detail := runCase(t, tc, models, bin)
			counts[v]++
			if bin != "" {
				t.Logf("%s: %s", v, detail)
				return
			}
			if v != clearEarly && v != clearLate {
				t.Errorf("%s: %s", v, detail)
			}
		})
	}
	var parts []string
	for _, v := range []verdict{clearEarly, clearLate, unclear, panicked, crashed, hung, dataLost} {
		parts = append(parts, fmt.Sprintf("%s %d", v, counts[v]))
	}
	t.Logf("catalogue of %d cases: %s", len(cases), strings.Join(parts, ", "))
}

func runCase(t *testing.T, tc catalogueCase, models map[string]string, bin string) (verdict, string) {
	dir := t.TempDir()
	sentinels := map[string][]byte{}
	for name, text := range tc.files {
		p := filepath.Join(dir, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(text), 0o644))
		sentinels[name] = []byte(text)
	}
	if tc.setup != nil {
		tc.setup(t, dir)
	}
	// Inputs set up by setup are sentinels too.
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			if _, ok := sentinels[rel]; !ok {
				data, _ := os.ReadFile(p)
				sentinels[rel] = data
			}
		}
		return nil
	})
	args := make([]string, len(tc.args))
	for i, a := range tc.args {
		if m, ok := models[a]; ok {
			a = m
		}
		if strings.HasPrefix(a, "D/") {
			a = dir + a[1:]
		}
		args[i] = a
	}
	want := strings.ReplaceAll(tc.want, "D/", dir+"/")

	code, stderr, v := invoke(args, bin)
	detail := fmt.Sprintf("neuralstyle %s: exit %d, stderr %q; want exit %d and %q",
		strings.Join(args, " "), code, lastLines(stderr), tc.code, want)
	if v != "" {
		return v, detail
	}
	// Nothing existing replaced, unless the case says so; no temporary files left.
	for name, before := range sentinels {
		after, err := os.ReadFile(filepath.Join(dir, name))
		isReplaced := strings.Contains(strings.Join(tc.replaced, "\n"), name)
		if isReplaced {
			if err != nil || bytes.Equal(after, before) {
				return unclear, detail + "; " + name + " was not written"
			}
			continue
		}
		if err != nil || !bytes.Equal(after, before) {
			return dataLost, detail + "; " + name + " changed"
		}
	}
	for _, name := range tc.absent {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return dataLost, detail + "; " + name + " was written"
		}
	}
	var tmps []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			tmps = append(tmps, p)
		}
		return nil
	})
	if len(tmps) > 0 {
		return dataLost, detail + "; temporary files left: " + strings.Join(tmps, " ")
	}
	if code != tc.code || !strings.Contains(stderr, want) || strings.Contains(stderr, noModel) {
		return unclear, detail
	}
	if tc.early || tc.code == 0 {
		if tc.code == 0 {
			return clearLate, detail
		}
		return clearEarly, detail
	}
	return clearLate, detail
}

// invoke runs the command line in-process, or through bin. A non-empty verdict
// is a panic, crash or hang.
func invoke(args []string, bin string) (code int, stderr string, v verdict) {
	type result struct {
		code   int
		stderr string
		v      verdict
	}
	ch := make(chan result, 1)
	go func() {
		if bin != "" {
			// Killed at the timeout, and held to 8 GB of address space: an old
			// binary may try to allocate the 47 GiB of a 9000x9000 features run.
			ctx, cancel := context.WithTimeout(context.Background(), catalogueTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, "prlimit", append([]string{"--as=8000000000", "--", bin}, args...)...)
			var errBuf bytes.Buffer
			cmd.Stderr = &errBuf
			err := cmd.Run()
			r := result{code: cmd.ProcessState.ExitCode(), stderr: errBuf.String()}
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				r.v = crashed
				if ctx.Err() != nil {
					r.v = hung
				}
			}
			if strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine ") {
				r.v = panicked
			}
			_ = err
			ch <- r
			return
		}
		defer func() {
			if p := recover(); p != nil {
				ch <- result{code: -1, stderr: fmt.Sprint(p), v: panicked}
			}
		}()
		c, _, e := neuralstyle(args...)
		ch <- result{code: c, stderr: e}
	}()
	select {
	case r := <-ch:
		return r.code, r.stderr, r.v
	case <-time.After(catalogueTimeout):
		return -1, "", hung
	}
}

func lastLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	var keep []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "I0000") && !strings.HasPrefix(l, "WARNING: All log messages") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
