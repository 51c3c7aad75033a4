package imagefile_test

import (
	"bytes"
	"fmt"
	"os"

	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// A phone photo stored sideways (24x16 pixels, EXIF orientation 6) comes out
// upright, as Pillow's ImageOps.exif_transpose gives it.
func ExampleReadFile() {
	img, err := imagefile.ReadFile("testdata/decode/jpeg_orient6.jpg", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%dx%d, %d bytes of RGB\n", img.Width, img.Height, len(img.Pix))
	// Output: 16x24, 1152 bytes of RGB
}

// Errors name the file and the problem.
func ExampleDecode_truncated() {
	data, err := os.ReadFile("testdata/decode/jpeg_420_64x48.jpg")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = imagefile.Decode(bytes.NewReader(data[:len(data)/2]), "wave.jpg", nil)
	fmt.Println(err)
	// Output: imagefile: decode wave.jpg: truncated JPEG file: unexpected EOF
}

// The pixel limit refuses decompression bombs before decoding; raise it for
// genuinely large images.
func ExampleDecodeOptions() {
	data, err := os.ReadFile("testdata/decode/png_rgb_29x21.png")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = imagefile.Decode(bytes.NewReader(data), "small.png", &imagefile.DecodeOptions{MaxPixels: 500})
	fmt.Println(err)
	img, err := imagefile.Decode(bytes.NewReader(data), "small.png", &imagefile.DecodeOptions{MaxPixels: 1000})
	fmt.Println(img.Width, img.Height, err)
	// Output:
	// imagefile: decode small.png: image too large: 29x21 is 609 pixels, over the limit of 500
	// 29 21 <nil>
}
