// Package preprocess holds Image, the 8-bit RGB pixels that its subpackages pass
// between them, and CheckSize, the one size limit they all apply:
//
//   - imagefile reads image files into an Image (as Pillow decodes them) and writes
//     an Image as PNG, JPEG or GIF;
//   - resample resizes an Image with Pillow's filters;
//   - vggtensor turns an Image into the float32 tensor the VGG model sees and back,
//     and makes the notebook's NumPy starting noise.
//
// Together they reproduce the notebook's Pillow and NumPy steps exactly.
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
