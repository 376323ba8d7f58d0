package go_workloads

import (
	"runtime"
	"sync"
	"testing"
)

// Scheduler-bound workloads: goroutine creation, wake-ups through channels
// and run-queue traffic, each beside allocation so that GC cycles (and their
// mark workers, which compete with runnable goroutines for Ps) keep happening.

// spin does a small, allocation-free amount of CPU work (about 1 us).
func spin(seed uint64, n int) uint64 {
	x := seed | 1
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

const (
	fanOutWidth      = 32   // goroutines spawned per op
	fanOutSpin       = 300  // spin iterations per goroutine (~0.5-1 us)
	fanOutAllocLists = 8    // KiB allocated per op by the background allocator
	bgLiveLists      = 8192 // background allocator's live set: 8 MiB of pointers
)

// fanOutFanIn spawns fanOutWidth goroutines that each allocate a little and
// spin, and waits for all of them (a WaitGroup join).
func fanOutFanIn(seq int, out []uint64) {
	var wg sync.WaitGroup
	wg.Add(len(out))
	for i := range out {
		go func(i int) {
			buf := make([]uint64, 16) // small garbage per task
			buf[0] = spin(uint64(seq*len(out)+i), fanOutSpin)
			out[i] = buf[0]
			wg.Done()
		}(i)
	}
	wg.Wait()
}

// BenchmarkFanOutFanIn: per op, spawn 32 goroutines doing ~1 us of work each
// and wait for all of them, while a background goroutine allocates 8 KiB of
// pointer-rich garbage (8 MiB live set). Measures spawn + wake + join cost
// under GC: goroutines created during a mark phase compete with mark workers.
// 1.27.3, 2 shared cores: 65-90 us/op, so -benchtime=12000x takes about 1 s.
func BenchmarkFanOutFanIn(b *testing.B) {
	base := runtime.NumGoroutine()
	a := startAllocator(bgLiveLists)
	out := make([]uint64, fanOutWidth)
	m := startGC(b)
	for i := 0; i < b.N; i++ {
		a.begin(fanOutAllocLists)
		fanOutFanIn(i, out)
		a.wait()
	}
	m.stop()
	a.close()
	checkNoLeak(b, base)
}

const (
	schedRingSize   = 8 // goroutines spawned per op
	schedRounds     = 4 // times the token travels the whole chain per op
	schedAllocLists = 2 // KiB allocated per op by the background allocator
)

// token is the message passed along the chain; every hop allocates a new
// one pointing at the previous, so the chain produces pointer garbage.
type token struct {
	prev *token
	hops int
}

// schedulerOp spawns a chain main -> g0 -> g1 -> ... -> g7 -> main of
// goroutines connected by unbuffered channels and sends a token through it
// schedRounds times: 8 spawns and 36 channel wake-ups (each a runnext
// hand-off) per op. All goroutines exit before it returns.
func schedulerOp() int {
	var chans [schedRingSize + 1]chan *token
	for i := range chans {
		chans[i] = make(chan *token)
	}
	for i := 0; i < schedRingSize; i++ {
		go func(in <-chan *token, out chan<- *token) {
			for r := 0; r < schedRounds; r++ {
				t := <-in
				out <- &token{prev: t, hops: t.hops + 1}
			}
		}(chans[i], chans[i+1])
	}
	t := &token{}
	for r := 0; r < schedRounds; r++ {
		chans[0] <- &token{hops: t.hops}
		t = <-chans[schedRingSize]
	}
	return t.hops
}

// BenchmarkScheduler: spawn/wake-heavy. Per op, spawn 8 goroutines chained by
// unbuffered channels and pass an (allocated) token through the chain 4
// times, then let them exit. Measures goroutine creation and channel wake-up
// latency (runqput into runnext, runqget) with GC running from the token
// garbage. The article this project examines quotes BenchmarkScheduler ns/op;
// this is stwbench's own definition of it. A background goroutine allocates
// 2 KiB per op (8 MiB live) so that GC cycles overlap the chain.
// 1.27.3, 2 shared cores: about 30 us/op, so -benchtime=30000x takes about 1 s.
func BenchmarkScheduler(b *testing.B) {
	base := runtime.NumGoroutine()
	a := startAllocator(bgLiveLists)
	m := startGC(b)
	for i := 0; i < b.N; i++ {
		a.begin(schedAllocLists)
		hops := schedulerOp()
		a.wait()
		if hops != schedRingSize*schedRounds {
			b.Fatal("token lost hops")
		}
	}
	m.stop()
	a.close()
	checkNoLeak(b, base)
}

// burstSize is larger than a P's 256-slot local run queue, so a burst from
// one P overflows it: runqput falls back to runqputslow, which moves half of
// the local queue to the global run queue (taking sched.lock).
const burstSize = 1024

// burstSpawn spawns burstSize goroutines back to back from the calling
// goroutine (one P; it never blocks while spawning), then waits for all.
// Each goroutine allocates one small object.
func burstSpawn(seq int, out []*[4]uint64) {
	var wg sync.WaitGroup
	wg.Add(len(out))
	for i := range out {
		go func(i int) {
			out[i] = &[4]uint64{uint64(seq), uint64(i)}
			wg.Done()
		}(i)
	}
	wg.Wait()
}

// BenchmarkBurstSpawn: per op, one goroutine spawns 1024 ready goroutines at
// once and waits for them. The spawning P's local run queue (256 slots)
// overflows, so most spawns after the first ~256 go through runqputslow and
// the global queue; the other P steals. Measures the slow spawn path and
// global-queue contention (the path the article blamed).
// 1.27.3, 2 shared cores: 0.9-1.2 ms/op, so -benchtime=1000x takes about 1 s.
func BenchmarkBurstSpawn(b *testing.B) {
	base := runtime.NumGoroutine()
	out := make([]*[4]uint64, burstSize)
	m := startGC(b)
	for i := 0; i < b.N; i++ {
		burstSpawn(i, out)
	}
	m.stop()
	checkNoLeak(b, base)
}
