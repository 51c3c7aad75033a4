package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"github.com/neuralstyle/neuralstyle/internal/settings"
)

// The sweep file, JSON:
//
//	{
//	  "description": "the article's style-weight experiment",
//	  "settings": {"content-weight": 0.025, "tv-weight": 0.1, "size": 512},
//	  "axes": [
//	    {"param": "style-weight", "range": {"from": 0.1, "to": 10, "steps": 5, "scale": "log"}},
//	    {"param": "content-layer", "values": ["block2_conv2", "block4_conv2"]}
//	  ]
//	}
//
// Keys are transfer's flag names and values are written as those flags take them
// (a number may also be a JSON number; style-layers may also be a list of layers).
// Unknown keys are errors.
type fileSpec struct {
	Description string                     `json:"description"`
	Settings    map[string]json.RawMessage `json:"settings"`
	Axes        []fileAxis                 `json:"axes"`
}

type fileAxis struct {
	Param  string            `json:"param"`
	Values []json.RawMessage `json:"values"`
	Range  *Range            `json:"range"`
}

// Range is an axis of evenly spaced numbers, in a linear or logarithmic scale.
type Range struct {
	From  *float64 `json:"from"`
	To    *float64 `json:"to"`
	Steps int      `json:"steps"`
	Scale string   `json:"scale"` // "linear" (default) or "log"
}

// maxRangeSteps bounds a range; a sweep of more points is a typo, not a plan.
const maxRangeSteps = 1000

// Values returns the range's numbers: from, to and steps-2 between them, evenly
// spaced (log: in ratio), each rounded to 6 significant digits so that every
// machine computes the same points and labels stay short.
func (r *Range) Values() ([]float64, error) {
	if r.From == nil || r.To == nil {
		return nil, errors.New("range needs from and to")
	}
	from, to := *r.From, *r.To
	if math.IsNaN(from) || math.IsInf(from, 0) || math.IsNaN(to) || math.IsInf(to, 0) {
		return nil, fmt.Errorf("range from %v to %v: want finite numbers", from, to)
	}
	switch {
	case r.Steps < 1:
		return nil, fmt.Errorf("range has %d steps: empty", r.Steps)
	case r.Steps > maxRangeSteps:
		return nil, fmt.Errorf("range has %d steps: at most %d", r.Steps, maxRangeSteps)
	case r.Steps == 1 && from != to:
		return nil, fmt.Errorf("range from %v to %v in 1 step: give from = to, or more steps", from, to)
	case r.Steps > 1 && from == to:
		return nil, fmt.Errorf("range from %v to %v in %d steps repeats one value", from, to, r.Steps)
	}
	var at func(t float64) float64
	switch r.Scale {
	case "", "linear":
		at = func(t float64) float64 { return from + t*(to-from) }
	case "log":
		if from <= 0 || to <= 0 {
			return nil, fmt.Errorf("log range from %v to %v: both ends must be > 0", from, to)
		}
		lf, lt := math.Log(from), math.Log(to)
		at = func(t float64) float64 { return math.Exp(lf + t*(lt-lf)) }
	default:
		return nil, fmt.Errorf("range scale %q: want linear or log", r.Scale)
	}
	out := make([]float64, r.Steps)
	for i := range out {
		switch i {
		case 0:
			out[i] = from
		case r.Steps - 1:
			out[i] = to
		default:
			v, _ := strconv.ParseFloat(strconv.FormatFloat(at(float64(i)/float64(r.Steps-1)), 'g', 6, 64), 64)
			out[i] = v
		}
	}
	return out, nil
}

// ParseFile reads a sweep file; relative image paths in it are relative to its
// folder.
func ParseFile(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	defer f.Close()
	return Parse(f, path, filepath.Dir(path))
}

// Parse reads a sweep file from r; name is used in errors and dir resolves
// relative image paths.
func Parse(r io.Reader, name, dir string) (*Spec, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("sweep: %s: %w", name, err)
	}
	spec, err := parse(data, dir)
	if err != nil {
		return nil, fmt.Errorf("sweep: %s: %w", name, err)
	}
	return spec, nil
}

