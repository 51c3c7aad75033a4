package settings

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// Stylize lists the settings only stylize has (transfer.Stylize), in the order
// help shows them, in the form of Schema's entries so that a front end reads
// them the same way.
var Stylize = []Setting{
	{Name: "net", Kind: KindChoice, Category: CategoryStylize, Choices: []string{transfer.Net26, transfer.NetArbitrary}, Placeholder: "NET",
		Usage: "26 (the 26-style network, with --styles), arbitrary (any painting, with --style), or the folder of a network neuralstyle train wrote; default: arbitrary with --style, else 26",
		Parse: func(c *transfer.Config, v string) error {
			if isTrainedNet(v) {
				c.Stylize.Net = v
				return nil
			}
			v = strings.ToLower(strings.TrimSpace(v))
			if v != transfer.Net26 && v != transfer.NetArbitrary && v != "" {
				return fmt.Errorf("%q: want 26 or arbitrary, or the folder of a network neuralstyle train wrote (it holds %s)", v, trainedNetFile)
			}
			c.Stylize.Net = v
			return nil
		},
		Format: func(c *transfer.Config) string { return c.Stylize.Net }},
	{Name: "styles", Kind: KindText, Category: CategoryStylize, List: true, Placeholder: "SPEC",
		Usage: "the 26-style network's style: a number 0-25, or a blend such as 3:0.5,12:0.5 (weights scaled to sum to 1)",
		Parse: func(c *transfer.Config, v string) error {
			if _, err := fastnet.ParseStyles(v); err != nil {
				return err
			}
			c.Stylize.Styles = strings.TrimSpace(v)
			return nil
		},
		Format: func(c *transfer.Config) string { return c.Stylize.Styles }},
	{Name: "strength", Kind: KindNumber, Category: CategoryStylize, Placeholder: "S",
		Usage: "from 0 (the photo) to 1 (the full style): a mix of pixels for --net 26, of the photo's and the painting's style vectors for --net arbitrary",
		Parse: func(c *transfer.Config, v string) error {
			s, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(s) || s < 0 || s > 1 {
				return fmt.Errorf("%q: want a number from 0 (the photo) to 1 (the full style)", v)
			}
			c.Stylize.Strength = s
			return nil
		},
		Format: func(c *transfer.Config) string { return formatFloat(c.Stylize.Strength) }},
}

// trainedNetFile is train.NetFile, the record every folder of neuralstyle
// train holds; package train's schema uses this package, so it cannot be
// imported here. The commands check the folder whole (train.CheckNet).
const trainedNetFile = "net.json"

// isTrainedNet reports whether v names a folder that holds a trained
// network's record, rather than one of the choices.
func isTrainedNet(v string) bool {
	if v == transfer.Net26 || v == transfer.NetArbitrary || v == "" {
		return false
	}
	st, err := os.Stat(filepath.Join(v, trainedNetFile))
	return err == nil && st.Mode().IsRegular()
}

// Method lists the settings batch and video add to Stylize's to
// paint with the feed-forward network instead of optimising.
var Method = []Setting{
	{Name: "method", Kind: KindChoice, Choices: []string{transfer.MethodOptimize, transfer.MethodStylize}, Placeholder: "METHOD", Category: CategoryStylize,
		Usage: "optimize (the notebook's optimisation) or stylize (a feed-forward network, the 26-style one with --styles or a trained one with --net DIR: a frame in a fraction of a second)",
		Parse: func(c *transfer.Config, v string) error {
			v = strings.ToLower(strings.TrimSpace(v))
			if v != transfer.MethodOptimize && v != transfer.MethodStylize {
				return fmt.Errorf("%q: want optimize or stylize", v)
			}
			c.Stylize.Method = v
			return nil
		},
		Format: func(c *transfer.Config) string { return c.Stylize.Method }},
	{Name: "smoothing", Kind: KindNumber, Placeholder: "S", Category: CategoryStylize,
		Usage: "video --method stylize: the share (0 to 0.99) of the 26-style network's instance-norm statistics kept from the frames before, against flicker; 0 paints every frame alone",
		Parse: func(c *transfer.Config, v string) error {
			s, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(s) || s < 0 || s > 0.99 {
				return fmt.Errorf("%q: want a number from 0 to 0.99", v)
			}
			c.Stylize.Smoothing = s
			return nil
		},
		Format: func(c *transfer.Config) string { return formatFloat(c.Stylize.Smoothing) }},
	{Name: "hold", Kind: KindNumber, Placeholder: "H", Category: CategoryStylize,
		Usage: "video --method stylize: the share (0 to 1) of the previous frame's picture kept where the frame did not change (luminance moved under 8 of 255 there and around), against flicker",
		Parse: func(c *transfer.Config, v string) error {
			h, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(h) || h < 0 || h > 1 {
				return fmt.Errorf("%q: want a number from 0 to 1", v)
			}
			c.Stylize.Hold = h
			return nil
		},
		Format: func(c *transfer.Config) string { return formatFloat(c.Stylize.Hold) }},
}
