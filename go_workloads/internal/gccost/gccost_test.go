package gccost

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
)

// sinks keeps each goroutine's allocation reachable until the next one (one
// slot per goroutine: no data race).
var sinks [64][]*[64]byte

// TestMetrics runs a few forced cycles with allocation and a goroutine per
// step (so /sched/latencies gets samples: the runtime tracks about 1 in 8
// goroutine starts) and checks the ranges of every value.
func TestMetrics(t *testing.T) {
	runtime.GC()
	s := Start()
	for i := 0; i < 5; i++ {
		var wg sync.WaitGroup
		for g := 0; g < 64; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				buf := make([]*[64]byte, 0, 256)
				for j := 0; j < 256; j++ {
					buf = append(buf, new([64]byte))
				}
				sinks[g] = buf
			}(g)
		}
		wg.Wait()
		runtime.GC()
	}
	c := s.Stop()
	m := c.Metrics()
	t.Logf("elapsed %v: %v", c.Elapsed, m)
	for name, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Errorf("%s = %v, want finite and >= 0", name, v)
		}
	}
	if m[CyclesPerS] <= 0 {
		t.Errorf("%s = %v after 5 runtime.GC(), want > 0", CyclesPerS, m[CyclesPerS])
	}
	var sum float64
	for _, name := range []string{AssistCPU, DedicatedCPU, IdleCPU, PauseCPU} {
		v, ok := m[name]
		if !ok {
			t.Errorf("%s missing (every supported toolchain has it)", name)
		}
		if v < 0 || v > 100 {
			t.Errorf("%s = %v, want in [0, 100]", name, v)
		}
		sum += v
	}
	if sum > 100+1e-9 {
		t.Errorf("GC CPU percentages sum to %v > 100", sum)
	}
	if m[PauseCPU] <= 0 {
		t.Errorf("%s = %v after 5 stop-the-world cycles, want > 0", PauseCPU, m[PauseCPU])
	}
	for _, name := range []string{SchedLatP50, SchedLatP99} {
		if v, ok := m[name]; !ok || v <= 0 {
			t.Errorf("%s = %v (present %v), want > 0", name, v, ok)
		}
	}
	if m[SchedLatP99] < m[SchedLatP50] {
		t.Errorf("p99 %v < p50 %v", m[SchedLatP99], m[SchedLatP50])
	}
	_, haveSTW := c.hists[stwTotalMetric]
	for _, name := range []string{STWStoppingNs, STWTotalNs} {
		if _, ok := m[name]; ok != haveSTW {
			t.Errorf("%s present = %v, toolchain has the /sched/pauses metrics = %v", name, ok, haveSTW)
		}
	}
	if haveSTW && (m[STWTotalNs] <= 0 || m[STWStoppingNs] > m[STWTotalNs]) {
		t.Errorf("stw-stopping-ns %v, stw-total-ns %v: want 0 <= stopping <= total, total > 0", m[STWStoppingNs], m[STWTotalNs])
	}
	for name := range m {
		known := false
		for _, n := range Names {
			known = known || n == name
		}
		if !known {
			t.Errorf("unexpected key %q", name)
		}
	}
}

// TestNoWorkNoDivision: with no GC between Start and Stop the CPU-class
// counters do not move (they are updated at mark termination), so the
// percentages must be absent rather than NaN.
func TestNoWorkNoDivision(t *testing.T) {
	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	runtime.GC()
	m := Start().Stop().Metrics()
	for _, name := range []string{AssistCPU, DedicatedCPU, IdleCPU, PauseCPU} {
		if v, ok := m[name]; ok {
			t.Errorf("%s = %v without a GC in the interval, want absent", name, v)
		}
	}
	if v, ok := m[CyclesPerS]; ok && v != 0 {
		t.Errorf("%s = %v without a GC, want 0", CyclesPerS, v)
	}
}

func TestQuantile(t *testing.T) {
	inf := math.Inf(1)
	h := &metrics.Float64Histogram{Buckets: []float64{-inf, 0, 1, 2, inf}, Counts: []uint64{0, 50, 49, 1}}
	for _, c := range []struct {
		q    float64
		want float64
	}{{0.5, 1}, {0.51, 2}, {0.99, 2}, {1, 2}, {0, 1}} {
		if got, ok := Quantile(h, c.q); !ok || got != c.want {
			t.Errorf("Quantile(%v) = %v, %v; want %v", c.q, got, ok, c.want)
		}
	}
	h.Counts = []uint64{0, 0, 0, 0}
	if _, ok := Quantile(h, 0.5); ok {
		t.Error("empty histogram: ok = true")
	}
	h.Counts = []uint64{1, 0, 0, 0}
	if got, ok := Quantile(h, 0.5); !ok || got != 0 {
		t.Errorf("underflow bucket: %v, %v; want its upper bound 0", got, ok)
	}
}

// TestHistogramSumSeconds was TestHistogramSum in go_workloads (moved here
// with the helper).
func TestHistogramSumSeconds(t *testing.T) {
	inf := math.Inf(1)
	h := &metrics.Float64Histogram{
		Buckets: []float64{-inf, 0, 1e-6, 3e-6, inf},
		Counts:  []uint64{5, 2, 1, 3},
	}
	// (-inf,0) contributes 0 each; [0,1us) 0.5us x2; [1us,3us) 2us x1; [3us,inf) 3us x3
	want := 2*0.5e-6 + 2e-6 + 3*3e-6
	if got := HistogramSumSeconds(h); math.Abs(got-want) > 1e-15 {
		t.Fatalf("HistogramSumSeconds = %g, want %g", got, want)
	}
	both := &metrics.Float64Histogram{Buckets: []float64{-inf, inf}, Counts: []uint64{7}}
	if got := HistogramSumSeconds(both); got != 0 {
		t.Fatalf("(-inf, inf) bucket contributes %g, want 0", got)
	}
}
