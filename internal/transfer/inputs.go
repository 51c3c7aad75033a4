package transfer

import (
	"errors"
	"fmt"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
)

// The inputs of a run beyond the notebook's two images (issue 12's controls):
// a starting image from a file or a feed-forward network's picture, the
// style images' masks, and reading and checking the image files a Config
// names. Each control is off in Defaults(), and then a run takes exactly the
// notebook's path.

// InitImage starts from Inputs.Init, resized to the run's size.
const InitImage Init = "image"

// InitStylized starts from a feed-forward network's picture of the content in
// the style (Inputs.Stylizer: the arbitrary network of make fastnets), painted
// from the content as resized to the run's size and preprocessed as the other
// starts are.
const InitStylized Init = "stylized"

// Stylizer paints content in the manner of style with a feed-forward network,
// at content's size; f resizes what the network needs resized (the style).
// *fastnet.Model is one.
type Stylizer interface {
	Stylize(content, style *preprocess.Image, f resample.Filter) (*preprocess.Image, error)
}

func checkInitImage(c *Config) error {
	if c.Content == "" { // settings alone: Run checks the images it is given
		return nil
	}
	if (c.Init == InitImage) != (c.InitImage != "") {
		if c.InitImage == "" {
			return errors.New("init image needs a starting image file")
		}
		return fmt.Errorf("%s: a starting image is given but init is %s; choose init image", c.InitImage, c.Init)
	}
	return nil
}

// CheckInputs checks what the settings need of the inputs, before any work: the
// number of blend weights and masks against the number of styles, a starting
// image for InitImage, and the graph and signatures the controls need.
func CheckInputs(in Inputs, s *Settings) error {
	styles := in.styles()
	if len(styles) == 0 {
		return errors.New("no style image")
	}
	if in.Style != nil && len(in.Styles) > 0 {
		return errors.New("inputs: give Style or Styles, not both")
	}
	if s.StyleBlend != nil && len(s.StyleBlend) != len(styles) {
		return fmt.Errorf("%d style blend weights for %d style images", len(s.StyleBlend), len(styles))
	}
	if in.StyleMasks != nil {
		if len(in.StyleMasks) != len(styles) {
			return fmt.Errorf("%d style masks for %d style images: give one mask per style", len(in.StyleMasks), len(styles))
		}
		if s.StyleBlend != nil {
			return errors.New("style blend weights and style masks exclude each other: with masks each style applies where its mask is")
		}
	}
	if (s.Init == InitImage) != (in.Init != nil) {
		if in.Init == nil {
			return errors.New("init image needs a starting image file")
		}
		return fmt.Errorf("a starting image file was given but init is %s; use init image", s.Init)
	}
	if s.Init == InitStylized && len(styles) > 1 {
		return fmt.Errorf("init stylized: the feed-forward network paints in one style, and %d style images are given; give one style image or another init", len(styles))
	}
	if s.TemporalWeight != 0 && (in.Previous == nil || in.PreviousContent == nil) {
		return errors.New("the temporal weight needs the previous frame's result and input: it applies to a video's frames after the first")
	}
	if s.Graph == GraphRecipe && (len(styles) > 1 || s.StyleScale != 1 || in.StyleMasks != nil) {
		return errors.New("the recipe graph takes one style at the content's size without masks; use the fast graph for several styles, a style scale or masks")
	}
	return nil
}

// styles returns the style images: Styles, or Style alone.
func (in Inputs) styles() []*preprocess.Image {
	if len(in.Styles) > 0 {
		return in.Styles
	}
	if in.Style != nil {
		return []*preprocess.Image{in.Style}
	}
	return nil
}

// ReadInputs decodes the images c names (the content, each style, each mask, the
// starting image). Prepare checks them against the settings, before any model
// loads.
func (c *Config) ReadInputs() (Inputs, error) { return c.InputsFrom(c.decode) }

// ReadStyleInputs decodes the images c names other than the content (each style,
// each mask, the starting image), for commands whose content images come one at
// a time (batch, video): each run's Inputs are these with its Content.
func (c *Config) ReadStyleInputs() (Inputs, error) {
	styles := *c
	styles.Content = ""
	return styles.InputsFrom(c.decode)
}

func (c *Config) decode(path string) (*preprocess.Image, error) {
	return imagefile.ReadFile(path, c.DecodeOptions())
}

// InputsFrom assembles the Inputs of the images c names, in that order: the
// content (none when Content is empty), each style, each mask, the starting
// image. read gets each image: ReadInputs decodes its file; a sweep takes it
// from the images it decoded once for all its points.
func (c *Config) InputsFrom(read func(path string) (*preprocess.Image, error)) (Inputs, error) {
	var in Inputs
	readAll := func(files []string) ([]*preprocess.Image, error) {
		out := make([]*preprocess.Image, len(files))
		for i, f := range files {
			var err error
			if out[i], err = read(f); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	var err error
	if c.Content != "" {
		if in.Content, err = read(c.Content); err != nil {
			return in, err
		}
	}
	styles, err := readAll(c.Style)
	if err != nil {
		return in, err
	}
	if len(styles) == 1 {
		in.Style = styles[0]
	} else {
		in.Styles = styles
	}
	if len(c.StyleMask) > 0 {
		if in.StyleMasks, err = readAll(c.StyleMask); err != nil {
			return in, err
		}
	}
	if c.InitImage != "" {
		if in.Init, err = read(c.InitImage); err != nil {
			return in, err
		}
	}
	return in, nil
}
