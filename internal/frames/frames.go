// Package frames lists the images of a folder in natural order (frame2 before
// frame10), as a batch of photos or a clip's frames, and finds the frame numbers
// missing from a numbered sequence.
package frames

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Extensions are the image file types a folder listing takes, lower case; the
// decoder reads each of them.
var Extensions = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}

// IsImage reports whether name has one of Extensions, in any case.
func IsImage(name string) bool {
	return slices.Contains(Extensions, strings.ToLower(filepath.Ext(name)))
}

// List returns the paths of the image files in dir (by extension; hidden files
// and subfolders left out) in natural order, and how many other files it left
// out.
func List(dir string) (paths []string, others int, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("frames: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || e.IsDir() {
			continue
		}
		if !IsImage(name) {
			others++
			continue
		}
		paths = append(paths, filepath.Join(dir, name))
	}
	Sort(paths)
	return paths, others, nil
}

// Sort orders paths naturally by base name (see Compare).
func Sort(paths []string) {
	slices.SortStableFunc(paths, func(a, b string) int { return Compare(filepath.Base(a), filepath.Base(b)) })
}

// Compare orders names naturally: runs of digits compare by their value, the
// rest byte by byte, so "frame2" < "frame10" and "img9.png" < "img10.png".
// Equal values with different zero padding ("1" and "01") fall back to the
// bytes, so the order is total.
func Compare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if isDigit(a[i]) && isDigit(b[j]) {
			ei, ej := digitsEnd(a, i), digitsEnd(b, j)
			na, nb := strings.TrimLeft(a[i:ei], "0"), strings.TrimLeft(b[j:ej], "0")
			if c := len(na) - len(nb); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			i, j = ei, ej
			continue
		}
		if a[i] != b[j] {
			return int(a[i]) - int(b[j])
		}
		i++
		j++
	}
	if c := (len(a) - i) - (len(b) - j); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digitsEnd(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

// Number is the frame number of a file name: the last run of digits in its name
// without the extension; ok is false when it has none.
func Number(path string) (n int, ok bool) {
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	end := len(stem)
	for end > 0 && !isDigit(stem[end-1]) {
		end--
	}
	start := end
	for start > 0 && isDigit(stem[start-1]) {
		start--
	}
	if start == end {
		return 0, false
	}
	n, err := strconv.Atoi(stem[start:end])
	return n, err == nil
}

// Gap is a run of frame numbers missing between two frames.
type Gap struct {
	First, Last   int    // the missing numbers, inclusive
	Before, After string // the frames either side
}

func (g Gap) String() string {
	what := fmt.Sprintf("frame %d is missing", g.First)
	if g.Last > g.First {
		what = fmt.Sprintf("frames %d to %d are missing", g.First, g.Last)
	}
	return fmt.Sprintf("%s (between %s and %s)", what, filepath.Base(g.Before), filepath.Base(g.After))
}

// Gaps returns the numbers missing from a sequence of frames in order: each pair
// of neighbours whose numbers differ by more than one. Frames without a number
// are no sequence, and give no gaps.
func Gaps(paths []string) []Gap {
	var gaps []Gap
	for i := 1; i < len(paths); i++ {
		a, okA := Number(paths[i-1])
		b, okB := Number(paths[i])
		if !okA || !okB {
			return nil
		}
		if b > a+1 {
			gaps = append(gaps, Gap{First: a + 1, Last: b - 1, Before: paths[i-1], After: paths[i]})
		}
	}
	return gaps
}
