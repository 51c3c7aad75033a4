package stylist

import (
	"cmp"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/neuralstyle/neuralstyle/internal/fastnet"
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"github.com/neuralstyle/neuralstyle/internal/sweep"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

type handlers struct {
	s     *Server
	pages *template.Template
	mux   *http.ServeMux
}

func newHandlers(s *Server) (*handlers, error) {
	funcs := template.FuncMap{
		"ago": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Format("2006-01-02 15:04")
		},
		"list": func(v ...string) []string { return v },
		"inc":  func(i int) int { return i + 1 },
		"mib":  mib,
		// width is a size's display width: its W, at most 512.
		"width": func(size string) int {
			w, _, err := transfer.ParseSize(size)
			if err != nil || w > 512 {
				return 512
			}
			return max(w, 256)
		},
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
	}
	pages, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("stylist: templates: %w", err)
	}
	h := &handlers{s: s, pages: pages, mux: http.NewServeMux()}
	static, _ := fs.Sub(staticFS, "static")
	h.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	h.mux.HandleFunc("GET /{$}", h.index)
	h.mux.HandleFunc("POST /jobs", h.create)
	h.mux.HandleFunc("GET /jobs/{id}", h.job)
	h.mux.HandleFunc("GET /jobs/{id}/events", h.events)
	h.mux.HandleFunc("POST /jobs/{id}/cancel", h.cancel)
	h.mux.HandleFunc("POST /jobs/{id}/resume", h.resume)
	h.mux.HandleFunc("GET /jobs/{id}/{file}", h.file)
	h.mux.HandleFunc("GET /jobs/{id}/points/{name}", h.point)
	h.mux.HandleFunc("GET /uploads/{name}", h.upload)
	h.mux.HandleFunc("POST /jobs/{id}/refine", h.refine)
	h.mux.HandleFunc("GET /styles/{file}", h.styleThumb)
	h.mux.HandleFunc("GET /nets/{file}", h.netThumb)
	return h, nil
}

// ServeHTTP serves the app: the token check when there is a token, then
// cross-site request protection for every state-changing request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	if s.opts.Token != "" {
		if !s.authorized(w, r) {
			return
		}
	} else if !s.hostAllowed(r.Host) {
		http.Error(w, fmt.Sprintf("This server answers only to the names it listens as (%s), not %q: open it at one of those. "+
			"(A page of another site whose name leads here is refused; give the server a --token to serve other names.)",
			strings.Join(s.hostNames(), ", "), r.Host), http.StatusMisdirectedRequest)
		return
	}
	if r.ContentLength != 0 && (r.Method != http.MethodPost || r.URL.Path != "/jobs") {
		// Only the job form reads a body, at a pace (pacedBody); another
		// request's must arrive in the grace period, or the server would wait
		// on it after the handler.
		http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.uploadGrace))
	}
	crossOrigin.Handler(s.handler.mux).ServeHTTP(w, r)
}

// crossOrigin refuses state-changing requests that a browser marks as coming
// from another site (Sec-Fetch-Site, or an Origin that is not this host).
var crossOrigin = func() *http.CrossOriginProtection {
	p := http.NewCrossOriginProtection()
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "This request came from another site and was refused.", http.StatusForbidden)
	}))
	return p
}()

// hostNames are the names hostAllowed accepts, for messages.
func (s *Server) hostNames() []string {
	names := []string{"127.0.0.1", "localhost", "[::1]"}
	for _, h := range s.opts.Hosts {
		if ip := net.ParseIP(h); ip != nil && ip.To4() == nil {
			h = "[" + h + "]"
		}
		if !slices.Contains(names, h) {
			names = append(names, h)
		}
	}
	return names
}

// hostAllowed reports whether a request's Host (with or without its port)
// names this server: a loopback address, localhost, or one of Options.Hosts.
func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	if ip != nil && ip.IsLoopback() {
		return true
	}
	for _, h := range s.opts.Hosts {
		if strings.EqualFold(h, host) {
			return true
		}
		if a := net.ParseIP(h); a != nil && a.IsUnspecified() && ip != nil {
			return true
		}
	}
	return false
}

const tokenCookie = "stylist_token"

