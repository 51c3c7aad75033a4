package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ShardAuto is the shard setting that asks the scheduler: "auto", or "auto/N"
// with the count N (which Kubernetes does not tell its pods).
const ShardAuto = "auto"

// ResolveShard reads a shard setting: "i/n", or "auto" / "auto/N", which take
// the shard from the scheduler's environment (getenv) as ShardFromEnv does.
// source says where an automatic shard came from ("" for i/n).
func ResolveShard(text string, getenv func(string) string) (s Shard, source string, err error) {
	text = strings.TrimSpace(text)
	rest, ok := strings.CutPrefix(text, ShardAuto)
	if !ok {
		s, err = ParseShard(text)
		return s, "", err
	}
	count := 0
	if rest != "" {
		n, cut := strings.CutPrefix(rest, "/")
		c, err := strconv.Atoi(n)
		if !cut || err != nil || c < 1 {
			return Shard{}, "", fmt.Errorf("shard %q: want auto, auto/N with the count of tasks N >= 1, or i/n", text)
		}
		count = c
	}
	return ShardFromEnv(getenv, count)
}

// ShardFromEnv finds this task's shard in a scheduler's environment:
//
//   - a Slurm job array (sbatch --array): SLURM_ARRAY_TASK_ID among the task
//     IDs SLURM_ARRAY_TASK_MIN to _MAX in steps of SLURM_ARRAY_TASK_STEP, of
//     which there are SLURM_ARRAY_TASK_COUNT;
//   - a Kubernetes Indexed Job: JOB_COMPLETION_INDEX (from 0), with the count
//     given (the Job's completions), since Kubernetes does not export it.
//
// count, when not 0, must agree with Slurm's. The shard's Index is the task's
// rank from 1. An array whose IDs are not one even range (--array=1,4,9) is
// an error, since a task cannot tell its rank from its ID.
func ShardFromEnv(getenv func(string) string, count int) (Shard, string, error) {
	slurmID, k8sIndex := getenv("SLURM_ARRAY_TASK_ID"), getenv("JOB_COMPLETION_INDEX")
	switch {
	case slurmID != "" && k8sIndex != "":
		return Shard{}, "", errors.New("shard auto: both SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX are set; give the shard as i/n")
	case slurmID != "":
		return slurmShard(getenv, count)
	case k8sIndex != "":
		i, err := strconv.Atoi(k8sIndex)
		switch {
		case err != nil || i < 0:
			return Shard{}, "", fmt.Errorf("shard auto: JOB_COMPLETION_INDEX=%q is not an index from 0", k8sIndex)
		case count == 0:
			return Shard{}, "", fmt.Errorf("shard auto: a Kubernetes Indexed Job (JOB_COMPLETION_INDEX=%d) does not say how many tasks it has; give the shard as auto/N with N the Job's completions", i)
		case i >= count:
			return Shard{}, "", fmt.Errorf("shard auto: JOB_COMPLETION_INDEX=%d is not below the count %d; set N in auto/N to the Job's completions", i, count)
		}
		return Shard{i + 1, count}, fmt.Sprintf("JOB_COMPLETION_INDEX=%d of %d", i, count), nil
	case getenv("SLURM_JOB_ID") != "":
		return Shard{}, "", fmt.Errorf("shard auto: Slurm job %s is not a job array (no SLURM_ARRAY_TASK_ID); submit it with sbatch --array=0-N (N+1 tasks), or give the shard as i/n", getenv("SLURM_JOB_ID"))
	}
	return Shard{}, "", errors.New("shard auto: no scheduler's shard in the environment (neither SLURM_ARRAY_TASK_ID of a Slurm job array nor JOB_COMPLETION_INDEX of a Kubernetes Indexed Job); outside a scheduler give the shard as i/n, or no shard to run every point")
}

func slurmShard(getenv func(string) string, count int) (Shard, string, error) {
	vars := map[string]int{}
	for _, name := range []string{"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_STEP", "SLURM_ARRAY_TASK_COUNT"} {
		v := getenv(name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return Shard{}, "", fmt.Errorf("shard auto: %s=%q is not a whole number", name, v)
		}
		vars[name] = n
	}
	id := vars["SLURM_ARRAY_TASK_ID"]
	lo, okLo := vars["SLURM_ARRAY_TASK_MIN"]
	hi, okHi := vars["SLURM_ARRAY_TASK_MAX"]
	n, okN := vars["SLURM_ARRAY_TASK_COUNT"]
	step := 1
	if s, ok := vars["SLURM_ARRAY_TASK_STEP"]; ok && s > 0 {
		step = s
	}
	if !okLo || !okHi {
		return Shard{}, "", fmt.Errorf("shard auto: SLURM_ARRAY_TASK_ID=%d without SLURM_ARRAY_TASK_MIN and _MAX; give the shard as i/n", id)
	}
	if !okN {
		n = (hi-lo)/step + 1 // Slurm before 17.11 sets no count
	}
	switch {
	case hi < lo || id < lo || id > hi || (id-lo)%step != 0:
		return Shard{}, "", fmt.Errorf("shard auto: SLURM_ARRAY_TASK_ID=%d is not among IDs %d to %d in steps of %d", id, lo, hi, step)
	case n != (hi-lo)/step+1:
		return Shard{}, "", fmt.Errorf("shard auto: the job array's %d task IDs are not one range (%d to %d in steps of %d); submit it with sbatch --array=0-%d, or give the shard as i/n", n, lo, hi, step, n-1)
	case count != 0 && count != n:
		return Shard{}, "", fmt.Errorf("shard auto/%d: the Slurm job array has %d tasks (SLURM_ARRAY_TASK_COUNT); give the shard as auto or auto/%d", count, n, n)
	}
	return Shard{(id-lo)/step + 1, n}, fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d of %d tasks (%d-%d)", id, n, lo, hi), nil
}

