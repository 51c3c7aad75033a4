package transfer

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize reads an image size as neuralstyle's command lines and sweep files
// write it: "WxH" such as "512x384", or "N" for NxN.
func ParseSize(v string) (w, h int, err error) {
	parts := strings.Split(strings.ToLower(strings.TrimSpace(v)), "x")
	if len(parts) == 1 {
		parts = append(parts, parts[0])
	}
	if len(parts) == 2 {
		w, err1 := strconv.Atoi(strings.TrimSpace(parts[0]))
		h, err2 := strconv.Atoi(strings.TrimSpace(parts[1]))
		if err1 == nil && err2 == nil && w > 0 && h > 0 {
			return w, h, nil
		}
	}
	return 0, 0, fmt.Errorf("size %q: want WxH such as 512x512, or N for NxN", v)
}

// ParseStyleLayers reads style layers as neuralstyle's command lines and sweep
// files write them: "a,b,c" (each layer a share of the style weight) or
// "a:1.5,b:0.5" (each layer its own weight; weights is nil otherwise). Layer names
// are checked by Validate, not here.
func ParseStyleLayers(v string) (layers []string, weights []float64, err error) {
	withWeights := 0
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, weight, ok := strings.Cut(f, ":")
		name = strings.TrimSpace(name)
		layers = append(layers, name)
		if ok {
			withWeights++
			w, err := strconv.ParseFloat(strings.TrimSpace(weight), 64)
			if err != nil {
				return nil, nil, fmt.Errorf("style-layers: weight %q of %s is not a number", weight, name)
			}
			weights = append(weights, w)
		}
	}
	if withWeights != 0 && withWeights != len(layers) {
		return nil, nil, fmt.Errorf("style-layers %q: give every layer a weight, or none", v)
	}
	return layers, weights, nil
}
