package transfer

import (
	"reflect"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// TestSchemaRoundTrip: every setting's default text parses back to the same
// value, and so does each of its choices.
func TestSchemaRoundTrip(t *testing.T) {
	envs := map[string]bool{}
	for _, s := range Schema {
		if s.Parse == nil || s.Format == nil || s.Usage == "" {
			t.Errorf("%s: incomplete entry", s.Name)
			continue
		}
		if s.Env != "" && envs[s.Env] {
			t.Errorf("%s: environment variable %s used twice", s.Name, s.Env)
		}
		envs[s.Env] = true
		texts := append([]string{s.Default()}, s.Choices...)
		for _, text := range texts {
			if text == "" && s.Required {
				continue
			}
			c := DefaultConfig()
			if err := s.Set(&c, text); err != nil {
				t.Errorf("%s: %q does not parse: %v", s.Name, text, err)
				continue
			}
			if got := s.Format(&c); got != text {
				t.Errorf("%s: %q formats back as %q", s.Name, text, got)
			}
		}
	}
	c := DefaultConfig()
	if err := c.Settings.Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "content: not given") || !strings.Contains(err.Error(), "style: not given") {
		t.Errorf("a config without images validates: %v", err)
	}
}

// TestSchemaCoversSettings: every field of Settings is some setting's, so that a
// field added without a schema entry (no flag, no sweep key, no log) fails here.
func TestSchemaCoversSettings(t *testing.T) {
	base := DefaultConfig()
	rec := base.Record()
	typ := reflect.TypeOf(Settings{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		c := DefaultConfig()
		c.StyleLayers = append([]string(nil), c.StyleLayers...)
		v := reflect.ValueOf(&c.Settings).Elem().Field(i)
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
			default:
				c.StyleLayers = []string{"block3_conv1"}
				v.Set(reflect.ValueOf([]float64{7}))
			}
		default:
			t.Fatalf("field %s: kind %v not covered by this test", f.Name, v.Kind())
		}
		changed := false
		for j, r := range c.Record() {
			changed = changed || r.Value != rec[j].Value
		}
		if !changed {
			t.Errorf("field %s of Settings is in no schema entry", f.Name)
		}
	}
}

// TestValidateAll: Validate reports every problem, one line each, each starting
// with its setting's name.
func TestValidateAll(t *testing.T) {
	s := Defaults()
	s.Width, s.ContentWeight, s.Iterations, s.Graph, s.StyleLayers = 4, -1, 0, "slow", []string{"block1_conv2", "block1_conv2"}
	err := s.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, prefix := range []string{"size 4x512 is too small", "content-weight: -1", "style-layers: block1_conv2 is listed twice", "iterations: 0", `graph "slow"`} {
		found := false
		for _, l := range lines {
			found = found || strings.HasPrefix(l, prefix)
		}
		if !found {
			t.Errorf("no line starts with %q:\n%v", prefix, err)
		}
	}
	if len(lines) != 5 {
		t.Errorf("%d lines, want 5:\n%v", len(lines), err)
	}
}

// TestEXIFSetting: --exif ignore reads a photo's stored pixels, as the notebook's
// Pillow did; apply (the default) turns it upright. The file is 6: rotated a
// quarter turn, so the two reads have swapped sides.
func TestEXIFSetting(t *testing.T) {
	path := "../../preprocess/imagefile/testdata/decode/jpeg_orient6.jpg"
	c := DefaultConfig()
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
