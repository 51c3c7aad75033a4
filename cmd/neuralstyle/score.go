package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/score"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

func scoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "score",
		Usage:     "print numbers that compare a transfer's output with its content and style images",
		UsageText: "neuralstyle score [--model DIR] [--size N] --content FILE --style FILE OUTPUT",
		Description: "score resizes OUTPUT, the content and the style image to N x N (nearest neighbour, as\n" +
			"the notebook) and prints as JSON: the notebook's weighted loss terms at that size (content\n" +
			"on block2_conv2, style per layer on its five layers, total variation; the model's\n" +
			"notebook_recipe signature), the SSIM of OUTPUT's luminance to the content's (1: the\n" +
			"same image), and the Hellinger distance of OUTPUT's colour histogram (8 levels per\n" +
			"channel) from the style's (0: the same colours, 1: none shared). Runs at the same N\n" +
			"with the same model compare; the losses depend on the model's weights.",
		Flags: append([]cli.Flag{
			modelFlag("build/model"),
			// Not cli's Required: a missing one made it read OUTPUT as a
			// command ("no command") or exit 1; runScore says what is missing.
			&cli.StringFlag{Name: "content", Usage: "content image `FILE` of the transfer (required)"},
			&cli.StringFlag{Name: "style", Usage: "style image `FILE` of the transfer (required)"},
			&cli.IntFlag{Name: "size", Usage: fmt.Sprintf("side `N` of the square the images are compared at (%d to %d)",
				score.MinSize, score.MaxSize), Value: score.DefaultSize},
		}, sessionFlags()...),
		Action: runScore,
	}
}

// scoreReport is score's JSON output: the files and their score.
type scoreReport struct {
	Output  string `json:"output"`
	Content string `json:"content"`
	Style   string `json:"style"`
	Model   string `json:"model"`
	*score.Score
}

func runScore(c *cli.Context) error {
	var missing []string
	for _, f := range []string{"content", "style"} {
		if c.String(f) == "" {
			missing = append(missing, "--"+f)
		}
	}
	if len(missing) > 0 {
		return usagef("score needs %s: the transfer's content and style images (neuralstyle score --content FILE --style FILE OUTPUT)", strings.Join(missing, " and "))
	}
	if c.NArg() != 1 {
		return usagef("score takes one OUTPUT image, the transfer's result, got %d arguments (neuralstyle score --content FILE --style FILE OUTPUT)", c.NArg())
	}
	size := c.Int("size")
	if size < score.MinSize || size > score.MaxSize {
		return usagef("--size %d: want %d to %d", size, score.MinSize, score.MaxSize)
	}
	opts, err := sessionOptions(c)
	if err != nil {
		return err
	}
	// The images and the model folder are checked before the model loads.
	paths := []string{c.Args().First(), c.String("content"), c.String("style")}
	var images [3]*preprocess.Image
	for i, p := range paths {
		if images[i], err = imagefile.ReadFile(p, nil); err != nil {
			return err
		}
	}
	dir := c.String("model")
	if _, err := os.Stat(filepath.Join(dir, "saved_model.pb")); err != nil {
		return fmt.Errorf("no style model at %s (make model exports one, or pass --model)", dir)
	}
	m, err := tfgraph.Load(dir, opts)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := score.CheckModel(m); err != nil {
		return err
	}
	sc, err := score.Compute(m, images[0], images[1], images[2], size)
	if err != nil {
		return err
	}
	return printJSON(c.App.Writer, scoreReport{Output: paths[0], Content: paths[1], Style: paths[2], Model: dir, Score: sc})
}
