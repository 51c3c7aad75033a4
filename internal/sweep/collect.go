package sweep

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// The collected files in the output folder.
const (
	SheetFile   = "sheet.png"
	GIFFile     = "sweep.gif"
	SummaryFile = "summary.csv"
)

// CollectOptions size the contact sheet and time the GIF.
type CollectOptions struct {
	Thumb    int           // longest side of a thumbnail (never enlarged); 0: 256
	GIFDelay time.Duration // each frame's time; 0: 500ms
}

// Collection says what Collect found.
type Collection struct {
	Finished, Total int // points
}

// Collect writes the contact sheet, the GIF and the summary of the points
// finished in out (by any shard); a point not finished is a grey box on the
// sheet, absent from the GIF and a row without results in the summary.
func Collect(plan *Plan, out string, opts CollectOptions) (*Collection, error) {
	if opts.Thumb <= 0 {
		opts.Thumb = 256
	}
	if opts.GIFDelay <= 0 {
		opts.GIFDelay = 500 * time.Millisecond
	}
	images := make([]*preprocess.Image, len(plan.Points))
	records := make([]*Record, len(plan.Points))
	byKey := map[string]int{}
	col := &Collection{Total: len(plan.Points)}
	for i, p := range plan.Points {
		if j, ok := byKey[p.Key]; ok {
			images[i], records[i] = images[j], records[j]
		} else {
			byKey[p.Key] = i
			ok, err := finished(out, p.Key)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			if records[i], images[i], err = readPoint(out, p.Key); err != nil {
				return nil, err
			}
		}
		if records[i] != nil {
			col.Finished++
		}
	}
	if col.Finished == 0 {
		return col, fmt.Errorf("sweep: no finished points in %s", out)
	}
	l := sheetLayout(plan, opts.Thumb)
	sheet, err := renderSheet(l, images)
	if err != nil {
		return nil, err
	}
	frames, err := gifFrames(l, images)
	if err != nil {
		return nil, err
	}
	gifOpts := &imagefile.GIFOptions{Delay: opts.GIFDelay}
	err = writeTogether(out, []stagedOutput{
		{SheetFile, func(w io.Writer) error { return imagefile.EncodePNG(w, sheet) }},
		{GIFFile, func(w io.Writer) error { return imagefile.EncodeGIF(w, frames, gifOpts) }},
		{SummaryFile, func(w io.Writer) error { return writeSummary(w, plan, records) }},
	})
	if err != nil {
		return nil, err
	}
	return col, nil
}

// stagedOutput is one file of writeTogether.
type stagedOutput struct {
	name  string
	write func(io.Writer) error
}

// writeTogether writes every file to a temporary file in dir, flushed to disk,
// and renames them into place only when all are written, so a failure (a full
// disk on the GIF) leaves the sheet, GIF and summary of the last collection
// together rather than a new sheet beside an old summary.
func writeTogether(dir string, files []stagedOutput) (err error) {
	var tmps []string
	defer func() {
		if err != nil {
			for _, t := range tmps {
				os.Remove(t)
			}
		}
	}()
	for _, f := range files {
		tmp, err := os.CreateTemp(dir, "."+f.name+".tmp-*")
		if err != nil {
			return fmt.Errorf("sweep: write %s: %w", filepath.Join(dir, f.name), err)
		}
		tmps = append(tmps, tmp.Name())
		bw := bufio.NewWriterSize(tmp, 1<<16)
		err = f.write(bw)
		if err == nil {
			err = bw.Flush()
		}
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(tmp.Name(), 0o644)
		}
		if err != nil {
			return fmt.Errorf("sweep: write %s: %w", filepath.Join(dir, f.name), err)
		}
	}
	for i, f := range files {
		if err := os.Rename(tmps[i], filepath.Join(dir, f.name)); err != nil {
			return fmt.Errorf("sweep: write %s: %w", filepath.Join(dir, f.name), err)
		}
	}
	return nil
}

// summaryHeader is the summary's columns; the axes' parameters go after key.
var summaryHeader = []string{"point", "key", "finished", "loss", "content_loss", "style_loss", "tv_loss", "evaluations", "seconds", "image"}

// writeSummary writes one CSV row per point: its index, key, axis values, and
// for a finished point the final loss, each weighted term at the final image,
// the evaluations and the seconds the transfer took.
func writeSummary(w io.Writer, plan *Plan, records []*Record) error {
	cw := csv.NewWriter(w)
	header := append([]string{}, summaryHeader[:2]...)
	for _, a := range plan.Spec.Axes {
		header = append(header, a.Param)
	}
	header = append(header, summaryHeader[2:]...)
	if err := cw.Write(header); err != nil {
		return err
	}
	for i, p := range plan.Points {
		row := []string{strconv.Itoa(p.Index), p.Key}
		for _, v := range p.Values {
			row = append(row, v.Text)
		}
		if r := records[i]; r != nil {
			row = append(row, "true",
				strconv.FormatFloat(r.Loss, 'g', -1, 64),
				strconv.FormatFloat(float64(r.Content), 'g', -1, 32),
				strconv.FormatFloat(float64(r.Style), 'g', -1, 32),
				strconv.FormatFloat(float64(r.TV), 'g', -1, 32),
				strconv.Itoa(r.Evaluations),
				strconv.FormatFloat(r.Seconds, 'f', 3, 64),
				filepath.ToSlash(filepath.Join(pointsDir, r.Image)))
		} else {
			row = append(row, "false", "", "", "", "", "", "", "")
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
