package stylist

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// State is where a job is in its life.
type State string

const (
	Queued      State = "queued"
	Running     State = "running"
	Done        State = "done"
	Failed      State = "failed"      // the run returned an error; Error says which
	Canceled    State = "canceled"    // a person cancelled it; a partial result may exist
	Interrupted State = "interrupted" // the server stopped while it ran; its partial result stays
)

// Finished reports whether the job will not change any more.
func (s State) Finished() bool { return s != Queued && s != Running }

// Job is one transfer as the store keeps it.
type Job struct {
	ID       int64
	State    State
	Settings map[string]string // each schema setting's text, content and style left out
	Content  string            // upload names (see Uploads)
	Style    string
	Parent   int64 // the job this one reruns, 0 for none
	Created  time.Time
	Started  time.Time // zero until it runs
	Finished time.Time // zero until it finishes
	// Progress after the last completed iteration.
	Iteration int // completed iterations
	Losses    []float64
	Error     string
	// HasResult says a result image exists (also for a cancelled or interrupted job).
	HasResult bool
	// Resumes are the completed iterations each restart of the server resumed
	// the job from, oldest first (0: it started over, nothing having been saved).
	Resumes []int
	// Sweep, when not nil, makes the job a sweep (package sweep): one transfer
	// for each value of one setting, the others as Settings has them. Its
	// progress is in points: Iteration counts the finished points, Losses
	// holds their final losses.
	Sweep *SweepAxis
	// Effort is how long the person chose to spend (see efforts): instant,
	// quick or notebook; "" for a job sent with settings alone (a script's,
	// or one queued before efforts), which runs as notebook's does.
	Effort Effort
	// Preview is the instant picture (the feed-forward network's, see
	// fastnets.go) shown while an optimisation waits and runs: "" none,
	// PreviewWanted, PreviewDone, or why it failed.
	Preview string
}

// SweepAxis is the setting a sweep varies and its values, as the setting's
// text.
type SweepAxis struct {
	Param  string   `json:"param"`
	Values []string `json:"values"`
}

// store keeps jobs in SQLite. One connection: SQLite serialises writers anyway,
// and the server's traffic is small.
type store struct{ db *sql.DB }

const schemaSQL = `
CREATE TABLE IF NOT EXISTS jobs (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	state TEXT NOT NULL,
	settings TEXT NOT NULL,
	content TEXT NOT NULL,
	style TEXT NOT NULL,
	parent INTEGER NOT NULL DEFAULT 0,
	created INTEGER NOT NULL,
	started INTEGER NOT NULL DEFAULT 0,
	finished INTEGER NOT NULL DEFAULT 0,
	iteration INTEGER NOT NULL DEFAULT 0,
	losses TEXT NOT NULL DEFAULT '[]',
	error TEXT NOT NULL DEFAULT '',
	has_result INTEGER NOT NULL DEFAULT 0,
	resumes TEXT NOT NULL DEFAULT '[]',
	sweep TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, id);
`

// addedColumns are the columns added after the first release, with their
// definitions, so that a database made then gains them when it opens.
var addedColumns = [][2]string{
	{"resumes", "TEXT NOT NULL DEFAULT '[]'"},
	{"sweep", "TEXT NOT NULL DEFAULT ''"},
	{"effort", "TEXT NOT NULL DEFAULT ''"},
	{"lane", "TEXT NOT NULL DEFAULT 'long'"},
	{"preview", "TEXT NOT NULL DEFAULT ''"},
}

func openStore(path string) (*store, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("stylist: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := checkIntegrity(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("stylist: the job database %s is damaged (%v). Nothing was changed: move it aside (mv %s %s.damaged; its -wal and -shm files too, if any) "+
			"and start again, which makes a new, empty database and keeps the uploads and results in the folder beside it, "+
			"or put back a copy of it from a backup", path, err, path, path)
	}
	if _, err := db.Exec(schemaSQL); err != nil {
		db.Close()
		return nil, fmt.Errorf("stylist: open %s: %w", path, err)
	}
	if err := addColumns(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("stylist: open %s: %w", path, err)
	}
	return &store{db: db}, nil
}

// checkIntegrity runs SQLite's integrity check: a database damaged on disk
// opens, and shows pages, but fails the writes that reach a damaged page.
func checkIntegrity(db *sql.DB) error {
	rows, err := db.Query(`PRAGMA integrity_check(10)`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity check: %s", strings.Join(problems, "; "))
	}
	return nil
}

