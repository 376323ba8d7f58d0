// Command probe measures goroutine start latency (creation -> first run) next to
// allocation-heavy goroutines, i.e. while the GC keeps cycling.
//
// One spawner goroutine starts a goroutine every -interval for -duration. The
// spawner takes a monotonic timestamp (time.Now) immediately before `go f(t0)`;
// f computes time.Since(t0) as its first action. Meanwhile -alloc-goroutines
// goroutines allocate pointer-rich garbage and keep -live-mb MiB live each, so
// the collector runs continuously (typically 100-300 cycles/s on 2 cores).
//
// -creator says what kind of producer the spawner models, i.e. what it does
// between spawns: sleep (time.Sleep: a timer-driven producer whose P goes
// idle), handoff (wait until the new goroutine has started, then spin: a
// blocking producer that hands work off), busy (spin, never block or yield: a
// busy producer that keeps its P), yield (runtime.Gosched until the next slot)
// or http (an in-process net/http server and an open-loop client that opens a
// new connection per request, so the goroutine measured is the server's
// per-connection goroutine, created by its accept loop when a request
// arrives; the latency runs from the client's timestamp before it dials to the
// handler's first statement).
//
// The result is one JSON document (schema 2, see ../../README.md) with a
// log-spaced histogram of the start latencies, exact percentiles, the number of
// completed GC cycles, the GC cost over the window (internal/gccost: GC CPU
// shares, cycle rate, scheduling latency, STW sums), and the deltas of the
// runtime/metrics scheduler and pause histograms over the measurement window
// (only those the running toolchain provides: the /sched/pauses/* metrics exist
// since Go 1.22).
//
// With -trace FILE the execution tracer (runtime/trace) records the collector's whole
// life in the process: it starts before the first GC (the -pre-gc one; nothing has
// allocated enough for a GC before) and stops after the allocators have stopped and
// debug.SetGCPercent(-1) has waited for the cycle in progress, so every gctrace line
// of the process has its stop-the-world phases in the trace. The spawner marks the
// measurement window with trace.Log events (category "stwbench", messages
// "window-start" / "window-end"; the tracer's own start STW is outside it), and every
// probe goroutine runs the function main.started (with -creator http: net/http's
// (*conn).serve), so a trace reader can tell the probe's goroutines from the
// allocators and the runtime's own (go_workloads/README.md).
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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"stwbench/workloads/internal/gccost"
)

// schemaVersion is bumped whenever the JSON output changes incompatibly.
// 2: "creator", "attempted", "dropped", "failed", "gc_cost" added.
const schemaVersion = 2

// creators are the -creator values (see the package comment).
var creators = []string{"sleep", "handoff", "busy", "yield", "http"}

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
	creator  string
	inflight int // -http-max-inflight
	out      string
	preGC    bool
	warmup   time.Duration
	trace    string
}

