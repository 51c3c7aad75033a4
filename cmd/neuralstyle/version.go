package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/cpu"

	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// version is the release's version, set by the build (make build, make dist:
// -ldflags "-X main.version=..."); a plain go build leaves "dev".
var version = "dev"

// commit and modified are the commit the build stamped (-X main.commit=...,
// -X main.modified=true), for builds where Go's own stamp (-buildvcs) is off.
var commit, modified string

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "show the version, the commit, TensorFlow's version and the CPU features TensorFlow will use",
		UsageText: "neuralstyle version [--json]",
		Description: "version prints the release's version and the commit it was built from (with\n" +
			"\"modified\" when the checkout had uncommitted changes), the Go toolchain, the\n" +
			"TensorFlow C library's version and the file it was loaded from, and the CPU's vector\n" +
			"and matrix extensions. TensorFlow's oneDNN kernels (convolutions and matrix products)\n" +
			"pick the widest of these at run time: AMX, then AVX-512 with BF16, then AVX-512, then\n" +
			"AVX2; ONEDNN_MAX_CPU_ISA caps the choice and TF_ENABLE_ONEDNN_OPTS=0 turns oneDNN\n" +
			"off. It loads no model.",
		Flags:  []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print one JSON object instead of text"}},
		Action: runVersion,
	}
}

// versionInfo is what version prints.
type versionInfo struct {
	Version    string `json:"version"`
	Commit     string `json:"commit"`   // "" when the build recorded none
	Modified   bool   `json:"modified"` // the checkout had uncommitted changes
	Go         string `json:"go"`
	Platform   string `json:"platform"`
	TensorFlow string `json:"tensorflow"`
	Library    string `json:"tensorflow_library,omitempty"` // the loaded file, when found
	// CPU lists the CPU's extensions that matter to TensorFlow, ISA the widest
	// of them oneDNN uses, and ISACap the cap a user set (ONEDNN_MAX_CPU_ISA).
	CPU    []string `json:"cpu_features"`
	ISA    string   `json:"onednn_isa"`
	ISACap string   `json:"onednn_max_cpu_isa,omitempty"`
	OneDNN bool     `json:"onednn"` // TF_ENABLE_ONEDNN_OPTS is not 0
}

// cpuFeatures are the x86 extensions version reports, in the order it prints them.
type cpuFeatures struct {
	AVX2, FMA, AVX512F, AVX512BW, AVX512VL, AVX512DQ, AVX512VNNI, AVX512BF16, AMXTile, AMXInt8, AMXBF16 bool
}

func hostFeatures() cpuFeatures {
	x := cpu.X86
	return cpuFeatures{
		AVX2: x.HasAVX2, FMA: x.HasFMA, AVX512F: x.HasAVX512F, AVX512BW: x.HasAVX512BW,
		AVX512VL: x.HasAVX512VL, AVX512DQ: x.HasAVX512DQ, AVX512VNNI: x.HasAVX512VNNI,
		AVX512BF16: x.HasAVX512BF16, AMXTile: x.HasAMXTile, AMXInt8: x.HasAMXInt8, AMXBF16: x.HasAMXBF16,
	}
}

// names lists the features present, as Intel names them.
func (f cpuFeatures) names() []string {
	var out []string
	for _, n := range []struct {
		has  bool
		name string
	}{
		{f.AVX2, "AVX2"}, {f.FMA, "FMA"}, {f.AVX512F, "AVX512F"}, {f.AVX512BW, "AVX512BW"},
		{f.AVX512VL, "AVX512VL"}, {f.AVX512DQ, "AVX512DQ"}, {f.AVX512VNNI, "AVX512_VNNI"},
		{f.AVX512BF16, "AVX512_BF16"}, {f.AMXTile, "AMX_TILE"}, {f.AMXInt8, "AMX_INT8"}, {f.AMXBF16, "AMX_BF16"},
	} {
		if n.has {
			out = append(out, n.name)
		}
	}
	return out
}

// onednnISA is the instruction set oneDNN (TensorFlow 2.18's v3.x) dispatches
// to on a CPU with f, in its own names (ONEDNN_MAX_CPU_ISA's values).
func (f cpuFeatures) onednnISA() string {
	core := f.AVX512F && f.AVX512BW && f.AVX512VL && f.AVX512DQ
	switch {
	case core && f.AVX512VNNI && f.AVX512BF16 && f.AMXTile && f.AMXInt8 && f.AMXBF16:
		return "AVX512_CORE_AMX"
	case core && f.AVX512VNNI && f.AVX512BF16:
		return "AVX512_CORE_BF16"
	case core && f.AVX512VNNI:
		return "AVX512_CORE_VNNI"
	case core:
		return "AVX512_CORE"
	case f.AVX2 && f.FMA:
		return "AVX2"
	}
	return "SSE41"
}

// buildCommit reads the commit the Go toolchain stamped into the binary.
// buildCommit returns the commit stamped by the build, or else the one the Go
// toolchain recorded.
func buildCommit() (string, bool) {
	if commit != "" {
		return commit, modified == "true"
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	return rev, dirty
}

// loadedLibrary finds the TensorFlow library file this process mapped.
func loadedLibrary() string {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if n := len(fields); n >= 6 && strings.Contains(fields[n-1], "libtensorflow_cc.so") {
			return fields[n-1]
		}
	}
	return ""
}

func collectVersion(f cpuFeatures, getenv func(string) string) versionInfo {
	v := versionInfo{
		Version: version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		TensorFlow: tfgraph.Version(), Library: loadedLibrary(),
		CPU: f.names(), ISA: f.onednnISA(), ISACap: getenv("ONEDNN_MAX_CPU_ISA"),
		OneDNN: getenv("TF_ENABLE_ONEDNN_OPTS") != "0",
	}
	v.Commit, v.Modified = buildCommit()
	if v.CPU == nil {
		v.CPU = []string{}
	}
	return v
}

func runVersion(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	v := collectVersion(hostFeatures(), os.Getenv)
	if c.Bool("json") {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return printVersion(c.App.Writer, v)
}

func printVersion(w io.Writer, v versionInfo) error {
	commit := v.Commit
	switch {
	case commit == "":
		commit = "unknown (built outside a git checkout)"
	case v.Modified:
		commit += " (modified)"
	}
	lib := ""
	if v.Library != "" {
		lib = " (" + v.Library + ")"
	}
	features := strings.Join(v.CPU, " ")
	if features == "" {
		features = "none of AVX2, AVX-512, AMX"
	}
	isa := v.ISA
	switch {
	case !v.OneDNN:
		isa = "off (TF_ENABLE_ONEDNN_OPTS=0): Eigen's kernels only"
	case v.ISACap != "":
		isa += ", capped by ONEDNN_MAX_CPU_ISA=" + v.ISACap
	}
	_, err := fmt.Fprintf(w, "neuralstyle %s\ncommit:      %s\nGo:          %s %s\nTensorFlow:  %s%s\nCPU:         %s\noneDNN ISA:  %s\n",
		v.Version, commit, v.Go, v.Platform, v.TensorFlow, lib, features, isa)
	return err
}