// addColumns adds the columns of addedColumns that the jobs table lacks.
func addColumns(db *sql.DB) error {
	rows, err := db.Query(`SELECT name FROM pragma_table_info('jobs')`)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		have[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range addedColumns {
		if !have[c[0]] {
			if _, err := db.Exec(`ALTER TABLE jobs ADD COLUMN ` + c[0] + ` ` + c[1]); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *store) close() error { return s.db.Close() }

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromUnix(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func (s *store) add(j *Job) error {
	settings, err := json.Marshal(j.Settings)
	if err != nil {
		return err
	}
	sweep := ""
	if j.Sweep != nil {
		b, err := json.Marshal(j.Sweep)
		if err != nil {
			return err
		}
		sweep = string(b)
	}
	j.State, j.Created = Queued, time.Now()
	res, err := s.db.Exec(`INSERT INTO jobs(state, settings, content, style, parent, created, sweep, effort, lane, preview) VALUES(?,?,?,?,?,?,?,?,?,?)`,
		j.State, settings, j.Content, j.Style, j.Parent, unix(j.Created), sweep, j.Effort, j.Effort.lane(), j.Preview)
	if err != nil {
		return fmt.Errorf("stylist: add job: %w", err)
	}
	j.ID, err = res.LastInsertId()
	return err
}

const jobColumns = `id, state, settings, content, style, parent, created, started, finished, iteration, losses, error, has_result, resumes, sweep, effort, preview`

type scanner interface{ Scan(...any) error }

func scanJob(r scanner) (*Job, error) {
	var j Job
	var settings, losses, resumes, sweep string
	var created, started, finished int64
	if err := r.Scan(&j.ID, &j.State, &settings, &j.Content, &j.Style, &j.Parent, &created, &started, &finished,
		&j.Iteration, &losses, &j.Error, &j.HasResult, &resumes, &sweep, &j.Effort, &j.Preview); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(resumes), &j.Resumes); err != nil {
		return nil, fmt.Errorf("stylist: job %d: resumes: %w", j.ID, err)
	}
	if sweep != "" {
		if err := json.Unmarshal([]byte(sweep), &j.Sweep); err != nil {
			return nil, fmt.Errorf("stylist: job %d: sweep: %w", j.ID, err)
		}
	}
	if err := json.Unmarshal([]byte(settings), &j.Settings); err != nil {
		return nil, fmt.Errorf("stylist: job %d: settings: %w", j.ID, err)
	}
	if err := json.Unmarshal([]byte(losses), &j.Losses); err != nil {
		return nil, fmt.Errorf("stylist: job %d: losses: %w", j.ID, err)
	}
	j.Created, j.Started, j.Finished = fromUnix(created), fromUnix(started), fromUnix(finished)
	return &j, nil
}

var errNoJob = errors.New("no such job")

func (s *store) get(id int64) (*Job, error) {
	j, err := scanJob(s.db.QueryRow(`SELECT `+jobColumns+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoJob
	}
	return j, err
}

// list returns the jobs in the given states, oldest first, or newest first.
func (s *store) list(newestFirst bool, limit int, states ...State) ([]*Job, error) {
	q := `SELECT ` + jobColumns + ` FROM jobs WHERE state IN (`
	args := make([]any, len(states))
	for i, st := range states {
		if i > 0 {
			q += ","
		}
		q += "?"
		args[i] = st
	}
	q += ") ORDER BY id"
	if newestFirst {
		q += " DESC"
	}
	q += fmt.Sprintf(" LIMIT %d", limit)
	rows, err := s.db.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// position is a queued job's place in the queue: 1 runs next.
func (s *store) position(id int64) (int, error) {
	var n int
	err := s.db.QueryRow(`SELECT COUNT(*) FROM jobs WHERE state = ? AND id <= ?`, Queued, id).Scan(&n)
	return n, err
}

// lanePosition is a queued job's place in its lane's queue: 1 runs next.
func (s *store) lanePosition(j *Job) (int, error) {
	var n int
	err := s.db.QueryRow(`SELECT COUNT(*) FROM jobs WHERE state = ? AND lane = ? AND id <= ?`, Queued, j.Effort.lane(), j.ID).Scan(&n)
	return n, err
}

// next returns the oldest queued job of a lane, or nil.
func (s *store) next(lane string) (*Job, error) {
	j, err := scanJob(s.db.QueryRow(`SELECT `+jobColumns+` FROM jobs WHERE state = ? AND lane = ? ORDER BY id LIMIT 1`, Queued, lane))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return j, err
}

// nextPreview returns the oldest job whose instant picture is wanted, or nil.
func (s *store) nextPreview() (*Job, error) {
	j, err := scanJob(s.db.QueryRow(`SELECT `+jobColumns+` FROM jobs WHERE preview = ? ORDER BY id LIMIT 1`, PreviewWanted))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return j, err
}

// setPreview records what became of a job's instant picture.
func (s *store) setPreview(id int64, preview string) error {
	_, err := s.db.Exec(`UPDATE jobs SET preview = ? WHERE id = ?`, preview, id)
	return err
}

func (s *store) start(id int64) error {
	_, err := s.db.Exec(`UPDATE jobs SET state = ?, started = ? WHERE id = ?`, Running, unix(time.Now()), id)
	return err
}

func (s *store) progress(id int64, iteration int, losses []float64) error {
	b, _ := json.Marshal(losses)
	_, err := s.db.Exec(`UPDATE jobs SET iteration = ?, losses = ?, has_result = 1 WHERE id = ?`, iteration, string(b), id)
	return err
}

func (s *store) finish(id int64, st State, msg string, hasResult bool) error {
	_, err := s.db.Exec(`UPDATE jobs SET state = ?, error = ?, finished = ?, has_result = ? WHERE id = ?`,
		st, msg, unix(time.Now()), hasResult, id)
	return err
}

// cancelQueued cancels a job that has not started; it reports whether it did.
func (s *store) cancelQueued(id int64) (bool, error) {
	res, err := s.db.Exec(`UPDATE jobs SET state = ?, finished = ? WHERE id = ? AND state = ?`,
		Canceled, unix(time.Now()), id, Queued)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// running lists the jobs the database says are running: at start-up, the
// ones a server left when it stopped without finishing them.
func (s *store) running() ([]*Job, error) {
	return s.list(false, 1<<30, Running)
}

// requeue puts a job that was running back in the queue, keeping its
// progress, and records that it resumes from its completed iteration.
func (s *store) requeue(id int64, resumes []int) error {
	b, _ := json.Marshal(resumes)
	_, err := s.db.Exec(`UPDATE jobs SET state = ?, resumes = ?, error = '' WHERE id = ?`, Queued, string(b), id)
	return err
}