func main() {
	var cfg config
	flag.DurationVar(&cfg.duration, "duration", 2*time.Second, "length of the spawn (measurement) window")
	flag.DurationVar(&cfg.interval, "interval", 20*time.Microsecond, "spawn period: minimum time between two consecutive `go f()` (-creator http: between two request arrivals; 2ms recommended there, see go_workloads/README.md)")
	flag.IntVar(&cfg.allocGs, "alloc-goroutines", 1, "number of allocation-heavy goroutines running beside the spawner")
	flag.IntVar(&cfg.liveMiB, "live-mb", 8, "MiB of pointer-rich heap each allocator keeps live (sets the mark work per cycle)")
	flag.StringVar(&cfg.creator, "creator", "sleep", "what the spawner does between spawns: "+strings.Join(creators, ", ")+" (see go_workloads/README.md)")
	flag.IntVar(&cfg.inflight, "http-max-inflight", 64, "-creator http: most requests in flight; an arrival beyond it is dropped (counted in \"dropped\")")
	flag.StringVar(&cfg.out, "out", "", "write the JSON result to this file (default: stdout)")
	flag.BoolVar(&cfg.preGC, "pre-gc", true, "call runtime.GC() once before the window (shows as a (forced) gctrace line)")
	flag.DurationVar(&cfg.warmup, "warmup", 100*time.Millisecond, "run the allocators this long before the window opens")
	flag.StringVar(&cfg.trace, "trace", "", "record the measurement window with the execution tracer (runtime/trace) into this file")
	flag.Parse()
	if flag.NArg() != 0 {
		fatalf("unexpected arguments: %q", flag.Args())
	}
	if cfg.duration <= 0 || cfg.interval <= 0 || cfg.allocGs < 0 || cfg.liveMiB < 0 || cfg.warmup < 0 || cfg.inflight < 1 {
		fatalf("-duration, -interval and -http-max-inflight must be > 0; -alloc-goroutines, -live-mb and -warmup must be >= 0")
	}
	if !validCreator(cfg.creator) {
		fatalf("-creator must be one of %s, not %q", strings.Join(creators, ", "), cfg.creator)
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
	// The creator comes after the first fields so that readers of the schema 1
	// line (`probe: go… spawned=… gc_cycles=… p50=…`) still find theirs.
	fmt.Fprintf(os.Stderr, "probe: %s spawned=%d gc_cycles=%d p50=%dns p99=%dns p999=%dns max=%dns creator=%s attempted=%d dropped=%d failed=%d\n",
		res.GoVersion, res.Spawned, res.GCCycles, res.Percentiles.P50, res.Percentiles.P99, res.Percentiles.P999, res.Percentiles.Max,
		res.Creator, res.Attempted, res.Dropped, res.Failed)
}

func validCreator(name string) bool {
	for _, c := range creators {
		if c == name {
			return true
		}
	}
	return false
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "probe: "+format+"\n", args...)
	os.Exit(2)
}

