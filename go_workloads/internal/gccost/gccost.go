// Package gccost measures what the garbage collector cost a piece of work: the
// GC's share of CPU time by kind of work, the GC cycle rate, goroutine
// scheduling latency and GC stop-the-world time, as deltas of runtime/metrics
// counters between Start and Stop. Every benchmark in go_workloads (through
// startGC / gcMeter.stop) and cmd/probe use it, so the figures mean the same
// thing everywhere.
//
//	s := gccost.Start()
//	... work ...
//	c := s.Stop()
//	for name, v := range c.Metrics() { ... }
//
// # When the CPU-class counters move
//
// The /cpu/classes/* metrics are not live. runtime/metrics.go
// (*cpuStatsAggregate).compute copies work.cpuStats, a snapshot (the call that
// would bring it up to date, a.cpuStats.accumulate(nanotime(), ...), is
// commented out in the source, because it would make "user" CPU time
// non-monotonic). work.cpuStats gains the mark workers' and assists' time, and
// the total, only in mgc.go gcMarkTermination, which calls
// work.cpuStats.accumulate(now, true) (mstats.go (*cpuStats).accumulate) at the
// end of every cycle. So a delta of these counters covers [end of the last GC
// that finished before Start, end of the last GC that finished before Stop],
// not [Start, Stop]. Callers that run runtime.GC() right before Start (startGC
// in go_workloads does) make the beginning exact; the end is the last mark
// termination before Stop, and CPU spent in a cycle still running at Stop is
// not counted, nor is the wall time since that cycle's predecessor ended.
// Because both numerator and denominator come from the same snapshots, the
// percentages are consistent shares of that interval. One skew: mgc.go gcStart
// adds the sweep-termination pause to work.cpuStats' pause time as soon as
// that pause ends (Go 1.22+: work.cpuStats.accumulateGCPauseTime; Go 1.21:
// work.cpuStats.gcPauseTime += sweepTermCpu), before the cycle's accumulate
// updates the total, so a cycle in progress at Stop adds its sweep-termination
// pause to gc-pause-cpu-% without its share of the total (a pause is tens of
// µs; the bias is negligible unless almost no cycle finished in the interval). gc-cycles/s, the scheduler latencies and the
// stop-the-world histograms are live and cover [Start, Stop] exactly.
//
// # Dedicated vs fractional mark workers
//
// The runtime has no metric for fractional mark workers: mstats.go
// (*cpuStats).accumulate adds gcController.dedicatedMarkTime +
// gcController.fractionalMarkTime into GCDedicatedTime
// ("s.GCDedicatedTime += markDedicatedCpu + markFractionalCpu"), which
// metrics.go reports as /cpu/classes/gc/mark/dedicated:cpu-seconds. So
// gc-dedicated-cpu-% includes the fractional worker's time. (The field's
// comment in mstats.go, "GC dedicated mark workers + pauses", is stale: pauses
// go to GCPauseTime, reported as /cpu/classes/gc/pause:cpu-seconds.) The same
// holds in Go 1.21 (there the fields are lower-case: gcDedicatedTime).
//
// # Metrics
//
// Metrics returns only the keys whose runtime metrics the running toolchain
// provides (metrics.All()) and whose value is defined (no division by zero, no
// quantile of an empty histogram):
//
//	gc-assist-cpu-%       100 * Δ/cpu/classes/gc/mark/assist / Δ/cpu/classes/total
//	gc-dedicated-cpu-%    100 * Δ/cpu/classes/gc/mark/dedicated / Δtotal (includes fractional)
//	gc-idle-cpu-%         100 * Δ/cpu/classes/gc/mark/idle / Δtotal
//	gc-pause-cpu-%        100 * Δ/cpu/classes/gc/pause / Δtotal (pause time x GOMAXPROCS)
//	gc-cycles/s           Δ/gc/cycles/total:gc-cycles / wall seconds between Start and Stop
//	sched-latency-p50-ns  nearest-rank quantiles of the Δ of /sched/latencies:seconds,
//	sched-latency-p99-ns    in ns (a bucket's upper bound; its lower bound if that is +Inf)
//	stw-stopping-ns       Σ of the Δ of /sched/pauses/stopping/gc:seconds, ns (Go >= 1.22)
//	stw-total-ns          Σ of the Δ of /sched/pauses/total/gc:seconds, ns (Go >= 1.22)
//
// The sums are bucket midpoint x count (HistogramSumSeconds), approximate to
// the bucket width. /cpu/classes/total is GOMAXPROCS x wall time, so the four
// percentages are shares of all the Ps' time and sum to at most 100.
package gccost

