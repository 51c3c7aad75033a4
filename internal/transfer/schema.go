package transfer

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
)

// Config is everything one transfer needs: its settings and the image files it
// reads. Command lines, sweep files and web forms all fill one through Schema.
type Config struct {
	Settings
	Content, Style string // image files; Style may list several, comma-separated
	// StyleMask lists mask files, one per style; InitImage is the starting
	// image's file (issue 12's controls).
	StyleMask, InitImage string
	// Stylize: the feed-forward networks' own settings (stylize.go, StylizeSchema).
	Stylize Stylize
}

// DefaultConfig returns the notebook's settings and no images.
func DefaultConfig() Config { return Config{Settings: Defaults(), Stylize: Stylize{Strength: 1}} }

// Kind says how a setting is written, and so which form a front end shows it in
// and whether a sweep may step through a range of it.
type Kind int

const (
	KindNumber  Kind = iota // a float, such as a weight
	KindInteger             // a whole number
	KindChoice              // one of Choices
	KindText                // text with a syntax of its own (a size, a layer list)
	KindFile                // the path of an input file (List: several, comma-separated)
	KindBool                // on or off; a flag without a value
)

// Setting describes one setting once for every front end: the transfer flag of
// its Name, the sweep key of the same name, the web form's field, and its entry
// in logs, point records and summaries.
type Setting struct {
	Name  string // flag name and sweep key, e.g. "style-weight"
	Kind  Kind
	Usage string
	// FormUsage is the help a web form shows where Usage speaks the command
	// line's syntax (--init-image, --size): the same help in the form's words,
	// naming its fields without dashes and leaving out what a form of one
	// content and one style image cannot take. "": Usage is already fit.
	FormUsage   string
	Placeholder string   // the value's name in help, e.g. FILE or WxH
	Env         string   // environment variable read when the flag is not given
	Choices     []string // for KindChoice, in the order help lists them
	Sweep       bool     // a sweep may set it or vary it along an axis
	Advanced    bool     // folded away in forms: most runs leave it alone
	VideoOnly   bool     // applies to a video's frames only: single-image forms leave it out
	// SeveralStyles: applies only with several style images, so forms that take
	// one style image leave it out.
	SeveralStyles bool
	Required      bool // a run needs it and it has no default
	List          bool // its text is a comma-separated list (a sweep separates values with ';')

	// Parse reads text, written as the flag takes it, into c. Its errors name the
	// value but not the setting; callers say where the value came from.
	Parse func(c *Config, text string) error
	// Format writes the setting's value in c as Parse reads it, canonically: two
	// values are the same setting exactly when their texts are equal.
	Format func(c *Config) string
	// Check reports a problem with the value in c that Parse cannot see (it may
	// have been set from Go); nil when there is none to check.
	Check func(c *Config) error
}

