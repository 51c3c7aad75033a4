package stylist

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/neuralstyle/neuralstyle/atomicfile"
	"github.com/neuralstyle/neuralstyle/internal/memory"
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// field is one setting in the job form.
type field struct {
	Name, Usage, Value, Default string
	Input                       string // text, number, select or checkbox
	Choices                     []string
	Advanced                    bool
	Error                       string
	Limit                       string // the server's limit on it, for the page
}

// formFields lists the schema's settings (the images aside) with values, the
// defaults where values has none, and errors by setting name. A default over
// the server's limits is brought within them (the first Paint of a new
// visitor must not fail), and the limits are shown beside their settings.
// The form offers only what it can take: no "init: image", as the page has no
// field for a starting image, and no "init: stylized" (Server.fields offers it
// where the server has the feed-forward networks).
func formFields(values, errs map[string]string, lim Limits) []field {
	var out []field
	for i := range settings.Schema {
		s := &settings.Schema[i]
		if s.Kind == settings.KindFile || s.VideoOnly || s.SeveralStyles {
			continue
		}
		f := field{Name: s.Name, Usage: strings.ReplaceAll(cmp.Or(s.FormUsage, s.Usage), "`", ""), Default: s.Default(),
			Advanced: s.Advanced, Choices: s.Choices, Error: errs[s.Name]}
		switch s.Name {
		case "size":
			if w, h, err := transfer.ParseSize(f.Default); err == nil && lim.MaxSide > 0 && (w > lim.MaxSide || h > lim.MaxSide) {
				f.Default = fmt.Sprintf("%dx%d", min(w, lim.MaxSide), min(h, lim.MaxSide))
			}
			f.Limit = fmt.Sprintf("at most %dx%d on this server", lim.MaxSide, lim.MaxSide)
		case "long-side":
			f.Limit = fmt.Sprintf("at most %d on this server", lim.MaxSide)
		case "iterations":
			f.Default, f.Limit = clampInt(f.Default, lim.Iterations), fmt.Sprintf("at most %d on this server, over all scales", lim.Iterations)
		case "maxfun":
			f.Default, f.Limit = clampInt(f.Default, lim.MaxFun), fmt.Sprintf("at most %d on this server", lim.MaxFun)
		case "init":
			f.Choices = slices.DeleteFunc(slices.Clone(f.Choices), func(c string) bool {
				return c == string(transfer.InitImage) || c == string(transfer.InitStylized)
			})
		}
		f.Value = f.Default
		if v, ok := values[s.Name]; ok {
			f.Value = v
		}
		switch s.Kind {
		case settings.KindChoice:
			f.Input = "select"
		case settings.KindBool:
			f.Input = "checkbox"
		case settings.KindInteger:
			f.Input = "number"
		default:
			f.Input = "text"
		}
		out = append(out, f)
	}
	return out
}

// clampInt is the whole number text at most limit (text as it is when it is
// no number, or limit is 0).
func clampInt(text string, limit int) string {
	if n, err := strconv.Atoi(text); err == nil && limit > 0 && n > limit {
		return strconv.Itoa(limit)
	}
	return text
}

// formErrors are the problems with a submitted job, by setting name ("" for
// ones that belong to no field), each a sentence for the page.
type formErrors map[string]string

func (e formErrors) add(name, msg string) {
	if old, ok := e[name]; ok {
		msg = old + "; " + msg
	}
	e[name] = msg
}

func (e formErrors) list() []string {
	var out []string
	for _, name := range append(append([]string{""}, settingNames()...), "sweep") {
		if msg, ok := e[name]; ok {
			out = append(out, msg)
		}
	}
	return out
}

func settingNames() []string {
	names := []string{"content", "style"}
	for _, s := range settings.Schema {
		if s.Kind != settings.KindFile {
			names = append(names, s.Name)
		}
	}
	return names
}

// uploadName is what the server calls an uploaded image: the SHA-256 of its
// bytes, so a client's file name never reaches the file system.
var uploadName = regexp.MustCompile(`^[0-9a-f]{64}$`)

// submission is a parsed job form: the job to queue and what the form showed.
type submission struct {
	job      *Job
	values   map[string]string
	errs     formErrors
	tooLarge bool // the request went over Limits.UploadBytes
}

