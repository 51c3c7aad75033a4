package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/neuralstyle/neuralstyle/internal/provenance"
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/resample"
	"github.com/neuralstyle/neuralstyle/preprocess/vggtensor"
)

// maxPoints bounds a sweep's size; more is a typo, not a plan.
const maxPoints = 100000

// Point is one transfer of a sweep.
type Point struct {
	Index  int     // from 1, in the sweep's order
	Values []Value // one per axis
	Config Config
	Key    string // set by NewPlan
}

// Label is the point's values as the sheet shows them, one "param=value" per axis.
func (p *Point) Label() []string {
	out := make([]string, len(p.Values))
	for i, v := range p.Values {
		out[i] = v.Param + "=" + v.Label
	}
	return out
}

// Points expands the declaration into its points, the first axis varying
// slowest, and checks each point's settings, so a bad sweep fails before anything
// runs.
func (s *Spec) Points() ([]Point, error) {
	n := 1
	for _, a := range s.Axes {
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("sweep: axis %s has no values", a.Param)
		}
		n *= len(a.Values)
		if n > maxPoints {
			return nil, fmt.Errorf("sweep: more than %d points", maxPoints)
		}
	}
	base := Config{Settings: transfer.Defaults()}
	for _, v := range s.Base {
		v.apply(&base)
	}
	points := make([]Point, n)
	digits := make([]int, len(s.Axes))
	for i := range points {
		p := Point{Index: i + 1, Config: base}
		p.Config.Settings.StyleLayers = slices.Clone(base.Settings.StyleLayers)
		p.Config.Settings.StyleLayerWeights = slices.Clone(base.Settings.StyleLayerWeights)
		for a, d := range digits {
			v := s.Axes[a].Values[d]
			v.apply(&p.Config)
			p.Values = append(p.Values, v)
		}
		if err := p.check(); err != nil {
			return nil, err
		}
		points[i] = p
		// Odometer: the last axis turns fastest.
		for a := len(digits) - 1; a >= 0; a-- {
			if digits[a]++; digits[a] < len(s.Axes[a].Values) {
				break
			}
			digits[a] = 0
		}
	}
	return points, nil
}

func (p *Point) check() error {
	var err error
	switch {
	case p.Config.Content == "":
		err = errors.New(`no content image (set "content")`)
	case len(p.Config.Style) == 0:
		err = errors.New(`no style image (set "style")`)
	default:
		// The whole config: the checks that count files (style-blend,
		// style-mask, init-image) need the point's images.
		err = p.Config.Validate()
	}
	return p.wrap(err)
}

// wrap names the point in err (nil stays nil).
func (p *Point) wrap(err error) error {
	if err == nil {
		return nil
	}
	if len(p.Values) == 0 {
		return fmt.Errorf("sweep: %w", err)
	}
	return fmt.Errorf("sweep: point %d (%s): %w", p.Index, strings.Join(p.Label(), " "), err)
}

// Plan is a sweep ready to run: its points with their keys.
type Plan struct {
	Spec    *Spec
	Points  []Point
	ModelID string
	hashes  map[string]string            // image path -> SHA-256 of its bytes
	images  map[string]*preprocess.Image // decoded by Images
}

// NewPlan expands spec and keys each point by a hash of its settings, the bytes
// of its image files and modelID (see ModelID). It reads every image file once.
func NewPlan(spec *Spec, modelID string) (*Plan, error) {
	points, err := spec.Points()
	if err != nil {
		return nil, err
	}
	plan := &Plan{Spec: spec, Points: points, ModelID: modelID, hashes: map[string]string{}}
	for i := range plan.Points {
		p := &plan.Points[i]
		for _, f := range imageFiles(&p.Config) {
			for _, path := range f.paths {
				if _, ok := plan.hashes[path]; ok {
					continue
				}
				h, err := provenance.HashFile(path)
				if err != nil {
					return nil, fmt.Errorf("sweep: %s %s: %w", f.role(), path, pathless(err))
				}
				plan.hashes[path] = h
			}
		}
		if p.Key, err = plan.key(p); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

// keyFormat names what a key hashes; change it when that changes.
const keyFormat = "neuralstyle-sweep-point/1"

// key is the first 16 hex digits of the SHA-256 of a JSON document holding
// everything the point's result depends on: the model, both images' bytes and
// every setting. The settings of the first release keep their first form
// (keyV1), so a sweep finished then stays finished; every setting added since
// is in Extra when it differs from its default, and absent when it does not
// (so a new setting left alone changes no key, and one that is set changes it).
func (plan *Plan) key(p *Point) (string, error) {
	s := &p.Config.Settings
	doc, err := json.Marshal(struct {
		Format         string
		Model          string
		Content, Style string
		Settings       keyV1
		Extra          map[string]string `json:",omitempty"`
	}{keyFormat, plan.ModelID, plan.hashes[p.Config.Content], plan.fileHashes("style", &p.Config),
		keyV1{s.Width, s.Height, s.ContentWeight, s.StyleWeight, s.TVWeight, s.ContentLayer, s.StyleLayers,
			s.StyleLayerWeights, s.Iterations, s.MaxFun, s.Seed, s.Init, s.Graph, s.Resample, s.Preprocess},
		plan.extraSettings(&p.Config)})
	if err != nil {
		return "", fmt.Errorf("sweep: key of point %d: %w", p.Index, err)
	}
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:8]), nil
}

