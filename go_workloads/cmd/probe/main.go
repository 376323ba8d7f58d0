// Command probe measures goroutine start latency (creation -> first run) next to
// allocation-heavy goroutines, i.e. while the GC keeps cycling.
//
// One spawner goroutine starts a goroutine every -interval for -duration. The
// spawner takes a monotonic timestamp (time.Now) immediately before `go f(t0)`;
// f computes time.Since(t0) as its first action. Meanwhile -alloc-goroutines
// goroutines allocate pointer-rich garbage and keep -live-mb MiB live each, so
// the collector runs continuously (typically 100-300 cycles/s on 2 cores).
//
// The result is one JSON document (schema 1, see ../../README.md) with a
// log-spaced histogram of the start latencies, exact percentiles, the number of
// completed GC cycles, and the deltas of the runtime/metrics scheduler and
// pause histograms over the measurement window (only those the running
// toolchain provides: the /sched/pauses/* metrics exist since Go 1.22).
//
// With -trace FILE the execution tracer (runtime/trace) records the collector's whole
// life in the process: it starts before the first GC (the -pre-gc one; nothing has
// allocated enough for a GC before) and stops after the allocators have stopped and
// debug.SetGCPercent(-1) has waited for the cycle in progress, so every gctrace line
// of the process has its stop-the-world phases in the trace. The spawner marks the
// measurement window with trace.Log events (category "stwbench", messages
// "window-start" / "window-end"; the tracer's own start STW is outside it), and every
// probe goroutine runs the function main.started, so a trace reader can tell the
// probe's goroutines from the allocators and the runtime's own (go_workloads/README.md).
//
// It uses the standard library only and builds with Go 1.21 and newer.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/trace"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// schemaVersion is bumped whenever the JSON output changes incompatibly.
const schemaVersion = 1

// histogramMetrics are the runtime/metrics histograms whose deltas over the
// measurement window are reported, when the toolchain has them.
var histogramMetrics = []string{
	"/sched/latencies:seconds",             // Go 1.17+; sampled, roughly 1 in 8 goroutine starts
	"/sched/pauses/total/gc:seconds",       // Go 1.22+; one sample per GC stop-the-world
	"/sched/pauses/stopping/gc:seconds",    // Go 1.22+
	"/sched/pauses/total/other:seconds",    // Go 1.22+
	"/sched/pauses/stopping/other:seconds", // Go 1.22+
	"/gc/pauses:seconds",                   // Go 1.16+ (deprecated in 1.22, same data as /sched/pauses/total/gc); the only STW histogram on 1.21
}

const gcCyclesMetric = "/gc/cycles/total:gc-cycles"

type config struct {
	duration time.Duration
	interval time.Duration
	allocGs  int
	liveMiB  int
	wait     string
	out      string
	preGC    bool
	warmup   time.Duration
	trace    string
}

