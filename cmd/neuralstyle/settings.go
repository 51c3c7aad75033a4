package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"github.com/neuralstyle/neuralstyle/internal/sweep"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// settingFlags are transfer's setting flags, one per entry of settings.Schema
// except the positional ones (a command's arguments give those, as batch's
// photos give "content"). Each takes the text the schema parses. The
// environment variables are read by readSettings rather than by cli, so that a
// bad value names the variable it came from.
func settingFlags(positional ...string) []cli.Flag {
	var flags []cli.Flag
	for i := range settings.Schema {
		s := &settings.Schema[i]
		if slices.Contains(positional, s.Name) {
			continue
		}
		usage := s.Usage + " [$" + s.Env() + "]"
		if s.Kind == settings.KindBool {
			flags = append(flags, &cli.BoolFlag{Name: s.Name, Usage: usage, Category: category(s.Category)})
			continue
		}
		f := &cli.StringFlag{Name: s.Name, Usage: usage, Value: s.Default(), Category: category(s.Category)}
		if s.Placeholder != "" && !strings.Contains(usage, "`") {
			f.Usage = "`" + s.Placeholder + "`: " + usage
		}
		flags = append(flags, f)
	}
	return append(flags, presetFlag(settings.DefaultPreset))
}

// presetFlag is --preset: a named set of settings (settings.Presets) that the
// settings given explicitly override.
func presetFlag(def string) cli.Flag {
	var usage []string
	for _, p := range settings.Presets {
		usage = append(usage, p.Name+" ("+p.Usage+")")
	}
	return &cli.StringFlag{Name: "preset", Value: def, EnvVars: []string{"NEURALSTYLE_PRESET"}, Category: category(settings.CategoryNotebook),
		Usage: "`NAME`: " + strings.Join(usage, ", or ") + "; settings given explicitly win over its values (--dry-run prints them)"}
}

// category is the heading help shows a settings category under: numbered, as
// cli sorts its categories by name and settings.Categories gives their order.
func category(name string) string {
	return fmt.Sprintf("%d. %s", slices.Index(settings.Categories, name)+1, name)
}

// inCategory puts flags under a category of help (settings.Categories).
func inCategory(name string, flags ...cli.Flag) []cli.Flag {
	for _, f := range flags {
		switch f := f.(type) {
		case *cli.StringFlag:
			f.Category = category(name)
		case *cli.IntFlag:
			f.Category = category(name)
		case *cli.BoolFlag:
			f.Category = category(name)
		case *cli.DurationFlag:
			f.Category = category(name)
		}
	}
	return flags
}

// readSettings fills a transfer's Config from its flags, then from the
// environment for a flag not given, then from the defaults, and checks it:
// every problem is reported, each naming the flag or variable it came from. The
// positional settings are left for the caller to fill: neither flags nor
// variables set them, and no problem is reported for them.
func readSettings(c *cli.Context, positional ...string) (transfer.Config, error) {
	cfg := transfer.DefaultConfig()
	var problems []string
	fromEnv := map[string]string{} // setting -> "VAR=value" for values read from the environment
	var explicit []string          // settings given by a flag or variable, which win over the preset
	failed := map[string]bool{}    // settings whose text did not parse
	for i := range settings.Schema {
		s := &settings.Schema[i]
		if slices.Contains(positional, s.Name) {
			continue
		}
		text := ""
		switch {
		case c.IsSet(s.Name) && s.Kind == settings.KindBool:
			text = fmt.Sprint(c.Bool(s.Name))
		case c.IsSet(s.Name):
			text = c.String(s.Name)
		case os.Getenv(s.Env()) != "":
			text = os.Getenv(s.Env())
			fromEnv[s.Name] = fmt.Sprintf("%s=%s", s.Env(), text)
		case s.Required:
			failed[s.Name] = true
			problems = append(problems, fmt.Sprintf("--%s: give the %s (or set %s)", s.Name, placeholderOf(s), s.Env()))
			continue
		default:
			continue
		}
		explicit = append(explicit, s.Name)
		if err := s.Set(&cfg, text); err != nil {
			failed[s.Name] = true
			problems = append(problems, flagProblem(err, fromEnv))
		}
	}
	if p := applyPreset(c, &cfg, explicit); p != "" {
		problems = append(problems, p)
	}
	// The checks across settings, for every setting that parsed.
	for _, p := range settings.Problems(settings.Validate(&cfg)) {
		if !failed[p.Setting] && !slices.Contains(positional, p.Setting) {
			problems = append(problems, flagProblem(p.Err, fromEnv))
		}
	}
	if len(problems) > 0 {
		return cfg, usagef("%s", strings.Join(problems, "\n"))
	}
	return cfg, nil
}

