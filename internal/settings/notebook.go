package settings

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
)

// The notebook's settings: its images, loss weights, layers, optimisation,
// graph and image reading.

// images are the files a transfer reads.
var images = []Setting{
	{Name: "content", Kind: KindFile, Category: CategoryNotebook, Required: true, Sweep: true, Placeholder: "FILE", Role: "content image",
		Usage:  "content image `FILE` (JPEG, PNG, GIF, BMP, TIFF, WebP)",
		Parse:  func(c *transfer.Config, v string) error { return parsePath(&c.Content, v) },
		Format: func(c *transfer.Config) string { return c.Content }},
	{Name: "style", Kind: KindFile, Category: CategoryNotebook, List: true, SweepCommas: true, Required: true, Sweep: true, Placeholder: "FILE", Role: "style image",
		Usage: "style image `FILE`, or several: a.jpg,b.jpg (see --style-blend, --style-mask)",
		Parse: func(c *transfer.Config, v string) error {
			if c.Style = SplitList(v); len(c.Style) == 0 {
				return errors.New("empty file name")
			}
			return nil
		},
		Format: func(c *transfer.Config) string { return strings.Join(c.Style, ",") }},
}

// weights are the loss's weights.
var weights = []Setting{
	weightSetting("content-weight", "weight of the content loss", func(s *transfer.Settings) *float64 { return &s.ContentWeight }),
	weightSetting("style-weight", "weight of the style loss, split evenly over the style layers", func(s *transfer.Settings) *float64 { return &s.StyleWeight }),
	weightSetting("tv-weight", "weight of the total-variation loss", func(s *transfer.Settings) *float64 { return &s.TVWeight }),
}

// layers are the VGG16 layers the loss reads.
var layers = []Setting{
	{Name: "content-layer", Kind: KindChoice, Category: CategoryNotebook, Choices: transfer.Layers, Sweep: true, Advanced: true, Placeholder: "LAYER",
		Usage: "VGG16 conv `LAYER` of the content loss",
		Parse: func(c *transfer.Config, v string) error {
			c.ContentLayer = strings.TrimSpace(v)
			if !slices.Contains(transfer.Layers, c.ContentLayer) {
				return fmt.Errorf("unknown layer %q; VGG16's conv layers are %s", c.ContentLayer, strings.Join(transfer.Layers, ", "))
			}
			return nil
		},
		Format: func(c *transfer.Config) string { return c.ContentLayer }},
	{Name: "style-layers", Kind: KindText, Category: CategoryNotebook, List: true, Sweep: true, Advanced: true, Placeholder: "LAYERS",
		Usage:     "comma-separated VGG16 conv layers of the style loss; LAYER:WEIGHT gives a layer its own weight instead of a share of --style-weight",
		FormUsage: "comma-separated VGG16 conv layers of the style loss; LAYER:WEIGHT gives a layer its own weight instead of a share of the style weight",
		Parse: func(c *transfer.Config, v string) (err error) {
			c.StyleLayers, c.StyleLayerWeights, err = transfer.ParseStyleLayers(v)
			return err
		},
		Format: func(c *transfer.Config) string { return formatStyleLayers(&c.Settings) }},
}