// Result is the JSON document the probe writes (schema 2).
type Result struct {
	Schema     int     `json:"schema"`
	GoVersion  string  `json:"go_version"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	Creator    string  `json:"creator"`
	DurationS  float64 `json:"duration_s"`
	IntervalNs int64   `json:"interval_ns"`
	// Attempted spawn slots (http: request arrivals); Dropped of them were not
	// sent because -http-max-inflight requests were in flight; Spawned were
	// (goroutines started; http: requests sent); Failed is Spawned - Measured
	// (http only: a request whose handler never ran).
	Attempted      int                       `json:"attempted"`
	Dropped        int                       `json:"dropped"`
	Spawned        int                       `json:"spawned"`
	Measured       int                       `json:"measured"`
	Failed         int                       `json:"failed"`
	GCCycles       uint64                    `json:"gc_cycles"`
	StartLatencyNs IntHistogram              `json:"start_latency_ns"`
	Percentiles    Percentiles               `json:"percentiles_ns"`
	GCCost         map[string]float64        `json:"gc_cost"`
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

// started is the body of every probe goroutine of the sleep, handoff, busy
// and yield creators: its first action is to take the start latency. With a
// non-nil ack (handoff) it then tells the waiting spawner it has started (ack
// is buffered, so this never blocks).
func started(slot *int64, t0 time.Time, wg *sync.WaitGroup, ack chan<- struct{}) {
	*slot = int64(time.Since(t0))
	if ack != nil {
		ack <- struct{}{}
	}
	wg.Done()
}

// spin busy-waits until t without blocking or yielding its P (only
// asynchronous preemption can take the P away).
func spin(t time.Time) {
	for time.Now().Before(t) {
		// Nothing: the busy and handoff producers must keep running.
	}
}

// spawnLoop paces the spawns: slot i is taken no earlier than the previous
// spawn's time plus interval (a late spawner never bursts to catch up), and
// only while both that time and now are before deadline. wait waits until the
// given time; spawn performs slot i and returns the time the slot counts from
// (the timestamp taken right before the `go` statement). It returns the
// number of slots taken (at most maxSlots).
func spawnLoop(start, deadline time.Time, interval time.Duration, maxSlots int, wait func(time.Time), spawn func(i int) time.Time) int {
	n := 0
	last := start.Add(-interval)
	for n < maxSlots {
		next := last.Add(interval)
		now := time.Now()
		if !next.Before(deadline) || !now.Before(deadline) {
			break
		}
		if next.After(now) {
			wait(next)
		}
		last = spawn(n)
		n++
	}
	return n
}

// waiter returns how the creator waits for the next slot.
func waiter(creator string) func(time.Time) {
	switch creator {
	case "handoff", "busy":
		return spin
	case "yield":
		return func(t time.Time) {
			for time.Now().Before(t) {
				runtime.Gosched()
			}
		}
	}
	// sleep and http: a timer-driven producer (the period is bounded below by
	// timer resolution).
	return func(t time.Time) { time.Sleep(time.Until(t)) }
}

// window is what one measurement window produced.
type window struct {
	attempted, dropped, spawned int
	samples                     []int64 // one per measured goroutine, ns
}

// spawnGoroutines runs the window for the sleep, handoff, busy and yield
// creators: spawned == attempted == len(samples), every goroutine waited for.
func spawnGoroutines(cfg config, start, deadline time.Time, maxSlots int) window {
	samples := make([]int64, maxSlots)
	var ack chan struct{}
	if cfg.creator == "handoff" {
		ack = make(chan struct{}, 1)
	}
	var spawnWG sync.WaitGroup
	n := spawnLoop(start, deadline, cfg.interval, maxSlots, waiter(cfg.creator), func(i int) time.Time {
		spawnWG.Add(1)
		t0 := time.Now()
		go started(&samples[i], t0, &spawnWG, ack)
		if ack != nil {
			<-ack // the blocking producer: wait until the work has been picked up
		}
		return t0
	})
	spawnWG.Wait()
	return window{attempted: n, spawned: n, samples: samples[:n]}
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
	var server *httpServer
	if cfg.creator == "http" {
		var err error
		if server, err = startHTTP(cfg.inflight); err != nil {
			fatalf("-creator http: %v", err)
		}
	}
	time.Sleep(cfg.warmup)

	maxSpawns := int(cfg.duration/cfg.interval) + 1
	names := availableHistograms()
	if traceOut != nil {
		trace.Log(ctx, "stwbench", "window-start")
	}
	before := readMetrics(names)
	cost := gccost.Start()

	start := time.Now()
	deadline := start.Add(cfg.duration)
	var w window
	if server != nil {
		w = server.load(start, deadline, cfg.interval, maxSpawns)
	} else {
		w = spawnGoroutines(cfg, start, deadline, maxSpawns)
	}
	gcCost := cost.Stop().Metrics()
	after := readMetrics(names)
	if traceOut != nil {
		trace.Log(ctx, "stwbench", "window-end")
	}

	if server != nil {
		if err := server.close(); err != nil {
			fatalf("-creator http: shutting the server down: %v", err)
		}
		if server.firstErr != nil {
			fmt.Fprintf(os.Stderr, "probe: -creator http: %d of %d requests unmeasured; first client error: %v\n", w.spawned-len(w.samples), w.spawned, server.firstErr)
		}
	}
	stop.Store(true)
	allocWG.Wait()
	if traceOut != nil {
		// Let the cycle in progress finish and start no other (SetGCPercent(-1) waits
		// for the mark phase), so no GC of this process runs outside the trace.
		debug.SetGCPercent(-1)
		trace.Stop()
	}

	res := &Result{
		Schema:         schemaVersion,
		GoVersion:      runtime.Version(),
		GOMAXPROCS:     runtime.GOMAXPROCS(0),
		Creator:        cfg.creator,
		DurationS:      cfg.duration.Seconds(),
		IntervalNs:     cfg.interval.Nanoseconds(),
		Attempted:      w.attempted,
		Dropped:        w.dropped,
		Spawned:        w.spawned,
		Measured:       len(w.samples),
		Failed:         w.spawned - len(w.samples),
		GCCycles:       after.gcCycles - before.gcCycles,
		StartLatencyNs: latencyHistogram(w.samples),
		Percentiles:    percentiles(w.samples),
		GCCost:         gcCost,
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