func parse(data []byte, dir string) (*Spec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fileSpec
	if err := dec.Decode(&f); err != nil {
		return nil, jsonError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	spec := &Spec{Description: f.Description}
	// Settings in the order of Params, so that a file's key order does not matter.
	for name := range f.Settings {
		if _, err := lookup(name); err != nil {
			return nil, fmt.Errorf("settings: %w", err)
		}
	}
	for _, p := range params {
		raw, ok := f.Settings[p.Name]
		if !ok {
			continue
		}
		v, err := parseRaw(p.Name, raw, dir)
		if err != nil {
			return nil, fmt.Errorf("settings: %w", err)
		}
		spec.Base = append(spec.Base, v)
	}
	for i, a := range f.Axes {
		axis, err := parseAxis(a, dir)
		if err != nil {
			if a.Param != "" {
				return nil, fmt.Errorf("axis %d (%s): %w", i+1, a.Param, err)
			}
			return nil, fmt.Errorf("axis %d: %w", i+1, err)
		}
		for _, b := range spec.Axes {
			if b.Param == axis.Param {
				return nil, fmt.Errorf("axis %d: %s is swept twice", i+1, axis.Param)
			}
		}
		if _, ok := f.Settings[axis.Param]; ok {
			return nil, fmt.Errorf("axis %d: %s is both a setting and an axis", i+1, axis.Param)
		}
		spec.Axes = append(spec.Axes, axis)
	}
	return spec, nil
}

func parseAxis(a fileAxis, dir string) (Axis, error) {
	if a.Param == "" {
		return Axis{}, errors.New(`no "param"`)
	}
	p, err := lookup(a.Param)
	if err != nil {
		return Axis{}, err
	}
	axis := Axis{Param: p.Name}
	switch {
	case a.Values != nil && a.Range != nil:
		return Axis{}, errors.New(`give "values" or "range", not both`)
	case a.Range != nil:
		if p.Kind != settings.KindNumber && p.Kind != settings.KindInteger {
			return Axis{}, fmt.Errorf("%s takes a list of values, not a range", p.Name)
		}
		nums, err := a.Range.Values()
		if err != nil {
			return Axis{}, err
		}
		for _, n := range nums {
			text := strconv.FormatFloat(n, 'g', -1, 64)
			if p.Kind == settings.KindInteger {
				if n != math.Trunc(n) {
					return Axis{}, fmt.Errorf("range value %v is not a whole number", n)
				}
				text = strconv.FormatFloat(n, 'f', 0, 64)
			}
			v, err := ParseValue(p.Name, text, dir)
			if err != nil {
				return Axis{}, err
			}
			axis.Values = append(axis.Values, v)
		}
	case a.Values != nil:
		if len(a.Values) == 0 {
			return Axis{}, errors.New("no values")
		}
		for _, raw := range a.Values {
			v, err := parseRaw(p.Name, raw, dir)
			if err != nil {
				return Axis{}, err
			}
			axis.Values = append(axis.Values, v)
		}
	default:
		return Axis{}, errors.New(`give "values" or "range"`)
	}
	if err := checkDistinct(p.Name, axis.Values); err != nil {
		return Axis{}, err
	}
	return axis, nil
}

// parseRaw reads one JSON value of a parameter: a number or a string as the flag
// takes it, or for style-layers a list of layers.
func parseRaw(name string, raw json.RawMessage, dir string) (Value, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return Value{}, fmt.Errorf("%s: %w", name, err)
	}
	var text string
	switch v := v.(type) {
	case json.Number:
		text = v.String()
	case string:
		text = v
	case []any:
		if name != "style-layers" {
			return Value{}, fmt.Errorf("%s: a list of values belongs in an axis", name)
		}
		parts := make([]string, len(v))
		for i, item := range v {
			s, ok := item.(string)
			if !ok {
				return Value{}, fmt.Errorf("style-layers: item %s is not a layer name", compact(raw))
			}
			parts[i] = s
		}
		text = strings.Join(parts, ",")
	default:
		return Value{}, fmt.Errorf("%s: %s is not a number or a string", name, compact(raw))
	}
	return ParseValue(name, text, dir)
}

func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// jsonError says where in the file a decoding error is, as line:column.
func jsonError(data []byte, err error) error {
	var offset int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset
	case errors.As(err, &typ):
		// The message names the Go type decoded into, which means nothing to
		// whoever wrote the file: say what JSON the place wants instead.
		offset = typ.Offset
		if typ.Field != "" {
			err = fmt.Errorf("%s: want %s, got %s", typ.Field, jsonKind(typ.Type), article(typ.Value))
		} else {
			err = fmt.Errorf("a sweep file is one JSON object (%s), not %s", fileKeys, article(typ.Value))
		}
	case errors.Is(err, io.EOF):
		return errors.New("empty file")
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if strings.HasPrefix(msg, "unknown field ") {
		msg = "unknown key " + strings.TrimPrefix(msg, "unknown field ") + " (" + fileKeys + `; an axis has "param" and "values" or "range" with "from", "to", "steps", "scale")`
	}
	if offset < 0 {
		return errors.New(msg)
	}
	line, col := 1, 1
	for _, c := range data[:min(int(offset), len(data))] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Errorf("line %d column %d: %s", line, col, msg)
}

// fileKeys are the keys of a sweep file, for messages.
const fileKeys = `keys: "description", "settings", "axes"`

// jsonKind names the JSON a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a JSON object"
	case reflect.Slice, reflect.Array:
		return "a JSON array"
	case reflect.String:
		return "a JSON string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a JSON number"
	}
	return "another JSON value"
}

// article writes encoding/json's name of a value ("array", "number 5") with an article.
func article(value string) string {
	if value == "" {
		return "that value"
	}
	if strings.IndexByte("aeiou", value[0]) >= 0 {
		return "an " + value
	}
	return "a " + value
}
