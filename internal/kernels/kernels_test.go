package kernels

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestFeaturesAreCPUInfos: every feature named is a flag of /proc/cpuinfo, every
// flag of the list is named, and the family follows from them, as
// savedmodel/kernels.py reads it.
func TestFeaturesAreCPUInfos(t *testing.T) {
	if runtime.GOARCH != "amd64" || runtime.GOOS != "linux" {
		t.Skipf("cpuinfo flags are x86-64 Linux's; this is %s/%s (family %s)", runtime.GOOS, runtime.GOARCH, Family())
	}
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip(err)
	}
	var flags []string
	for _, line := range strings.Split(string(raw), "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			flags = strings.Fields(value)
			break
		}
	}
	got := Features()
	for _, f := range got {
		if !slices.Contains(flags, f) {
			t.Errorf("feature %s is not among cpuinfo's flags", f)
		}
	}
	for _, f := range []string{"avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16", "amx_tile", "amx_bf16"} {
		if slices.Contains(flags, f) && !slices.Contains(got, f) {
			t.Errorf("cpuinfo has %s, Features lacks it", f)
		}
	}
	want := "x86-64-baseline"
	switch has := func(fs ...string) bool {
		for _, f := range fs {
			if !slices.Contains(flags, f) {
				return false
			}
		}
		return true
	}; {
	case has("avx512f", "avx512bw", "avx512vl", "avx512dq"):
		want = AVX512
	case has("avx2", "fma"):
		want = AVX2
	}
	if Family() != want {
		t.Errorf("Family() = %s, cpuinfo's flags give %s", Family(), want)
	}
	t.Logf("family %s; features %s", Family(), strings.Join(got, " "))
}

func TestSame(t *testing.T) {
	if Same("") {
		t.Error("Same(\"\"): a vector without a family must not count as this CPU's")
	}
	if !Same(Family()) || Same(Family()+"-other") {
		t.Errorf("Same(%q) false or Same of another family true", Family())
	}
}

func TestRecord(t *testing.T) {
	t.Setenv(ReportEnv, "")
	if err := Record("TestNowhere", true, "unset"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.tsv")
	t.Setenv(ReportEnv, path)
	for _, r := range []struct {
		test  string
		exact bool
	}{{"TestA", true}, {"TestB/sub", false}} {
		if err := Record(r.test, r.exact, "why"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "TestA\texact\twhy\nTestB/sub\tbounded\twhy\n"; string(got) != want {
		t.Errorf("report %q, want %q", got, want)
	}
	t.Setenv(ReportEnv, filepath.Join(path, "not-a-dir", "x"))
	if err := Record("TestC", true, "why"); err == nil {
		t.Error("Record into an impossible path: no error")
	}
}
