package main

import "testing"

// TestServeRefusals: serve refuses, before loading anything, an address other
// machines reach without a token, and addresses it cannot use.
func TestServeRefusals(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", "--addr", "0.0.0.0:0"}, exitUsage,
			"neuralstyle: --addr 0.0.0.0:0 is reachable from other machines: give --token, or --no-auth to let anyone who reaches it use the server\n"},
		{[]string{"serve", "--addr", "8080"}, exitUsage, "neuralstyle: --addr \"8080\": want HOST:PORT, such as 127.0.0.1:8080\n"},
		{[]string{"serve", "--max-side", "4"}, exitUsage, "neuralstyle: --max-side 4: want at least 16\n"},
		{[]string{"serve", "--max-sweep", "0"}, exitUsage, "neuralstyle: --max-sweep 0: want at least 1\n"},
		// 99999999999999 MiB overflowed into a negative byte count ("must be positive").
		{[]string{"serve", "--max-upload", "99999999999999"}, exitUsage,
			"neuralstyle: --max-upload 99999999999999: want the largest job request in MiB, from 1 to 1048576 (1 TiB), such as 32\n"},
		{[]string{"serve", "--max-upload", "0"}, exitUsage,
			"neuralstyle: --max-upload 0: want the largest job request in MiB, from 1 to 1048576 (1 TiB), such as 32\n"},
		{[]string{"serve", "extra"}, exitUsage, "neuralstyle: serve takes no arguments, got \"extra\"\n"},
		{[]string{"serve", "--nets", "/nonexistent/nets"}, exitUsage,
			"neuralstyle: --nets /nonexistent/nets: stylist: the trained networks' folder: open /nonexistent/nets: no such file or directory\n"},
	}
	for _, tt := range tests {
		code, out, errOut := neuralstyle(tt.args...)
		if code != tt.code || errOut != tt.want || out != "" {
			t.Errorf("neuralstyle %v: exit %d, stderr %q, stdout %q; want exit %d, stderr %q", tt.args, code, errOut, out, tt.code, tt.want)
		}
	}
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "0.0.0.0": false, "": false, "192.168.1.2": false} {
		if loopback(host) != want {
			t.Errorf("loopback(%q) = %v", host, !want)
		}
	}
}
