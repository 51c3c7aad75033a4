package main

import (
	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// fastnetsFlag is the feed-forward networks' folder: stylize's model, and the
// painter of the optimisation's start with --init stylized.
func fastnetsFlag() cli.Flag {
	return &cli.StringFlag{Name: "fastnets", Usage: "the feed-forward networks' SavedModel `DIR` (make fastnets), for stylize and --init stylized; a release's fastnets/ beside its bin/ by default",
		Value: releaseOr("fastnets", fastnet.DefaultDir), EnvVars: []string{"NEURALSTYLE_FASTNETS"}}
}

// checkStylizedStart reports, before any model loads, a missing or damaged
// feed-forward model when a run starts from --init stylized (need).
func checkStylizedStart(c *cli.Context, need bool) error {
	if !need {
		return nil
	}
	_, err := fastnet.ReadMeta(c.String("fastnets"))
	return err
}

// loadStylizer loads the feed-forward networks when need: the painter of
// --init stylized's start. close releases them (a no-op when not loaded).
func loadStylizer(c *cli.Context, need bool, opts *tfgraph.Options) (s transfer.Stylizer, close func(), err error) {
	if !need {
		return nil, func() {}, nil
	}
	m, err := fastnet.Load(c.String("fastnets"), opts)
	if err != nil {
		return nil, nil, err
	}
	return m, func() { m.Close() }, nil
}
