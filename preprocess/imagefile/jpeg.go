package imagefile

import "github.com/neuralstyle/neuralstyle/preprocess"

// decodeJPEG decodes a JPEG with the build's decoder (see JPEGDecoder) and
// converts it as Pillow does: grey (L) is replicated, RGB kept, and 4-component
// files are read as Adobe-inverted CMYK (Pillow's CMYK;I, whatever the markers
// say) and then converted with Pillow's CMYK -> RGB formula. shrinkTo is
// DecodeOptions.ShrinkTo.
func decodeJPEG(data []byte, limit int64, shrinkTo int) (*preprocess.Image, error) {
	// The frame header's size is checked here too, so that both decoders give
	// the same errors for zero and oversized dimensions.
	if _, w, h, ok := jpegMarkers(data); ok {
		if err := preprocess.CheckSize(w, h, limit); err != nil {
			return nil, err
		}
	}
	raw, w, h, comps, err := decodeJPEGRaw(data, limit, shrinkTo)
	if err != nil {
		return nil, err
	}
	if comps == 3 {
		return &preprocess.Image{Width: w, Height: h, Pix: raw}, nil
	}
	img := preprocess.NewImage(w, h)
	px := img.Pix
	switch comps {
	case 1:
		for i, v := range raw {
			px[3*i], px[3*i+1], px[3*i+2] = v, v, v
		}
	case 4:
		for i := 0; i < w*h; i++ {
			c := raw[4*i : 4*i+4]
			px[3*i], px[3*i+1], px[3*i+2] = cmykToRGB(255-c[0], 255-c[1], 255-c[2], 255-c[3])
		}
	}
	return img, nil
}

// jpegScale is the denominator of the DCT scaling (1/1, 1/2, 1/4 or 1/8) of a
// w x h JPEG decoded for shrinkTo: the largest that leaves both sides at
// least shrinkTo, by Pillow's rule in JpegImageFile.draft (scale s where s *
// shrinkTo <= w and h), so that a shrunken decode is Pillow's Image.draft("RGB",
// (shrinkTo, shrinkTo)). libjpeg's output sides are then ceil(w/s) and ceil(h/s).
func jpegScale(w, h, shrinkTo int) int {
	if shrinkTo <= 0 {
		return 1
	}
	most := min(w/shrinkTo, h/shrinkTo)
	for _, s := range []int{8, 4, 2} {
		if most >= s {
			return s
		}
	}
	return 1
}

// jpegExif returns the EXIF payload of a JPEG's APP1 segments as Pillow's
// JpegImagePlugin collects it: the first "Exif\0\0" segment, with the payload of
// any later ones appended. Only markers before the first scan count.
func jpegExif(b []byte) []byte {
	exif, _, _, _ := jpegMarkers(b)
	return exif
}

// jpegMarkers walks the segments before the first scan, as Pillow's
// JpegImagePlugin does, for the EXIF payload and the frame (SOF) size.
func jpegMarkers(b []byte) (exif []byte, width, height int, sof bool) {
	i := 2 // after SOI
	for i+1 < len(b) {
		if b[i] != 0xFF {
			i++ // Pillow skips junk between segments byte by byte
			continue
		}
		m := b[i+1]
		switch {
		case m == 0xFF || m == 0x00:
			i++
			continue
		case m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			i += 2
			continue
		case m == 0xDA || m == 0xD9:
			return exif, width, height, sof
		}
		if i+4 > len(b) {
			break
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 || i+2+n > len(b) {
			break
		}
		seg := b[i+4 : i+2+n]
		if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC && len(seg) >= 5 && !sof {
			height, width, sof = int(seg[1])<<8|int(seg[2]), int(seg[3])<<8|int(seg[4]), true
		}
		if m == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			if exif == nil {
				exif = append([]byte(nil), seg...)
			} else {
				exif = append(exif, seg[6:]...)
			}
		}
		i += 2 + n
	}
	return exif, width, height, sof
}