// Schema lists every setting of a transfer, in the order help shows them. Adding
// a setting is a field in Settings, its default in Defaults, and one entry here.
var Schema = []Setting{
	{Name: "content", Kind: KindFile, Required: true, Sweep: true, Placeholder: "FILE", Env: "NEURALSTYLE_CONTENT",
		Usage:  "content image `FILE` (JPEG, PNG, GIF, BMP, TIFF, WebP)",
		Parse:  func(c *Config, v string) error { return parsePath(&c.Content, v) },
		Format: func(c *Config) string { return c.Content }},
	{Name: "style", Kind: KindFile, List: true, Required: true, Sweep: true, Placeholder: "FILE", Env: "NEURALSTYLE_STYLE",
		Usage: "style image `FILE`, or several: a.jpg,b.jpg (see --style-blend, --style-mask)",
		Parse: func(c *Config, v string) error {
			if err := parsePath(&c.Style, v); err != nil {
				return err
			}
			if strings.Contains(c.Style, ",") {
				if c.Style = strings.Join(splitList(c.Style), ","); c.Style == "" {
					return errors.New("empty file name")
				}
			}
			return nil
		},
		Format: func(c *Config) string { return c.Style }},
	{Name: "size", Kind: KindText, Sweep: true, Placeholder: "WxH", Env: "NEURALSTYLE_SIZE",
		Usage: "`WxH` both images are resized to (aspect ratio not kept), or N for NxN",
		Parse: func(c *Config, v string) (err error) {
			c.Width, c.Height, err = ParseSize(v)
			return err
		},
		Format: func(c *Config) string { return fmt.Sprintf("%dx%d", c.Width, c.Height) },
		Check:  func(c *Config) error { return checkSize(c.Width, c.Height) }},
	sizeSettings[0], // long-side (sizes.go)
	weightSetting("content-weight", "weight of the content loss", func(s *Settings) *float64 { return &s.ContentWeight }),
	weightSetting("style-weight", "weight of the style loss, split evenly over the style layers", func(s *Settings) *float64 { return &s.StyleWeight }),
	weightSetting("tv-weight", "weight of the total-variation loss", func(s *Settings) *float64 { return &s.TVWeight }),
	{Name: "content-layer", Kind: KindChoice, Choices: Layers, Sweep: true, Advanced: true, Placeholder: "LAYER", Env: "NEURALSTYLE_CONTENT_LAYER",
		Usage: "VGG16 conv `LAYER` of the content loss",
		Parse: func(c *Config, v string) error {
			c.ContentLayer = strings.TrimSpace(v)
			_, err := layerIndex(c.ContentLayer)
			return err
		},
		Format: func(c *Config) string { return c.ContentLayer },
		Check: func(c *Config) error {
			_, err := layerIndex(c.ContentLayer)
			return err
		}},
	{Name: "style-layers", Kind: KindText, List: true, Sweep: true, Advanced: true, Placeholder: "LAYERS", Env: "NEURALSTYLE_STYLE_LAYERS",
		Usage:     "comma-separated VGG16 conv layers of the style loss; LAYER:WEIGHT gives a layer its own weight instead of a share of --style-weight",
		FormUsage: "comma-separated VGG16 conv layers of the style loss; LAYER:WEIGHT gives a layer its own weight instead of a share of the style weight",
		Parse: func(c *Config, v string) (err error) {
			c.StyleLayers, c.StyleLayerWeights, err = ParseStyleLayers(v)
			if err == nil {
				err = checkStyleLayers(&c.Settings)
			}
			return err
		},
		Format: func(c *Config) string { return formatStyleLayers(&c.Settings) },
		Check:  func(c *Config) error { return checkStyleLayers(&c.Settings) }},
	intSetting("iterations", "outer iterations (L-BFGS-B calls)", 1, math.MaxInt32, func(s *Settings) *int { return &s.Iterations }),
	intSetting("maxfun", "evaluations per L-BFGS-B call (checked when an L-BFGS-B iteration ends, as SciPy does)", 1, math.MaxInt32, func(s *Settings) *int { return &s.MaxFun }),
	stopImprovementSetting, // presets.go
	{Name: "seed", Kind: KindInteger, Sweep: true, Env: "NEURALSTYLE_SEED",
		Usage: "seed of the starting noise: np.random.seed(SEED) (0 to 4294967295)",
		Parse: func(c *Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < 0 || n > math.MaxUint32 {
				return fmt.Errorf("%q: want a whole number from 0 to 4294967295", v)
			}
			c.Seed = uint32(n)
			return nil
		},
		Format: func(c *Config) string { return strconv.FormatUint(uint64(c.Seed), 10) }},
	withFormUsage(choiceSetting("init", "starting image: noise, content, style, stylized (the arbitrary feed-forward network's picture of the content in the style; make fastnets, see --fastnets) or image (--init-image)",
		[]string{string(InitNoise), string(InitContent), string(InitStyle), string(InitStylized), string(InitImage)},
		func(s *Settings) *Init { return &s.Init }), "starting image: noise, content or style"),
	choiceSetting("graph", "fast (content and style targets computed once: a third of the work, the same bits) or recipe (the notebook's batch of three at every evaluation)",
		[]string{string(GraphFast), string(GraphRecipe)}, func(s *Settings) *Graph { return &s.Graph }),
	sizeSettings[1], sizeSettings[2], sizeSettings[3], // scales, scale-iterations, tile (sizes.go)
	{Name: "resample", Kind: KindChoice, Choices: []string{"nearest", "box", "bilinear", "hamming", "bicubic", "lanczos"}, Sweep: true, Advanced: true, Env: "NEURALSTYLE_RESAMPLE",
		Usage: "resize filter: nearest (the notebook's Pillow default), box, bilinear, hamming, bicubic, lanczos",
		Parse: func(c *Config, v string) (err error) {
			c.Resample, err = resample.ParseFilter(strings.TrimSpace(v))
			return err
		},
		Format: func(c *Config) string { return c.Resample.String() }},
	{Name: "preprocess", Kind: KindChoice, Choices: []string{"recipe", "caffe"}, Sweep: true, Advanced: true, Env: "NEURALSTYLE_PREPROCESS",
		Usage: "recipe (the notebook's mean subtraction, quirk included) or caffe (Keras' preprocess_input)",
		Parse: func(c *Config, v string) (err error) {
			c.Preprocess, err = vggtensor.ParseMode(strings.TrimSpace(v))
			return err
		},
		Format: func(c *Config) string { return c.Preprocess.String() }},
	precisionSetting(),
	{Name: "exif", Kind: KindChoice, Choices: []string{"apply", "ignore"}, Sweep: true, Advanced: true, Env: "NEURALSTYLE_EXIF",
		Usage: "apply: turn photos upright by their EXIF orientation; ignore: keep the stored pixels, as the notebook's Pillow did (bit for bit the notebook on rotated photos)",
		Parse: func(c *Config, v string) error {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "apply":
				c.IgnoreEXIF = false
			case "ignore":
				c.IgnoreEXIF = true
			default:
				return fmt.Errorf("%q: want apply or ignore", v)
			}
			return nil
		},
		Format: func(c *Config) string {
			if c.IgnoreEXIF {
				return "ignore"
			}
			return "apply"
		}},
	// Issue 12's controls (controls.go).
	controlSchema[0], controlSchema[1], controlSchema[2], controlSchema[3], controlSchema[4],
	controlSchema[5], controlSchema[6], controlSchema[7], controlSchema[8],
	// Issue 15's temporal term of a video's frames (temporal.go).
	temporalSetting,
}

