package stylist

import (
	"fmt"
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"mime/multipart"
	"slices"
	"strconv"
	"strings"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

// Effort is how long a person chooses to spend on a picture, the form's first
// question after the photo and the painting.
type Effort string

const (
	// EffortInstant is the feed-forward network's picture alone, in about a
	// second (make fastnets); the person may keep it or refine it.
	EffortInstant Effort = "instant"
	// EffortQuick is a short optimisation: the form's settings with
	// transfer's quick preset over them (effortSettings).
	EffortQuick Effort = "quick"
	// EffortNotebook is the optimisation with the form's settings, whose
	// defaults are the notebook's.
	EffortNotebook Effort = "notebook"
)

// efforts are the form's choices, in the order it shows them.
var efforts = []Effort{EffortInstant, EffortQuick, EffortNotebook}

// Lanes: each has its own worker, so that an instant picture never waits
// behind an optimisation, nor a quick optimisation behind the notebook's.
// Sweeps and jobs sent without an effort run in the long lane.
const (
	laneInstant = "instant"
	laneQuick   = "quick"
	laneLong    = "long"
)

var lanes = []string{laneInstant, laneQuick, laneLong}

func (e Effort) lane() string {
	switch e {
	case EffortInstant:
		return laneInstant
	case EffortQuick:
		return laneQuick
	}
	return laneLong
}

// label is the effort as the page names it.
func (e Effort) label() string {
	switch e {
	case EffortInstant:
		return "instant"
	case EffortQuick:
		return "quick"
	case EffortNotebook:
		return "the notebook's"
	}
	return "as set"
}

// effortSettings are the settings an effort sets over the form's, by schema
// name: none for instant (it runs no optimisation) and the notebook's (the
// form's defaults are the notebook's); quick's are transfer's --preset quick
// (internal/settings/presets.go, chosen by time to quality). A quick
// optimisation starts from the instant picture (init stylized) where the server
// can paint it (stylized): the person has just seen that picture, and refines
// it; where it cannot, quick runs the preset's fallback.
func effortSettings(e Effort, stylized bool) map[string]string {
	if e != EffortQuick {
		return nil
	}
	p, err := settings.LookupPreset("quick")
	if err != nil {
		panic(err) // Presets lists quick: a test of this package fails first
	}
	m := map[string]string{}
	for _, v := range p.Values {
		m[v.Name] = v.Value
	}
	if stylized {
		m["init"] = string(transfer.InitStylized)
	} else if p.Stylized() { // the server cannot paint the preset's start: its fallback
		q, _ := p.WithFallback(nil)
		for _, v := range q.Values {
			m[v.Name] = v.Value
		}
	}
	return m
}

// parseEffort reads the form's effort; "" (a form without the question, as
// scripts send) is the settings as given, in the long lane.
func parseEffort(text string) (Effort, error) {
	if text == "" {
		return "", nil
	}
	if e := Effort(text); slices.Contains(efforts, e) {
		return e, nil
	}
	return "", fmt.Errorf("how long: %q is not a choice; choose instant, quick or the notebook's", text)
}

// galleryField is the form's field, and the job's setting, of a style of the
// gallery: a number from 0 to 25 (the 26-style network's --styles).
const galleryField = "styles"

// choices are the form's first questions besides the images: how long to
// spend, and a style of the gallery (-1: a painting image instead) or a
// trained network of the gallery (net).
type choices struct {
	effort Effort
	style  int
	net    string
}

// gallery says whether the painting is one of the gallery's: a style or a
// trained network.
func (c choices) gallery() bool { return c.style >= 0 || c.net != "" }

// readChoices reads the effort and the gallery's style, and sets the
// settings the effort implies over the form's (effortSettings, within the
// server's limits) so that the form's settings are parsed with them.
func (s *Server) readChoices(form *multipart.Form, sub *submission) choices {
	c := choices{style: -1}
	var err error
	if c.effort, err = parseEffort(formValue(form, "effort")); err != nil {
		sub.errs.add("", err.Error())
	}
	sub.values["effort"] = string(c.effort)
	if text := formValue(form, galleryField); strings.HasPrefix(text, netPrefix) {
		sub.values[galleryField] = text
		name := strings.TrimPrefix(text, netPrefix)
		if !slices.Contains(s.netNames(), name) {
			sub.errs.add("style", fmt.Sprintf("trained network %q: this server has none of that name", name))
		} else {
			c.net = name
		}
	} else if text != "" {
		sub.values[galleryField] = text
		st, err := strconv.Atoi(text)
		if err != nil || st < 0 || st >= fastnet.NumStyles {
			sub.errs.add("style", fmt.Sprintf("style of the gallery %q: want a number from 0 to %d", text, fastnet.NumStyles-1))
		} else {
			c.style = st
		}
	}
	// A sweep's points do not start from the instant picture.
	stylized := s.opts.FastNets != nil && formValue(form, "sweep-param") == ""
	lim := s.opts.Limits
	for name, v := range effortSettings(c.effort, stylized) {
		switch name {
		case "iterations":
			v = clampInt(v, lim.Iterations)
		case "maxfun":
			v = clampInt(v, lim.MaxFun)
		}
		form.Value[name] = []string{v}
	}
	return c
}

// checkChoices reports what the server cannot paint of the choices: the
// instant picture, a style of the gallery or init stylized without the
// feed-forward networks; a gallery style with an optimisation, which needs
// the painting itself; a gallery style besides a painting.
func (s *Server) checkChoices(c choices, cfg *transfer.Config, form *multipart.Form, errs formErrors) {
	none := s.opts.FastNets == nil
	if none && (c.effort == EffortInstant || c.gallery()) {
		errs.add("", "this server has no feed-forward networks, so it paints no instant picture and has no gallery of styles ("+
			s.opts.FastNetsMissing+"); choose quick or the notebook's, with a painting")
	}
	if c.gallery() && c.effort != EffortInstant {
		errs.add("style", "a style of the gallery is painted instantly only: the optimisation needs the painting itself; choose instant, or upload a painting")
	}
	// An earlier painting (style-ref, the rerun form's) yields to a style
	// chosen in the gallery; an upload or a bundled painting does not.
	if c.gallery() && (formFile(form, "style") || formValue(form, "style-bundled") != "") {
		errs.add("style", "both a style of the gallery and a painting were chosen; choose one")
	}
	if c.effort == EffortInstant && formValue(form, "sweep-param") != "" {
		errs.add("sweep", "a sweep paints each picture by optimisation; choose quick or the notebook's")
	}
	if !none && cfg.Init == transfer.InitStylized && formValue(form, "sweep-param") != "" {
		errs.add("sweep", "a sweep does not start from the instant picture; choose noise, content or style as the starting image")
	}
}

// formFile reports whether the form carries a file for a field.
func formFile(form *multipart.Form, name string) bool {
	fhs := form.File[name]
	return len(fhs) > 0 && fhs[0].Size > 0
}

// wantPreview asks for the instant picture of an optimisation that a person
// chose on the page (an effort given), where the server has the networks:
// its page shows it within about a second, until the first iteration.
func (s *Server) wantPreview(j *Job) {
	if s.opts.FastNets != nil && j.Sweep == nil && (j.Effort == EffortQuick || j.Effort == EffortNotebook) {
		j.Preview = PreviewWanted
	}
}

// fields are the form's settings (formFields), offering init stylized where
// the server has the networks to paint that start.
func (s *Server) fields(values, errs map[string]string) []field {
	fs := formFields(values, errs, s.opts.Limits)
	if s.opts.FastNets == nil {
		return fs
	}
	for i := range fs {
		if fs[i].Name == "init" {
			fs[i].Choices = append(slices.Clone(fs[i].Choices), string(transfer.InitStylized))
			fs[i].Usage = "starting image: noise, content, style or stylized (the instant picture: the feed-forward network's painting of the photo in the painting's manner)"
		}
	}
	return fs
}
