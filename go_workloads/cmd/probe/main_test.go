package main

import (
	"bytes"
	"encoding/json"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

func TestBuckets(t *testing.T) {
	prevHigh := uint64(0)
	for i := 0; i < 4+61*4; i++ {
		lo, hi := bucketBounds(i)
		if lo != prevHigh || hi <= lo {
			t.Fatalf("bucket %d = [%d,%d), previous high %d", i, lo, hi, prevHigh)
		}
		if i >= 8 && float64(hi-lo)/float64(lo) > 0.25 {
			t.Fatalf("bucket %d = [%d,%d) wider than 25%%", i, lo, hi)
		}
		for _, v := range []uint64{lo, hi - 1, (lo + hi) / 2} {
			if got := bucketIndex(int64(v)); got != i {
				t.Fatalf("bucketIndex(%d) = %d, want %d", v, got, i)
			}
		}
		prevHigh = hi
	}
	if got := bucketIndex(math.MaxInt64); got != 4+60*4+3 {
		t.Fatalf("bucketIndex(MaxInt64) = %d", got)
	}
	if lo, hi := bucketBounds(bucketIndex(int64(time.Second))); lo > uint64(time.Second) || hi <= uint64(time.Second) {
		t.Fatalf("1s in [%d,%d)", lo, hi)
	}
	if bucketIndex(-5) != 0 {
		t.Fatal("negative values must land in bucket 0")
	}
}

func TestHistogramDeltaJSON(t *testing.T) {
	inf := math.Inf(1)
	before := &metrics.Float64Histogram{Buckets: []float64{-inf, 0, 1e-6, inf}, Counts: []uint64{0, 4, 1}}
	after := &metrics.Float64Histogram{Buckets: before.Buckets, Counts: []uint64{1, 4, 3}}
	b, err := json.Marshal(histogramDelta(before, after))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"buckets":[{"low":null,"high":0,"count":1},{"low":0.000001,"high":null,"count":2}]}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestPercentiles(t *testing.T) {
	s := make([]int64, 1000)
	for i := range s {
		s[i] = int64(1000 - i)
	}
	got := percentiles(s)
	if (got != Percentiles{P50: 500, P99: 990, P999: 999, Max: 1000}) {
		t.Fatalf("percentiles = %+v", got)
	}
}

// TestRunCreators runs a short window with every creator and checks that the
// counts add up and the JSON has the schema 2 keys.
func TestRunCreators(t *testing.T) {
	for _, creator := range creators {
		t.Run(creator, func(t *testing.T) {
			if creator == "http" && !httpBuilt {
				t.Skip("built without -tags stwbench_http (go test -tags stwbench_http ./cmd/probe)")
			}
			base := runtime.NumGoroutine()
			interval := 50 * time.Microsecond
			if creator == "http" {
				interval = time.Millisecond
			}
			res := run(config{duration: 100 * time.Millisecond, interval: interval, allocGs: 1, liveMiB: 1, creator: creator, inflight: 64, warmup: 10 * time.Millisecond, preGC: true}, nil)
			t.Logf("attempted %d dropped %d spawned %d measured %d failed %d p50 %d p99 %d gc_cycles %d gc_cost %v",
				res.Attempted, res.Dropped, res.Spawned, res.Measured, res.Failed, res.Percentiles.P50, res.Percentiles.P99, res.GCCycles, res.GCCost)
			if res.Schema != 2 || res.Creator != creator || res.Measured == 0 {
				t.Fatalf("schema %d creator %q measured %d", res.Schema, res.Creator, res.Measured)
			}
			if creator == "http" {
				if res.Failed != 0 || res.Measured+res.Dropped != res.Attempted || res.Spawned != res.Attempted-res.Dropped {
					t.Fatalf("attempted %d = measured %d + dropped %d? failed %d, spawned %d", res.Attempted, res.Measured, res.Dropped, res.Failed, res.Spawned)
				}
			} else if res.Measured != res.Spawned || res.Attempted != res.Spawned || res.Dropped != 0 || res.Failed != 0 {
				t.Fatalf("attempted %d spawned %d measured %d dropped %d failed %d", res.Attempted, res.Spawned, res.Measured, res.Dropped, res.Failed)
			}
			var sum uint64
			for _, b := range res.StartLatencyNs.Buckets {
				if b.Count == 0 {
					t.Fatal("empty bucket written")
				}
				sum += b.Count
			}
			if sum != uint64(res.Measured) {
				t.Fatalf("histogram counts sum to %d, measured %d", sum, res.Measured)
			}
			if res.Percentiles.P50 <= 0 || res.Percentiles.Max < res.Percentiles.P99 {
				t.Fatalf("percentiles %+v", res.Percentiles)
			}
			if _, ok := res.RuntimeMetrics["/sched/latencies:seconds"]; !ok {
				t.Fatal("missing /sched/latencies:seconds")
			}
			if _, ok := res.GCCost["gc-cycles/s"]; !ok {
				t.Fatalf("gc_cost lacks gc-cycles/s: %v", res.GCCost)
			}
			b, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{`"schema":2`, `"go_version":`, `"gomaxprocs":`, `"creator":"` + creator + `"`, `"duration_s":`, `"interval_ns":`, `"attempted":`, `"dropped":`, `"spawned":`, `"measured":`, `"failed":`, `"gc_cycles":`, `"start_latency_ns":{"buckets":[`, `"percentiles_ns":{"p50":`, `"gc_cost":{`, `"runtime_metrics":{`} {
				if !strings.Contains(string(b), key) {
					t.Errorf("JSON lacks %s", key)
				}
			}
			waitGoroutines(t, base)
		})
	}
}

// waitGoroutines fails t if run left goroutines behind (net/http's take a
// moment to exit after Shutdown).
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, want <= %d\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSpawnLoopPacing(t *testing.T) {
	start := time.Now()
	var times []time.Time
	n := spawnLoop(start, start.Add(20*time.Millisecond), 5*time.Millisecond, 100, waiter("sleep"), func(int) time.Time {
		now := time.Now()
		times = append(times, now)
		return now
	})
	if n != len(times) || n < 1 || n > 4 {
		t.Fatalf("%d slots in 20ms at 5ms", n)
	}
	for i := 1; i < n; i++ {
		if d := times[i].Sub(times[i-1]); d < 5*time.Millisecond {
			t.Fatalf("slots %d and %d only %v apart", i-1, i, d)
		}
	}
}

func TestRunTraced(t *testing.T) {
	t.Cleanup(func() { debug.SetGCPercent(100) }) // run leaves GC off after a trace
	var buf bytes.Buffer
	res := run(config{duration: 50 * time.Millisecond, interval: 50 * time.Microsecond, allocGs: 1, liveMiB: 1, creator: "sleep", warmup: 10 * time.Millisecond, preGC: true}, &buf)
	if res.Spawned == 0 || res.Measured != res.Spawned {
		t.Fatalf("spawned %d measured %d", res.Spawned, res.Measured)
	}
	// Both trace formats (Go 1.21's and 1.22+'s) begin with "go 1.".
	if !bytes.HasPrefix(buf.Bytes(), []byte("go 1.")) {
		t.Fatalf("no execution trace written (%d bytes: %q)", buf.Len(), buf.Bytes()[:min(buf.Len(), 16)])
	}
}