// authorized checks the token: as ?token= (which sets the cookie and
// redirects to the address without it), the cookie, or a Bearer header.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	want := []byte(s.opts.Token)
	same := func(got string) bool { return subtle.ConstantTimeCompare([]byte(got), want) == 1 }
	if t := r.URL.Query().Get("token"); t != "" && same(t) {
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: t, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		q := r.URL.Query()
		q.Del("token")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return false
	}
	if c, err := r.Cookie(tokenCookie); err == nil && same(c.Value) {
		return true
	}
	if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && same(b) {
		return true
	}
	http.Error(w, "This server needs its token: open the address it printed, which ends in ?token=...", http.StatusUnauthorized)
	return false
}

type indexPage struct {
	Title   string
	Limits  Limits
	Errors  []string
	Fields  []field
	Refs    map[string]string // earlier uploads the form reuses
	Bundled []string
	Parent  int64
	Sweep   sweepForm
	Choices choicesForm
	Running []*Job
	Queued  []*Job
	Waiting []waitingJob // Queued, with their places in their lanes
	Gallery []*Job
}

// waitingJob is a queued job with its place in its lane's queue, 1 next.
type waitingJob struct {
	Job      *Job
	Position int
	Lane     string
}

func (h *handlers) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := h.pages.ExecuteTemplate(w, name, data); err != nil {
		h.s.opts.Logf("stylist: render %s: %v", name, err)
	}
}

func (h *handlers) fail(w http.ResponseWriter, err error) {
	h.s.opts.Logf("stylist: %v", err)
	http.Error(w, "The server could not do this; its log says why.", http.StatusInternalServerError)
}

func (h *handlers) indexData(values map[string]string, errs formErrors) (*indexPage, error) {
	p := &indexPage{Title: "Stylist", Limits: h.s.opts.Limits, Fields: h.s.fields(values, errs), Errors: errs.list(), Bundled: h.s.bundled,
		Refs: map[string]string{"content": values["content-ref"], "style": values["style-ref"]}, Sweep: newSweepForm(values, errs),
		Choices: h.s.newChoicesForm(values, "")}
	var err error
	if p.Running, err = h.s.store.list(false, 10, Running); err != nil {
		return nil, err
	}
	if p.Queued, err = h.s.store.list(false, 1000, Queued); err != nil {
		return nil, err
	}
	places := map[string]int{}
	for _, j := range p.Queued {
		l := j.Effort.lane()
		places[l]++
		p.Waiting = append(p.Waiting, waitingJob{j, places[l], l})
	}
	if p.Gallery, err = h.s.store.list(true, 60, Done, Canceled, Interrupted, Failed); err != nil {
		return nil, err
	}
	// A job whose ending the database could not record yet (a full disk)
	// is shown as it ended, as its own page shows it: in the gallery, not
	// as running.
	running := p.Running[:0]
	for _, j := range p.Running {
		if j = h.s.overlay(j); j.State.Finished() {
			p.Gallery = append(p.Gallery, j)
		} else {
			running = append(running, j)
		}
	}
	p.Running = running
	slices.SortFunc(p.Gallery, func(a, b *Job) int { return cmp.Compare(b.ID, a.ID) })
	return p, nil
}

func (h *handlers) index(w http.ResponseWriter, r *http.Request) {
	p, err := h.indexData(map[string]string{}, formErrors{})
	if err != nil {
		h.fail(w, err)
		return
	}
	h.render(w, http.StatusOK, "index.html", p)
}

