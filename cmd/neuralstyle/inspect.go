package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/neuralstyle/neuralstyle/internal/memory"
	"github.com/neuralstyle/neuralstyle/tfgraph"
)

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "show a SavedModel's signatures, its metadata, the TensorFlow version and the devices",
		UsageText: "neuralstyle inspect [--model DIR] [--json] [--device cpu|gpu|N]",
		Description: "inspect prints each signature's inputs and outputs (name, dtype, shape; ? is a\n" +
			"dimension fixed only at run time), the metadata the exporter recorded (weights source\n" +
			"and checksum), the TensorFlow version and the devices a session sees. It checks every\n" +
			"variable's bytes against the checksums TensorFlow wrote, without loading the weights.",
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

	metadataText []byte // the record as written, for its key order
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
	meta, metaText, err := readMetadata(dir)
	if err != nil {
		return err
	}
	// Inspect checks the variables without restoring them, which keeps
	// inspect under 300 MB resident (docs/speed.md).
	found, err := tfgraph.Inspect(dir, opts)
	if err != nil {
		return err
	}
	in := inspection{Model: dir, TensorFlow: tfgraph.Version(), Metadata: meta, Devices: found.Devices, Signatures: found.Signatures, metadataText: metaText}
	if c.Bool("json") {
		return printJSON(c.App.Writer, in)
	}
	return printInspection(c.App.Writer, in)
}

// readMetadata reads the exporter's record, decoded and as written; a model
// without one (not written by savedmodel/) still inspects.
func readMetadata(dir string) (map[string]json.RawMessage, []byte, error) {
	var meta map[string]json.RawMessage
	found, err := decodeMetadata(dir, &meta)
	if err != nil || !found {
		return nil, nil, err
	}
	text, err := json.Marshal(meta)
	if raw, rerr := os.ReadFile(filepath.Join(dir, metadataFile)); rerr == nil {
		text = raw
	}
	return meta, text, err
}

