package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/neuralstyle/neuralstyle/atomicfile"
	"github.com/neuralstyle/neuralstyle/internal/settings"
)

// ClaimFile, in a sweep's folder, records the sweep the folder belongs to
// (see Claim).
const ClaimFile = "spec.json"

const claimFormat = "neuralstyle-sweep-folder/1"

// claim is ClaimFile's content.
type claim struct {
	Format      string `json:"format"`
	Description string `json:"description,omitempty"`
	// Settings are the sweep's fixed settings (name=value) and axes
	// (name=v1,v2,...), as given, for messages.
	Settings []string `json:"settings"`
	// Identity is Settings with each image named by the SHA-256 of its
	// bytes, and without the open axes (ClaimOptions.Open): the same
	// identity is the same sweep. The model is not part of it, so a sweep
	// resumed after its model changed runs its points again.
	Identity []string `json:"identity"`
}

// ClaimOptions adjust Claim.
type ClaimOptions struct {
	// Reuse claims a folder of another sweep for this one.
	Reuse bool
	// Open are axes whose values may change between runs of one sweep:
	// batch's photos (content), where a photo added to the folder is the
	// same batch, one more photo to run.
	Open []string
}

func (plan *Plan) newClaim(open []string) *claim {
	c := &claim{Format: claimFormat, Description: plan.Spec.Description}
	ident := func(v Value) string {
		p, err := lookup(v.Param)
		if err != nil || p.Kind != settings.KindFile {
			return v.Text
		}
		paths := p.Paths(v.Text)
		sums := make([]string, len(paths))
		for i, path := range paths {
			sums[i] = plan.hashes[path]
			if sums[i] == "" {
				sums[i] = path
			}
		}
		return strings.Join(sums, ",")
	}
	for _, v := range plan.Spec.Base {
		c.Settings = append(c.Settings, v.Param+"="+v.Text)
		if !slices.Contains(open, v.Param) { // one photo is fixed, not an axis
			c.Identity = append(c.Identity, v.Param+"="+ident(v))
		}
	}
	for _, a := range plan.Spec.Axes {
		texts, ids := make([]string, len(a.Values)), make([]string, len(a.Values))
		for i, v := range a.Values {
			texts[i], ids[i] = v.Text, ident(v)
		}
		c.Settings = append(c.Settings, a.Param+"="+strings.Join(texts, ","))
		if !slices.Contains(open, a.Param) {
			c.Identity = append(c.Identity, a.Param+"="+strings.Join(ids, ","))
		}
	}
	return c
}

// Claim checks that out holds no other sweep's results before this one
// writes its sheet, GIF and summary there (which would replace the other's,
// beside the other's points), and records plan's sweep in out/ClaimFile. A
// fresh folder, or one of a release that recorded no claim, is claimed; a
// folder of the same sweep resumed. With reuse, a folder of another sweep is
// claimed for this one: its pictures stay.
func Claim(out string, plan *Plan, opt ClaimOptions) error {
	reuse := opt.Reuse
	mine := plan.newClaim(opt.Open)
	path := filepath.Join(out, ClaimFile)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("sweep: %w", err)
	default:
		var old claim
		if err := json.Unmarshal(data, &old); err != nil || old.Format != claimFormat {
			if !reuse {
				why := fmt.Sprintf("format %q", old.Format)
				if err != nil {
					why = err.Error()
				}
				return fmt.Errorf("sweep: %s is not a record of this version's sweeps (%s); give another --out, or --reuse-out to claim the folder for this sweep", path, why)
			}
		} else if !slices.Equal(old.Identity, mine.Identity) {
			if !reuse {
				what := strings.Join(old.Settings, " ")
				if old.Description != "" {
					what = fmt.Sprintf("%q: %s", old.Description, what)
				}
				return fmt.Errorf("sweep: %s holds another sweep (%s); give another --out, or --reuse-out to draw this one's %s, %s and %s there "+
					"(the other's pictures stay; its %s, %s and %s are replaced)",
					out, what, SheetFile, SummaryFile, GIFFile, SheetFile, SummaryFile, GIFFile)
			}
		} else if slices.Equal(old.Settings, mine.Settings) {
			return nil
		}
	}
	data, err = json.MarshalIndent(mine, "", "  ")
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}