// Paths are the files a file setting's text names: a list's entries, or the
// one path; none for empty text.
func (s *Setting) Paths(text string) []string {
	if s.List {
		return splitList(text)
	}
	if text = strings.TrimSpace(text); text == "" {
		return nil
	}
	return []string{text}
}

// Lookup returns the setting of a name, or an error listing the settings.
func Lookup(name string) (*Setting, error) {
	for i := range Schema {
		if Schema[i].Name == name {
			return &Schema[i], nil
		}
	}
	names := make([]string, len(Schema))
	for i, s := range Schema {
		names[i] = s.Name
	}
	return nil, fmt.Errorf("unknown setting %q; the settings are %s", name, strings.Join(names, ", "))
}

// Default is the setting's value in DefaultConfig, as text ("" for none).
func (s *Setting) Default() string {
	c := DefaultConfig()
	return s.Format(&c)
}

// Set parses text into c. Errors start with the setting's name. Limits that
// depend on other settings are Validate's.
func (s *Setting) Set(c *Config, text string) error {
	return named(s.Name, s.Parse(c, text))
}

// named prefixes err with the setting's name, unless it starts with it already:
// `style-weight "abc": not a number`, `content-layer: unknown layer "x"; ...`.
func named(name string, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, name):
		return err
	case strings.HasPrefix(msg, `"`):
		return fmt.Errorf("%s %w", name, err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// Field is one setting's value in a record.
type Field struct{ Name, Value string }

// Record lists every setting's value in c, in Schema order: the settings part of
// a log, a sweep point's record and a summary row.
func (c *Config) Record() []Field {
	out := make([]Field, len(Schema))
	for i, s := range Schema {
		out[i] = Field{s.Name, s.Format(c)}
	}
	return out
}

// Validate reports every problem with c, one line each, naming the setting: the
// checks of each setting, the images a run needs, and the checks across
// settings.
func (c *Config) Validate() error {
	var errs []error
	for _, s := range Schema {
		if s.Required && s.Format(c) == "" {
			errs = append(errs, fmt.Errorf("%s: not given", s.Name))
		}
	}
	return errors.Join(append(errs, c.problems()...)...)
}

// Validate checks the settings before any work starts; it reports every
// problem, one line each (the images are Config's).
func (s *Settings) Validate() error {
	c := &Config{Settings: *s}
	return errors.Join(c.problems()...)
}

// problems runs every setting's check on c; the checks that count image files
// (style-blend, style-mask, init-image) see them only in a whole Config.
func (c *Config) problems() []error {
	var errs []error
	for _, set := range Schema {
		if set.Check == nil {
			continue
		}
		if err := set.Check(c); err != nil {
			errs = append(errs, named(set.Name, err))
		}
	}
	return errs
}

func formatStyleLayers(s *Settings) string {
	parts := make([]string, len(s.StyleLayers))
	for i, name := range s.StyleLayers {
		parts[i] = name
		if s.StyleLayerWeights != nil && i < len(s.StyleLayerWeights) {
			parts[i] += ":" + formatFloat(s.StyleLayerWeights[i])
		}
	}
	return strings.Join(parts, ",")
}

func checkStyleLayers(s *Settings) error {
	if len(s.StyleLayers) == 0 {
		return errors.New("no style layers")
	}
	for i, name := range s.StyleLayers {
		if _, err := layerIndex(name); err != nil {
			return err
		}
		if slices.Index(s.StyleLayers, name) != i {
			return fmt.Errorf("%s is listed twice", name)
		}
	}
	if s.StyleLayerWeights != nil && len(s.StyleLayerWeights) != len(s.StyleLayers) {
		return fmt.Errorf("%d style layer weights for %d style layers", len(s.StyleLayerWeights), len(s.StyleLayers))
	}
	for i, w := range s.StyleLayerWeights {
		if err := checkWeight(w); err != nil {
			return fmt.Errorf("weight of %s: %w", s.StyleLayers[i], err)
		}
	}
	return nil
}

// maxPixels bounds the combination image: 8192x8192, far beyond what fits a
// GPU's memory with VGG16.
const maxPixels = 1 << 26

func checkSize(w, h int) error {
	if w < minImageSide || h < minImageSide {
		return fmt.Errorf("size %dx%d is too small: the model runs VGG16 to block5_conv3, behind four 2x2 pools, and needs at least %dx%d",
			w, h, minImageSide, minImageSide)
	}
	if w*h > maxPixels {
		return fmt.Errorf("size %dx%d has more than %d pixels", w, h, maxPixels)
	}
	return nil
}

func checkWeight(w float64) error {
	if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
		return fmt.Errorf("%v: want a finite number >= 0", w)
	}
	if w > math.MaxFloat32 {
		return fmt.Errorf("%v: too large for the model's float32", w)
	}
	return nil
}

