package sweep

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/neuralstyle/neuralstyle/preprocess"
)

func TestResolveShard(t *testing.T) {
	slurm := func(id, lo, hi, count string) map[string]string {
		m := map[string]string{"SLURM_JOB_ID": "77", "SLURM_ARRAY_TASK_ID": id, "SLURM_ARRAY_TASK_MIN": lo, "SLURM_ARRAY_TASK_MAX": hi}
		if count != "" {
			m["SLURM_ARRAY_TASK_COUNT"] = count
		}
		return m
	}
	stepped := slurm("4", "0", "6", "4")
	stepped["SLURM_ARRAY_TASK_STEP"] = "2"
	tests := []struct {
		text string
		env  map[string]string
		want Shard
		err  string // a part of the error; "" for none
	}{
		{"2/3", nil, Shard{2, 3}, ""},
		{"2/3", slurm("0", "0", "2", "3"), Shard{2, 3}, ""}, // i/n wins over the scheduler
		{"0/3", nil, Shard{}, "want i/n"},
		{"auto", slurm("0", "0", "2", "3"), Shard{1, 3}, ""},
		{"auto", slurm("2", "0", "2", "3"), Shard{3, 3}, ""},
		{"auto", slurm("6", "5", "7", "3"), Shard{2, 3}, ""},
		{"auto", slurm("6", "5", "7", ""), Shard{2, 3}, ""}, // Slurm without a count
		{"auto", stepped, Shard{3, 4}, ""},
		{"auto/3", slurm("1", "0", "2", "3"), Shard{2, 3}, ""},
		{"auto/4", slurm("1", "0", "2", "3"), Shard{}, "the Slurm job array has 3 tasks"},
		{"auto", slurm("4", "1", "9", "3"), Shard{}, "not one range"}, // --array=1,4,9
		{"auto", slurm("3", "0", "2", "3"), Shard{}, "not among IDs 0 to 2"},
		{"auto", slurm("x", "0", "2", "3"), Shard{}, `SLURM_ARRAY_TASK_ID="x" is not a whole number`},
		{"auto", map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, Shard{}, "without SLURM_ARRAY_TASK_MIN"},
		{"auto", map[string]string{"SLURM_JOB_ID": "12"}, Shard{}, "Slurm job 12 is not a job array"},
		{"auto/4", map[string]string{"JOB_COMPLETION_INDEX": "0"}, Shard{1, 4}, ""},
		{"auto/4", map[string]string{"JOB_COMPLETION_INDEX": "3"}, Shard{4, 4}, ""},
		{"auto/4", map[string]string{"JOB_COMPLETION_INDEX": "4"}, Shard{}, "not below the count 4"},
		{"auto", map[string]string{"JOB_COMPLETION_INDEX": "0"}, Shard{}, "give the shard as auto/N"},
		{"auto/4", map[string]string{"JOB_COMPLETION_INDEX": "-1"}, Shard{}, "not an index"},
		{"auto/4", map[string]string{"JOB_COMPLETION_INDEX": "1", "SLURM_ARRAY_TASK_ID": "1"}, Shard{}, "both"},
		{"auto", nil, Shard{}, "no scheduler's shard in the environment"},
		{"auto/0", nil, Shard{}, "want auto, auto/N"},
		{"auto3", nil, Shard{}, "want auto, auto/N"},
	}
	for _, tt := range tests {
		got, source, err := ResolveShard(tt.text, func(k string) string { return tt.env[k] })
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("ResolveShard(%q, %v): %v", tt.text, tt.env, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ResolveShard(%q, %v) = %v, %v; want an error with %q", tt.text, tt.env, got, err, tt.err)
		case got != tt.want:
			t.Errorf("ResolveShard(%q, %v) = %v, want %v", tt.text, tt.env, got, tt.want)
		case err == nil && strings.HasPrefix(tt.text, "auto") && source == "":
			t.Errorf("ResolveShard(%q, %v): no source", tt.text, tt.env)
		}
	}
}

