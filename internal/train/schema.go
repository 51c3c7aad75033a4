package train

import (
	"errors"
	"fmt"
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"math"
	"strconv"
	"strings"

	"github.com/neuralstyle/neuralstyle/preprocess/resample"
)

// Settings configure a training run. Steps, CheckpointEvery and PreviewEvery
// may change when a run resumes; every other setting decides which crops the
// run draws and what each step does, so a resumed run must keep it.
type Settings struct {
	Steps           int             `json:"steps"`
	Batch           int             `json:"batch"` // crops per step
	Crop            int             `json:"crop"`  // side of the square crops, a multiple of 4, at least 16
	LearningRate    float64         `json:"learning_rate"`
	ContentWeight   float64         `json:"content_weight"`
	StyleWeight     float64         `json:"style_weight"`
	TVWeight        float64         `json:"tv_weight"`
	Seed            uint64          `json:"seed"`     // the network's initialisation and the crops' order
	Resample        resample.Filter `json:"resample"` // photos are scaled down with it to the crop's side
	BF16            bool            `json:"bf16"`     // VGG16's convolutions in bfloat16
	CheckpointEvery int             `json:"checkpoint_every"`
	PreviewEvery    int             `json:"preview_every"`
}

// DefaultSettings are Johnson et al.'s run (40,000 steps of 4 crops of 256 at
// learning rate 1e-3) with the notebook's loss weights.
func DefaultSettings() Settings {
	return Settings{
		Steps: 40000, Batch: 4, Crop: 256, LearningRate: 1e-3,
		ContentWeight: 0.025, StyleWeight: 5, TVWeight: 1, Seed: 1,
		Resample: resample.Lanczos, CheckpointEvery: 500, PreviewEvery: 500,
	}
}

// Validate reports every problem with s, one line each, naming the setting.
func (s Settings) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s.Steps < 1 {
		add("steps: %d; want at least 1", s.Steps)
	}
	if s.Batch < 1 {
		add("batch: %d; want at least 1", s.Batch)
	}
	if s.Crop < 16 || s.Crop%4 != 0 {
		add("crop: %d; want a multiple of 4 of at least 16 (VGG16's block5 lies behind four 2x2 pools, the network halves the crop twice)", s.Crop)
	}
	if !(s.LearningRate > 0) || math.IsInf(s.LearningRate, 0) {
		add("learning-rate: %g; want a positive number", s.LearningRate)
	}
	for _, w := range []struct {
		name string
		v    float64
	}{{"content-weight", s.ContentWeight}, {"style-weight", s.StyleWeight}, {"tv-weight", s.TVWeight}} {
		if !(w.v >= 0) || math.IsInf(w.v, 0) {
			add("%s: %g; want a number of at least 0", w.name, w.v)
		}
	}
	if s.Seed > MaxSeed {
		add("seed: %d; want at most %d (it reaches the graph as a float32)", s.Seed, MaxSeed)
	}
	if s.CheckpointEvery < 0 {
		add("checkpoint-every: %d; want 0 (only at the end) or more", s.CheckpointEvery)
	}
	if s.PreviewEvery < 0 {
		add("preview-every: %d; want 0 (only at the start and end) or more", s.PreviewEvery)
	}
	return errors.Join(errs...)
}

// SameRun reports the settings in which s differs from those a checkpoint was
// written with (c), other than those a resumed run may change.
func (s Settings) SameRun(c Settings) error {
	a, b := s, c
	a.Steps, a.CheckpointEvery, a.PreviewEvery = 0, 0, 0
	b.Steps, b.CheckpointEvery, b.PreviewEvery = 0, 0, 0
	if a == b {
		return nil
	}
	return fmt.Errorf("the checkpoint's run had batch %d, crop %d, learning rate %g, weights %g/%g/%g, seed %d, resample %v, bf16 %v; this one has batch %d, crop %d, learning rate %g, weights %g/%g/%g, seed %d, resample %v, bf16 %v; resume with the same settings (only steps, checkpoint-every and preview-every may change)",
		b.Batch, b.Crop, b.LearningRate, b.ContentWeight, b.StyleWeight, b.TVWeight, b.Seed, b.Resample, b.BF16,
		a.Batch, a.Crop, a.LearningRate, a.ContentWeight, a.StyleWeight, a.TVWeight, a.Seed, a.Resample, a.BF16)
}

