package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/outputs"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/train"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// trainedNet is the folder --net names when it is a network neuralstyle train
// wrote rather than 26 or arbitrary; "" otherwise.
func trainedNet(c *cli.Context) string {
	dir := c.String("net")
	if !c.IsSet("net") {
		dir = os.Getenv("NEURALSTYLE_NET")
	}
	if dir == "" || dir == transfer.Net26 || dir == transfer.NetArbitrary || !train.IsNet(dir) {
		return ""
	}
	return dir
}

// runStylizeTrained is stylize --net DIR: the photo through a network that
// neuralstyle train wrote, with the photo settings and --strength and
// --original-colors as for the pretrained networks.
func runStylizeTrained(c *cli.Context, dir string) error {
	if err := noArgs(c); err != nil {
		return err
	}
	j := &stylizeJob{cfg: transfer.DefaultConfig(), out: c.String("out"), dir: dir}
	j.cfg.Width, j.cfg.Height = 0, 0
	var problems []string
	list, _, defaults := stylizeSettings()
	for _, s := range list {
		switch s.Name {
		case "net":
			continue
		case "style", "styles":
			if c.IsSet(s.Name) {
				problems = append(problems, fmt.Sprintf("--%s: a trained network paints in the one style it learned; leave out --%s", s.Name, s.Name))
			}
			continue
		}
		if p := j.read(c, s, defaults[s.Name]); p != "" {
			problems = append(problems, p)
		}
	}
	if c.Bool("sheet") {
		problems = append(problems, "--sheet: draws the 26 styles of --net 26, not a trained network")
	}
	if j.sized && j.cfg.LongSide > 0 {
		problems = append(problems, "give --size or --long-side, not both")
	}
	if j.cfg.Content == "" {
		problems = append(problems, "--content: not given; the photo to paint")
	}
	if j.out == "" {
		problems = append(problems, "out: not given; the output FILE")
	}
	if len(problems) > 0 {
		return usagef("%s", strings.Join(problems, "\n"))
	}
	j.strength, j.colors = j.cfg.Stylize.Strength, j.cfg.OriginalColors
	opts, err := sessionOptions(c)
	if err != nil {
		return err
	}
	var outs outputs.Set
	outs.Input("--content", j.cfg.Content)
	outs.File("--out", j.out, ".png", ".jpg", ".jpeg")
	if err := checkOutputs(&outs); err != nil {
		return err
	}
	rec, _, err := train.CheckNet(dir)
	if err != nil {
		return fmt.Errorf("--net %s: %w", dir, err)
	}
	photo, err := j.decode("content", j.cfg.Content)
	if err != nil {
		return err
	}
	if photo, err = j.resize(photo, 0); err != nil {
		return fmt.Errorf("--content %s: %w", j.cfg.Content, err)
	}
	net, _, err := train.OpenNet(dir, opts)
	if err != nil {
		return fmt.Errorf("--net %s: %w", dir, err)
	}
	defer net.Close()
	start := time.Now()
	out, err := net.Stylize(photo)
	if err == nil {
		out, err = finish(photo, out, j, true)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if err := outs.Stage("--out", "", func(w io.Writer) error { return encodeByExt(w, j.out, out) }); err != nil {
		outs.Discard()
		return err
	}
	if err := outs.Commit(); err != nil {
		return err
	}
	r := stylizeRecord{Content: j.cfg.Content, Out: j.out, Net: dir, Style: rec.Style.Path, Strength: j.strength,
		Width: out.Width, Height: out.Height, Seconds: elapsed.Seconds(), Weights: fmt.Sprintf("trained by neuralstyle train, step %d", rec.Step)}
	if c.Bool("json") {
		return printJSON(c.App.Writer, r)
	}
	fmt.Fprintf(c.App.Writer, "%s -> %s (%dx%d, net %s, %.2f s)\n", j.cfg.Content, j.out, out.Width, out.Height, dir, r.Seconds)
	return nil
}
