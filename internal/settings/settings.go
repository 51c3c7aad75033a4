// Package settings describes each setting of a transfer once, for every front
// end: its name (the command line's flag, a sweep's key, the web form's
// field), how its text is read and written, its help, its environment
// variable, and where forms and help show it. The engine (package transfer)
// knows the values and their checks; this package knows how people write them.
//
// Adding a setting is a field in transfer.Settings (its default in
// transfer.Defaults) and one entry in one of the groups below, beside its
// concept; Schema concatenates the groups.
package settings

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// Kind says how a setting is written, and so which form a front end shows it in
// and whether a sweep may step through a range of it.
type Kind int

const (
	KindNumber  Kind = iota // a float, such as a weight
	KindInteger             // a whole number
	KindChoice              // one of Choices
	KindText                // text with a syntax of its own (a size, a layer list)
	KindFile                // the path of an input file (List: several, comma-separated)
	KindBool                // on or off; a flag without a value
)

// The categories help groups the settings in, in the order it shows them.
const (
	CategoryNotebook = "The notebook's settings"
	CategorySize     = "Size"
	CategoryControls = "Controls"
	CategoryOutput   = "Output"
	CategoryTF       = "TensorFlow"
	CategoryStylize  = "Feed-forward networks"
)

// Categories are the categories in the order help shows them.
var Categories = []string{CategoryNotebook, CategorySize, CategoryControls, CategoryOutput, CategoryTF, CategoryStylize}

// Setting describes one setting once for every front end: the transfer flag of
// its Name, the sweep key of the same name, the web form's field, and its entry
// in logs, point records and summaries.
type Setting struct {
	Name     string // flag name and sweep key, e.g. "style-weight"
	Kind     Kind
	Category string // the group help shows it in (Categories)
	Usage    string
	// FormUsage is the help a web form shows where Usage speaks the command
	// line's syntax (--init-image, --size): the same help in the form's words,
	// naming its fields without dashes and leaving out what a form of one
	// content and one style image cannot take. "": Usage is already fit.
	FormUsage   string
	Placeholder string   // the value's name in help, e.g. FILE or WxH
	Choices     []string // for KindChoice, in the order help lists them
	Sweep       bool     // a sweep may set it or vary it along an axis
	Advanced    bool     // folded away in forms: most runs leave it alone
	VideoOnly   bool     // applies to a video's frames only: single-image forms leave it out
	// SeveralStyles: applies only with several style images, so forms that take
	// one style image leave it out.
	SeveralStyles bool
	Required      bool // a run needs it and it has no default
	List          bool // its text is a comma-separated list (a sweep separates values with ';')
	// SweepCommas: a sweep flag's commas separate values unless its text has
	// a ';' (--style a.jpg,b.jpg sweeps two styles, as it did before a point
	// could have several).
	SweepCommas bool
	// Role names a file setting's files in messages ("style image"); "" for
	// settings that are no files.
	Role string

	// Parse reads text, written as the flag takes it, into c. Its errors name the
	// value but not the setting; Set names it. Checks across settings are
	// transfer's (Config.Validate).
	Parse func(c *transfer.Config, text string) error
	// Format writes the setting's value in c as Parse reads it, canonically: two
	// values are the same setting exactly when their texts are equal.
	Format func(c *transfer.Config) string
}

// Schema lists every setting of a transfer, in the order help, logs and
// records show them: the groups, each declared beside its concept.
var Schema = slices.Concat(images, sizes, weights, layers, optimisation, graphs, scales, reading, arithmetic, orientation, controls, video)

// Env is the environment variable a front end may read a setting from:
// NEURALSTYLE_ and its name in capitals.
func (s *Setting) Env() string {
	return "NEURALSTYLE_" + strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
}

// Paths are the files a file setting's text names: a list's entries, or the
// one path; none for empty text.
func (s *Setting) Paths(text string) []string {
	if s.List {
		return SplitList(text)
	}
	if text = strings.TrimSpace(text); text == "" {
		return nil
	}
	return []string{text}
}

// Lookup returns the setting of a name in Schema, or an error listing the
// settings.
func Lookup(name string) (*Setting, error) { return lookupIn(Schema, name) }

// LookupStylize returns one of Stylize's settings.
func LookupStylize(name string) (*Setting, error) { return lookupIn(Stylize, name) }

func lookupIn(schema []Setting, name string) (*Setting, error) {
	for i := range schema {
		if schema[i].Name == name {
			return &schema[i], nil
		}
	}
	names := make([]string, len(schema))
	for i, s := range schema {
		names[i] = s.Name
	}
	return nil, fmt.Errorf("unknown setting %q; the settings are %s", name, strings.Join(names, ", "))
}

// Default is the setting's value in transfer.DefaultConfig, as text ("" for
// none).
func (s *Setting) Default() string {
	c := transfer.DefaultConfig()
	return s.Format(&c)
}

// Set parses text into c and checks the value where it can be checked with
// the settings before it (transfer.Config.CheckEarly), so that a bad value is
// refused where it is given. Its
// error is a *transfer.SettingError naming s. Validate checks the whole Config
// once every setting is in.
func (s *Setting) Set(c *transfer.Config, text string) error {
	if err := s.Parse(c, text); err != nil {
		return &transfer.SettingError{Setting: s.Name, Err: err}
	}
	return c.CheckEarly(s.Name)
}

// Field is one setting's value in a record.
type Field struct{ Name, Value string }

// Record lists every setting's value in c, in Schema order: the settings part of
// a log, a sweep point's record and a summary row.
func Record(c *transfer.Config) []Field {
	out := make([]Field, len(Schema))
	for i, s := range Schema {
		out[i] = Field{s.Name, s.Format(c)}
	}
	return out
}

// Validate reports every problem with c, one line each, each a
// *transfer.SettingError: the settings a run needs that are not given, and
// transfer's checks of the values.
func Validate(c *transfer.Config) error {
	var errs []error
	for _, s := range Schema {
		if s.Required && s.Format(c) == "" {
			errs = append(errs, &transfer.SettingError{Setting: s.Name, Err: errors.New("not given")})
		}
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Problems splits an error of Validate (or of Set) into its problems, each
// with the setting it names ("" for none).
func Problems(err error) []Problem {
	if err == nil {
		return nil
	}
	var out []Problem
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, Problems(e)...)
		}
		return out
	}
	p := Problem{Err: err}
	var se *transfer.SettingError
	if errors.As(err, &se) {
		p.Setting = se.Setting
	}
	return []Problem{p}
}

// Problem is one problem with a transfer's settings.
type Problem struct {
	Setting string // the setting it names, "" for none
	Err     error
}

// SplitList splits a comma-separated list, dropping empty entries.
func SplitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