// keyV1 is transfer.Settings as the first release had it; its JSON is part of
// every key computed then. Never change it.
type keyV1 struct {
	Width, Height                        int
	ContentWeight, StyleWeight, TVWeight float64
	ContentLayer                         string
	StyleLayers                          []string
	StyleLayerWeights                    []float64
	Iterations                           int
	MaxFun                               int
	Seed                                 uint32
	Init                                 transfer.Init
	Graph                                transfer.Graph
	Resample                             resample.Filter
	Preprocess                           vggtensor.Mode
}

// inKeyV1 names the settings that keyV1 or the image hashes hold.
var inKeyV1 = map[string]bool{
	"content": true, "style": true, "size": true, "content-weight": true, "style-weight": true, "tv-weight": true,
	"content-layer": true, "style-layers": true, "iterations": true, "maxfun": true, "seed": true, "init": true,
	"graph": true, "resample": true, "preprocess": true,
}

// extraSettings are the settings added after keyV1 whose values in c differ from
// their defaults, by name, in canonical text; files (style masks, a starting
// image) by the hashes of their bytes, comma-separated, as the style images are.
func (plan *Plan) extraSettings(c *Config) map[string]string {
	var extra map[string]string
	for i := range settings.Schema {
		set := &settings.Schema[i]
		if inKeyV1[set.Name] {
			continue
		}
		if v := set.Format(c); v != set.Default() {
			if extra == nil {
				extra = map[string]string{}
			}
			if set.Kind == settings.KindFile {
				v = plan.fileHashes(set.Name, c)
			}
			extra[set.Name] = v
		}
	}
	return extra
}

// settingFiles are the files one file setting of a point names.
type settingFiles struct {
	setting *settings.Setting
	paths   []string
}

// role names the files in messages: "content image", "style mask".
func (f settingFiles) role() string { return f.setting.Role }

// imageFiles lists the files each file setting of c names (content, the
// styles, their masks, the starting image), in Schema order.
func imageFiles(c *Config) []settingFiles {
	var out []settingFiles
	for i := range settings.Schema {
		set := &settings.Schema[i]
		if set.Kind != settings.KindFile {
			continue
		}
		if paths := set.Paths(set.Format(c)); len(paths) > 0 {
			out = append(out, settingFiles{set, paths})
		}
	}
	return out
}

// fileHashes are the hashes of the files of the setting name in c,
// comma-separated: for one style image its hash alone, as keys always held it.
func (plan *Plan) fileHashes(name string, c *Config) string {
	set, _ := settings.Lookup(name)
	var hashes []string
	for _, path := range set.Paths(set.Format(c)) {
		hashes = append(hashes, plan.hashes[path])
	}
	return strings.Join(hashes, ",")
}

// pathless drops the operation and path of a *fs.PathError, for messages that
// name the file themselves.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Shard is one of Count parts of a sweep, Index from 1. The zero Shard is the
// whole sweep.
type Shard struct{ Index, Count int }

// ParseShard reads "i/n", 1 <= i <= n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 1 <= i <= n, such as 2/4", s)
	}
	return Shard{i, n}, nil
}

func (s Shard) String() string {
	if s.Count == 0 {
		return "1/1"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Shard returns the points shard s runs: the sweep's distinct keys in sorted
// order are dealt out in turn, the first to shard 1, so shards partition the
// points exactly and differ in size by at most one. Points that share a key (the
// same settings reached twice) run once, as the first of them.
func (plan *Plan) Shard(s Shard) []Point {
	keys := map[string]bool{}
	var distinct []Point
	for _, p := range plan.Points {
		if !keys[p.Key] {
			keys[p.Key] = true
			distinct = append(distinct, p)
		}
	}
	if s.Count <= 1 {
		return distinct
	}
	sorted := slices.Clone(distinct)
	slices.SortFunc(sorted, func(a, b Point) int { return strings.Compare(a.Key, b.Key) })
	mine := map[string]bool{}
	for r, p := range sorted {
		if r%s.Count == s.Index-1 {
			mine[p.Key] = true
		}
	}
	return slices.DeleteFunc(distinct, func(p Point) bool { return !mine[p.Key] })
}

// ShardOf returns the shard (from 1) of each distinct key when the sweep is cut
// into n shards: the assignment of Shard, computed once for all points rather than
// once per shard, so that listing costs what the points cost whatever n is.
func (plan *Plan) ShardOf(n int) map[string]int {
	n = max(n, 1)
	var keys []string
	seen := map[string]bool{}
	for _, p := range plan.Points {
		if !seen[p.Key] {
			seen[p.Key] = true
			keys = append(keys, p.Key)
		}
	}
	slices.Sort(keys)
	shard := make(map[string]int, len(keys))
	for r, k := range keys {
		shard[k] = r%n + 1
	}
	return shard
}
