package settings

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// TestSchemaRoundTrip: every setting's default text parses back to the same
// value, and so does each of its choices.
func TestSchemaRoundTrip(t *testing.T) {
	envs := map[string]bool{}
	stylizeOnly := len(Schema)
	for i, s := range slices.Concat(Schema, Stylize) {
		if s.Parse == nil || s.Format == nil || s.Usage == "" {
			t.Errorf("%s: incomplete entry", s.Name)
			continue
		}
		if envs[s.Env()] {
			t.Errorf("%s: environment variable %s used twice", s.Name, s.Env())
		}
		envs[s.Env()] = true
		if !slices.Contains(Categories, s.Category) {
			t.Errorf("%s: category %q is not one of %q", s.Name, s.Category, Categories)
		}
		if (s.Kind == KindFile) != (s.Role != "") {
			t.Errorf("%s: a role names the files of file settings, and only theirs (%q)", s.Name, s.Role)
		}
		texts := append([]string{s.Default()}, s.Choices...)
		for _, text := range texts {
			// Stylize's empty defaults mean "not given": its own checks
			// (transfer.Config.ValidateStylize) decide.
			if text == "" && (s.Required || i >= stylizeOnly) {
				continue
			}
			c := transfer.DefaultConfig()
			if err := s.Set(&c, text); err != nil {
				t.Errorf("%s: %q does not parse: %v", s.Name, text, err)
				continue
			}
			if got := s.Format(&c); got != text {
				t.Errorf("%s: %q formats back as %q", s.Name, text, got)
			}
		}
	}
	c := transfer.DefaultConfig()
	if err := c.Settings.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
	if err := Validate(&c); err == nil || !strings.Contains(err.Error(), "content: not given") || !strings.Contains(err.Error(), "style: not given") {
		t.Errorf("a config without images validates: %v", err)
	}
}

// TestSchemaCoversConfig: every field of transfer.Config (its Settings, its
// files, its Stylize settings and batch and video's Method) is exactly one setting's, so that a field
// added without a schema entry (no flag, no sweep key, no log) fails here, and
// so does a field two entries write. No field is deliberately left out.
func TestSchemaCoversConfig(t *testing.T) {
	all := slices.Concat(Schema, Stylize, Method)
	base := transfer.DefaultConfig()
	formats := func(c *transfer.Config) []string {
		out := make([]string, len(all))
		for i, s := range all {
			out[i] = s.Format(c)
		}
		return out
	}
	want := formats(&base)
	type field struct {
		name  string
		index []int
	}
	var walk func(t reflect.Type, path string, index []int, fields *[]field)
	walk = func(t reflect.Type, path string, index []int, fields *[]field) {
		for i := range t.NumField() {
			f := t.Field(i)
			at := append(slices.Clone(index), i)
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, path+f.Name+".", at, fields)
				continue
			}
			*fields = append(*fields, field{path + f.Name, at})
		}
	}
	var fields []field
	walk(reflect.TypeOf(base), "", nil, &fields)
	if len(fields) < 30 { // the walk itself works: 36 fields when written
		t.Fatalf("walked %d fields of Config: %v", len(fields), fields)
	}
	for _, f := range fields {
		name := f.name
		c := transfer.DefaultConfig()
		c.StyleLayers = slices.Clone(c.StyleLayers)
		v := reflect.ValueOf(&c).Elem().FieldByIndex(f.index)
		switch v.Kind() {
		case reflect.Int, reflect.Int64:
			v.SetInt(v.Int() + 3)
		case reflect.Uint32:
			v.SetUint(v.Uint() + 3)
		case reflect.Float64:
			v.SetFloat(v.Float() + 0.5)
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.Slice:
			switch v.Type().Elem().Kind() {
			case reflect.String:
				v.Set(reflect.ValueOf([]string{"block3_conv1"}))
			case reflect.Int:
				v.Set(reflect.ValueOf([]int{7}))
			default: // one per style layer, as StyleLayerWeights needs
				v.Set(reflect.ValueOf(slices.Repeat([]float64{7}, len(c.StyleLayers))))
			}
		default:
			t.Fatalf("field %s: kind %v not covered by this test", name, v.Kind())
		}
		var changed []string
		for j, text := range formats(&c) {
			if text != want[j] {
				changed = append(changed, all[j].Name)
			}
		}
		if len(changed) != 1 {
			t.Errorf("field %s of transfer.Config is written by %d schema entries %q, want exactly one", name, len(changed), changed)
		}
	}
}

// TestSetNamesTheSetting: Set's errors and Validate's are *transfer.SettingError
// naming a setting of the schema.
func TestSetNamesTheSetting(t *testing.T) {
	c := transfer.DefaultConfig()
	set, _ := Lookup("style-weight")
	err := set.Set(&c, "abc")
	var se *transfer.SettingError
	if !errors.As(err, &se) || se.Setting != "style-weight" || err.Error() != `style-weight "abc": not a number` {
		t.Errorf("Set: %v (%#v), want a SettingError of style-weight", err, se)
	}
	c = transfer.DefaultConfig()
	c.Content, c.Style = "c.jpg", []string{"a.jpg", "b.jpg"}
	c.Width, c.StyleWeight, c.Graph, c.StyleScale, c.LongSide = 4, -1, transfer.GraphRecipe, 2, 300
	c.StyleMask, c.StyleBlend, c.Tile, c.LearningRate = []string{"m.png"}, []float64{1}, 17, 0
	problems := Problems(Validate(&c))
	if len(problems) < 8 {
		t.Errorf("%d problems, want at least 8: %v", len(problems), problems)
	}
	for _, p := range problems {
		if _, err := Lookup(p.Setting); err != nil {
			t.Errorf("problem %q names no setting: %v", p.Err, err)
		}
		if strings.Contains(p.Err.Error(), "--") {
			t.Errorf("problem %q speaks the command line's syntax", p.Err)
		}
	}
}