// applyPreset sets the settings of --preset that were not given explicitly,
// after those that were, so that its values see the run's final size. A preset
// other than the notebook's (chosen, or batch's default quick) says once which
// explicit settings contradict it (they win); --dry-run prints its values. A
// preset that starts stylized runs its fallback where the feed-forward
// networks (--fastnets) are absent or several styles are given, and says so. It
// returns a problem, or "".
func applyPreset(c *cli.Context, cfg *transfer.Config, explicit []string) string {
	name := c.String("preset")
	if name == "" {
		name = settings.DefaultPreset
	}
	p, err := settings.LookupPreset(name)
	if err != nil {
		return "--" + err.Error()
	}
	// A preset's stylized start needs the feed-forward networks and one style
	// image; without them it runs its fallback, and says so even when quiet.
	var fallback string
	if p.Stylized() && !slices.Contains(explicit, "init") {
		var why error
		if len(cfg.Style) > 1 {
			why = fmt.Errorf("%d style images; the network paints one", len(cfg.Style))
		} else if _, err := fastnet.ReadMeta(c.String("fastnets")); err != nil {
			why = err
		}
		if why != nil {
			p, fallback = p.WithFallback(why)
		}
	}
	fields, err := p.Apply(cfg, explicit)
	if err != nil {
		return "--" + err.Error()
	}
	if fallback != "" {
		fmt.Fprintln(c.App.ErrWriter, fallback)
	}
	switch {
	case c.Bool("dry-run"):
		fmt.Fprintln(c.App.Writer, settings.DescribePreset(p.Name, fields))
	case (c.IsSet("preset") || p.Name != settings.DefaultPreset) && !c.Bool("quiet"):
		if msg := settings.Overrides(p.Name, fields); msg != "" {
			fmt.Fprintln(c.App.ErrWriter, msg)
		}
	}
	return ""
}

// flagProblem says a problem in the command line's terms: a setting's problem
// under its flag (--style-weight "abc": not a number), or under the
// environment variable and value it came from (fromEnv: setting -> VAR=value).
func flagProblem(err error, fromEnv map[string]string) string {
	var se *transfer.SettingError
	if !errors.As(err, &se) {
		return err.Error()
	}
	if env, ok := fromEnv[se.Setting]; ok {
		return env + ": " + se.Error()
	}
	return "--" + se.Error()
}

// flagErrors renders each problem of err (one line each) with flagProblem.
func flagErrors(err error) error {
	if err == nil {
		return nil
	}
	var lines []string
	for _, p := range settings.Problems(err) {
		lines = append(lines, flagProblem(p.Err, nil))
	}
	return errors.New(strings.Join(lines, "\n"))
}

// placeholderOf is what a missing setting's value is: "content image", or its name.
func placeholderOf(s *settings.Setting) string { return cmp.Or(s.Role, s.Name) }

// sweepSettingFlags are the sweepable settings' flags, taking lists: the names
// and descriptions of transfer's, no defaults (a setting neither the file nor a
// flag gives is transfer's default) and no environment variables (a
// NEURALSTYLE_* meant for transfer must not change a sweep).
func sweepSettingFlags() []cli.Flag {
	var flags []cli.Flag
	for _, name := range sweep.Params() {
		s, _ := settings.Lookup(name)
		u := s.Usage + "; a comma-separated list sweeps it"
		switch {
		case s.SweepCommas:
			u = s.Usage + "; a comma-separated list sweeps it; for points of several, lists separated by ';' (a.jpg,b.jpg; is one point of both)"
		case s.List:
			u = s.Usage + "; lists separated by ';' sweep it"
		}
		flags = append(flags, &cli.StringFlag{Name: name, Usage: u, Category: "Settings (override the file):"})
	}
	return flags
}

// sweepSeparator separates the values of a sweep flag: ';' between lists, ','
// between single values. A setting whose commas swept values before points
// could hold lists (Setting.SweepCommas: --style) takes both: a.jpg,b.jpg
// sweeps two styles, and a.jpg,b.jpg;c.jpg sweeps a blend of two and a third
// alone.
func sweepSeparator(name, text string) string {
	s, _ := settings.Lookup(name)
	if s.List && (!s.SweepCommas || strings.Contains(text, ";")) {
		return ";"
	}
	return ","
}
