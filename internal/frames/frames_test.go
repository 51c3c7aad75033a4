package frames

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSort(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"frame10.png", "frame2.png", "frame1.png"}, []string{"frame1.png", "frame2.png", "frame10.png"}},
		{[]string{"b.png", "a10.jpg", "a9.jpg"}, []string{"a9.jpg", "a10.jpg", "b.png"}},
		{[]string{"f_010.png", "f_9.png", "f_0010.png"}, []string{"f_9.png", "f_0010.png", "f_010.png"}},
		{[]string{"x2y10", "x2y9", "x10y1"}, []string{"x2y9", "x2y10", "x10y1"}},
		{[]string{"dir/frame3.png", "other/frame20.png", "frame100.png"}, []string{"dir/frame3.png", "other/frame20.png", "frame100.png"}},
	} {
		got := slices.Clone(c.in)
		Sort(got)
		if !slices.Equal(got, c.want) {
			t.Errorf("Sort(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestNumber(t *testing.T) {
	for _, c := range []struct {
		name string
		n    int
		ok   bool
	}{
		{"frame_0042.png", 42, true}, {"clip7-v2_003.jpg", 3, true}, {"12.png", 12, true},
		{"shot3 final.png", 3, true}, {"title.png", 0, false},
	} {
		if n, ok := Number(c.name); n != c.n || ok != c.ok {
			t.Errorf("Number(%q) = %d, %t; want %d, %t", c.name, n, ok, c.n, c.ok)
		}
	}
}

func TestGaps(t *testing.T) {
	frames := []string{"f1.png", "f2.png", "f4.png", "f5.png", "f9.png"}
	var got []string
	for _, g := range Gaps(frames) {
		got = append(got, g.String())
	}
	want := []string{"frame 3 is missing (between f2.png and f4.png)", "frames 6 to 8 are missing (between f5.png and f9.png)"}
	if !slices.Equal(got, want) {
		t.Errorf("Gaps = %q, want %q", got, want)
	}
	if g := Gaps([]string{"a1.png", "title.png", "a5.png"}); g != nil {
		t.Errorf("frames without numbers: gaps %v, want none", g)
	}
}

func TestList(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"frame10.PNG", "frame2.jpg", "notes.txt", ".hidden.png", "frame1.webp"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.png"), 0o755); err != nil {
		t.Fatal(err)
	}
	paths, others, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	if want := []string{"frame1.webp", "frame2.jpg", "frame10.PNG"}; !slices.Equal(names, want) || others != 1 {
		t.Errorf("List = %q, %d others; want %q, 1", names, others, want)
	}
	if _, _, err := List(filepath.Join(dir, "none")); err == nil || !strings.Contains(err.Error(), "none") {
		t.Errorf("missing folder: %v", err)
	}
}
