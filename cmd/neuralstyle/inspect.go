package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/tfgraph"
)

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show a SavedModel's signatures, its metadata, the TensorFlow version and the devices",
		UsageText: "neuralstyle inspect [--model DIR] [--json] [--device cpu|gpu|N]",
		Description: "inspect loads the model as transfer would and prints each signature's inputs and\n" +
			"outputs (name, dtype, shape; ? is a dimension fixed only at run time), the metadata\n" +
			"the exporter recorded (weights source and checksum), the TensorFlow version and\n" +
			"the devices the session sees.",
		Flags: append([]cli.Flag{
			modelFlag("build/model"),
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object instead of text"},
		}, sessionFlags()...),
		Action: runInspect,
	}
}

type inspection struct {
	Model      string                     `json:"model"`
	TensorFlow string                     `json:"tensorflow"`
	Metadata   map[string]json.RawMessage `json:"metadata,omitempty"`
	Devices    []tfgraph.Device           `json:"devices"`
	Signatures []tfgraph.Signature        `json:"signatures"`
}

func runInspect(c *cli.Context) error {
	if err := noArgs(c); err != nil {
		return err
	}
	opts, err := sessionOptions(c)
	if err != nil {
		return err
	}
	dir := c.String("model")
	meta, err := readMetadata(dir)
	if err != nil {
		return err
	}
	m, err := tfgraph.Load(dir, opts)
	if err != nil {
		return err
	}
	defer m.Close()
	devices, err := m.Devices()
	if err != nil {
		return err
	}
	in := inspection{Model: dir, TensorFlow: tfgraph.Version(), Metadata: meta, Devices: devices, Signatures: m.Signatures()}
	if c.Bool("json") {
		return printJSON(c.App.Writer, in)
	}
	return printInspection(c.App.Writer, in)
}

// readMetadata reads the exporter's record; a model without one (not written by
// savedmodel/) still inspects.
func readMetadata(dir string) (map[string]json.RawMessage, error) {
	var meta map[string]json.RawMessage
	if _, err := decodeMetadata(dir, &meta); err != nil {
		return nil, err
	}
	return meta, nil
}

func printInspection(w io.Writer, in inspection) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Model:\t%s\n", in.Model)
	fmt.Fprintf(tw, "TensorFlow:\t%s\n", in.TensorFlow)
	if len(in.Metadata) > 0 {
		fmt.Fprintf(tw, "Metadata:\t(%s)\n", metadataFile)
		keys := make([]string, 0, len(in.Metadata))
		for k := range in.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(tw, "  %s\t%s\n", k, metadataValue(in.Metadata[k]))
		}
	}
	fmt.Fprintln(tw, "Devices:")
	for _, d := range in.Devices {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", d.Name, d.Type, memory(d.MemoryBytes))
	}
	fmt.Fprintln(tw, "Signatures:")
	for _, s := range in.Signatures {
		fmt.Fprintf(tw, "  %s\n", s.Name)
		for _, t := range s.Inputs {
			fmt.Fprintf(tw, "    in\t%s\t%s\t%s\n", t.Name, t.DType, shape(t.Shape))
		}
		for _, t := range s.Outputs {
			fmt.Fprintf(tw, "    out\t%s\t%s\t%s\n", t.Name, t.DType, shape(t.Shape))
		}
	}
	return tw.Flush()
}

func metadataValue(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	compact, _ := json.Marshal(v)
	return string(compact)
}

func shape(s []int64) string {
	if s == nil {
		return "(unknown rank)"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func memory(b int64) string {
	switch {
	case b <= 0:
		return ""
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	default:
		return fmt.Sprintf("%d MiB", b>>20)
	}
}
