package preprocess_test

import (
	"fmt"
	"log"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// The notebook's preparation of an image: resize to exactly 512x512 with
// NEAREST (its Pillow's default), then the recipe's mean subtraction.
func Example_recipe() {
	img := preprocess.NewImage(1024, 768) // normally from preprocess.ReadFile
	small, err := preprocess.Resize(img, 512, 512, preprocess.Nearest)
	if err != nil {
		log.Fatal(err)
	}
	x, err := preprocess.Preprocess(small, preprocess.ModeRecipe)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(x), x[0], x[1], x[2]) // shape (1, 512, 512, 3), B G R of a black pixel
	// Output: 786432 -123.68 -116.779 -103.939
}

func ExampleResize() {
	// A 2x1 image, red then blue, stretched to 4x1.
	img := &preprocess.Image{Width: 2, Height: 1, Pix: []uint8{255, 0, 0, 0, 0, 255}}
	for _, f := range []preprocess.Filter{preprocess.Nearest, preprocess.Bilinear} {
		out, err := preprocess.Resize(img, 4, 1, f)
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
	w, h, err := preprocess.FitLongestSide(4000, 3000, 512)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(w, h)
	// Output: 512 384
}

// Noise gives NumPy's numbers: np.random.seed(42);
// np.random.uniform(0, 255, (1, 1, 2, 3)) - 128.0.
func ExampleNoise() {
	x, err := preprocess.Noise(42, 2, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(x)
	// Output: [-32.492269693922566 114.43214813452863 58.65845516190831 24.657913470244324 -88.21524668717869 -88.22139731426833]
}