// optimisation is the notebook's loop: its iterations, evaluations and start.
var optimisation = []Setting{
	intSetting("iterations", "outer iterations (L-BFGS-B calls)", 1, math.MaxInt32, func(s *transfer.Settings) *int { return &s.Iterations }),
	intSetting("maxfun", "evaluations per L-BFGS-B call (checked when an L-BFGS-B iteration ends, as SciPy does)", 1, math.MaxInt32, func(s *transfer.Settings) *int { return &s.MaxFun }),
	advanced(withFormUsage(choiceSetting("lbfgs-memory", "reset (the notebook's: each outer iteration is a call of L-BFGS-B from an empty memory) "+
		"or keep (one L-BFGS-B run through the outer iterations, its memory carried over; each still ends after --maxfun evaluations): "+
		"the notebook's loss in fewer evaluations (0.54 to 0.77 of them, measured at 512)",
		[]transfer.Memory{transfer.MemoryReset, transfer.MemoryKeep}, func(s *transfer.Settings) *transfer.Memory { return &s.Memory }),
		"reset (the notebook's: each outer iteration is a call of L-BFGS-B from an empty memory) "+
			"or keep (one L-BFGS-B run through the outer iterations, its memory carried over; each still ends after maxfun evaluations): "+
			"the notebook's loss in fewer evaluations (0.54 to 0.77 of them, measured at 512)"), CategoryControls),
	advanced(choiceSetting("bounds", "none (the notebook's: the optimiser may leave values outside 0..255, which the picture clips, "+
		"so its loss can be below its picture's) or pixels (every value kept within 0..255: the loss is the picture's)",
		[]transfer.Bounds{transfer.BoundsNone, transfer.BoundsPixels}, func(s *transfer.Settings) *transfer.Bounds { return &s.Bounds }), CategoryControls),
	{Name: "stop-improvement", Kind: KindNumber, Category: CategoryControls, Sweep: true, Advanced: true, Placeholder: "R",
		Usage: "end the run after an outer iteration at the final size that lowers the loss by less than `R` of its value (0.02: 2%; 0: run every iteration, as the notebook)",
		FormUsage: "end the run after an outer iteration at the final size that lowers the loss by less than this fraction of its value " +
			"(0.02: 2%; 0: run every iteration, as the notebook)",
		Parse: func(c *transfer.Config, v string) error {
			r, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return fmt.Errorf("%q: want a fraction such as 0.02", v)
			}
			c.StopImprovement = r
			return nil
		},
		Format: func(c *transfer.Config) string { return formatFloat(c.StopImprovement) }},
	{Name: "seed", Kind: KindInteger, Category: CategoryNotebook, Sweep: true,
		Usage: "seed of the starting noise: np.random.seed(SEED) (0 to 4294967295)",
		Parse: func(c *transfer.Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < 0 || n > math.MaxUint32 {
				return fmt.Errorf("%q: want a whole number from 0 to 4294967295", v)
			}
			c.Seed = uint32(n)
			return nil
		},
		Format: func(c *transfer.Config) string { return strconv.FormatUint(uint64(c.Seed), 10) }},
	withFormUsage(choiceSetting("init", "starting image: noise, content, style, stylized (the arbitrary feed-forward network's picture of the content in the style; make fastnets, see --fastnets) or image (--init-image)",
		[]transfer.Init{transfer.InitNoise, transfer.InitContent, transfer.InitStyle, transfer.InitStylized, transfer.InitImage},
		func(s *transfer.Settings) *transfer.Init { return &s.Init }), "starting image: noise, content or style"),
}

// graphs chooses the model's graph.
var graphs = []Setting{
	choiceSetting("graph", "fast (content and style targets computed once: a third of the work, the same bits) or recipe (the notebook's batch of three at every evaluation)",
		[]transfer.Graph{transfer.GraphFast, transfer.GraphRecipe}, func(s *transfer.Settings) *transfer.Graph { return &s.Graph }),
}

// reading is how the images are resized and preprocessed.
var reading = []Setting{
	{Name: "resample", Kind: KindChoice, Category: CategoryNotebook, Choices: []string{"nearest", "box", "bilinear", "hamming", "bicubic", "lanczos"}, Sweep: true, Advanced: true,
		Usage: "resize filter: nearest (the notebook's Pillow default), box, bilinear, hamming, bicubic, lanczos",
		Parse: func(c *transfer.Config, v string) (err error) {
			c.Resample, err = resample.ParseFilter(strings.TrimSpace(v))
			return err
		},
		Format: func(c *transfer.Config) string { return c.Resample.String() }},
	{Name: "preprocess", Kind: KindChoice, Category: CategoryNotebook, Choices: []string{"recipe", "caffe"}, Sweep: true, Advanced: true,
		Usage: "recipe (the notebook's mean subtraction, quirk included) or caffe (Keras' preprocess_input)",
		Parse: func(c *transfer.Config, v string) (err error) {
			c.Preprocess, err = vggtensor.ParseMode(strings.TrimSpace(v))
			return err
		},
		Format: func(c *transfer.Config) string { return c.Preprocess.String() }},
}