// TestEXIFSetting: --exif ignore reads a photo's stored pixels, as the notebook's
// Pillow did; apply (the default) turns it upright. The file is 6: rotated a
// quarter turn, so the two reads have swapped sides.
func TestEXIFSetting(t *testing.T) {
	path := "../../preprocess/imagefile/testdata/decode/jpeg_orient6.jpg"
	c := transfer.DefaultConfig()
	upright, err := imagefile.ReadFile(path, c.DecodeOptions())
	if err != nil {
		t.Fatal(err)
	}
	set, _ := Lookup("exif")
	if err := set.Set(&c, "ignore"); err != nil {
		t.Fatal(err)
	}
	stored, err := imagefile.ReadFile(path, c.DecodeOptions())
	if err != nil {
		t.Fatal(err)
	}
	if upright.Width == upright.Height || upright.Width != stored.Height || upright.Height != stored.Width {
		t.Errorf("apply gives %dx%d, ignore %dx%d: want the sides swapped", upright.Width, upright.Height, stored.Width, stored.Height)
	}
}

func TestStylizeSchema(t *testing.T) {
	c := transfer.DefaultConfig()
	if c.Stylize.Strength != 1 || c.StylizeNet() != transfer.Net26 {
		t.Fatalf("defaults: %+v, net %s", c.Stylize, c.StylizeNet())
	}
	for name, text := range map[string]string{"net": "arbitrary", "styles": "3:0.5,12:0.5", "strength": "0.25"} {
		s, err := LookupStylize(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Set(&c, text); err != nil {
			t.Fatalf("%s %q: %v", name, text, err)
		}
		if got := s.Format(&c); got != text {
			t.Errorf("%s: formats %q, want %q", name, got, text)
		}
	}
	for name, text := range map[string]string{"net": "12", "styles": "26", "strength": "2"} {
		s, _ := LookupStylize(name)
		if err := s.Set(&c, text); err == nil || !strings.HasPrefix(err.Error(), name) {
			t.Errorf("%s %q: error %v, want one naming the setting", name, text, err)
		}
	}
}
func TestPrecisionSetting(t *testing.T) {
	set, err := Lookup("precision")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text, graph string
		want        string // "" for no error
	}{
		{"fp32", "fast", ""},
		{"bf16", "fast", ""},
		{"BF16", "fast", ""},
		{"fp32", "recipe", ""},
		{"bf16", "recipe", "precision: bf16 runs the fast graph only, not graph recipe"},
		{"auto", "fast", ""},
		{"auto", "recipe", ""},
		{"fp16", "fast", `precision "fp16": want fp32, bf16, auto`},
	} {
		cfg := transfer.DefaultConfig()
		cfg.Graph = transfer.Graph(c.graph)
		err := set.Set(&cfg, c.text)
		if err == nil {
			err = cfg.Settings.Validate()
		}
		if got := fmt.Sprint(err); (c.want == "" && err != nil) || (c.want != "" && got != c.want) {
			t.Errorf("--precision %s --graph %s: error %v, want %q", c.text, c.graph, err, c.want)
		}
	}
	if d := transfer.Defaults().Precision; d != transfer.PrecisionFP32 {
		t.Errorf("default precision %q, want fp32", d)
	}
}

// TestNetFolder: net takes the folder of a trained network (one holding its
// record, net.json) as written, and refuses a folder without one.
func TestNetFolder(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "Mine")
	if err := os.Mkdir(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, trainedNetFile), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LookupStylize("net")
	if err != nil {
		t.Fatal(err)
	}
	c := transfer.DefaultConfig()
	if err := s.Set(&c, mine); err != nil || s.Format(&c) != mine || c.StylizeNet() != mine {
		t.Errorf("net %s: %v, formats %q; want the folder as written", mine, err, s.Format(&c))
	}
	if err := s.Set(&c, dir); err == nil || !strings.Contains(err.Error(), "neuralstyle train") {
		t.Errorf("net %s (no record): %v; want an error that names the trained networks", dir, err)
	}
}

// TestScalesSetting: --scales takes long sides or fractions of the final long
// side (a number with a decimal point), not both, and formats them back.
func TestScalesSetting(t *testing.T) {
	s, err := Lookup("scales")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		text, format string
		sides        []int
		fractions    []float64
		err          string
	}{
		{text: "128,256", format: "128,256", sides: []int{128, 256}},
		{text: "0.25, 0.5", format: "0.25,0.5", fractions: []float64{0.25, 0.5}},
		{text: "", format: ""},
		{text: "0.5,256", err: `"0.5,256": want long sides such as 512,1024, or fractions of the final size's such as 0.25,0.5`},
		{text: "half", err: `"half": want long sides`},
	} {
		c := transfer.DefaultConfig()
		c.ScaleFractions = []float64{0.1} // a value given before is replaced
		err := s.Set(&c, tt.text)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: %v, want an error with %q", tt.text, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.text, err)
			continue
		}
		if !slices.Equal(c.Scales, tt.sides) || !slices.Equal(c.ScaleFractions, tt.fractions) {
			t.Errorf("%q: sides %v, fractions %v; want %v, %v", tt.text, c.Scales, c.ScaleFractions, tt.sides, tt.fractions)
		}
		if got := s.Format(&c); got != tt.format {
			t.Errorf("%q formats as %q, want %q", tt.text, got, tt.format)
		}
	}
}
