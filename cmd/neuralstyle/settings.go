package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/sweep"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// settingFlags are transfer's setting flags, one per entry of transfer.Schema
// except the positional ones (a command's arguments give those, as batch's
// photos give "content"). Each takes the text the schema parses. The
// environment variables are read by readSettings rather than by cli, so that a
// bad value names the variable it came from.
func settingFlags(positional ...string) []cli.Flag {
	var flags []cli.Flag
	for i := range transfer.Schema {
		s := &transfer.Schema[i]
		if slices.Contains(positional, s.Name) {
			continue
		}
		usage := s.Usage
		if s.Env != "" {
			usage += " [$" + s.Env + "]"
		}
		if s.Kind == transfer.KindBool {
			flags = append(flags, &cli.BoolFlag{Name: s.Name, Usage: usage})
			continue
		}
		f := &cli.StringFlag{Name: s.Name, Usage: usage, Value: s.Default()}
		if s.Placeholder != "" && !strings.Contains(usage, "`") {
			f.Usage = "`" + s.Placeholder + "`: " + usage
		}
		flags = append(flags, f)
	}
	return append(flags, presetFlag(transfer.DefaultPreset))
}

// presetFlag is --preset: a named set of settings (transfer.Presets) that the
// settings given explicitly override.
func presetFlag(def string) cli.Flag {
	var usage []string
	for _, p := range transfer.Presets {
		usage = append(usage, p.Name+" ("+p.Usage+")")
	}
	return &cli.StringFlag{Name: "preset", Value: def, EnvVars: []string{"NEURALSTYLE_PRESET"},
		Usage: "`NAME`: " + strings.Join(usage, ", or ") + "; settings given explicitly win over its values (--dry-run prints them)"}
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
	for i := range transfer.Schema {
		s := &transfer.Schema[i]
		if slices.Contains(positional, s.Name) {
			continue
		}
		text, from := "", ""
		switch {
		case c.IsSet(s.Name) && s.Kind == transfer.KindBool:
			text, from = fmt.Sprint(c.Bool(s.Name)), "--"+s.Name
		case c.IsSet(s.Name):
			text, from = c.String(s.Name), "--"+s.Name
		case s.Env != "" && os.Getenv(s.Env) != "":
			text = os.Getenv(s.Env)
			from = fmt.Sprintf("%s=%s", s.Env, text)
			fromEnv[s.Name] = from
		case s.Required:
			failed[s.Name] = true
			problems = append(problems, fmt.Sprintf("--%s: give the %s (or set %s)", s.Name, placeholderOf(s), s.Env))
			continue
		default:
			continue
		}
		explicit = append(explicit, s.Name)
		if err := s.Set(&cfg, text); err != nil {
			failed[s.Name] = true
			if strings.HasPrefix(from, "--") {
				problems = append(problems, "--"+err.Error())
			} else {
				problems = append(problems, from+": "+err.Error())
			}
		}
	}
	if p := applyPreset(c, &cfg, explicit); p != "" {
		problems = append(problems, p)
	}
	// The checks across settings, for every setting that parsed.
	if err := cfg.Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			if name := settingOf(line); !failed[name] && !slices.Contains(positional, name) {
				problems = append(problems, blame(line, fromEnv))
			}
		}
	}
	if len(problems) > 0 {
		return cfg, usagef("%s", strings.Join(problems, "\n"))
	}
	return cfg, nil
}

// applyPreset sets the settings of --preset that were not given explicitly,
// after those that were, so that its values see the run's final size. A preset
// chosen explicitly says once which explicit settings contradict it (they
// win); --dry-run prints its values. It returns a problem, or "".
func applyPreset(c *cli.Context, cfg *transfer.Config, explicit []string) string {
	name := c.String("preset")
	if name == "" {
		name = transfer.DefaultPreset
	}
	p, err := transfer.LookupPreset(name)
	if err != nil {
		return "--" + err.Error()
	}
	fields, err := p.Apply(cfg, explicit)
	if err != nil {
		return "--" + err.Error()
	}
	switch {
	case c.Bool("dry-run"):
		fmt.Fprintln(c.App.Writer, transfer.DescribePreset(p.Name, fields))
	case c.IsSet("preset") && !c.Bool("quiet"):
		if msg := transfer.Overrides(p.Name, fields); msg != "" {
			fmt.Fprintln(c.App.ErrWriter, msg)
		}
	}
	return ""
}

// blame prefixes a problem that starts with a setting's name with where its
// value came from: the flag, or the environment variable and its value.
func blame(line string, fromEnv map[string]string) string {
	if env, ok := fromEnv[settingOf(line)]; ok {
		return env + ": " + line
	}
	return "--" + line
}

// settingOf returns the setting a problem starts with ("" for none).
func settingOf(line string) string {
	best := ""
	for i := range transfer.Schema {
		if n := transfer.Schema[i].Name; strings.HasPrefix(line, n) && len(n) > len(best) {
			best = n
		}
	}
	return best
}

func placeholderOf(s *transfer.Setting) string {
	if s.Kind == transfer.KindFile {
		return s.Name + " image"
	}
	return s.Name
}

// sweepSettingFlags are the sweepable settings' flags, taking lists: the names
// and descriptions of transfer's, no defaults (a setting neither the file nor a
// flag gives is transfer's default) and no environment variables (a
// NEURALSTYLE_* meant for transfer must not change a sweep).
func sweepSettingFlags() []cli.Flag {
	var flags []cli.Flag
	for _, name := range sweep.Params() {
		s, _ := transfer.Lookup(name)
		u := s.Usage + "; a comma-separated list sweeps it"
		switch {
		case s.Name == "style":
			u = s.Usage + "; a comma-separated list sweeps it; for points of several styles, lists separated by ';' (a.jpg,b.jpg; is one point of both)"
		case s.List:
			u = s.Usage + "; lists separated by ';' sweep it"
		}
		flags = append(flags, &cli.StringFlag{Name: name, Usage: u, Category: "Settings (override the file):"})
	}
	return flags
}

// sweepSeparator separates the values of a sweep flag: ';' between lists, ','
// between single values. --style takes both: a.jpg,b.jpg sweeps two styles, as
// it did before points could have several, and a.jpg,b.jpg;c.jpg sweeps a
// blend of two and a third alone.
func sweepSeparator(name, text string) string {
	s, _ := transfer.Lookup(name)
	if s.List && (name != "style" || strings.Contains(text, ";")) {
		return ";"
	}
	return ","
}
