// Shared helpers for all benchmarks:
//
//   - startGC / gcMeter.stop: every benchmark reports per-op GC figures,
//     gc-cycles/op and stw-ns/op (see stwSource for where the latter comes from),
//     and the GC-cost figures of internal/gccost over the timed region.
//   - checkNoLeak: every benchmark verifies it left no goroutines behind.
//   - allocator: a background goroutine that allocates pointer-rich garbage a
//     fixed amount per op, for workloads that run "beside an allocator".

package go_workloads

import (
	"bytes"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"testing"
	"time"

	"stwbench/workloads/internal/gccost"
)

const (
	gcCyclesMetric    = "/gc/cycles/total:gc-cycles"     // Go 1.16+
	stwMetric         = "/sched/pauses/total/gc:seconds" // Go 1.22+
	stwSourceMetric   = "runtime/metrics " + stwMetric
	stwSourceMemStats = "runtime.MemStats.PauseTotalNs"
)

// haveSTWMetric reports whether the running toolchain has
// /sched/pauses/total/gc:seconds (Go 1.22 and newer).
var haveSTWMetric = func() bool {
	for _, d := range metrics.All() {
		if d.Name == stwMetric && d.Kind == metrics.KindFloat64Histogram {
			return true
		}
	}
	return false
}()

// stwSource names where stw-ns/op comes from with this toolchain:
//
//   - Go 1.22+: the delta of the /sched/pauses/total/gc:seconds histogram,
//     summed as bucket midpoint x count (a bucket with an infinite bound
//     contributes its finite bound). Includes every GC stop-the-world pause
//     (sweep termination and mark termination), from the decision to stop to
//     the restart; bucket resolution makes it approximate (a few percent).
//   - Go 1.21: the delta of runtime.MemStats.PauseTotalNs (exact sum of the
//     same GC pauses as measured by the runtime; ReadMemStats itself stops the
//     world, which is not counted).
func stwSource() string {
	if haveSTWMetric {
		return stwSourceMetric
	}
	return stwSourceMemStats
}

// gcSnapshot is a point-in-time reading of the cumulative GC counters.
type gcSnapshot struct {
	cycles uint64
	stwNs  float64
}

func readGC() gcSnapshot {
	if !haveSTWMetric {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return gcSnapshot{cycles: uint64(ms.NumGC), stwNs: float64(ms.PauseTotalNs)}
	}
	s := []metrics.Sample{{Name: gcCyclesMetric}, {Name: stwMetric}}
	metrics.Read(s)
	return gcSnapshot{cycles: s[0].Value.Uint64(), stwNs: gccost.HistogramSumSeconds(s[1].Value.Float64Histogram()) * 1e9}
}

// gcCostUnits are the gccost.Metrics values reported as they are (per run,
// not per op: shares, rates and quantiles do not scale with b.N).
var gcCostUnits = []string{
	gccost.AssistCPU, gccost.DedicatedCPU, gccost.IdleCPU, gccost.PauseCPU,
	gccost.CyclesPerS, gccost.SchedLatP50, gccost.SchedLatP99,
}

// gcMeter measures GC cycles, STW time and GC CPU cost over a benchmark's
// timed region.
type gcMeter struct {
	b     *testing.B
	start gcSnapshot
	cost  *gccost.Snapshot
}

// startGC forces a GC (so every run starts from the same heap state; it shows
// up as a "(forced)" gctrace line), enables allocation reporting, snapshots
// the counters and resets the timer. Call it after the workload's setup and
// right before the b.N loop. The forced GC right before gccost.Start also
// makes the /cpu/classes deltas start exactly here: those counters only move
// at mark termination (see the gccost package comment).
func startGC(b *testing.B) *gcMeter {
	b.ReportAllocs()
	runtime.GC()
	m := &gcMeter{b: b}
	m.start = readGC()
	m.cost = gccost.Start()
	b.ResetTimer()
	return m
}

// stop stops the timer and reports gc-cycles/op, stw-ns/op, the gccost values
// in gcCostUnits that this toolchain provides, and stw-stopping-ns/op (Go 1.22+).
// Call it right after the b.N loop, before tearing the workload down.
func (m *gcMeter) stop() {
	m.b.StopTimer()
	cost := m.cost.Stop().Metrics()
	end := readGC()
	n := float64(m.b.N)
	m.b.ReportMetric(float64(end.cycles-m.start.cycles)/n, "gc-cycles/op")
	m.b.ReportMetric((end.stwNs-m.start.stwNs)/n, "stw-ns/op")
	for _, unit := range gcCostUnits {
		if v, ok := cost[unit]; ok {
			m.b.ReportMetric(v, unit)
		}
	}
	if v, ok := cost[gccost.STWStoppingNs]; ok {
		m.b.ReportMetric(v/n, gccost.STWStoppingNs+"/op")
	}
}

// checkNoLeak waits (up to 5 s) for the number of goroutines to drop back to
// want and fails tb with a goroutine dump if it does not. Workloads shut every
// goroutine they start down; some (net/http connection goroutines) take a
// moment to notice.
func checkNoLeak(tb testing.TB, want int) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			var buf bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
			tb.Fatalf("goroutine leak: %d goroutines, want <= %d\n%s", runtime.NumGoroutine(), want, buf.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// node is a 64-byte heap object with a pointer: garbage the collector has to
// scan, not just sweep.
type node struct {
	next    *node
	payload [7]uint64
}

// allocator is a background goroutine that, per op, allocates a fixed number
// of 1 KiB linked lists (16 nodes), keeping the last liveLists lists
// reachable so every GC cycle has liveLists KiB of pointers to mark. The
// amount of allocation per op is fixed, so the work per op is deterministic
// even though it runs concurrently with the op.
type allocator struct {
	work chan int
	done chan struct{}
	ring []*node
	pos  int
}

func startAllocator(liveLists int) *allocator {
	a := &allocator{work: make(chan int, 1), done: make(chan struct{}, 1), ring: make([]*node, liveLists)}
	go a.loop()
	return a
}

func (a *allocator) loop() {
	for lists := range a.work {
		for i := 0; i < lists; i++ {
			var head *node
			for j := 0; j < 16; j++ {
				head = &node{next: head}
				head.payload[0] = uint64(j)
			}
			a.ring[a.pos] = head
			a.pos++
			if a.pos == len(a.ring) {
				a.pos = 0
			}
		}
		a.done <- struct{}{}
	}
	close(a.done)
}

// begin hands the allocator its work for one op; it runs concurrently with
// the caller until wait.
func (a *allocator) begin(lists int) { a.work <- lists }

// wait blocks until the work handed over by begin is done.
func (a *allocator) wait() { <-a.done }

// close stops the allocator goroutine and waits for it to exit.
func (a *allocator) close() {
	close(a.work)
	for range a.done {
	}
}