func (h *handlers) create(w http.ResponseWriter, r *http.Request) {
	sub := h.s.parseJob(w, r)
	if sub.job != nil {
		if n, err := h.s.store.position(1 << 62); err != nil {
			h.fail(w, err)
			return
		} else if n >= h.s.opts.Limits.Queued {
			sub.errs.add("", fmt.Sprintf("%d jobs are waiting already; try again when some have run.", n))
			sub.job = nil
		}
	}
	if sub.job == nil {
		p, err := h.indexData(sub.values, sub.errs)
		if err != nil {
			h.fail(w, err)
			return
		}
		if r.MultipartForm != nil {
			if v := r.MultipartForm.Value["parent"]; len(v) > 0 {
				p.Parent, _ = strconv.ParseInt(v[0], 10, 64)
			}
		}
		status := http.StatusBadRequest
		if sub.tooLarge {
			status = http.StatusRequestEntityTooLarge
		}
		h.render(w, status, "index.html", p)
		return
	}
	if err := h.s.store.add(sub.job); err != nil {
		if !noSpace(err) {
			h.fail(w, err)
			return
		}
		h.s.noteFull(err)
		h.s.opts.Logf("stylist: %v", err)
		sub.errs.add("", "The server's data folder is full, so the job was not queued; try again when its owner has freed space.")
		p, perr := h.indexData(sub.values, sub.errs)
		if perr != nil {
			h.fail(w, perr)
			return
		}
		h.render(w, http.StatusInsufficientStorage, "index.html", p)
		return
	}
	h.s.opts.Logf("stylist: job %d queued", sub.job.ID)
	h.s.enqueued()
	http.Redirect(w, r, fmt.Sprintf("/jobs/%d", sub.job.ID), http.StatusSeeOther)
}

func (h *handlers) lookup(w http.ResponseWriter, r *http.Request) (*Job, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		http.Error(w, "No such job.", http.StatusNotFound)
		return nil, false
	}
	j, err := h.s.store.get(id)
	if err == nil {
		j = h.s.overlay(j)
	}
	if errors.Is(err, errNoJob) {
		http.Error(w, "No such job.", http.StatusNotFound)
		return nil, false
	}
	if err != nil {
		h.fail(w, err)
		return nil, false
	}
	return j, true
}

type jobPage struct {
	Title   string
	Limits  Limits
	Job     *Job
	Status  status
	Fields  []field
	Refs    map[string]string
	Bundled []string
	Parent  int64
	Errors  []string
	Sweep   sweepForm
	Choices choicesForm
	// Settings in schema order, for the table: those set otherwise than
	// their defaults, then the others (folded).
	Settings, Defaults [][2]string
	// Resumable says the job stopped before its end and can go on from
	// where it got to (Server.resumable).
	Resumable bool
	// Points of a sweep, in order.
	Points []pointRow
	// GalleryStyle is the style of the gallery an instant job paints in
	// (-1: its painting); CanRefine says its page offers the refinement.
	GalleryStyle int
	CanRefine    bool
	// Net is the trained network an instant job paints with ("": none),
	// NoRefine why its picture cannot be refined.
	Net, NoRefine string
}

func (h *handlers) job(w http.ResponseWriter, r *http.Request) {
	j, ok := h.lookup(w, r)
	if !ok {
		return
	}
	st, err := h.s.status(j)
	if err != nil {
		h.fail(w, err)
		return
	}
	p := &jobPage{Title: fmt.Sprintf("Job %d", j.ID), Limits: h.s.opts.Limits, Job: j, Status: st,
		Fields: h.s.fields(j.Settings, nil), Refs: map[string]string{"content": j.Content, "style": j.Style}, Parent: j.ID, Bundled: h.s.bundled,
		Sweep: newSweepForm(nil, nil), Choices: h.s.newChoicesForm(choiceValues(j), j.Effort)}
	for _, n := range settingNames()[2:] {
		if j.Sweep != nil && n == j.Sweep.Param {
			continue // the points' table shows it
		}
		set, err := settings.Lookup(n)
		if err == nil && j.Settings[n] == set.Default() {
			p.Defaults = append(p.Defaults, [2]string{n, j.Settings[n]})
		} else {
			p.Settings = append(p.Settings, [2]string{n, j.Settings[n]})
		}
	}
	p.Resumable = h.s.resumable(j) == nil
	p.GalleryStyle = galleryStyle(j)
	// Shown when the picture is done (by the page's script, if it is not yet).
	p.CanRefine = j.Effort == EffortInstant && j.Style != "" && h.s.opts.FastNets != nil
	if net, named := h.s.netOf(j); named && j.Style == "" {
		p.Net = j.Settings[netField]
		switch {
		case net == nil:
			p.NoRefine = errNetGone(p.Net).Error()
		case net.Painting == "":
			p.NoRefine = net.NoRefine
		default:
			p.CanRefine = j.Effort == EffortInstant && h.s.opts.FastNets != nil
		}
	}
	if j.Sweep != nil {
		p.Title = fmt.Sprintf("Sweep %d", j.ID)
		p.Sweep.Param, p.Sweep.Values = j.Sweep.Param, strings.Join(j.Sweep.Values, " ")
		if p.Points, err = h.s.sweepRows(j); err != nil {
			h.s.opts.Logf("stylist: job %d: %v", j.ID, err)
		}
	}
	h.render(w, http.StatusOK, "job.html", p)
}

