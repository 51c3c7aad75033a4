package memory

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Available returns how far this process's resident memory may grow, and what
// bounds it: the smallest of the cgroup's memory limit (v2 memory.max or v1
// memory.limit_in_bytes, less what the rest of the cgroup uses) and the kernel's
// MemAvailable, each plus the memory the process already holds, since an
// estimate is of the process's whole peak. With neither readable it returns
// math.MaxUint64 and "no limit found". The address-space limit (ulimit -v)
// bounds something else, mapped rather than resident memory: see AddressLimit.
func Available() (bytes uint64, source string) {
	return available(system{root: "/"})
}

// AddressLimit returns the address-space limit (RLIMIT_AS, ulimit -v); ok is
// false when there is none.
func AddressLimit() (bytes uint64, ok bool) {
	return system{root: "/"}.addressLimit()
}

// system reads the files Available looks at, under root (a test's fake tree).
type system struct {
	root string
	// rlimitAS is the address-space limit; nil means getrlimit.
	rlimitAS func() (uint64, bool)
}

func (s system) read(path string) ([]byte, error) {
	return os.ReadFile(filepath.Join(s.root, path))
}

func available(s system) (uint64, string) {
	rss := s.selfRSS()
	best, source := uint64(math.MaxUint64), "no limit found"
	consider := func(n uint64, what string) {
		if n < best {
			best, source = n, what
		}
	}
	if limit, usage, file, what, ok := s.cgroup(); ok {
		// The cgroup's usage counts this process and reclaimable page cache; neither
		// stands in the way of this process's growth.
		others := sub(sub(usage, rss), file)
		consider(sub(limit, others), fmt.Sprintf("%s %s", what, Format(limit)))
	}
	if avail, ok := s.memAvailable(); ok {
		consider(avail+rss, "MemAvailable in /proc/meminfo")
	}
	return best, source
}

func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// selfRSS reads VmRSS of /proc/self/status.
func (s system) selfRSS() uint64 {
	data, err := s.read("proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return kib(v)
		}
	}
	return 0
}

// kib reads "  1234 kB".
func kib(v string) uint64 {
	n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
	if err != nil {
		return 0
	}
	return n * 1024
}

func (s system) memAvailable() (uint64, bool) {
	data, err := s.read("proc/meminfo")
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
			return kib(v), true
		}
	}
	return 0, false
}

func (s system) addressLimit() (uint64, bool) {
	if s.rlimitAS != nil {
		return s.rlimitAS()
	}
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &r); err != nil || r.Cur == math.MaxUint64 {
		return 0, false
	}
	return r.Cur, true
}

// noLimit is above any real memory: cgroup v1 writes "no limit" as a huge
// page-rounded number.
const noLimit = 1 << 60

// cgroup finds the tightest memory limit among this process's cgroup and its
// ancestors, with that cgroup's usage and page cache.
func (s system) cgroup() (limit, usage, file uint64, what string, ok bool) {
	data, err := s.read("proc/self/cgroup")
	if err != nil {
		return 0, 0, 0, "", false
	}
	var v2, v1 string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = parts[2]
		case parts[1] == "memory" || strings.Contains(","+parts[1]+",", ",memory,"):
			v1 = parts[2]
		}
	}
	type layout struct {
		base, limit, usage, fileKey, name string
		path                              string
	}
	var layouts []layout
	if v1 != "" {
		layouts = append(layouts, layout{"sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes", "total_cache", "the cgroup's memory.limit_in_bytes", v1})
	}
	if v2 != "" {
		layouts = append(layouts, layout{"sys/fs/cgroup", "memory.max", "memory.current", "file", "the cgroup's memory.max", v2})
	}
	for _, l := range layouts {
		// Inside a container the process's cgroup is often the mount's root, so
		// the path /proc names may not exist: walk up from it to the root.
		for dir := filepath.Clean("/" + l.path); ; dir = filepath.Dir(dir) {
			base := filepath.Join(l.base, dir)
			n, err := s.number(filepath.Join(base, l.limit))
			if err == nil && n < noLimit && (!ok || n < limit) {
				u, _ := s.number(filepath.Join(base, l.usage))
				limit, usage, file, what, ok = n, u, s.statKey(filepath.Join(base, "memory.stat"), l.fileKey), l.name, true
			}
			if dir == "/" {
				break
			}
		}
	}
	return limit, usage, file, what, ok
}

func (s system) number(path string) (uint64, error) {
	data, err := s.read(path)
	if err != nil {
		return 0, err
	}
	t := strings.TrimSpace(string(data))
	if t == "max" {
		return math.MaxUint64, nil
	}
	return strconv.ParseUint(t, 10, 64)
}

func (s system) statKey(path, key string) uint64 {
	data, err := s.read(path)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+" "); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}
