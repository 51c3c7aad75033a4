package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/neuralstyle/neuralstyle/atomicfile"
	"github.com/neuralstyle/neuralstyle/internal/score"
	"github.com/neuralstyle/neuralstyle/internal/settings"
	"github.com/neuralstyle/neuralstyle/internal/transfer"
	"github.com/neuralstyle/neuralstyle/preprocess"
	"github.com/neuralstyle/neuralstyle/preprocess/imagefile"
)

// recordFormat names the layout of a point's record.
const recordFormat = "neuralstyle-sweep-record/1"

// Record is what a finished point leaves in points/KEY.json.
type Record struct {
	Format string `json:"format"`
	Key    string `json:"key"`
	// Settings are every parameter's value, in canonical text.
	Settings      map[string]string `json:"settings"`
	ContentSHA256 string            `json:"content_sha256"`
	StyleSHA256   string            `json:"style_sha256"`
	Model         string            `json:"model_sha256"`

	// Loss is the value the last L-BFGS-B call returned (what the notebook
	// prints); Content, Style and TV are the weighted terms at the final image.
	Loss        float64           `json:"loss"`
	Content     float32           `json:"content_loss"`
	Style       float32           `json:"style_loss"`
	TV          float32           `json:"tv_loss"`
	Evaluations int               `json:"evaluations"`
	Seconds     float64           `json:"seconds"`
	Iterations  []IterationRecord `json:"iterations"`
	Image       string            `json:"image"` // file name beside the record
	// Score is the image's score (Options.ScoreSize); nil when not scored.
	Score *score.Score `json:"score,omitempty"`
}

// IterationRecord is one outer iteration of a point's run.
type IterationRecord struct {
	Loss        float64 `json:"loss"`
	Content     float32 `json:"content_loss"`
	Style       float32 `json:"style_loss"`
	TV          float32 `json:"tv_loss"`
	Evaluations int     `json:"evaluations"`
	Seconds     float64 `json:"seconds"`
}

const pointsDir = "points"

func pointPath(out, key, ext string) string {
	return filepath.Join(out, pointsDir, key+ext)
}

// PointImage is the path of a point's image in the output folder out.
func PointImage(out, key string) string { return pointPath(out, key, ".png") }

// finished reports whether the point's completion marker exists.
func finished(out, key string) (bool, error) {
	_, err := os.Stat(pointPath(out, key, ".done"))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("sweep: %w", err)
}

// writePoint writes the image, then the record, then the marker, each
// atomically, so the marker exists only once both others are complete.
func writePoint(out string, rec *Record, img *preprocess.Image) error {
	if err := os.MkdirAll(filepath.Join(out, pointsDir), 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	rec.Image = rec.Key + ".png"
	if err := imagefile.WritePNG(pointPath(out, rec.Key, ".png"), img); err != nil {
		return fmt.Errorf("sweep: point %s: %w", rec.Key, err)
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("sweep: point %s: %w", rec.Key, err)
	}
	if err := writeFile(pointPath(out, rec.Key, ".json"), append(data, '\n')); err != nil {
		return err
	}
	return writeFile(pointPath(out, rec.Key, ".done"), []byte(rec.Key+"\n"))
}

// readPoint reads a finished point's record and image.
func readPoint(out, key string) (*Record, *preprocess.Image, error) {
	rec, err := ReadRecord(out, key)
	if err != nil {
		return nil, nil, err
	}
	img, err := imagefile.ReadFile(pointPath(out, key, ".png"), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("sweep: finished point %s: %w", key, err)
	}
	return rec, img, nil
}

// ReadRecord reads the record of a point in the output folder out; a point
// not finished yet has none (an error wrapping fs.ErrNotExist).
func ReadRecord(out, key string) (*Record, error) {
	if ok, err := finished(out, key); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("sweep: point %s is not finished: %w", key, fs.ErrNotExist)
	}
	data, err := os.ReadFile(pointPath(out, key, ".json"))
	if err != nil {
		return nil, fmt.Errorf("sweep: finished point %s: %w", key, err)
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("sweep: %s: %w", pointPath(out, key, ".json"), err)
	}
	if rec.Format != recordFormat || rec.Key != key {
		return nil, fmt.Errorf("sweep: %s: not the record of point %s", pointPath(out, key, ".json"), key)
	}
	return &rec, nil
}

func writeFile(path string, data []byte) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return nil
}

// newRecord fills a record from a finished run.
func (plan *Plan) newRecord(p *Point, res *transfer.Result, evaluations int, seconds float64) *Record {
	rec := &Record{
		Format: recordFormat, Key: p.Key, Settings: map[string]string{},
		ContentSHA256: plan.hashes[p.Config.Content], StyleSHA256: plan.fileHashes("style", &p.Config),
		Model: plan.ModelID, Evaluations: evaluations, Seconds: seconds,
	}
	for _, f := range settings.Record(&p.Config) {
		rec.Settings[f.Name] = f.Value
	}
	for _, it := range res.Iterations {
		rec.Iterations = append(rec.Iterations, IterationRecord{
			Loss: it.Loss, Content: it.Terms.Content, Style: it.Terms.Style, TV: it.Terms.TV,
			Evaluations: it.Evaluations, Seconds: it.Elapsed.Seconds(),
		})
	}
	if n := len(res.Iterations); n > 0 {
		last := res.Iterations[n-1]
		rec.Loss, rec.Content, rec.Style, rec.TV = last.Loss, last.Terms.Content, last.Terms.Style, last.Terms.TV
	}
	return rec
}

// Status counts the sweep's points finished in out.
func (plan *Plan) Status(out string) (finishedPoints, total int, err error) {
	for _, p := range plan.Shard(Shard{}) {
		ok, err := finished(out, p.Key)
		if err != nil {
			return 0, 0, err
		}
		if ok {
			finishedPoints++
		}
		total++
	}
	return finishedPoints, total, nil
}

// Pending returns the points of shard s not finished in out.
func (plan *Plan) Pending(out string, s Shard) ([]Point, error) {
	var pending []Point
	for _, p := range plan.Shard(s) {
		ok, err := finished(out, p.Key)
		if err != nil {
			return nil, err
		}
		if !ok {
			pending = append(pending, p)
		}
	}
	return pending, nil
}