// parseJob reads a job form: settings by their schema names, images as the
// file fields "content" and "style" or, for a rerun, as "content-ref" and
// "style-ref" naming earlier uploads. Every problem is collected.
func (s *Server) parseJob(w http.ResponseWriter, r *http.Request) *submission {
	sub := &submission{values: map[string]string{}, errs: formErrors{}}
	lim := s.opts.Limits
	r.Body = http.MaxBytesReader(w, &pacedBody{ReadCloser: r.Body, rc: http.NewResponseController(w), start: time.Now(), grace: s.uploadGrace}, lim.UploadBytes)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		var timeout interface{ Timeout() bool }
		switch {
		case errors.As(err, &timeout) && timeout.Timeout():
			s.opts.Logf("stylist: a job request from %s arrived too slowly: %v", r.RemoteAddr, err)
			sub.errs.add("", fmt.Sprintf("The upload arrived too slowly (under %d KiB a second); send it again.", minUploadRate>>10))
		case errors.As(err, &tooBig):
			sub.tooLarge = true
			sub.errs.add("", fmt.Sprintf("The upload is larger than the server takes (%s in all); choose smaller images.", mib(lim.UploadBytes)))
		case errors.Is(err, http.ErrNotMultipart):
			sub.errs.add("", "The form must be sent as multipart/form-data.")
		default:
			sub.errs.add("", "The form could not be read: "+err.Error())
		}
		return sub
	}
	defer r.MultipartForm.RemoveAll()

	choice := s.readChoices(r.MultipartForm, sub) // effort.go
	cfg := transfer.DefaultConfig()
	for i := range settings.Schema {
		set := &settings.Schema[i]
		if set.Kind == settings.KindFile {
			continue
		}
		vs, ok := r.MultipartForm.Value[set.Name]
		text := ""
		if ok && len(vs) > 0 {
			text = strings.TrimSpace(vs[0])
		}
		if set.Kind == settings.KindBool {
			text = strconv.FormatBool(ok && text != "")
		}
		if text == "" {
			continue
		}
		sub.values[set.Name] = text
		if err := set.Set(&cfg, text); err != nil {
			sub.errs.add(set.Name, err.Error())
		}
	}
	if _, bad := sub.errs["size"]; !bad && (cfg.Width > lim.MaxSide || cfg.Height > lim.MaxSide) {
		sub.errs.add("size", fmt.Sprintf("size %dx%d: this server paints at most %dx%d", cfg.Width, cfg.Height, lim.MaxSide, lim.MaxSide))
	}
	if _, bad := sub.errs["long-side"]; !bad && cfg.LongSide > lim.MaxSide {
		sub.errs.add("long-side", fmt.Sprintf("long side %d: this server paints at most %d", cfg.LongSide, lim.MaxSide))
	}
	if _, bad := sub.errs["iterations"]; !bad && cfg.Iterations > lim.Iterations {
		sub.errs.add("iterations", fmt.Sprintf("iterations %d: this server runs at most %d", cfg.Iterations, lim.Iterations))
	} else if n := cfg.TotalIterations(); !bad && len(sub.errs) == 0 && n > lim.Iterations {
		sub.errs.add("scale-iterations", fmt.Sprintf("%d iterations over all scales: this server runs at most %d", n, lim.Iterations))
	}
	if _, bad := sub.errs["maxfun"]; !bad && cfg.MaxFun > lim.MaxFun {
		sub.errs.add("maxfun", fmt.Sprintf("maxfun %d: this server takes at most %d", cfg.MaxFun, lim.MaxFun))
	}

	if cfg.Init == transfer.InitStylized && s.opts.FastNets == nil {
		sub.errs.add("init", "init stylized: this server does not run the feed-forward networks ("+s.opts.FastNetsMissing+"); choose noise, content or style")
	}
	s.checkChoices(choice, &cfg, r.MultipartForm, sub.errs)

	j := &Job{Settings: map[string]string{}, Effort: choice.effort}
	dec := s.decodeOptions(&cfg.Settings)
	for _, role := range []string{"content", "style"} {
		if role == "style" && choice.gallery() {
			// A style of the gallery has no painting: the content
			// stands in, so that Validate checks the other settings.
			if cfg.Style = []string{cfg.Content}; choice.net != "" {
				j.Settings[netField] = choice.net
			} else {
				j.Settings[galleryField] = strconv.Itoa(choice.style)
			}
			continue
		}
		name, err := s.readImage(r.Context(), r.MultipartForm, role, dec)
		if err != nil {
			sub.errs.add(role, err.Error())
			continue
		}
		sub.values[role+"-ref"] = name
		if role == "content" {
			j.Content, cfg.Content = name, s.uploadPath(name)
		} else {
			j.Style, cfg.Style = name, []string{s.uploadPath(name)}
		}
	}
	// Each problem beside its field, under the field's label (its setting's
	// name); one field shows the first problem it had.
	for _, p := range settings.Problems(settings.Validate(&cfg)) {
		if _, done := sub.errs[p.Setting]; !done {
			sub.errs.add(p.Setting, p.Err.Error())
		}
	}
	if p := r.MultipartForm.Value["parent"]; len(p) > 0 {
		j.Parent, _ = strconv.ParseInt(p[0], 10, 64)
	}
	param, values := formValue(r.MultipartForm, "sweep-param"), formValue(r.MultipartForm, "sweep-values")
	sub.values["sweep-param"], sub.values["sweep-values"] = param, values
	axis, err := parseSweepAxis(param, values, lim.SweepPoints)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			sub.errs.add("sweep", line)
		}
	}
	if len(sub.errs) > 0 {
		return sub
	}
	for _, f := range settings.Record(&cfg) {
		if set, _ := settings.Lookup(f.Name); set.Kind != settings.KindFile {
			j.Settings[f.Name] = f.Value
		}
	}
	if axis != nil {
		j.Sweep = axis
		if err := s.checkSweep(j); err != nil {
			sub.errs.add("sweep", err.Error())
			return sub
		}
	}
	s.wantPreview(j) // effort.go
	sub.job = j
	return sub
}