// printInspection prints in for people: a table per part, the metadata's nested
// records indented under their key and its lists of records as tables.
func printInspection(w io.Writer, in inspection) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Model:\t%s\n", in.Model)
	fmt.Fprintf(tw, "TensorFlow:\t%s\n", in.TensorFlow)
	if len(in.Metadata) > 0 {
		meta, err := parseJSONTree(in.metadataText)
		if err != nil {
			return fmt.Errorf("%s: %v", filepath.Join(in.Model, metadataFile), err)
		}
		fmt.Fprintf(tw, "\nMetadata (%s):\n", metadataFile)
		printJSONObject(tw, "  ", meta, len(in.Signatures) > 0)
	}
	fmt.Fprintln(tw, "\nDevices:")
	fmt.Fprintln(tw, "  name\ttype\tmemory")
	for _, d := range in.Devices {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", d.Name, d.Type, deviceMemory(d.MemoryBytes))
	}
	fmt.Fprintln(tw, "\nSignatures:")
	for _, s := range in.Signatures {
		fmt.Fprintf(tw, "  %s\n", s.Name)
		for _, t := range s.Inputs {
			fmt.Fprintf(tw, "    in\t%s\t%s\t%s\n", t.Name, t.DType, tfgraph.FormatShape(t.Shape))
		}
		for _, t := range s.Outputs {
			fmt.Fprintf(tw, "    out\t%s\t%s\t%s\n", t.Name, t.DType, tfgraph.FormatShape(t.Shape))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// Empty last cells leave padding at the ends of lines.
	var out strings.Builder
	for line := range strings.Lines(buf.String()) {
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// jsonTree is a decoded JSON value that keeps its objects' key order.
type jsonTree struct {
	scalar string      // a string, number, true, false or null, as text
	keys   []string    // an object's keys, in order
	fields []*jsonTree // an object's values, by keys
	items  []*jsonTree // an array's values
	object bool
	array  bool
}

func parseJSONTree(text []byte) (*jsonTree, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	return decodeJSONTree(dec)
}

func decodeJSONTree(dec *json.Decoder) (*jsonTree, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok := tok.(type) {
	case json.Delim:
		t := &jsonTree{object: tok == '{', array: tok == '['}
		for dec.More() {
			if t.object {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				t.keys = append(t.keys, k.(string))
			}
			v, err := decodeJSONTree(dec)
			if err != nil {
				return nil, err
			}
			if t.object {
				t.fields = append(t.fields, v)
			} else {
				t.items = append(t.items, v)
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return t, nil
	case nil:
		return &jsonTree{scalar: "null"}, nil
	default:
		return &jsonTree{scalar: fmt.Sprint(tok)}, nil
	}
}

// isScalar reports whether t prints on one line: a scalar, or a list of scalars.
func (t *jsonTree) isScalar() bool {
	if t.object {
		return false
	}
	for _, it := range t.items {
		if it.object || it.array {
			return false
		}
	}
	return true
}

// oneLine is t on one line: a scalar as it is, a list of scalars joined by commas,
// anything else as compact JSON.
func (t *jsonTree) oneLine() string {
	switch {
	case t.array && t.isScalar():
		parts := make([]string, len(t.items))
		for i, it := range t.items {
			parts[i] = it.scalar
		}
		return strings.Join(parts, ", ")
	case t.object || t.array:
		var b strings.Builder
		t.compact(&b)
		return b.String()
	}
	return t.scalar
}

func (t *jsonTree) compact(b *strings.Builder) {
	switch {
	case t.object:
		b.WriteByte('{')
		for i, k := range t.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			q, _ := json.Marshal(k)
			b.Write(q)
			b.WriteByte(':')
			t.fields[i].compact(b)
		}
		b.WriteByte('}')
	case t.array:
		b.WriteByte('[')
		for i, it := range t.items {
			if i > 0 {
				b.WriteByte(',')
			}
			it.compact(b)
		}
		b.WriteByte(']')
	default:
		if t.scalar == "" || t.scalar != "null" && t.scalar != "true" && t.scalar != "false" && !json.Valid([]byte(t.scalar)) {
			q, _ := json.Marshal(t.scalar)
			b.Write(q)
		} else {
			b.WriteString(t.scalar)
		}
	}
}

// printJSONObject prints the fields of object t at indent: first those that fit on
// a line, as one aligned table, then each record under its key and each list of
// records as a table with a column per key. skipSignatures leaves out the
// signatures that the model's own listing shows.
func printJSONObject(w *tabwriter.Writer, indent string, t *jsonTree, skipSignatures bool) {
	for i, k := range t.keys {
		switch {
		case k == "signatures" && skipSignatures:
			fmt.Fprintf(w, "%s%s\t(as loaded: see Signatures)\n", indent, k)
		case t.fields[i].isScalar():
			fmt.Fprintf(w, "%s%s\t%s\n", indent, k, t.fields[i].oneLine())
		}
	}
	for i, k := range t.keys {
		if f := t.fields[i]; !f.isScalar() && !(k == "signatures" && skipSignatures) {
			w.Flush() // a table of its own
			printJSONRecords(w, indent, k, f)
		}
	}
	w.Flush()
}

// printJSONRecords prints key and its value t, an object or a list holding some,
// at indent.
func printJSONRecords(w *tabwriter.Writer, indent, key string, t *jsonTree) {
	switch {
	case t.object:
		fmt.Fprintf(w, "%s%s:\n", indent, key)
		printJSONObject(w, indent+"  ", t, false)
	default:
		var cols []string
		for _, it := range t.items {
			for _, k := range it.keys {
				if !slices.Contains(cols, k) {
					cols = append(cols, k)
				}
			}
		}
		fmt.Fprintf(w, "%s%s (%d):\n", indent, key, len(t.items))
		if len(cols) > 0 {
			fmt.Fprintf(w, "%s  %s\n", indent, strings.Join(cols, "\t"))
		}
		for _, it := range t.items {
			if !it.object {
				fmt.Fprintf(w, "%s  %s\n", indent, it.oneLine())
				continue
			}
			cells := make([]string, len(cols))
			for i, c := range cols {
				if j := slices.Index(it.keys, c); j >= 0 {
					cells[i] = it.fields[j].oneLine()
				}
			}
			fmt.Fprintf(w, "%s  %s\n", indent, strings.Join(cells, "\t"))
		}
	}
}

// deviceMemory is a device's memory, or "" when TensorFlow gives none.
func deviceMemory(b int64) string {
	if b <= 0 {
		return ""
	}
	return memory.Format(uint64(b))
}
