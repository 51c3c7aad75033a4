// Package job is what a job of many transfers (a batch, a clip, a sweep) does
// around them: load the style model once and check it for every graph the
// transfers use, load the feed-forward networks when one starts stylized, say
// what each precision resolves to, and word an interruption as work that a
// rerun resumes. The front end keeps its settings, its terminal and its exit
// codes.
package job

import (
	"context"
	"fmt"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Settings say where a job's models are and how their session runs.
type Settings struct {
	Model    string // the style model's SavedModel folder
	FastNets string // the feed-forward networks' folder, for transfers that start stylized
	Session  *tfgraph.Options
}

// Models are a job's loaded models.
type Models struct {
	Model *tfgraph.Model
	// Stylizer paints the start of transfers with init stylized; nil when
	// none of the job's transfers has it.
	Stylizer transfer.Stylizer

	stylizer *fastnet.Model
}

// stylized reports whether any of configs starts from the stylized image.
func stylized(configs []transfer.Config) bool {
	for i := range configs {
		if configs[i].Init == transfer.InitStylized {
			return true
		}
	}
	return false
}

// Check reports what can be known before a model loads: a missing or damaged
// feed-forward model when one of configs starts stylized.
func (s *Settings) Check(configs []transfer.Config) error {
	if !stylized(configs) {
		return nil
	}
	_, err := fastnet.ReadMeta(s.FastNets)
	return err
}

// Load checks s for configs (Check), loads the style model and checks that it
// has the signatures of every graph configs use, and loads the feed-forward
// networks when one of configs starts stylized. Close releases them.
func Load(s *Settings, configs []transfer.Config) (*Models, error) {
	if err := s.Check(configs); err != nil {
		return nil, err
	}
	model, err := tfgraph.Load(s.Model, s.Session)
	if err != nil {
		return nil, err
	}
	m := &Models{Model: model}
	for _, g := range []transfer.Graph{transfer.GraphRecipe, transfer.GraphFast} {
		for i := range configs {
			if configs[i].Settings.Graph == g {
				if err := transfer.CheckModel(model, g); err != nil {
					m.Close()
					return nil, err
				}
				break
			}
		}
	}
	if stylized(configs) {
		if m.stylizer, err = fastnet.Load(s.FastNets, s.Session); err != nil {
			m.Close()
			return nil, err
		}
		m.Stylizer = m.stylizer
	}
	return m, nil
}

// Close releases the models.
func (m *Models) Close() {
	if m.stylizer != nil {
		m.stylizer.Close()
	}
	m.Model.Close()
}

// Precisions says, once each, what the precision setting picks for the
// transfers of configs on this model (auto, or bf16 where the hardware lacks
// it): a job runs transfer.Run once per photo, point or frame, which resolves
// the precision again each time and says nothing.
func (m *Models) Precisions(configs []transfer.Config) ([]string, error) {
	var said []string
	seen := map[string]bool{}
	for _, cfg := range configs {
		s := cfg.Settings
		msg, err := transfer.ResolvePrecision(m.Model, &s, len(cfg.StyleMask) > 0)
		if err != nil {
			return nil, err
		}
		if msg != "" && !seen[msg] {
			seen[msg] = true
			said = append(said, msg)
		}
	}
	return said, nil
}

// InterruptedError is a job stopped by an interrupt: what it finished is kept,
// and a rerun resumes.
type InterruptedError struct {
	What string // what is kept: "photos", "points", "frames"
	Err  error  // the run's error
}

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted (%v); finished %s are kept, rerun to resume", e.Err, e.What)
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// Stopped is err, or an *InterruptedError when ctx was cancelled and parent
// was not: an interrupt, not the caller's own end, stopped the run.
func Stopped(ctx, parent context.Context, err error, what string) error {
	if err != nil && ctx.Err() != nil && parent.Err() == nil {
		return &InterruptedError{What: what, Err: err}
	}
	return err
}
