package sweep

import (
	"strings"
	"testing"
	"time"
)

// TestShardOf holds ShardOf to Shard's assignment, and checks that it costs what
// the points cost however many shards there are: listing a shard of 10^12 took
// minutes when each shard was computed in turn.
func TestShardOf(t *testing.T) {
	spec, err := Parse(strings.NewReader(tinySweep), "tiny.json", testdata)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(spec, "model-id")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 3, 4, 5, 9} {
		got := plan.ShardOf(n)
		for i := 1; i <= n; i++ {
			for _, p := range plan.Shard(Shard{i, n}) {
				if got[p.Key] != i {
					t.Errorf("%d shards: point %d is in shard %d, ShardOf says %d", n, p.Index, i, got[p.Key])
				}
			}
		}
		if len(got) != 4 {
			t.Errorf("%d shards: ShardOf has %d keys, want 4", n, len(got))
		}
	}
	// Four points: generous for four map entries, far below the minutes that a
	// loop over 10^12 shards takes.
	start := time.Now()
	got := plan.ShardOf(1_000_000_000_000)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("ShardOf(10^12) took %v", d)
	}
	for k, s := range got {
		if s < 1 || s > 4 {
			t.Errorf("ShardOf(10^12)[%s] = %d, want 1 to 4 (one point per shard)", k, s)
		}
	}
}
