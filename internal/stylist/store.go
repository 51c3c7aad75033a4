package stylist

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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
	has_result INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, id);
`

func openStore(path string) (*store, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("stylist: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schemaSQL); err != nil {
		db.Close()
		return nil, fmt.Errorf("stylist: open %s: %w", path, err)
	}
	return &store{db: db}, nil
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
	j.State, j.Created = Queued, time.Now()
	res, err := s.db.Exec(`INSERT INTO jobs(state, settings, content, style, parent, created) VALUES(?,?,?,?,?,?)`,
		j.State, settings, j.Content, j.Style, j.Parent, unix(j.Created))
	if err != nil {
		return fmt.Errorf("stylist: add job: %w", err)
	}
	j.ID, err = res.LastInsertId()
	return err
}

const jobColumns = `id, state, settings, content, style, parent, created, started, finished, iteration, losses, error, has_result`

type scanner interface{ Scan(...any) error }

func scanJob(r scanner) (*Job, error) {
	var j Job
	var settings, losses string
	var created, started, finished int64
	if err := r.Scan(&j.ID, &j.State, &settings, &j.Content, &j.Style, &j.Parent, &created, &started, &finished,
		&j.Iteration, &losses, &j.Error, &j.HasResult); err != nil {
		return nil, err
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

// next returns the oldest queued job, or nil.
func (s *store) next() (*Job, error) {
	j, err := scanJob(s.db.QueryRow(`SELECT `+jobColumns+` FROM jobs WHERE state = ? ORDER BY id LIMIT 1`, Queued))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return j, err
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

// interruptRunning marks the jobs left running by a server that stopped
// without finishing them; their partial results stay.
func (s *store) interruptRunning() ([]int64, error) {
	rows, err := s.db.Query(`SELECT id FROM jobs WHERE state = ?`, Running)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if err := s.finish(id, Interrupted, "the server stopped while this job ran; the image shown is the last iteration it saved", true); err != nil {
			return nil, err
		}
		// has_result is only true when an iteration was saved.
		if _, err := s.db.Exec(`UPDATE jobs SET has_result = (iteration > 0) WHERE id = ?`, id); err != nil {
			return nil, err
		}
	}
	return ids, nil
}
