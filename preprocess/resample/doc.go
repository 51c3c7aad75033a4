// Package resample resizes a preprocess.Image byte for byte as Pillow's
// Image.resize does, with each of its filters (NEAREST, the notebook's, by
// default), and computes Pillow's thumbnail sizes (FitLongestSide).
package resample
