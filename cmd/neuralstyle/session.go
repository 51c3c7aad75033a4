package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/job"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// modelFlag is the SavedModel directory flag shared by the commands that load one.
func modelFlag(defaultDir string) *cli.StringFlag {
	if defaultDir == "build/model" {
		defaultDir = releaseOr("model", defaultDir)
	}
	return &cli.StringFlag{
		Name:    "model",
		Usage:   "SavedModel `DIR` written by savedmodel/ (make model); a release's model/ beside its bin/ by default",
		Value:   defaultDir,
		EnvVars: []string{"NEURALSTYLE_MODEL"},
	}
}

// releaseOr is a release's folder name beside this executable's bin folder
// (releaseDir), or checkout, the checkout's folder, where there is none.
func releaseOr(name, checkout string) string {
	if exe, err := os.Executable(); err == nil {
		if dir := releaseDir(exe, name); dir != "" {
			return dir
		}
	}
	return checkout
}

// releaseDir is the folder name (model, the style model; fastnets, the
// feed-forward networks) of a release (make dist) beside the bin folder of the
// executable exe (links followed), when it holds a SavedModel; "" otherwise,
// when the default is the checkout's build folder.
func releaseDir(exe, name string) string {
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	dir := filepath.Join(filepath.Dir(filepath.Dir(exe)), name)
	if st, err := os.Stat(filepath.Join(dir, "saved_model.pb")); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	return dir
}

// sessionFlags configure TensorFlow's session: threads and device.
func sessionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{
			Name:    "threads",
			Usage:   "TensorFlow intra-op threads (0: one per core)",
			EnvVars: []string{"NEURALSTYLE_THREADS"},
		},
		&cli.IntFlag{
			Name:    "inter-threads",
			Usage:   "TensorFlow inter-op threads (0: TensorFlow's default)",
			EnvVars: []string{"NEURALSTYLE_INTER_THREADS"},
		},
		&cli.StringFlag{
			Name: "device",
			// No Value: help would say (default: "gpu") on a machine without one.
			Usage: "where to run: cpu, gpu (every GPU TensorFlow sees), or GPU indices such as 0 or 0,1; " +
				"default: every GPU TensorFlow sees, else the CPU",
			EnvVars: []string{"NEURALSTYLE_DEVICE"},
		},
		&cli.BoolFlag{
			Name:    "gpu-memory-growth",
			Usage:   "take GPU memory as needed instead of nearly all of it at start",
			EnvVars: []string{"NEURALSTYLE_GPU_MEMORY_GROWTH"},
		},
		&cli.BoolFlag{
			Name: "deterministic",
			Usage: "TensorFlow's op determinism (TF_DETERMINISTIC_OPS=1), so that a GPU repeats its results bit for bit " +
				"(deterministic cuDNN algorithms: slower on a GPU); --deterministic=false lets a GPU pick the fastest",
			Value:   true,
			EnvVars: []string{"NEURALSTYLE_DETERMINISTIC"},
		},
	}
}

// sessionOptions reads sessionFlags. A machine without a GPU runs "gpu" on the CPU.
func sessionOptions(c *cli.Context) (*tfgraph.Options, error) {
	o := &tfgraph.Options{
		IntraOpThreads:  c.Int("threads"),
		InterOpThreads:  c.Int("inter-threads"),
		GPUMemoryGrowth: c.Bool("gpu-memory-growth"),
		Deterministic:   c.Bool("deterministic"),
	}
	if o.IntraOpThreads < 0 || o.InterOpThreads < 0 {
		return nil, usagef("--threads and --inter-threads must be 0 or positive")
	}
	switch d := strings.ToLower(strings.TrimSpace(c.String("device"))); d {
	case "cpu":
		o.DisableGPU = true
	case "gpu", "":
	default:
		d = strings.TrimPrefix(d, "gpu:")
		for _, f := range strings.Split(d, ",") {
			if n, err := strconv.Atoi(f); err != nil || n < 0 {
				return nil, usagef("--device %q: want cpu, gpu, or GPU indices such as 0 or 0,1", c.String("device"))
			}
		}
		o.VisibleGPUs = d
	}
	return o, nil
}

// loadJob loads the models of a batch's, a clip's or a sweep's transfers
// (configs) as the flags and opts (sessionOptions) say, checks them, and says what their precisions
// resolve to unless --quiet. Close the models when done.
func loadJob(c *cli.Context, opts *tfgraph.Options, configs []transfer.Config) (*job.Models, error) {
	models, err := job.Load(&job.Settings{Model: c.String("model"), FastNets: c.String("fastnets"), Session: opts}, configs)
	if err != nil {
		return nil, err
	}
	if c.Bool("quiet") {
		return models, nil
	}
	said, err := models.Precisions(configs)
	if err != nil {
		models.Close()
		return nil, err
	}
	for _, msg := range said {
		fmt.Fprintln(c.App.ErrWriter, msg)
	}
	return models, nil
}

// jobError is the error of a job's run under ctx (interruptContext): an
// interrupt's says that finished work (what) is kept, with exit code 130.
func jobError(c *cli.Context, ctx context.Context, err error, what string) error {
	err = job.Stopped(ctx, c.Context, err, what)
	var ie *job.InterruptedError
	if errors.As(err, &ie) {
		return interruptedError{err}
	}
	return err
}
