package main

import (
	"encoding/json"
	"testing"
)

// TestLogLineNames: a log line's terms are written with the sweep store's
// names, and a line of an older log, with content, style and tv, still reads.
func TestLogLineNames(t *testing.T) {
	want := logLine{Iteration: 2, Loss: 6, Content: 1, Style: 2, TV: 3, Evaluations: 20}
	data, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"content_loss", "style_loss", "tv_loss"} {
		if _, ok := fields[name]; !ok {
			t.Errorf("%s has no %s", data, name)
		}
	}
	for _, tc := range []struct{ name, line string }{
		{"new", string(data)},
		{"old", `{"iteration":2,"loss":6,"content":1,"style":2,"tv":3,"evaluations":20}`},
	} {
		var got logLine
		if err := json.Unmarshal([]byte(tc.line), &got); err != nil {
			t.Fatal(err)
		}
		if got.Iteration != want.Iteration || got.Loss != want.Loss || got.Content != want.Content ||
			got.Style != want.Style || got.TV != want.TV || got.Evaluations != want.Evaluations {
			t.Errorf("%s line %s read as %+v", tc.name, tc.line, got)
		}
	}
}
