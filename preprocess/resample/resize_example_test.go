package resample_test

import (
	"fmt"
	"log"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
)

func ExampleResize() {
	// A 2x1 image, red then blue, stretched to 4x1.
	img := &preprocess.Image{Width: 2, Height: 1, Pix: []uint8{255, 0, 0, 0, 0, 255}}
	for _, f := range []resample.Filter{resample.Nearest, resample.Bilinear} {
		out, err := resample.Resize(img, 4, 1, f)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(f, out.Pix)
	}
	// Output:
	// nearest [255 0 0 255 0 0 0 0 255 0 0 255]
	// bilinear [255 0 0 191 0 64 64 0 191 0 0 255]
}

func ExampleFitLongestSide() {
	w, h, err := resample.FitLongestSide(4000, 3000, 512)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(w, h)
	// Output: 512 384
}
