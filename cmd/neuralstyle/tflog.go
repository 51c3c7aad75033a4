package main

// TensorFlow's log lines reach the user only when asked for (--verbose,
// NEURALSTYLE_VERBOSE, or TF_CPP_MIN_LOG_LEVEL set by the user).
//
// TensorFlow logs through two systems, both writing to the C library's stderr
// stream: its own (tsl), which reads TF_CPP_MIN_LOG_LEVEL, and a private copy of
// Abseil's logging inside libtensorflow_cc that no setting reaches (its MLIR passes
// log "MLIR V1 optimization pass is not enabled" on a session's first run). Some
// lines come while the library initialises, before any Go code runs, and the
// environment cannot be changed in time for them (the C library sets it up again
// after the executable's first code). So a C function in the executable's
// .preinit_array, which glibc runs before any shared library's initialisers, gives
// the stderr stream a filter that drops both systems' lines below the level as each
// write happens (a fatal error's line still reaches the terminal before the abort),
// and an init function sets TF_CPP_MIN_LOG_LEVEL so that TensorFlow skips what it
// can. Go writes its own output to file descriptor 2 directly, unfiltered.

/*
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

// tflog_level is the severity below which log lines are dropped (0: none is);
// tflog_env is what TF_CPP_MIN_LOG_LEVEL is set to, NULL to leave the user's.
static int tflog_level = 0;
static const char *tflog_env = NULL;

static const char *tflog_getenv(char **envp, const char *name) {
	size_t n = strlen(name);
	for (; envp != NULL && *envp != NULL; envp++) {
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=') {
			return *envp + n + 1;
		}
	}
	return NULL;
}

// tflog_parse_bool parses as Go's strconv.ParseBool does: 1 true, 0 false, -1 neither.
static int tflog_parse_bool(const char *s) {
	static const char *yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *no[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (int i = 0; i < 6; i++) {
		if (strcmp(s, yes[i]) == 0) return 1;
		if (strcmp(s, no[i]) == 0) return 0;
	}
	return -1;
}

// tflog_verbose reports whether the global flag --verbose (which precedes the
// command name) or else NEURALSTYLE_VERBOSE asks for TensorFlow's lines.
static int tflog_verbose(int argc, char **argv, char **envp) {
	for (int i = 1; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i] + 1;
		if (*a == '-') a++;
		if (strcmp(a, "verbose") == 0) return 1;
		if (strncmp(a, "verbose=", 8) == 0) return tflog_parse_bool(a + 8) == 1;
	}
	const char *env = tflog_getenv(envp, "NEURALSTYLE_VERBOSE");
	return env != NULL && tflog_parse_bool(env) == 1;
}

// tflog_absl_severity returns the severity (0 info, 1 warning, 2 error, 3 fatal)
// of an Abseil log line ("I0000 00:00:1795895158.198597   10318 file.cc:401] ..."),
// or -1 when line is not one.
static int tflog_absl_severity(const char *line, size_t n) {
	static const char sev[] = "IWEF";
	if (n < 16) return -1;
	const char *s = memchr(sev, line[0], 4);
	if (s == NULL) return -1;
	for (int i = 1; i <= 4; i++) {
		if (line[i] < '0' || line[i] > '9') return -1;
	}
	if (line[5] != ' ' || line[8] != ':' || line[11] != ':') return -1;
	if (memchr(line, ']', n) == NULL) return -1;
	return s - sev;
}

// tflog_tsl_severity returns the severity of a line of TensorFlow's own logging
// ("2026-11-28 19:45:57.239739: I tensorflow/cc/saved_model/reader.cc:83] ..."), or
// -1 when line is not one.
static int tflog_tsl_severity(const char *line, size_t n) {
	static const char sev[] = "IWEF";
	if (n < 30 || line[4] != '-' || line[7] != '-' || line[10] != ' ' || line[13] != ':' || line[16] != ':') return -1;
	for (int i = 0; i < 4; i++) {
		if (line[i] < '0' || line[i] > '9') return -1;
	}
	size_t i = 19;
	if (line[i] == '.') i++;
	while (i < n && line[i] >= '0' && line[i] <= '9') i++;
	if (i + 3 >= n || line[i] != ':' || line[i + 1] != ' ' || line[i + 3] != ' ') return -1;
	const char *s = memchr(sev, line[i + 2], 4);
	return s != NULL ? s - sev : -1;
}

static const char tflog_notice[] = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR";

// tflog_filter copies to out what of buf (one write to stderr, whole messages) is
// kept at level: log lines of a lower severity go, with the lines that continue
// them, and Abseil's notice that it logs to stderr goes from level 1 up. It returns
// the length copied.
size_t tflog_filter(const char *buf, size_t n, int level, char *out) {
	size_t kept = 0;
	int drop = 0;
	while (n > 0) {
		const char *nl = memchr(buf, '\n', n);
		size_t len = nl != NULL ? (size_t)(nl - buf) + 1 : n;
		int sev = tflog_absl_severity(buf, len);
		if (sev < 0) sev = tflog_tsl_severity(buf, len);
		if (sev >= 0) {
			drop = sev < level;
		} else if (len >= sizeof tflog_notice - 1 && memcmp(buf, tflog_notice, sizeof tflog_notice - 1) == 0) {
			drop = level >= 1;
		}
		if (!drop) {
			memcpy(out + kept, buf, len);
			kept += len;
		}
		buf += len;
		n -= len;
	}
	return kept;
}

static ssize_t tflog_write(void *cookie, const char *buf, size_t n) {
	char *out = malloc(n > 0 ? n : 1);
	const char *p = buf;
	size_t left = n;
	if (out != NULL) {
		left = tflog_filter(buf, n, tflog_level, out);
		p = out;
	}
	while (left > 0) {
		ssize_t w = write(STDERR_FILENO, p, left);
		if (w < 0 && errno == EINTR) continue;
		if (w <= 0) {
			free(out);
			return -1;
		}
		p += w;
		left -= w;
	}
	free(out);
	return n;
}

static void tflog_preinit(int argc, char **argv, char **envp) {
	const char *user = tflog_getenv(envp, "TF_CPP_MIN_LOG_LEVEL");
	if (tflog_verbose(argc, argv, envp)) {
		tflog_env = "0";
	} else if (user == NULL || *user == 0) {
		tflog_env = "2";
	}
	tflog_level = atoi(tflog_env != NULL ? tflog_env : user);
	// TensorFlow reads the variable once, at its first log line, which can come from
	// a library's initialiser (oneDNN's notice on some CPUs), before any Go code. A
	// setenv here would not last: the C library's own initialiser, which runs next,
	// points environ back at the process's first array. So the user's entry is
	// replaced in that array (where absent, TensorFlow's default, 0, is the verbose
	// level anyway).
	if (tflog_env != NULL && tflog_level == 0) {
		static char entry[] = "TF_CPP_MIN_LOG_LEVEL=0";
		for (char **e = envp; e != NULL && *e != NULL; e++) {
			if (strncmp(*e, entry, sizeof entry - 2) == 0) {
				*e = entry;
			}
		}
	}
	if (tflog_level <= 0) {
		return;
	}
	cookie_io_functions_t io = {.write = tflog_write};
	FILE *f = fopencookie(NULL, "w", io);
	if (f != NULL) {
		setvbuf(f, NULL, _IONBF, 0);
		stderr = f;
	}
}

__attribute__((section(".preinit_array"), used))
static void (*tflog_preinit_entry)(int, char **, char **) = tflog_preinit;

static const char *tflog_setting(void) { return tflog_env; }
*/
import "C"

import (
	"os"
	"unsafe"
)

func init() {
	if v := C.tflog_setting(); v != nil {
		os.Setenv("TF_CPP_MIN_LOG_LEVEL", C.GoString(v))
	}
}

// filterTFLog is tflog_filter for the tests: what of one write of text to stderr
// goes through at level.
func filterTFLog(text string, level int) string {
	if text == "" {
		return ""
	}
	in := C.CString(text)
	defer C.free(unsafe.Pointer(in))
	out := (*C.char)(C.malloc(C.size_t(len(text))))
	defer C.free(unsafe.Pointer(out))
	n := C.tflog_filter(in, C.size_t(len(text)), C.int(level), out)
	return C.GoStringN(out, C.int(n))
}
