package transfer

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"sync"

	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// GramCache keeps the fast graph's style Gram targets between runs that share
// them: a batch's photos or a clip's frames, which differ only in the content
// image, need the style's targets once per size. The targets are a function of
// the fast_targets signature run, the style tensor that goes in (so the size,
// resampling, preprocessing, style scale and colour control that made it), and
// the style weights (which layers are computed): the key hashes exactly these,
// so a hit gives the bits a fresh computation would. The recipe graph, which
// takes the style at every evaluation, does not use it. Safe for concurrent use.
type GramCache struct {
	mu       sync.Mutex
	entries  []gramEntry // least recently used first
	computed int
}

type gramEntry struct {
	key   [sha256.Size]byte
	grams []*tfgraph.Tensor // one per layer of Layers
}

// gramCacheEntries bounds a cache: all thirteen layers' targets take 7 MB, and
// a sweep over style weights or sizes makes one entry per point.
const gramCacheEntries = 4

// NewGramCache returns an empty cache.
func NewGramCache() *GramCache { return &GramCache{} }

// Computed is how many times the style targets were computed rather than found:
// once per distinct (style, size, style settings) while they fit the cache.
func (c *GramCache) Computed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.computed
}

func (c *GramCache) get(key [sha256.Size]byte) []*tfgraph.Tensor {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.entries {
		if e.key == key {
			c.entries = append(append(c.entries[:i:i], c.entries[i+1:]...), e)
			return e.grams
		}
	}
	return nil
}

func (c *GramCache) put(key [sha256.Size]byte, grams []*tfgraph.Tensor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.computed++
	if len(c.entries) == gramCacheEntries {
		c.entries = c.entries[1:]
	}
	c.entries = append(c.entries, gramEntry{key, grams})
}

// gramKey hashes what a style's Gram targets depend on.
func gramKey(sig string, style []float32, shape []int64, w weightInputs) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%v\x00", sig, shape)
	buf := make([]byte, 4*len(style))
	for i, v := range style {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	h.Write(buf)
	for _, v := range w.style.Data {
		binary.Write(h, binary.LittleEndian, math.Float32bits(v))
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}

// fastTargets runs the fast_targets signature sig for the content (of shape)
// and each style (of styleShape): the content features and, per style, the
// Gram target of every layer. Without a cache each style runs with the
// content, the features taken from the first run. With one, a style whose
// targets it holds is not run; when every style is found, the features come
// from a run with a minimal style, since fast_targets runs the network on the
// content and on the style separately: the features are the same bits.
func fastTargets(m *tfgraph.Model, sig string, content []float32, shape []int64, styles [][]float32, styleShape []int64,
	weights weightInputs, cache *GramCache) (*tfgraph.Tensor, [][]*tfgraph.Tensor, error) {
	run := func(style []float32, styleShape []int64) (map[string]*tfgraph.Tensor, error) {
		return m.Run(sig, map[string]*tfgraph.Tensor{
			inContent:        {Shape: shape, Data: content},
			inStyle:          {Shape: styleShape, Data: style},
			inContentWeights: weights.content,
			inStyleWeights:   weights.style,
		})
	}
	var features *tfgraph.Tensor
	grams := make([][]*tfgraph.Tensor, len(styles))
	for k, style := range styles {
		var key [sha256.Size]byte
		if cache != nil {
			key = gramKey(sig, style, styleShape, weights)
			if grams[k] = cache.get(key); grams[k] != nil {
				continue
			}
		}
		targets, err := run(style, styleShape)
		if err != nil {
			if len(styles) > 1 {
				return nil, nil, fmt.Errorf("content and style targets (style %d): %w", k+1, err)
			}
			return nil, nil, fmt.Errorf("content and style targets: %w", err)
		}
		if features == nil {
			features = targets[inContentFeature]
		}
		grams[k] = make([]*tfgraph.Tensor, len(Layers))
		for i := range Layers {
			grams[k][i] = targets[gramName(i)]
		}
		if cache != nil {
			cache.put(key, grams[k])
		}
	}
	if features == nil {
		side := int64(minImageSide)
		targets, err := run(make([]float32, side*side*3), []int64{1, side, side, 3})
		if err != nil {
			return nil, nil, fmt.Errorf("content targets: %w", err)
		}
		features = targets[inContentFeature]
	}
	return features, grams, nil
}
