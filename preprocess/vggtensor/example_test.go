package vggtensor_test

import (
	"fmt"
	"log"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
)

// The notebook's preparation of an image: resize to exactly 512x512 with
// NEAREST (its Pillow's default), then the recipe's mean subtraction.
func Example_recipe() {
	img := preprocess.NewImage(1024, 768) // normally from imagefile.ReadFile
	small, err := resample.Resize(img, 512, 512, resample.Nearest)
	if err != nil {
		log.Fatal(err)
	}
	x, err := vggtensor.Preprocess(small, vggtensor.ModeRecipe)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(x), x[0], x[1], x[2]) // shape (1, 512, 512, 3), B G R of a black pixel
	// Output: 786432 -123.68 -116.779 -103.939
}

// Noise gives NumPy's numbers: np.random.seed(42);
// np.random.uniform(0, 255, (1, 1, 2, 3)) - 128.0.
func ExampleNoise() {
	x, err := vggtensor.Noise(42, 2, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(x)
	// Output: [-32.492269693922566 114.43214813452863 58.65845516190831 24.657913470244324 -88.21524668717869 -88.22139731426833]
}