// ShardsFile records in the output folder how many shards write there, so
// that tasks that disagree (two arrays of different sizes, which would deal
// the points out differently and run some twice) are refused.
const ShardsFile = "shards.json"

const shardsFormat = "neuralstyle-shards/1"

type shardsRecord struct {
	Format string `json:"format"`
	Count  int    `json:"count"`
}

// ClaimShards checks that the tasks writing to out cut the points into
// s.Count shards: the first task records the count (an atomic create, so two
// tasks starting at once agree on one), and a task with another count is
// refused, naming both. A whole run (s.Count <= 1) claims nothing.
func ClaimShards(out string, s Shard) error {
	if s.Count <= 1 {
		return nil
	}
	path := filepath.Join(out, ShardsFile)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	data, _ := json.Marshal(shardsRecord{shardsFormat, s.Count})
	tmp, err := os.CreateTemp(out, "."+ShardsFile+".tmp-*")
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		// link, unlike rename, fails when the record exists: of tasks that
		// start at once, one writes it and the others read it.
		err = os.Link(tmp.Name(), path)
	}
	os.Remove(tmp.Name())
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("sweep: %w", err)
	}
	n, err := RecordedShards(out)
	if err != nil {
		return err
	}
	if n != s.Count {
		return fmt.Errorf("sweep: %s is written by %d shards (%s), this task is shard %s: tasks that cut the points differently would run some twice; "+
			"give the shard as i/%d, or, once no task of the old split runs, remove %s", out, n, path, s, n, path)
	}
	return nil
}

// RecordedShards returns the shard count ClaimShards recorded in out, or 0
// when there is none.
func RecordedShards(out string) (int, error) {
	path := filepath.Join(out, ShardsFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	var rec shardsRecord
	if err := json.Unmarshal(data, &rec); err != nil || rec.Format != shardsFormat || rec.Count < 2 {
		return 0, fmt.Errorf("sweep: %s is not a shard record (%q); remove it once no shard runs", path, strings.TrimSpace(string(data)))
	}
	return rec.Count, nil
}

// ErrFinishing is Finish's error while another process finishes the folder.
var ErrFinishing = errors.New("another process is writing the sheet, GIF and summary")

// MissingError is Finish's error while points are not finished.
type MissingError struct {
	Out     string
	Missing []Point
	Total   int
	ShardOf map[string]int // the shard of each key, when the folder records a count
	Shards  int
}

func (e *MissingError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sweep: %d of %d points in %s are not finished:", len(e.Missing), e.Total, e.Out)
	const most = 20
	for i, p := range e.Missing {
		if i == most {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Missing)-most)
			break
		}
		fmt.Fprintf(&b, "\n  point %d (%s), key %s", p.Index, strings.Join(p.Label(), " "), p.Key)
		if e.Shards > 1 {
			fmt.Fprintf(&b, ", shard %d/%d", e.ShardOf[p.Key], e.Shards)
		}
	}
	b.WriteString("\nrun (or rerun) their tasks first, then finish again; nothing was written")
	return b.String()
}

// Finish writes the contact sheet, the GIF and the summary once every point is
// finished in out, by whichever shards ran them: they are the files a whole
// run writes, byte for byte. While points are not finished it writes nothing
// and returns a *MissingError naming them. One Finish runs at a time per
// folder (a lock on out/.finish.lock, released when the process ends however
// it ends); another gets ErrFinishing.
func Finish(plan *Plan, out string, opts CollectOptions) (*Collection, error) {
	unlock, err := LockFinish(out)
	if err != nil {
		return nil, err
	}
	defer unlock()
	missing, err := plan.Pending(out, Shard{})
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		e := &MissingError{Out: out, Missing: missing, Total: len(plan.Shard(Shard{}))}
		if e.Shards, err = RecordedShards(out); err != nil {
			return nil, err
		}
		e.ShardOf = plan.ShardOf(e.Shards)
		return nil, e
	}
	return Collect(plan, out, opts)
}

// LockFinish takes the output folder's finish lock (out/.finish.lock, a
// flock, which the system releases when the process ends however it ends), so
// that one process at a time writes the files drawn from every shard's work;
// held by another process, it returns an error wrapping ErrFinishing.
func LockFinish(out string) (unlock func(), err error) {
	if st, err := os.Stat(out); err != nil {
		return nil, fmt.Errorf("sweep: output folder %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("sweep: output folder %s is not a folder", out)
	}
	lock, err := os.OpenFile(filepath.Join(out, ".finish.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("sweep: %s: %w (%s is locked); wait for it to end", out, ErrFinishing, lock.Name())
		}
		return nil, fmt.Errorf("sweep: lock %s: %w", lock.Name(), err)
	}
	return func() { lock.Close() }, nil
}
