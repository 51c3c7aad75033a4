package vggtensor

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

// pixelVectors is testdata/pixels/vectors.json, written by
// scripts/vectors/preprocess_vectors.py with Pillow 11.0.0 and NumPy 2.0.2.
type pixelVectors struct {
	Versions map[string]string `json:"versions"`
	Noise    []struct {
		Seed   uint32 `json:"seed"`
		W, H   int
		SHA256 string   `json:"sha256"`
		Head   []string `json:"head"` // float.hex()
	} `json:"noise"`
	VGG struct {
		Preprocess []struct {
			Input, Mode, SHA256 string
			Head                []string // float.hex()
		} `json:"preprocess"`
		Roundtrip []struct {
			Input, Mode, SHA256 string
			Changed             int `json:"changed"`
			MaxDiff             int `json:"max_diff"`
		} `json:"roundtrip"`
		Deprocess struct {
			W, H  int
			Cases []struct {
				Mode, Out string
			} `json:"cases"`
		} `json:"deprocess"`
	} `json:"vgg"`
}

var (
	vectorsOnce sync.Once
	vectors     pixelVectors
	vectorsErr  error
)

func loadVectors(t testing.TB) *pixelVectors {
	t.Helper()
	vectorsOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join("testdata", "pixels", "vectors.json"))
		if err != nil {
			vectorsErr = err
			return
		}
		vectorsErr = json.Unmarshal(b, &vectors)
	})
	if vectorsErr != nil {
		t.Fatalf("vectors: %v", vectorsErr)
	}
	return &vectors
}

// loadPNG reads an 8-bit RGB test PNG with the standard library, so that these
// tests do not depend on package imagefile's decoder.
func loadPNG(t testing.TB, name string) *preprocess.Image {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pixels", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	rgba, ok := m.(*image.RGBA)
	if !ok {
		t.Fatalf("%s: decoded as %T, want *image.RGBA from an RGB PNG", name, m)
	}
	r := rgba.Bounds()
	img := preprocess.NewImage(r.Dx(), r.Dy())
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			i := rgba.PixOffset(r.Min.X+x, r.Min.Y+y)
			copy(img.Pix[3*(y*r.Dx()+x):], rgba.Pix[i:i+3])
		}
	}
	return img
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