func main() {
	var cfg config
	flag.DurationVar(&cfg.duration, "duration", 2*time.Second, "length of the spawn (measurement) window")
	flag.DurationVar(&cfg.interval, "interval", 20*time.Microsecond, "spawn period: minimum time between two consecutive `go f()`")
	flag.IntVar(&cfg.allocGs, "alloc-goroutines", 1, "number of allocation-heavy goroutines running beside the spawner")
	flag.IntVar(&cfg.liveMiB, "live-mb", 8, "MiB of pointer-rich heap each allocator keeps live (sets the mark work per cycle)")
	flag.StringVar(&cfg.wait, "wait", "sleep", "how the spawner waits between spawns: sleep (time.Sleep; real period is bounded by timer resolution) or yield (runtime.Gosched loop; precise period, P never idle)")
	flag.StringVar(&cfg.out, "out", "", "write the JSON result to this file (default: stdout)")
	flag.BoolVar(&cfg.preGC, "pre-gc", true, "call runtime.GC() once before the window (shows as a (forced) gctrace line)")
	flag.DurationVar(&cfg.warmup, "warmup", 100*time.Millisecond, "run the allocators this long before the window opens")
	flag.StringVar(&cfg.trace, "trace", "", "record the measurement window with the execution tracer (runtime/trace) into this file")
	flag.Parse()
	if flag.NArg() != 0 {
		fatalf("unexpected arguments: %q", flag.Args())
	}
	if cfg.duration <= 0 || cfg.interval <= 0 || cfg.allocGs < 0 || cfg.liveMiB < 0 || cfg.warmup < 0 {
		fatalf("-duration and -interval must be > 0; -alloc-goroutines, -live-mb and -warmup must be >= 0")
	}
	if cfg.wait != "sleep" && cfg.wait != "yield" {
		fatalf("-wait must be sleep or yield, not %q", cfg.wait)
	}

	var traceOut *os.File
	if cfg.trace != "" {
		var err error
		if traceOut, err = os.Create(cfg.trace); err != nil {
			fatalf("%v", err)
		}
	}

	res := run(cfg, traceOut)
	if traceOut != nil {
		if err := traceOut.Close(); err != nil {
			fatalf("writing trace: %v", err)
		}
	}

	var w io.Writer = os.Stdout
	var f *os.File
	if cfg.out != "" {
		var err error
		if f, err = os.Create(cfg.out); err != nil {
			fatalf("%v", err)
		}
		w = f
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	if err := enc.Encode(res); err != nil {
		fatalf("writing result: %v", err)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			fatalf("%v", err)
		}
	}
	fmt.Fprintf(os.Stderr, "probe: %s spawned=%d gc_cycles=%d p50=%dns p99=%dns p999=%dns max=%dns\n",
		res.GoVersion, res.Spawned, res.GCCycles, res.Percentiles.P50, res.Percentiles.P99, res.Percentiles.P999, res.Percentiles.Max)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "probe: "+format+"\n", args...)
	os.Exit(2)
}

// Result is the JSON document the probe writes (schema 1).
type Result struct {
	Schema         int                       `json:"schema"`
	GoVersion      string                    `json:"go_version"`
	GOMAXPROCS     int                       `json:"gomaxprocs"`
	DurationS      float64                   `json:"duration_s"`
	IntervalNs     int64                     `json:"interval_ns"`
	Spawned        int                       `json:"spawned"`
	Measured       int                       `json:"measured"`
	GCCycles       uint64                    `json:"gc_cycles"`
	StartLatencyNs IntHistogram              `json:"start_latency_ns"`
	Percentiles    Percentiles               `json:"percentiles_ns"`
	RuntimeMetrics map[string]FloatHistogram `json:"runtime_metrics"`
}

// IntHistogram holds the non-empty buckets [low, high) of a histogram of
// nanosecond values.
type IntHistogram struct {
	Buckets []IntBucket `json:"buckets"`
}

type IntBucket struct {
	Low   uint64 `json:"low"`
	High  uint64 `json:"high"`
	Count uint64 `json:"count"`
}

// FloatHistogram holds the non-empty buckets [low, high) of a runtime/metrics
// histogram (seconds). Infinite bounds are written as null.
type FloatHistogram struct {
	Buckets []FloatBucket `json:"buckets"`
}

type FloatBucket struct {
	Low   *float64 `json:"low"`
	High  *float64 `json:"high"`
	Count uint64   `json:"count"`
}

type Percentiles struct {
	P50  int64 `json:"p50"`
	P99  int64 `json:"p99"`
	P999 int64 `json:"p999"`
	Max  int64 `json:"max"`
}

// node is a 64-byte heap object with a pointer, so the allocators produce
// garbage the collector has to scan, not just sweep.
type node struct {
	next    *node
	payload [7]uint64
}

const nodesPerList = 16 // one list = 16 nodes = 1 KiB

