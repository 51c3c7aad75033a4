package train

import (
	"strings"
	"testing"
)

func TestSchemaParses(t *testing.T) {
	cases := []struct {
		name, text, want string // want: the Format after Set, or an error's text
		ok               bool
	}{
		{"steps", "200", "200", true},
		{"steps", "2e3", "want a whole number", false},
		{"batch", " 8 ", "8", true},
		{"learning-rate", "3e-4", "0.0003", true},
		{"learning-rate", "NaN", "want a number", false},
		{"style-weight", "10", "10", true},
		{"seed", "-1", "want a whole number of at least 0", false},
		{"resample", "Bicubic", "bicubic", true},
		{"resample", "sinc", "sinc", false},
		{"bf16", "true", "true", true},
		{"bf16", "maybe", "want true or false", false},
	}
	for _, tc := range cases {
		var st *Setting
		for i := range Schema {
			if Schema[i].Name == tc.name {
				st = &Schema[i]
			}
		}
		if st == nil {
			t.Fatalf("no setting %s", tc.name)
		}
		s := DefaultSettings()
		err := st.Set(&s, tc.text)
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s=%q: %v", tc.name, tc.text, err)
		case tc.ok && st.Format(&s) != tc.want:
			t.Errorf("%s=%q: formats as %q, want %q", tc.name, tc.text, st.Format(&s), tc.want)
		case !tc.ok && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), tc.name+":")):
			t.Errorf("%s=%q: got %v, want an error naming the setting and saying %q", tc.name, tc.text, err, tc.want)
		}
	}
	for i := range Schema {
		if Schema[i].Env == "" || Schema[i].Usage == "" || Schema[i].Default() == "" {
			t.Errorf("setting %s lacks an environment variable, usage or default", Schema[i].Name)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultSettings().Validate(); err != nil {
		t.Errorf("the defaults: %v", err)
	}
	cases := []struct {
		edit func(*Settings)
		want string
	}{
		{func(s *Settings) { s.Steps = 0 }, "steps: 0"},
		{func(s *Settings) { s.Batch = 0 }, "batch: 0"},
		{func(s *Settings) { s.Crop = 30 }, "crop: 30"},
		{func(s *Settings) { s.Crop = 12 }, "crop: 12"},
		{func(s *Settings) { s.LearningRate = 0 }, "learning-rate: 0"},
		{func(s *Settings) { s.TVWeight = -1 }, "tv-weight: -1"},
		{func(s *Settings) { s.Seed = 1 << 24 }, "seed: 16777216"},
		{func(s *Settings) { s.CheckpointEvery = -1 }, "checkpoint-every: -1"},
	}
	for _, tc := range cases {
		s := DefaultSettings()
		tc.edit(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

func TestSameRun(t *testing.T) {
	a := DefaultSettings()
	b := a
	b.Steps, b.CheckpointEvery, b.PreviewEvery = 7, 9, 11
	if err := a.SameRun(b); err != nil {
		t.Errorf("steps and intervals may change: %v", err)
	}
	b = a
	b.LearningRate = 2e-3
	if err := a.SameRun(b); err == nil {
		t.Error("another learning rate resumed")
	}
}