import (
	"math"
	"runtime/metrics"
	"time"
)

// Names of the values Metrics returns.
const (
	AssistCPU      = "gc-assist-cpu-%"
	DedicatedCPU   = "gc-dedicated-cpu-%"
	IdleCPU        = "gc-idle-cpu-%"
	PauseCPU       = "gc-pause-cpu-%"
	CyclesPerS     = "gc-cycles/s"
	SchedLatP50    = "sched-latency-p50-ns"
	SchedLatP99    = "sched-latency-p99-ns"
	STWStoppingNs  = "stw-stopping-ns"
	STWTotalNs     = "stw-total-ns"
	totalCPUMetric = "/cpu/classes/total:cpu-seconds"
	cyclesMetric   = "/gc/cycles/total:gc-cycles"
	schedLatMetric = "/sched/latencies:seconds"
	stoppingMetric = "/sched/pauses/stopping/gc:seconds" // Go 1.22+
	stwTotalMetric = "/sched/pauses/total/gc:seconds"    // Go 1.22+
)

// Names lists every key Metrics may return, in a stable order for reporting.
var Names = []string{AssistCPU, DedicatedCPU, IdleCPU, PauseCPU, CyclesPerS, SchedLatP50, SchedLatP99, STWStoppingNs, STWTotalNs}

// cpuShares maps each percentage to the CPU-class counter it divides by
// /cpu/classes/total:cpu-seconds.
var cpuShares = []struct{ name, metric string }{
	{AssistCPU, "/cpu/classes/gc/mark/assist:cpu-seconds"},
	{DedicatedCPU, "/cpu/classes/gc/mark/dedicated:cpu-seconds"},
	{IdleCPU, "/cpu/classes/gc/mark/idle:cpu-seconds"},
	{PauseCPU, "/cpu/classes/gc/pause:cpu-seconds"},
}

// stwSums maps each STW sum to its histogram.
var stwSums = []struct{ name, metric string }{
	{STWStoppingNs, stoppingMetric},
	{STWTotalNs, stwTotalMetric},
}

// available is the subset of the metrics this package reads that the running
// toolchain has, with the kind it must have; computed once, since metrics.All
// allocates its result.
var available = func() []metrics.Sample {
	want := map[string]metrics.ValueKind{
		totalCPUMetric: metrics.KindFloat64,
		cyclesMetric:   metrics.KindUint64,
		schedLatMetric: metrics.KindFloat64Histogram,
		stoppingMetric: metrics.KindFloat64Histogram,
		stwTotalMetric: metrics.KindFloat64Histogram,
	}
	for _, s := range cpuShares {
		want[s.metric] = metrics.KindFloat64
	}
	var out []metrics.Sample
	for _, d := range metrics.All() {
		if k, ok := want[d.Name]; ok && d.Kind == k {
			out = append(out, metrics.Sample{Name: d.Name})
		}
	}
	return out
}()

// reading holds one metrics.Read of the available metrics, copied out of the
// runtime's buffers.
type reading struct {
	at      time.Time
	scalars map[string]float64 // float64 and uint64 metrics
	hists   map[string]*metrics.Float64Histogram
}

func read() reading {
	s := make([]metrics.Sample, len(available))
	copy(s, available)
	metrics.Read(s)
	r := reading{at: time.Now(), scalars: map[string]float64{}, hists: map[string]*metrics.Float64Histogram{}}
	for _, x := range s {
		switch x.Value.Kind() {
		case metrics.KindFloat64:
			r.scalars[x.Name] = x.Value.Float64()
		case metrics.KindUint64:
			r.scalars[x.Name] = float64(x.Value.Uint64())
		case metrics.KindFloat64Histogram:
			h := x.Value.Float64Histogram()
			// Copy the counts: the runtime may reuse the slice on the next Read.
			r.hists[x.Name] = &metrics.Float64Histogram{Counts: append([]uint64(nil), h.Counts...), Buckets: h.Buckets}
		}
	}
	return r
}

