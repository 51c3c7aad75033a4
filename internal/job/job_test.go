package job

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/neuralstyle/neuralstyle/internal/transfer"
)

func TestStopped(t *testing.T) {
	failed := errors.New("context canceled")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name        string
		ctx, parent context.Context
		err         error
		interrupted bool
	}{
		{"no error", cancelled, context.Background(), nil, false},
		{"failed", context.Background(), context.Background(), failed, false},
		{"interrupted", cancelled, context.Background(), failed, true},
		{"the caller's end", cancelled, cancelled, failed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Stopped(tc.ctx, tc.parent, tc.err, "frames")
			var ie *InterruptedError
			if errors.As(err, &ie) != tc.interrupted || !errors.Is(err, tc.err) {
				t.Fatalf("Stopped = %v", err)
			}
			if tc.interrupted && !strings.Contains(err.Error(), "finished frames are kept, rerun to resume") {
				t.Errorf("message %q", err)
			}
		})
	}
}

// TestCheck: a job that starts stylized needs the feed-forward networks,
// which Check reads before any model loads; others need none.
func TestCheck(t *testing.T) {
	s := &Settings{FastNets: t.TempDir()}
	plain := transfer.DefaultConfig()
	if err := s.Check([]transfer.Config{plain}); err != nil {
		t.Errorf("no stylized start: %v", err)
	}
	stylized := plain
	stylized.Init = transfer.InitStylized
	if err := s.Check([]transfer.Config{plain, stylized}); err == nil {
		t.Error("a stylized start without networks: no error")
	}
}