// choiceValues are a job's settings as its page's form starts from them: a
// refinement of a trained network's picture has the painting as its style
// image, which the form offers, so not the network too.
func choiceValues(j *Job) map[string]string {
	if j.Style == "" || j.Settings[netField] == "" {
		return j.Settings
	}
	v := maps.Clone(j.Settings)
	delete(v, netField)
	return v
}

// status is what the page shows of a job, sent as each server-sent event.
type status struct {
	ID         int64     `json:"id"`
	State      State     `json:"state"`
	Position   int       `json:"position,omitempty"` // in the queue, 1 next
	Iteration  int       `json:"iteration"`          // completed iterations
	Iterations int       `json:"iterations"`
	Evaluation int       `json:"evaluation"` // evaluations in the iteration under way
	Loss       float64   `json:"loss,omitempty"`
	Losses     []float64 `json:"losses"`
	ElapsedS   float64   `json:"elapsed_s"`
	ETAS       float64   `json:"eta_s"`
	Image      string    `json:"image,omitempty"` // the latest image, "" before the first iteration
	GIF        string    `json:"gif,omitempty"`
	Message    string    `json:"message,omitempty"`
	// Sweep says the job is a sweep: Iteration and Iterations count its
	// pictures, Losses are their final losses, Image is its contact sheet.
	Sweep bool `json:"sweep,omitempty"`
	// Preview is the instant picture of an optimisation, shown until its
	// first iteration; Instant says the job is the instant picture alone.
	Preview string `json:"preview,omitempty"`
	Instant bool   `json:"instant,omitempty"`
}

func (s *Server) status(j *Job) (status, error) {
	j = s.overlay(j)
	st := status{ID: j.ID, State: j.State, Iteration: j.Iteration, Losses: j.Losses, Message: j.Error}
	if st.Losses == nil {
		st.Losses = []float64{}
	}
	if j.Effort == EffortInstant {
		st.Instant, st.Iterations = true, 1
		if j.State == Done {
			st.Iteration = 1
		}
	} else {
		st.Iterations = s.iterations(j)
	}
	if j.State == Queued {
		var err error
		if st.Position, err = s.store.lanePosition(j); err != nil {
			return st, err
		}
	}
	if j.Preview == PreviewDone {
		st.Preview = fmt.Sprintf("/jobs/%d/%s", j.ID, previewFile)
	}
	if l, ok := s.hub.get(j.ID); ok && j.State == Running {
		st.Evaluation, st.Loss = l.Evaluation, l.Loss
		st.ElapsedS, st.ETAS = l.Elapsed.Seconds(), l.ETA.Seconds()
	} else if len(j.Losses) > 0 {
		st.Loss = j.Losses[len(j.Losses)-1]
	}
	if !j.Started.IsZero() && j.State != Running {
		st.ElapsedS = j.Finished.Sub(j.Started).Seconds()
	}
	image, gif := "result.png", "anim.gif"
	if j.Sweep != nil {
		st.Sweep, st.Iterations = true, len(j.Sweep.Values)
		image, gif = "sheet.png", "sweep.gif"
	}
	if j.HasResult || j.Iteration > 0 {
		st.Image = fmt.Sprintf("/jobs/%d/%s?v=%d-%s", j.ID, image, j.Iteration, j.State)
	}
	if j.State.Finished() && j.Iteration > 0 {
		st.GIF = fmt.Sprintf("/jobs/%d/%s", j.ID, gif)
	}
	return st, nil
}

