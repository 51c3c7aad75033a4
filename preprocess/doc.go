// Package preprocess turns image files into the float32 tensors that the style
// model sees and back, reproducing the notebook's Pillow and NumPy steps exactly:
// decoding (libjpeg-turbo for JPEG, as Pillow), Pillow's resampling filters, the
// VGG mean subtraction, NumPy's seeded uniform noise, and atomic image writing.
package preprocess

// Image is an 8-bit RGB image: rows top to bottom, three bytes (R, G, B) per pixel,
// no padding between rows. It is what Pillow's convert("RGB") gives.
type Image struct {
	Width, Height int
	Pix           []uint8 // len 3*Width*Height
}

// NewImage returns a black image of the given size.
func NewImage(width, height int) *Image {
	return &Image{Width: width, Height: height, Pix: make([]uint8, 3*width*height)}
}
