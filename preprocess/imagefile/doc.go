// Package imagefile reads image files into preprocess.Image exactly as the
// notebook's Pillow decodes them (JPEG through libjpeg-turbo unless built with
// the nolibjpeg tag; PNG, GIF, BMP, TIFF and WebP; the EXIF orientation applied
// unless asked not to) and writes images as PNG, JPEG or animated GIF,
// atomically.
package imagefile