// allocate builds linked lists until stop is set, keeping the last liveLists
// lists reachable (a ring), so each GC cycle has liveLists KiB to mark.
func allocate(stop *atomic.Bool, liveLists int, wg *sync.WaitGroup) {
	defer wg.Done()
	if liveLists < 1 {
		liveLists = 1
	}
	ring := make([]*node, liveLists)
	for i := 0; !stop.Load(); i++ {
		var head *node
		for j := 0; j < nodesPerList; j++ {
			head = &node{next: head}
			head.payload[0] = uint64(i)
		}
		ring[i%liveLists] = head
	}
}

// started is the body of every probe goroutine: its first action is to take
// the start latency.
func started(slot *int64, t0 time.Time, wg *sync.WaitGroup) {
	*slot = int64(time.Since(t0))
	wg.Done()
}

// run measures one window; with a non-nil traceOut the execution tracer records
// every GC cycle of the process into it (see the package comment), and GC stays
// off after it returns.
func run(cfg config, traceOut io.Writer) *Result {
	ctx := context.Background()
	if traceOut != nil {
		if err := trace.Start(traceOut); err != nil {
			fatalf("starting the execution tracer: %v", err)
		}
	}
	if cfg.preGC {
		runtime.GC()
	}
	var stop atomic.Bool
	var allocWG sync.WaitGroup
	for i := 0; i < cfg.allocGs; i++ {
		allocWG.Add(1)
		go allocate(&stop, cfg.liveMiB*1024, &allocWG)
	}
	time.Sleep(cfg.warmup)

	maxSpawns := int(cfg.duration/cfg.interval) + 1
	samples := make([]int64, maxSpawns)
	names := availableHistograms()
	if traceOut != nil {
		trace.Log(ctx, "stwbench", "window-start")
	}
	before := readMetrics(names)

	var spawnWG sync.WaitGroup
	start := time.Now()
	deadline := start.Add(cfg.duration)
	spawned := 0
	last := start.Add(-cfg.interval)
	for spawned < maxSpawns {
		next := last.Add(cfg.interval)
		now := time.Now()
		if !next.Before(deadline) || !now.Before(deadline) {
			break
		}
		if d := next.Sub(now); d > 0 {
			if cfg.wait == "sleep" {
				time.Sleep(d)
			} else {
				for time.Now().Before(next) {
					runtime.Gosched()
				}
			}
		}
		spawnWG.Add(1)
		t0 := time.Now()
		go started(&samples[spawned], t0, &spawnWG)
		last = t0
		spawned++
	}
	spawnWG.Wait()
	after := readMetrics(names)
	if traceOut != nil {
		trace.Log(ctx, "stwbench", "window-end")
	}

	stop.Store(true)
	allocWG.Wait()
	if traceOut != nil {
		// Let the cycle in progress finish and start no other (SetGCPercent(-1) waits
		// for the mark phase), so no GC of this process runs outside the trace.
		debug.SetGCPercent(-1)
		trace.Stop()
	}

	samples = samples[:spawned]
	res := &Result{
		Schema:         schemaVersion,
		GoVersion:      runtime.Version(),
		GOMAXPROCS:     runtime.GOMAXPROCS(0),
		DurationS:      cfg.duration.Seconds(),
		IntervalNs:     cfg.interval.Nanoseconds(),
		Spawned:        spawned,
		Measured:       len(samples),
		GCCycles:       after.gcCycles - before.gcCycles,
		StartLatencyNs: latencyHistogram(samples),
		Percentiles:    percentiles(samples),
		RuntimeMetrics: map[string]FloatHistogram{},
	}
	for _, name := range names {
		res.RuntimeMetrics[name] = histogramDelta(before.hists[name], after.hists[name])
	}
	return res
}

// availableHistograms returns the subset of histogramMetrics the running
// toolchain supports.
func availableHistograms() []string {
	have := map[string]bool{}
	for _, d := range metrics.All() {
		if d.Kind == metrics.KindFloat64Histogram {
			have[d.Name] = true
		}
	}
	var names []string
	for _, n := range histogramMetrics {
		if have[n] {
			names = append(names, n)
		}
	}
	return names
}

type metricsSnapshot struct {
	gcCycles uint64
	hists    map[string]*metrics.Float64Histogram
}

