package memory

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSystem writes files under a temporary root: path -> content.
func fakeSystem(t *testing.T, files map[string]string, as uint64) system {
	t.Helper()
	root := t.TempDir()
	for path, content := range files {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return system{root: root, rlimitAS: func() (uint64, bool) { return as, as != 0 }}
}

const (
	mib = 1 << 20
	gib = 1 << 30
)

func TestAvailable(t *testing.T) {
	status := "Name:\tneuralstyle\nVmSize:\t 2097152 kB\nVmRSS:\t  102400 kB\n" // 2 GiB mapped, 100 MiB resident
	meminfo := "MemTotal:       24000000 kB\nMemAvailable:   16777216 kB\n"     // 16 GiB
	tests := []struct {
		name   string
		files  map[string]string
		as     uint64
		want   uint64
		source string
	}{
		{"meminfo only", map[string]string{"proc/self/status": status, "proc/meminfo": meminfo},
			0, 16*gib + 100*mib, "MemAvailable"},
		{"nothing readable", map[string]string{}, 0, math.MaxUint64, "no limit found"},
		{"cgroup v2 below meminfo", map[string]string{
			"proc/self/status": status, "proc/meminfo": meminfo,
			"proc/self/cgroup":                  "0::/job/task\n",
			"sys/fs/cgroup/job/task/memory.max": "max\n",
			"sys/fs/cgroup/job/memory.max":      "5368709120\n", // 5 GiB on the parent
			"sys/fs/cgroup/job/memory.current":  "1073741824\n", // 1 GiB used, of which
			"sys/fs/cgroup/job/memory.stat":     "anon 700000000\nfile 524288000\n",
		}, 0, 5*gib - (1*gib - 100*mib - 500*mib), "the cgroup's memory.max 5.0 GiB"},
		{"cgroup v1 at the mount's root", map[string]string{
			"proc/self/status": status, "proc/meminfo": meminfo,
			"proc/self/cgroup":                           "4:memory:/process_api/abc\n0::/\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "4294967296\n",
			"sys/fs/cgroup/memory/memory.usage_in_bytes": "209715200\n",
			"sys/fs/cgroup/memory/memory.stat":           "cache 0\ntotal_cache 0\n",
		}, 0, 4*gib - 100*mib, "memory.limit_in_bytes"},
		{"cgroup v1 without a limit", map[string]string{
			"proc/self/status": status, "proc/meminfo": meminfo,
			"proc/self/cgroup":                           "4:memory:/\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
		}, 0, 16*gib + 100*mib, "MemAvailable"},
		{"ulimit -v is not resident memory", map[string]string{"proc/self/status": status, "proc/meminfo": meminfo},
			5 * gib, 16*gib + 100*mib, "MemAvailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, source := available(fakeSystem(t, tt.files, tt.as))
			if got != tt.want || !strings.Contains(source, tt.source) {
				t.Errorf("available = %d (%s), %q; want %d (%s), a source with %q",
					got, Format(got), source, tt.want, Format(tt.want), tt.source)
			}
		})
	}
}

// TestAvailableHere reads this machine: some bound must be found on Linux, and it
// cannot exceed the machine's memory plus what this process holds.
func TestAvailableHere(t *testing.T) {
	got, source := Available()
	if got == math.MaxUint64 || got == 0 {
		t.Fatalf("Available() = %d (%s)", got, source)
	}
	t.Logf("available: %s (%s)", Format(got), source)
}