// Setting is one entry of Schema, in the form of settings.Setting's entries
// (name, kind, usage, environment variable, parse and format) but reading into
// Settings, which transfer.Config does not hold.
type Setting struct {
	Name        string
	Kind        settings.Kind
	Usage       string
	Placeholder string
	Env         string
	Parse       func(s *Settings, text string) error
	Format      func(s *Settings) string
}

// Set parses text into s, the error naming the setting.
func (st *Setting) Set(s *Settings, text string) error {
	if err := st.Parse(s, text); err != nil {
		return fmt.Errorf("%s: %w", st.Name, err)
	}
	return nil
}

// Default is the setting's text in DefaultSettings.
func (st *Setting) Default() string {
	d := DefaultSettings()
	return st.Format(&d)
}

func env(name string) string {
	return "NEURALSTYLE_TRAIN_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

func intSetting(name, usage string, field func(*Settings) *int) Setting {
	return Setting{Name: name, Kind: settings.KindInteger, Placeholder: "N", Env: env(name), Usage: usage,
		Parse: func(s *Settings, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q: want a whole number", v)
			}
			*field(s) = n
			return nil
		},
		Format: func(s *Settings) string { return strconv.Itoa(*field(s)) }}
}

func numberSetting(name, usage string, field func(*Settings) *float64) Setting {
	return Setting{Name: name, Kind: settings.KindNumber, Placeholder: "X", Env: env(name), Usage: usage,
		Parse: func(s *Settings, v string) error {
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("%q: want a number", v)
			}
			*field(s) = x
			return nil
		},
		Format: func(s *Settings) string { return strconv.FormatFloat(*field(s), 'g', -1, 64) }}
}

// Schema lists the settings of a training run in the order help shows them.
// Their ranges are Settings.Validate's, checked across the whole run.
var Schema = []Setting{
	intSetting("steps", "training steps (the paper: 40,000 of batch 4 over COCO's 83,000 photos, two epochs)", func(s *Settings) *int { return &s.Steps }),
	intSetting("batch", "crops per step", func(s *Settings) *int { return &s.Batch }),
	intSetting("crop", "side of the square crops in pixels (a multiple of 4, at least 16); photos are scaled down so their short side is this, then cropped at random", func(s *Settings) *int { return &s.Crop }),
	numberSetting("learning-rate", "Adam's learning rate", func(s *Settings) *float64 { return &s.LearningRate }),
	numberSetting("content-weight", "weight of the content term (block2_conv2), the notebook's 0.025", func(s *Settings) *float64 { return &s.ContentWeight }),
	numberSetting("style-weight", "weight of the style terms (split over the five style layers), the notebook's 5", func(s *Settings) *float64 { return &s.StyleWeight }),
	numberSetting("tv-weight", "weight of the total variation, the notebook's 1", func(s *Settings) *float64 { return &s.TVWeight }),
	{Name: "seed", Kind: settings.KindInteger, Placeholder: "N", Env: env("seed"),
		Usage: "seed of the network's initialisation and of the crops' order",
		Parse: func(s *Settings, v string) error {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return fmt.Errorf("%q: want a whole number of at least 0", v)
			}
			s.Seed = n
			return nil
		},
		Format: func(s *Settings) string { return strconv.FormatUint(s.Seed, 10) }},
	{Name: "resample", Kind: settings.KindChoice, Placeholder: "FILTER", Env: env("resample"),
		Usage: "filter that scales the photos down: nearest, box, bilinear, hamming, bicubic, lanczos",
		Parse: func(s *Settings, v string) error {
			f, err := resample.ParseFilter(strings.TrimSpace(v))
			if err != nil {
				return err
			}
			s.Resample = f
			return nil
		},
		Format: func(s *Settings) string { return strings.ToLower(s.Resample.String()) }},
	{Name: "bf16", Kind: settings.KindBool, Env: env("bf16"),
		Usage: "run VGG16's convolutions in bfloat16 (faster on CPUs with AMX or AVX512-BF16, and GPUs); the network stays float32",
		Parse: func(s *Settings, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q: want true or false", v)
			}
			s.BF16 = b
			return nil
		},
		Format: func(s *Settings) string { return strconv.FormatBool(s.BF16) }},
	intSetting("checkpoint-every", "write a checkpoint every N steps (0: only at the end and on Ctrl-C)", func(s *Settings) *int { return &s.CheckpointEvery }),
	intSetting("preview-every", "stylise the held-out photo every N steps (0: only at the start and the end)", func(s *Settings) *int { return &s.PreviewEvery }),
}
