package main

import (
	"bytes"
	"encoding/json"
	"math"
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

func TestRunShort(t *testing.T) {
	res := run(config{duration: 100 * time.Millisecond, interval: 50 * time.Microsecond, allocGs: 1, liveMiB: 1, wait: "sleep", warmup: 10 * time.Millisecond, preGC: true}, nil)
	if res.Schema != 1 || res.Spawned == 0 || res.Measured != res.Spawned {
		t.Fatalf("spawned %d measured %d", res.Spawned, res.Measured)
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
	if _, ok := res.RuntimeMetrics["/sched/latencies:seconds"]; !ok {
		t.Fatal("missing /sched/latencies:seconds")
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"schema":1`, `"go_version":`, `"gomaxprocs":`, `"duration_s":`, `"interval_ns":50000`, `"spawned":`, `"measured":`, `"gc_cycles":`, `"start_latency_ns":{"buckets":[`, `"percentiles_ns":{"p50":`, `"runtime_metrics":{`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}

func TestRunTraced(t *testing.T) {
	t.Cleanup(func() { debug.SetGCPercent(100) }) // run leaves GC off after a trace
	var buf bytes.Buffer
	res := run(config{duration: 50 * time.Millisecond, interval: 50 * time.Microsecond, allocGs: 1, liveMiB: 1, wait: "sleep", warmup: 10 * time.Millisecond, preGC: true}, &buf)
	if res.Spawned == 0 || res.Measured != res.Spawned {
		t.Fatalf("spawned %d measured %d", res.Spawned, res.Measured)
	}
	// Both trace formats (Go 1.21's and 1.22+'s) begin with "go 1.".
	if !bytes.HasPrefix(buf.Bytes(), []byte("go 1.")) {
		t.Fatalf("no execution trace written (%d bytes: %q)", buf.Len(), buf.Bytes()[:min(buf.Len(), 16)])
	}
}