func readMetrics(names []string) metricsSnapshot {
	s := make([]metrics.Sample, 0, len(names)+1)
	s = append(s, metrics.Sample{Name: gcCyclesMetric})
	for _, n := range names {
		s = append(s, metrics.Sample{Name: n})
	}
	metrics.Read(s)
	snap := metricsSnapshot{hists: map[string]*metrics.Float64Histogram{}}
	if s[0].Value.Kind() == metrics.KindUint64 {
		snap.gcCycles = s[0].Value.Uint64()
	}
	for _, x := range s[1:] {
		if x.Value.Kind() == metrics.KindFloat64Histogram {
			h := x.Value.Float64Histogram()
			// Copy: the runtime may reuse the Counts slice on the next Read.
			snap.hists[x.Name] = &metrics.Float64Histogram{
				Counts:  append([]uint64(nil), h.Counts...),
				Buckets: h.Buckets,
			}
		}
	}
	return snap
}

// histogramDelta returns after-before as non-empty buckets with finite
// bounds as numbers and infinite bounds as nil (JSON null).
func histogramDelta(before, after *metrics.Float64Histogram) FloatHistogram {
	out := FloatHistogram{Buckets: []FloatBucket{}}
	if after == nil {
		return out
	}
	for i, c := range after.Counts {
		if before != nil && i < len(before.Counts) {
			c -= before.Counts[i]
		}
		if c == 0 {
			continue
		}
		out.Buckets = append(out.Buckets, FloatBucket{
			Low:   finite(after.Buckets[i]),
			High:  finite(after.Buckets[i+1]),
			Count: c,
		})
	}
	return out
}

func finite(f float64) *float64 {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil
	}
	return &f
}

// Start-latency buckets: [0,1), [1,2), [2,3), [3,4) ns, then four equal
// sub-buckets per power of two: [4,5), [5,6), [6,7), [7,8), [8,10), ...,
// [2^k, 1.25*2^k), [1.25*2^k, 1.5*2^k), [1.5*2^k, 1.75*2^k), [1.75*2^k, 2^(k+1)).
// The buckets cover every int64, so there is no overflow bucket and every
// bound is finite; the relative width is at most 25%.
const subBits = 2

func bucketIndex(v int64) int {
	if v < 0 {
		v = 0
	}
	u := uint64(v)
	if u < 1<<subBits {
		return int(u)
	}
	k := bits.Len64(u) - 1 // u in [2^k, 2^(k+1)), k >= subBits
	sub := int(u>>(k-subBits)) & (1<<subBits - 1)
	return 1<<subBits + (k-subBits)<<subBits + sub
}

func bucketBounds(i int) (low, high uint64) {
	if i < 1<<subBits {
		return uint64(i), uint64(i) + 1
	}
	j := i - 1<<subBits
	k := j>>subBits + subBits
	sub := uint64(j & (1<<subBits - 1))
	shift := uint(k - subBits)
	return (1<<subBits + sub) << shift, (1<<subBits + sub + 1) << shift
}

func latencyHistogram(samples []int64) IntHistogram {
	counts := map[int]uint64{}
	for _, v := range samples {
		counts[bucketIndex(v)]++
	}
	idx := make([]int, 0, len(counts))
	for i := range counts {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	h := IntHistogram{Buckets: make([]IntBucket, 0, len(idx))}
	for _, i := range idx {
		lo, hi := bucketBounds(i)
		h.Buckets = append(h.Buckets, IntBucket{Low: lo, High: hi, Count: counts[i]})
	}
	return h
}

// percentiles uses the nearest-rank definition on the exact samples.
func percentiles(samples []int64) Percentiles {
	if len(samples) == 0 {
		return Percentiles{}
	}
	s := append([]int64(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := func(q float64) int64 {
		r := int(math.Ceil(q * float64(len(s))))
		if r < 1 {
			r = 1
		}
		return s[r-1]
	}
	return Percentiles{P50: rank(0.50), P99: rank(0.99), P999: rank(0.999), Max: s[len(s)-1]}
}