// formValue is a form field's first value, trimmed ("" for none).
func formValue(form *multipart.Form, name string) string {
	if v := form.Value[name]; len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// readImage stores the image of a form's role (an upload, or a reference to
// an earlier one) after decoding it, and returns its server-made name.
func (s *Server) readImage(ctx context.Context, form *multipart.Form, role string, dec *imagefile.DecodeOptions) (string, error) {
	var data []byte
	label := ""
	fhs := form.File[role]
	if v := form.Value[role+"-bundled"]; len(fhs) > 0 && fhs[0].Size > 0 && len(v) > 0 && v[0] != "" {
		// Which one did the visitor mean? Say so rather than pick one.
		return "", fmt.Errorf("%s: both an upload (%s) and a bundled image (%s) were chosen; choose one, and set the other to none",
			role, strconv.Quote(fhs[0].Filename), strconv.Quote(v[0]))
	}
	if len(fhs) > 0 && fhs[0].Size == 0 && fhs[0].Filename != "" {
		// A browser sends an empty part without a name when no file was
		// chosen; a named one is a file of 0 bytes.
		return "", fmt.Errorf("%s image: %s is empty (0 bytes); choose the file again, or another one", role, strconv.Quote(fhs[0].Filename))
	}
	if len(fhs) > 0 && fhs[0].Size > 0 {
		f, err := fhs[0].Open()
		if err != nil {
			return "", fmt.Errorf("%s image: %v", role, err)
		}
		data, err = io.ReadAll(f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("%s image: %v", role, err)
		}
		// The client's file name is only a label in messages, quoted.
		label = strconv.Quote(fhs[0].Filename)
	} else if v := form.Value[role+"-bundled"]; len(v) > 0 && v[0] != "" {
		// Only a name the server listed: never a path the client made.
		if !slices.Contains(s.bundled, v[0]) {
			return "", fmt.Errorf("%s: no such bundled image", role)
		}
		var err error
		if data, err = os.ReadFile(filepath.Join(s.opts.Images, v[0])); err != nil {
			s.opts.Logf("stylist: bundled image: %v", err)
			return "", fmt.Errorf("%s: the bundled image could not be read", role)
		}
		label = strconv.Quote(v[0])
	}
	if data != nil {
		// Decoding takes memory in proportion to the pixels: uploads are
		// decoded within the server's budget, waiting their turn. This
		// decode only checks the file (the job decodes the stored file
		// again, see execute), so a JPEG is shrunk while decoding to the
		// largest size the server paints: a 7000x7000 photo with
		// --max-side 512 is decoded at 875x875, never at full size.
		check := *dec
		check.ShrinkTo = s.opts.Limits.MaxSide
		cost := decodeCost(data, &check)
		if err := s.decodes.acquire(ctx, cost); err != nil {
			return "", fmt.Errorf("%s image: the request ended while it waited to be decoded", role)
		}
		_, err := imagefile.Decode(bytes.NewReader(data), label, &check)
		s.decodes.release(cost)
		if err != nil {
			return "", fmt.Errorf("%s image: %s", role, strings.TrimPrefix(err.Error(), "imagefile: "))
		}
		sum := sha256.Sum256(data)
		name := hex.EncodeToString(sum[:])
		path := s.uploadPath(name)
		if _, err := os.Stat(path); err == nil {
			return name, nil
		}
		if err := atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
			s.opts.Logf("stylist: store upload: %v", err)
			if noSpace(err) {
				s.noteFull(err)
				return "", fmt.Errorf("%s image: the server's data folder is full, so it could not store the image; try again when its owner has freed space", role)
			}
			return "", fmt.Errorf("%s image: the server could not store it", role)
		}
		return name, nil
	}
	ref := ""
	if v := form.Value[role+"-ref"]; len(v) > 0 {
		ref = v[0]
	}
	if ref == "" {
		return "", fmt.Errorf("%s: choose a %s image", role, role)
	}
	if !uploadName.MatchString(ref) {
		return "", fmt.Errorf("%s: no such earlier image", role)
	}
	if _, err := os.Stat(s.uploadPath(ref)); err != nil {
		return "", fmt.Errorf("%s: no such earlier image", role)
	}
	return ref, nil
}

func mib(n int64) string { return memory.Format(uint64(n)) }
