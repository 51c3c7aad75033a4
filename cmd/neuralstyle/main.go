// Command neuralstyle reproduces the neural style transfer of the article
// "Convolutional neural networks for artistic style transfer" (Gatys et al.'s method
// on VGG16, as the article's Keras notebook runs it), and the article's road to it.
//
// It drives a TensorFlow SavedModel, written by the Python exporter in savedmodel/,
// through the TensorFlow C API. Run `neuralstyle help` for the commands.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/tfgraph"
)

// Exit codes: 0 success, 1 a failed command, 2 a usage error, 130 interrupted.
const (
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run runs the command line args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	unknown := ""
	app.CommandNotFound = func(c *cli.Context, name string) { unknown = name }
	err := app.Run(args)
	if unknown != "" {
		fmt.Fprintf(stderr, "neuralstyle: no command %q; see 'neuralstyle help'\n", unknown)
		return exitUsage
	}
	if err != nil {
		if errors.Is(err, tfgraph.ErrNoModel) {
			// Most often the default build/model, run from outside the checkout.
			err = fmt.Errorf("%w; give the model's folder with --model, or export one in the checkout with make model (make help lists the others)", err)
		}
		fmt.Fprintf(stderr, "neuralstyle: %v\n", err)
		var ue usageError
		var ie interruptedError
		switch {
		case errors.As(err, &ue):
			return exitUsage
		case errors.As(err, &ie):
			return exitInterrupted
		}
		return exitFailure
	}
	return 0
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:  "neuralstyle",
		Usage: "neural style transfer (Gatys et al. on VGG16) driven from Go through TensorFlow",
		Description: "neuralstyle reproduces the style transfer of the article \"Convolutional neural\n" +
			"networks for artistic style transfer\" exactly as its Keras notebook runs it, with\n" +
			"L-BFGS-B steps identical to SciPy's, on a SavedModel exported by savedmodel/.\n" +
			"Settings can also come from NEURALSTYLE_* environment variables (see each flag).",
		Flags: []cli.Flag{
			// Read before main by tflog.go's C code; here so that the flag parses and shows.
			&cli.BoolFlag{
				Name:    "verbose",
				Usage:   "show TensorFlow's log lines (hidden unless TF_CPP_MIN_LOG_LEVEL is set); before the command name",
				EnvVars: []string{"NEURALSTYLE_VERBOSE"},
			},
		},
		Commands:        commands(),
		HideHelpCommand: false,
		Writer:          stdout,
		ErrWriter:       stderr,
		OnUsageError:    onUsageError,
		ExitErrHandler:  func(*cli.Context, error) {}, // run reports errors and picks the exit code
	}
}

// commands lists the subcommands; each lives in its own file.
func commands() []*cli.Command {
	cmds := []*cli.Command{
		inspectCommand(),
		transferCommand(),
		stylizeCommand(),
		trainCommand(),
		sweepCommand(),
		batchCommand(),
		videoCommand(),
		mnistCommand(),
		classifyCommand(),
		featuresCommand(),
		serveCommand(),
		scoreCommand(),
		versionCommand(),
	}
	for _, c := range cmds {
		c.OnUsageError = onUsageError
	}
	return cmds
}

// onUsageError turns a bad flag into a one-line error and exit code 2, instead of
// urfave/cli's habit of printing the whole help page.
func onUsageError(c *cli.Context, err error, isSubcommand bool) error {
	return usageError{fmt.Errorf("%v (see --help)", err)}
}

// usageError marks a bad command line (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef reports a bad flag value or argument.
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// noArgs is the check of a command that takes no arguments, only flags.
func noArgs(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("%s takes no arguments, got %q", c.Command.Name, c.Args().First())
	}
	return nil
}

// printJSON writes v as indented JSON, the --json output of the commands.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// interruptedError marks a run stopped by Ctrl-C (exit code 130).
type interruptedError struct{ err error }

func (e interruptedError) Error() string { return e.err.Error() }
func (e interruptedError) Unwrap() error { return e.err }