// arithmetic is the precision of the convolutions.
var arithmetic = []Setting{
	advanced(choiceSetting("precision", "fp32 (the notebook's float32), bf16 (convolutions in bfloat16, Grams, loss and optimizer "+
		"in float32: faster where the CPU has AVX512-BF16/AMX or on GPU tensor cores, 8-9x slower elsewhere; fast graph only) "+
		"or auto (bf16 where it is faster and the run can use it, else fp32; says which and why)",
		[]transfer.Precision{transfer.PrecisionFP32, transfer.PrecisionBF16, transfer.PrecisionAuto},
		func(s *transfer.Settings) *transfer.Precision { return &s.Precision }), CategoryTF),
}

// orientation is whether photos are turned upright.
var orientation = []Setting{
	{Name: "exif", Kind: KindChoice, Category: CategoryNotebook, Choices: []string{"apply", "ignore"}, Sweep: true, Advanced: true,
		Usage: "apply: turn photos upright by their EXIF orientation; ignore: keep the stored pixels, as the notebook's Pillow did (bit for bit the notebook on rotated photos)",
		Parse: func(c *transfer.Config, v string) error {
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
		Format: func(c *transfer.Config) string {
			if c.IgnoreEXIF {
				return "ignore"
			}
			return "apply"
		}},
}

func formatStyleLayers(s *transfer.Settings) string {
	parts := make([]string, len(s.StyleLayers))
	for i, name := range s.StyleLayers {
		parts[i] = name
		if s.StyleLayerWeights != nil && i < len(s.StyleLayerWeights) {
			parts[i] += ":" + formatFloat(s.StyleLayerWeights[i])
		}
	}
	return strings.Join(parts, ",")
}

func parsePath(field *string, v string) error {
	if *field = strings.TrimSpace(v); *field == "" {
		return errors.New("empty file name")
	}
	return nil
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// parseFloat reads a number; its error names the text.
func parseFloat(v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, fmt.Errorf("%q: not a number", v)
	}
	return f, nil
}

func weightSetting(name, usage string, field func(*transfer.Settings) *float64) Setting {
	return Setting{Name: name, Kind: KindNumber, Category: CategoryNotebook, Sweep: true, Usage: usage,
		Parse: func(c *transfer.Config, v string) (err error) {
			*field(&c.Settings), err = parseFloat(v)
			return err
		},
		Format: func(c *transfer.Config) string { return formatFloat(*field(&c.Settings)) }}
}

func intSetting(name, usage string, lo, hi int64, field func(*transfer.Settings) *int) Setting {
	return Setting{Name: name, Kind: KindInteger, Category: CategoryNotebook, Sweep: true, Usage: usage,
		Parse: func(c *transfer.Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n < lo || n > hi {
				return fmt.Errorf("%q: want a whole number from %d to %d", v, lo, hi)
			}
			*field(&c.Settings) = int(n)
			return nil
		},
		Format: func(c *transfer.Config) string { return strconv.Itoa(*field(&c.Settings)) }}
}

func choiceSetting[T ~string](name, usage string, choices []T, field func(*transfer.Settings) *T) Setting {
	names := make([]string, len(choices))
	for i, c := range choices {
		names[i] = string(c)
	}
	return Setting{Name: name, Kind: KindChoice, Category: CategoryNotebook, Choices: names, Sweep: true, Usage: usage,
		Parse: func(c *transfer.Config, v string) error {
			*field(&c.Settings) = T(strings.ToLower(strings.TrimSpace(v)))
			if !slices.Contains(choices, *field(&c.Settings)) {
				return fmt.Errorf("%q: want %s", string(*field(&c.Settings)), strings.Join(names, ", "))
			}
			return nil
		},
		Format: func(c *transfer.Config) string { return string(*field(&c.Settings)) }}
}

// withFormUsage is s with its help for forms (Setting.FormUsage).
func withFormUsage(s Setting, formUsage string) Setting {
	s.FormUsage = formUsage
	return s
}

// advanced is s folded away in forms, in help's category.
func advanced(s Setting, category string) Setting {
	s.Advanced, s.Category = true, category
	return s
}