func parsePath(field *string, v string) error {
	if *field = strings.TrimSpace(v); *field == "" {
		return errors.New("empty file name")
	}
	return nil
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func weightSetting(name, usage string, field func(*Settings) *float64) Setting {
	return Setting{Name: name, Kind: KindNumber, Sweep: true, Env: envName(name), Usage: usage,
		Parse: func(c *Config, v string) error {
			w, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return fmt.Errorf("%q: not a number", v)
			}
			*field(&c.Settings) = w
			return checkWeight(w)
		},
		Format: func(c *Config) string { return formatFloat(*field(&c.Settings)) },
		Check:  func(c *Config) error { return checkWeight(*field(&c.Settings)) }}
}

func intSetting(name, usage string, lo, hi int64, field func(*Settings) *int) Setting {
	check := func(v int64) error {
		if v < lo || v > hi {
			return fmt.Errorf("%d: want a whole number from %d to %d", v, lo, hi)
		}
		return nil
	}
	return Setting{Name: name, Kind: KindInteger, Sweep: true, Env: envName(name), Usage: usage,
		Parse: func(c *Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < lo || n > hi {
				return fmt.Errorf("%q: want a whole number from %d to %d", v, lo, hi)
			}
			*field(&c.Settings) = int(n)
			return nil
		},
		Format: func(c *Config) string { return strconv.Itoa(*field(&c.Settings)) },
		Check:  func(c *Config) error { return check(int64(*field(&c.Settings))) }}
}

func choiceSetting[T ~string](name, usage string, choices []string, field func(*Settings) *T) Setting {
	check := func(v T) error {
		if !slices.Contains(choices, string(v)) {
			return fmt.Errorf("%q: want %s", string(v), strings.Join(choices, ", "))
		}
		return nil
	}
	return Setting{Name: name, Kind: KindChoice, Choices: choices, Sweep: true, Env: envName(name),
		Usage: usage,
		Parse: func(c *Config, v string) error {
			*field(&c.Settings) = T(strings.ToLower(strings.TrimSpace(v)))
			return check(*field(&c.Settings))
		},
		Format: func(c *Config) string { return string(*field(&c.Settings)) },
		Check:  func(c *Config) error { return check(*field(&c.Settings)) }}
}

// withFormUsage is s with its help for forms (Setting.FormUsage).
func withFormUsage(s Setting, formUsage string) Setting {
	s.FormUsage = formUsage
	return s
}

// precisionSetting is --precision: fp32, or bf16 convolutions on the fast graph.
func precisionSetting() Setting {
	s := choiceSetting("precision", "fp32 (the notebook's float32), bf16 (convolutions in bfloat16, Grams, loss and optimizer "+
		"in float32: faster where the CPU has AVX512-BF16/AMX or on GPU tensor cores, 8-9x slower elsewhere; fast graph only) "+
		"or auto (bf16 where it is faster and the run can use it, else fp32; says which and why)",
		[]string{string(PrecisionFP32), string(PrecisionBF16), string(PrecisionAuto)}, func(s *Settings) *Precision { return &s.Precision })
	s.Advanced = true
	check := s.Check
	s.Check = func(c *Config) error {
		if err := check(c); err != nil {
			return err
		}
		switch {
		case c.Precision != PrecisionBF16:
		case c.Graph != GraphFast:
			return fmt.Errorf("bf16 runs the fast graph only, not graph %s", c.Graph)
		case c.Pooling != PoolingMax || c.StyleMask != "":
			return errors.New("bf16 runs max pooling without style masks; give --precision fp32 for --pooling avg or --style-mask")
		}
		return nil
	}
	return s
}

// envName is the environment variable of a setting: NEURALSTYLE_ and its name in
// capitals.
func envName(name string) string {
	return "NEURALSTYLE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}
