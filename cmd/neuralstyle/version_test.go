package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestOneDNNISA(t *testing.T) {
	core := cpuFeatures{AVX2: true, FMA: true, AVX512F: true, AVX512BW: true, AVX512VL: true, AVX512DQ: true}
	vnni, bf16, amx := core, core, core
	vnni.AVX512VNNI = true
	bf16.AVX512VNNI, bf16.AVX512BF16 = true, true
	amx.AVX512VNNI, amx.AVX512BF16, amx.AMXTile, amx.AMXInt8, amx.AMXBF16 = true, true, true, true, true
	noBW := core
	noBW.AVX512BW = false
	tileOnly := bf16
	tileOnly.AMXTile = true // AMX without its BF16 and INT8 parts is not oneDNN's AMX
	tests := []struct {
		name string
		f    cpuFeatures
		want string
	}{
		{"none", cpuFeatures{}, "SSE41"},
		{"avx2 without fma", cpuFeatures{AVX2: true}, "SSE41"},
		{"avx2", cpuFeatures{AVX2: true, FMA: true}, "AVX2"},
		{"avx512 without bw", noBW, "AVX2"},
		{"avx512", core, "AVX512_CORE"},
		{"vnni", vnni, "AVX512_CORE_VNNI"},
		{"bf16", bf16, "AVX512_CORE_BF16"},
		{"amx tile only", tileOnly, "AVX512_CORE_BF16"},
		{"amx", amx, "AVX512_CORE_AMX"},
	}
	for _, tt := range tests {
		if got := tt.f.onednnISA(); got != tt.want {
			t.Errorf("%s: onednnISA() = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := strings.Join(amx.names(), " "); got != "AVX2 FMA AVX512F AVX512BW AVX512VL AVX512DQ AVX512_VNNI AVX512_BF16 AMX_TILE AMX_INT8 AMX_BF16" {
		t.Errorf("names() = %q", got)
	}
}

func TestVersionCommand(t *testing.T) {
	code, out, errOut := neuralstyle("version")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"neuralstyle " + version + "\n", "\ncommit:  ", "\nTensorFlow:  2.18.", "libtensorflow_cc.so.2", "\nCPU:  ", "\noneDNN ISA:  "} {
		if !strings.Contains(out, want) {
			t.Errorf("version output lacks %q:\n%s", want, out)
		}
	}
	code, out, errOut = neuralstyle("version", "--json")
	var v versionInfo
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil {
		t.Fatalf("version --json: exit %d, %v: %s%s", code, err, out, errOut)
	}
	if v.ISA != hostFeatures().onednnISA() || !strings.HasPrefix(v.TensorFlow, "2.18.") || v.CPU == nil {
		t.Errorf("version --json = %+v", v)
	}
}

func TestPrintVersion(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	f := cpuFeatures{AVX2: true, FMA: true}
	tests := []struct {
		env  map[string]string
		want string
	}{
		{nil, "oneDNN ISA:  AVX2\n"},
		{map[string]string{"ONEDNN_MAX_CPU_ISA": "AVX2"}, "oneDNN ISA:  AVX2, capped by ONEDNN_MAX_CPU_ISA=AVX2\n"},
		{map[string]string{"TF_ENABLE_ONEDNN_OPTS": "0"}, "oneDNN ISA:  off (TF_ENABLE_ONEDNN_OPTS=0)"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := printVersion(&b, collectVersion(f, env(tt.env))); err != nil || !strings.Contains(b.String(), tt.want) {
			t.Errorf("env %v: %v\n%s\nwant a line %q", tt.env, err, b.String(), tt.want)
		}
	}
}
