// Package vggtensor does the model's tensor arithmetic the notebook does in
// NumPy: an image to VGG16's float32 input (channels reversed to BGR, ImageNet
// means subtracted, the notebook's quirk included) and the optimiser's float64
// result back to an image, and the starting noise of NumPy's seeded legacy
// generator, bit for bit.
package vggtensor
