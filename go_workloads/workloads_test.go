package go_workloads

import (
	"runtime"
	"testing"
	"time"
)

// Quick correctness tests for `go test -run . ./...`: every workload's op
// runs a few times, does its work and leaves no goroutines behind, and the
// GC metric helpers compute what they claim.

func TestWorkloadsNoLeak(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"AllocChurn", func(t *testing.T) {
			c := newChurn()
			for i := 0; i < 3; i++ {
				c.op(i)
			}
			if len(c.live[0]) != churnItemsPerOp || c.pos != 3 {
				t.Fatalf("churn: live[0] has %d items, pos %d", len(c.live[0]), c.pos)
			}
		}},
		{"BinaryTrees", func(t *testing.T) {
			// depths 4, 6, 8, 10 with 2^(14-d) trees of 2^(d+1)-1 nodes each
			want := 0
			for d := treesMinDepth; d <= treesMaxDepth; d += 2 {
				want += (1 << (treesMaxDepth - d + treesMinDepth)) * (1<<(d+1) - 1)
			}
			if got := binaryTreesOp(); got != want {
				t.Fatalf("binaryTreesOp = %d nodes, want %d", got, want)
			}
		}},
		{"FanOutFanIn", func(t *testing.T) {
			a := startAllocator(64)
			out := make([]uint64, fanOutWidth)
			for i := 0; i < 3; i++ {
				a.begin(fanOutAllocLists)
				fanOutFanIn(i, out)
				a.wait()
			}
			a.close()
			for i, v := range out {
				if v == 0 {
					t.Fatalf("task %d did not run", i)
				}
			}
		}},
		{"Scheduler", func(t *testing.T) {
			for i := 0; i < 3; i++ {
				if got := schedulerOp(); got != schedRingSize*schedRounds {
					t.Fatalf("schedulerOp = %d hops, want %d", got, schedRingSize*schedRounds)
				}
			}
		}},
		{"BurstSpawn", func(t *testing.T) {
			out := make([]*[4]uint64, burstSize)
			burstSpawn(7, out)
			for i, p := range out {
				if p == nil || p[0] != 7 || p[1] != uint64(i) {
					t.Fatalf("goroutine %d did not run", i)
				}
			}
		}},
		{"PingPongAlloc", func(t *testing.T) {
			pp := newPingPong()
			for i := 0; i < 3; i++ {
				pp.op()
			}
			pp.close()
		}},
		{"Timers", func(t *testing.T) {
			a := startAllocator(64)
			out := make([]*timerPayload, timerGoroutines)
			for i := 0; i < 3; i++ {
				a.begin(timerAllocLists)
				timersOp(i+1, out)
				a.wait()
			}
			a.close()
			for i, p := range out {
				if p == nil || p.at != 3 {
					t.Fatalf("timer %d did not fire", i)
				}
			}
		}},
		{"HTTPOpenLoop", func(t *testing.T) {
			h := newHTTPLoad()
			defer h.close()
			lat, lag, err := h.run(20, time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range lat {
				if d <= 0 || lag[i] <= 0 || lag[i] > d {
					t.Fatalf("request %d: latency %v, send lag %v", i, d, lag[i])
				}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			c.run(t)
			checkNoLeak(t, base)
		})
	}
}

func TestGCSnapshot(t *testing.T) {
	t.Logf("%s: stw-ns/op from %s", runtime.Version(), stwSource())
	before := readGC()
	runtime.GC()
	runtime.GC()
	after := readGC()
	if after.cycles < before.cycles+2 {
		t.Fatalf("gc cycles %d -> %d after two runtime.GC()", before.cycles, after.cycles)
	}
	if after.stwNs <= before.stwNs {
		t.Fatalf("stw ns %g -> %g after two runtime.GC()", before.stwNs, after.stwNs)
	}
}

func TestLatencyPercentiles(t *testing.T) {
	d := make([]time.Duration, 1000)
	for i := range d {
		d[i] = time.Duration(1000 - i) // 1000 .. 1
	}
	p := latencyPercentiles(d, 0.5, 0.99, 0.999, 1)
	want := []time.Duration{500, 990, 999, 1000}
	for i := range p {
		if p[i] != want[i] {
			t.Fatalf("percentiles = %v, want %v", p, want)
		}
	}
}