// events streams the job's status as server-sent events until it finishes.
func (h *handlers) events(w http.ResponseWriter, r *http.Request) {
	j, ok := h.lookup(w, r)
	if !ok {
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	var last []byte
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		changed := h.s.hub.wait()
		j, err := h.s.store.get(j.ID)
		if err != nil {
			h.s.opts.Logf("stylist: events: %v", err)
			return
		}
		st, err := h.s.status(j)
		if err != nil {
			h.s.opts.Logf("stylist: events: %v", err)
			return
		}
		b, _ := json.Marshal(st)
		if string(b) != string(last) {
			if _, err := fmt.Fprintf(w, "event: status\ndata: %s\n\n", b); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			last = b
		}
		if j.State.Finished() {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-changed:
			// At most ten events a second: the page cannot show more.
			time.Sleep(100 * time.Millisecond)
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			rc.Flush()
		}
	}
}

func (h *handlers) cancel(w http.ResponseWriter, r *http.Request) {
	j, ok := h.lookup(w, r)
	if !ok {
		return
	}
	if _, err := h.s.cancel(j.ID); err != nil {
		h.fail(w, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/jobs/%d", j.ID), http.StatusSeeOther)
}

// resume queues again a job that was cancelled or interrupted, to go on from
// where it got to.
func (h *handlers) resume(w http.ResponseWriter, r *http.Request) {
	j, ok := h.lookup(w, r)
	if !ok {
		return
	}
	if err := h.s.resumable(j); err != nil {
		http.Error(w, fmt.Sprintf("Job %d cannot be resumed: %v.", j.ID, err), http.StatusConflict)
		return
	}
	if n, err := h.s.store.position(1 << 62); err != nil {
		h.fail(w, err)
		return
	} else if n >= h.s.opts.Limits.Queued {
		http.Error(w, fmt.Sprintf("%d jobs are waiting already; try again when some have run.", n), http.StatusServiceUnavailable)
		return
	}
	// Not a server restart: Resumes keeps counting those alone.
	if err := h.s.store.requeue(j.ID, j.Resumes); err != nil {
		h.fail(w, err)
		return
	}
	h.s.opts.Logf("stylist: job %d queued to resume after %d", j.ID, j.Iteration)
	h.s.enqueued()
	http.Redirect(w, r, fmt.Sprintf("/jobs/%d", j.ID), http.StatusSeeOther)
}

// file serves a job's result image or GIF; ?download=1 saves it.
func (h *handlers) file(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	ctype := map[string]string{"result.png": "image/png", previewFile: "image/png", "anim.gif": "image/gif",
		sweep.SheetFile: "image/png", sweep.GIFFile: "image/gif", sweep.SummaryFile: "text/csv; charset=utf-8"}[name]
	if ctype == "" {
		http.Error(w, "No such file.", http.StatusNotFound)
		return
	}
	j, ok := h.lookup(w, r)
	if !ok {
		return
	}
	h.serveJobFile(w, r, j.ID, filepath.Join(h.s.jobDir(j.ID), name), name, ctype, "This job has no such file yet.")
}

// serveJobFile serves a file of job id as ctype, saved as name with
// ?download=1; missing is the page's words when the file is not there (yet).
func (h *handlers) serveJobFile(w http.ResponseWriter, r *http.Request, id int64, path, name, ctype, missing string) {
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, missing, http.StatusNotFound)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		h.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	if r.URL.Query().Get("download") != "" {
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="stylist-%d-%s"`, id, name))
	}
	http.ServeContent(w, r, name, st.ModTime(), f)
}

// pointName is a sweep point's image: its key, as package sweep makes it.
var pointName = regexp.MustCompile(`^[0-9a-f]{16}\.png$`)

// point serves the image of a sweep's point.
func (h *handlers) point(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !pointName.MatchString(name) {
		http.Error(w, "No such picture.", http.StatusNotFound)
		return
	}
	j, ok := h.lookup(w, r)
	if !ok {
		return
	}
	h.serveJobFile(w, r, j.ID, sweep.PointImage(h.s.jobDir(j.ID), strings.TrimSuffix(name, ".png")), name, "image/png",
		"This sweep has no such picture yet.")
}

// upload serves an uploaded image by its server-made name, as the image type
// its bytes show (decoding accepted them), never as anything a browser runs.
func (h *handlers) upload(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !uploadName.MatchString(name) {
		http.Error(w, "No such image.", http.StatusNotFound)
		return
	}
	f, err := os.Open(h.s.uploadPath(name))
	if err != nil {
		http.Error(w, "No such image.", http.StatusNotFound)
		return
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := f.Read(head)
	ctype := http.DetectContentType(head[:n])
	if !strings.HasPrefix(ctype, "image/") {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	st, err := f.Stat()
	if err != nil {
		h.fail(w, err)
		return
	}
	http.ServeContent(w, r, "", st.ModTime(), f)
}

// choicesForm is what the form asks first, besides the photo: the painting
// (a style of the gallery, or an image) and how long to spend.
type choicesForm struct {
	FastNets bool     // the server has the feed-forward networks
	Missing  string   // why not, and how to get them
	Styles   []int    // the gallery's styles, 0 to 25
	Style    int      // the style chosen, -1 for none
	Nets     []string // the gallery's trained networks (serve --nets)
	Net      string   // the one chosen, "" for none
	Efforts  []effortChoice
}

type effortChoice struct {
	Value, Label, Help string
	Checked, Disabled  bool
}

// newChoicesForm fills the form's first questions from what was sent (or a
// job's settings): the effort chosen, or else quick, transfer's quick preset
// (issue 24: the page defaults to it; the notebook's is one choice away).
// Where the server has the networks, quick shows the instant picture first
// and starts from it.
func (s *Server) newChoicesForm(values map[string]string, effort Effort) choicesForm {
	c := choicesForm{FastNets: s.opts.FastNets != nil, Missing: s.opts.FastNetsMissing, Style: -1}
	if c.FastNets {
		for i := range fastnet.NumStyles {
			c.Styles = append(c.Styles, i)
		}
		c.Nets = s.netNames()
	}
	if n, err := strconv.Atoi(values[galleryField]); err == nil {
		c.Style = n
	}
	if name, ok := strings.CutPrefix(values[galleryField], netPrefix); ok {
		c.Net = name
	} else if name := values[netField]; name != "" {
		c.Net = name // a job's settings
	}
	if effort == "" {
		effort = Effort(values["effort"])
	}
	if !slices.Contains(efforts, effort) || (effort == EffortInstant && !c.FastNets) {
		effort = EffortQuick
	}
	quick := effortSettings(EffortQuick, c.FastNets)
	for _, e := range efforts {
		ec := effortChoice{Value: string(e), Label: e.label(), Checked: e == effort}
		switch e {
		case EffortInstant:
			ec.Help = "the feed-forward network's picture, in about a second; then keep it, or refine it"
			if !c.FastNets {
				ec.Disabled, ec.Help = true, "needs the feed-forward networks, which this server has not loaded"
			}
		case EffortQuick:
			ec.Help = fmt.Sprintf("an optimisation at %s of the size first, then %s iterations of %s evaluations at the size "+
				"(the notebook runs 10 of %d), one L-BFGS-B run per size, in bf16 where the CPU has it",
				strings.ReplaceAll(quick["scales"], ",", " and "), quick["iterations"], quick["maxfun"], transfer.Defaults().MaxFun)
			if c.FastNets {
				ec.Help += ", starting from the instant picture, which shows first: the notebook's loss in less of its time"
			} else {
				ec.Help += ", from noise (quick starts from the instant picture where the server has the feed-forward networks): the notebook's loss in less of its time"
			}
		case EffortNotebook:
			ec.Help = "the optimisation with the settings under Advanced, the notebook's unless changed there: the longest"
			if c.FastNets {
				ec.Help += "; the instant picture shows while it waits"
			}
		}
		c.Efforts = append(c.Efforts, ec)
	}
	return c
}

// refine queues an optimisation that starts from an instant job's picture
// (init stylized paints that picture again as its start), with the effort
// the person chose, as a new job whose page streams it.
func (h *handlers) refine(w http.ResponseWriter, r *http.Request) {
	j, ok := h.lookup(w, r)
	if !ok {
		return
	}
	effort, err := parseEffort(r.FormValue("effort"))
	switch {
	case err != nil || effort == "" || effort == EffortInstant:
		http.Error(w, "Refine how: choose quick or the notebook's.", http.StatusBadRequest)
		return
	case j.Effort != EffortInstant || j.State != Done:
		http.Error(w, fmt.Sprintf("Job %d cannot be refined: only a finished instant picture is.", j.ID), http.StatusConflict)
		return
	}
	style := j.Style
	if net, named := h.s.netOf(j); named && style == "" {
		// A trained network's picture refines towards the painting it learned.
		if net == nil {
			err = errNetGone(j.Settings[netField])
		} else {
			style, err = h.s.storePainting(net)
		}
		if err != nil {
			http.Error(w, fmt.Sprintf("Job %d cannot be refined: it is painted by the trained network %s, and %v.", j.ID, j.Settings[netField], err), http.StatusConflict)
			return
		}
	}
	switch {
	case style == "":
		http.Error(w, fmt.Sprintf("Job %d cannot be refined: it is painted in a style of the gallery, and the optimisation needs the painting itself.", j.ID), http.StatusConflict)
		return
	case h.s.opts.FastNets == nil:
		http.Error(w, "This server has no feed-forward networks to paint the start of the refinement ("+h.s.opts.FastNetsMissing+").", http.StatusConflict)
		return
	}
	if n, err := h.s.store.position(1 << 62); err != nil {
		h.fail(w, err)
		return
	} else if n >= h.s.opts.Limits.Queued {
		http.Error(w, fmt.Sprintf("%d jobs are waiting already; try again when some have run.", n), http.StatusServiceUnavailable)
		return
	}
	child := &Job{Settings: maps.Clone(j.Settings), Content: j.Content, Style: style, Parent: j.ID, Effort: effort, Preview: PreviewDone}
	lim := h.s.opts.Limits
	for name, v := range effortSettings(effort, true) { // it starts from the instant picture
		switch name {
		case "iterations":
			v = clampInt(v, lim.Iterations)
		case "maxfun":
			v = clampInt(v, lim.MaxFun)
		}
		child.Settings[name] = v
	}
	child.Settings["init"] = string(transfer.InitStylized)
	if _, err := h.s.config(child); err != nil {
		http.Error(w, fmt.Sprintf("Job %d cannot be refined: %v.", j.ID, err), http.StatusConflict)
		return
	}
	if err := h.s.store.add(child); err != nil {
		h.s.noteFull(err)
		h.fail(w, err)
		return
	}
	if err := h.s.copyPreview(j.ID, child.ID); err != nil {
		// The page shows the start when the first iteration ends instead.
		h.s.opts.Logf("stylist: job %d: its start: %v", child.ID, err)
		if err := h.s.store.setPreview(child.ID, ""); err != nil {
			h.s.opts.Logf("stylist: job %d: %v", child.ID, err)
		}
	}
	h.s.opts.Logf("stylist: job %d queued to refine job %d (%s)", child.ID, j.ID, effort)
	h.s.enqueued()
	http.Redirect(w, r, fmt.Sprintf("/jobs/%d", child.ID), http.StatusSeeOther)
}

// styleThumb serves a style of the gallery: the gallery photo painted in it.
func (h *handlers) styleThumb(w http.ResponseWriter, r *http.Request) {
	num, ok := strings.CutSuffix(r.PathValue("file"), ".png")
	n, err := strconv.Atoi(num)
	if !ok || err != nil || n < 0 || n >= fastnet.NumStyles || num != strconv.Itoa(n) {
		http.Error(w, "No such style.", http.StatusNotFound)
		return
	}
	b, err := h.s.thumb(r.Context(), n)
	if err != nil {
		http.Error(w, "The gallery of styles is not available: "+err.Error(), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(b)
}

// netThumb serves a trained network of the gallery: the gallery photo
// painted by it.
func (h *handlers) netThumb(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".png")
	i := slices.IndexFunc(h.s.opts.Nets, func(n TrainedNet) bool { return n.Name == name })
	if !ok || i < 0 || h.s.opts.Nets[i].thumb == nil {
		http.Error(w, "No such trained network.", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(h.s.opts.Nets[i].thumb)
}
