package go_workloads

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

const (
	timerGoroutines = 32 // goroutines per op, each owning one AfterFunc timer
	timerResets     = 8  // Reset calls on a far-future deadline before the final one
	timerAllocLists = 8  // KiB allocated per op by the background allocator
)

// timerPayload is what a timer callback allocates.
type timerPayload struct {
	next *timerPayload
	at   int64
	pad  [6]int64
}

// timersOp spawns timerGoroutines goroutines. Each creates a time.AfterFunc
// timer with a far deadline, Resets it timerResets times to other far
// deadlines (timer heap churn: add, move, delete), creates and stops a
// time.NewTimer, and finally Resets the AfterFunc to 0-30 us so it fires. The
// callbacks (run on their own goroutines) allocate; the op returns when all
// have fired. Per op: 32 spawns, 32 timer goroutines, ~320 timer heap updates.
func timersOp(seq int, out []*timerPayload) {
	var wg sync.WaitGroup
	wg.Add(len(out))
	for i := range out {
		go func(i int) {
			t := time.AfterFunc(time.Hour, func() {
				out[i] = &timerPayload{at: int64(seq)}
				wg.Done()
			})
			for r := 0; r < timerResets; r++ {
				t.Reset(time.Duration(r+1+i%5) * time.Minute)
			}
			s := time.NewTimer(time.Hour)
			s.Stop()
			t.Reset(time.Duration(i%4) * 10 * time.Microsecond)
		}(i)
	}
	wg.Wait()
}

// BenchmarkTimers: many concurrent timers. Per op 32 goroutines each churn an
// AfterFunc timer through 8 far-future Resets, create and stop another timer,
// then let the AfterFunc fire within 0-30 us; the callbacks allocate and a
// background goroutine allocates 8 KiB per op (8 MiB live). Measures timer
// heap maintenance (per-P timer heaps, stolen/merged on idle Ps), timer
// firing latency and callback-goroutine scheduling while GC runs. ns/op is
// bounded below by timer resolution (the runtime's netpoll sleeps in 1 ms
// steps when a P idles), so compare variants, not absolute numbers.
// 1.27.3, 2 shared cores: 0.6-0.8 ms/op, so -benchtime=1500x takes about 1 s.
func BenchmarkTimers(b *testing.B) {
	base := runtime.NumGoroutine()
	a := startAllocator(bgLiveLists)
	out := make([]*timerPayload, timerGoroutines)
	m := startGC(b)
	for i := 0; i < b.N; i++ {
		a.begin(timerAllocLists)
		timersOp(i, out)
		a.wait()
	}
	m.stop()
	a.close()
	checkNoLeak(b, base)
}