// Snapshot is the state of the counters at Start.
type Snapshot struct{ start reading }

// Start reads the counters. Run runtime.GC() right before it to make the
// CPU-class deltas start exactly at Start (see the package comment).
func Start() *Snapshot { return &Snapshot{start: read()} }

// Cost is what happened between Start and Stop.
type Cost struct {
	Elapsed time.Duration                        // wall time between the two reads
	deltas  map[string]float64                   // scalar metric -> after - before
	hists   map[string]*metrics.Float64Histogram // histogram metric -> after - before
}

// Stop reads the counters again and returns the deltas since Start.
func (s *Snapshot) Stop() Cost {
	end := read()
	c := Cost{Elapsed: end.at.Sub(s.start.at), deltas: map[string]float64{}, hists: map[string]*metrics.Float64Histogram{}}
	for name, v := range end.scalars {
		if b, ok := s.start.scalars[name]; ok {
			c.deltas[name] = v - b
		}
	}
	for name, h := range end.hists {
		b, ok := s.start.hists[name]
		if !ok || len(b.Counts) != len(h.Counts) {
			continue
		}
		d := &metrics.Float64Histogram{Counts: make([]uint64, len(h.Counts)), Buckets: h.Buckets}
		for i := range h.Counts {
			d.Counts[i] = h.Counts[i] - b.Counts[i]
		}
		c.hists[name] = d
	}
	return c
}

// Metrics returns the values described in the package comment, keyed by the
// names in Names; a key is absent when the toolchain lacks its metric or the
// value is undefined (zero denominator, empty histogram).
func (c Cost) Metrics() map[string]float64 {
	out := map[string]float64{}
	if total, ok := c.deltas[totalCPUMetric]; ok && total > 0 {
		for _, s := range cpuShares {
			if v, ok := c.deltas[s.metric]; ok {
				out[s.name] = 100 * v / total
			}
		}
	}
	if cycles, ok := c.deltas[cyclesMetric]; ok && c.Elapsed > 0 {
		out[CyclesPerS] = cycles / c.Elapsed.Seconds()
	}
	if h, ok := c.hists[schedLatMetric]; ok {
		if v, ok := Quantile(h, 0.50); ok {
			out[SchedLatP50] = v * 1e9
		}
		if v, ok := Quantile(h, 0.99); ok {
			out[SchedLatP99] = v * 1e9
		}
	}
	for _, s := range stwSums {
		if h, ok := c.hists[s.metric]; ok {
			out[s.name] = HistogramSumSeconds(h) * 1e9
		}
	}
	return out
}

// Quantile returns the nearest-rank q-quantile of h's counts: the upper bound
// of the bucket holding the ceil(q*N)-th smallest value (its lower bound if the
// upper one is +Inf, so the result is finite unless the bucket is (-Inf, +Inf)).
// ok is false when h is empty.
func Quantile(h *metrics.Float64Histogram, q float64) (v float64, ok bool) {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	if n == 0 {
		return 0, false
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.Counts {
		seen += c
		if seen >= rank {
			if hi := h.Buckets[i+1]; !math.IsInf(hi, 1) {
				return hi, true
			}
			return h.Buckets[i], !math.IsInf(h.Buckets[i], -1)
		}
	}
	return 0, false // unreachable: seen reaches n >= rank
}

// HistogramSumSeconds approximates the sum of all values in h as
// sum(midpoint(bucket) * count). Infinite bounds use the finite one; a bucket
// that is infinite on both sides contributes nothing.
func HistogramSumSeconds(h *metrics.Float64Histogram) float64 {
	var sum float64
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		sum += bucketMid(h.Buckets[i], h.Buckets[i+1]) * float64(c)
	}
	return sum
}

func bucketMid(lo, hi float64) float64 {
	switch {
	case math.IsInf(lo, 0) && math.IsInf(hi, 0):
		return 0
	case math.IsInf(lo, -1):
		return hi
	case math.IsInf(hi, 1):
		return lo
	}
	return (lo + hi) / 2
}