func TestClaimShards(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	if err := ClaimShards(out, Shard{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a whole run claimed %s: %v", out, err)
	}
	// Tasks that start at once agree on one count.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = ClaimShards(out, Shard{i%3 + 1, 3})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n, err := RecordedShards(out); n != 3 || err != nil {
		t.Errorf("RecordedShards = %d, %v; want 3", n, err)
	}
	err := ClaimShards(out, Shard{1, 4})
	if err == nil || !strings.Contains(err.Error(), "written by 3 shards") || !strings.Contains(err.Error(), "this task is shard 1/4") {
		t.Errorf("a task of 4 shards in a folder of 3: %v", err)
	}
	if err := ClaimShards(out, Shard{}); err != nil {
		t.Errorf("a whole run in a sharded folder: %v", err)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 1 {
		t.Errorf("%s holds %d files, want only %s", out, len(entries), ShardsFile)
	}
	os.WriteFile(filepath.Join(out, ShardsFile), []byte("{}"), 0o644)
	if err := ClaimShards(out, Shard{1, 3}); err == nil || !strings.Contains(err.Error(), "not a shard record") {
		t.Errorf("a broken record: %v", err)
	}
}

// fakePoints writes a finished point for each key of plan but skip, without
// a model: the records and images are made up.
func fakePoints(t *testing.T, plan *Plan, out string, skip map[int]bool) {
	t.Helper()
	for _, p := range plan.Shard(Shard{}) {
		if skip[p.Index] {
			continue
		}
		img := preprocess.NewImage(32, 32)
		for i := range img.Pix {
			img.Pix[i] = uint8(i*7 + p.Index*31)
		}
		rec := &Record{Format: recordFormat, Key: p.Key, Settings: map[string]string{}, Loss: float64(p.Index), Evaluations: p.Index}
		if err := writePoint(out, rec, img); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFinish(t *testing.T) {
	spec, err := Parse(strings.NewReader(tinySweep), "tiny.json", testdata)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(spec, "model-id")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	fakePoints(t, plan, out, map[int]bool{2: true, 4: true})
	if err := ClaimShards(out, Shard{1, 2}); err != nil {
		t.Fatal(err)
	}
	shardOf := plan.ShardOf(2)

	// Early: refused, naming the points and their shards; nothing written.
	_, err = Finish(plan, out, CollectOptions{})
	var me *MissingError
	if !errors.As(err, &me) || len(me.Missing) != 2 {
		t.Fatalf("early Finish: %v", err)
	}
	for _, p := range me.Missing {
		want := "key " + p.Key + ", shard " + string(rune('0'+shardOf[p.Key])) + "/2"
		if !strings.Contains(err.Error(), want) {
			t.Errorf("early Finish's error lacks %q:\n%v", want, err)
		}
	}
	if !strings.Contains(err.Error(), "2 of 4 points") {
		t.Errorf("early Finish: %v", err)
	}
	for _, f := range []string{SheetFile, GIFFile, SummaryFile} {
		if _, err := os.Stat(filepath.Join(out, f)); !os.IsNotExist(err) {
			t.Errorf("early Finish wrote %s", f)
		}
	}

	// A second Finish while one holds the lock: refused.
	fakePoints(t, plan, out, nil)
	lock, err := os.OpenFile(filepath.Join(out, ".finish.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if _, err := Finish(plan, out, CollectOptions{}); !errors.Is(err, ErrFinishing) {
		t.Errorf("Finish beside another: %v, want ErrFinishing", err)
	}
	lock.Close()

	// Done: the files Collect writes, byte for byte.
	col, err := Finish(plan, out, CollectOptions{})
	if err != nil || col.Finished != 4 {
		t.Fatalf("Finish: %+v, %v", col, err)
	}
	ref := t.TempDir()
	fakePoints(t, plan, ref, nil)
	if _, err := Collect(plan, ref, CollectOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{SheetFile, GIFFile, SummaryFile} {
		a, errA := os.ReadFile(filepath.Join(ref, f))
		b, errB := os.ReadFile(filepath.Join(out, f))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: Finish's differs from Collect's (%v, %v)", f, errA, errB)
		}
	}
	if _, err := Finish(plan, filepath.Join(out, "nope"), CollectOptions{}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("Finish of a missing folder: %v", err)
	}
}
