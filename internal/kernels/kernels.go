// Package kernels names the CPU instruction sets by which TensorFlow's CPU
// kernels are chosen, so that a test holds the model to a stored vector bit for
// bit only where the vector was made on the same kernels, and a report can say
// which tests ran exactly on this machine.
//
// oneDNN and Eigen choose their float32 kernels (vector width, blocking, and so
// the order of every sum) by the widest instruction set the CPU has. Two CPUs of
// one Family run the same float32 kernels: measured, the regression vectors made
// on an AVX-512 CPU are reproduced bit for bit on an AMD EPYC with AVX-512 and
// AVX512-BF16 (Zen 4) and on an Intel Xeon with AVX-512 and AMX, and not on an
// AMD EPYC with AVX2 only (Zen 3). AVX512-BF16 and AMX change only the bf16
// kernels, which no bit-for-bit test runs.
package kernels

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/cpu"
)

// The families of float32 kernels these machines have been seen with.
const (
	AVX512 = "x86-64-avx512" // AVX-512 F, BW, VL and DQ: oneDNN's avx512_core
	AVX2   = "x86-64-avx2"   // AVX2 and FMA, no AVX-512
)

// Family returns the family of TensorFlow's float32 CPU kernels on this
// machine: AVX512, AVX2, or another name (the architecture, with "-baseline"
// on x86-64 without AVX2) that no stored vector was made on.
func Family() string {
	if runtime.GOARCH != "amd64" {
		return runtime.GOARCH
	}
	x := cpu.X86
	switch {
	case x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX512DQ:
		return AVX512
	case x.HasAVX2 && x.HasFMA:
		return AVX2
	}
	return "x86-64-baseline"
}

// Features lists, in Linux's /proc/cpuinfo names, the instruction sets of this
// CPU that TensorFlow's kernels use: the float32 ones that choose the Family,
// then bf16 (avx512_bf16, amx_bf16) and AMX's tiles.
func Features() []string {
	if runtime.GOARCH != "amd64" {
		return nil
	}
	x := cpu.X86
	var fs []string
	for _, f := range []struct {
		name string
		has  bool
	}{
		{"avx", x.HasAVX}, {"avx2", x.HasAVX2}, {"fma", x.HasFMA},
		{"avx512f", x.HasAVX512F}, {"avx512bw", x.HasAVX512BW}, {"avx512vl", x.HasAVX512VL}, {"avx512dq", x.HasAVX512DQ},
		{"avx512_vnni", x.HasAVX512VNNI}, {"avx512_bf16", x.HasAVX512BF16},
		{"amx_tile", x.HasAMXTile}, {"amx_bf16", x.HasAMXBF16}, {"amx_int8", x.HasAMXInt8},
	} {
		if f.has {
			fs = append(fs, f.name)
		}
	}
	return fs
}

// Same reports whether vectors made on a machine of family ran the kernels this
// machine runs, so that results equal to them bit for bit can be required.
func Same(family string) bool { return family != "" && family == Family() }

// ReportEnv names the file a test run appends its Record lines to, for make
// test-cpu-report; unset, Record does nothing.
const ReportEnv = "NEURALSTYLE_EXACTNESS_REPORT"

// Record notes that test held its results to the expected ones bit for bit
// (exact) or within a measured bound, and why, as the line
// "test<TAB>exact|bounded<TAB>why" appended to the file ReportEnv names. Tests
// call it where they choose, so that a report says what ran on this CPU.
func Record(test string, exact bool, why string) error {
	path := os.Getenv(ReportEnv)
	if path == "" {
		return nil
	}
	mode := "bounded"
	if exact {
		mode = "exact"
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	// One write per line: appends from parallel tests and processes don't interleave.
	_, err = f.WriteString(fmt.Sprintf("%s\t%s\t%s\n", test, mode, why))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
