package go_workloads

import (
	"runtime"
	"testing"
)

const (
	pingPongPairs     = 2  // ping-pong pairs
	pingPongRounds    = 64 // round trips per pair per op
	pingPongAllocList = 32 // KiB the background allocator allocates per op
)

// pingPongPair is two persistent goroutines bouncing a value over two
// unbuffered channels. Every send readies the peer into the sender's runnext
// and the sender then blocks, so the pair forms a chain of runnext hand-offs
// that inherit the time slice: exactly the situation in which a scheduler
// that prefers runnext over GC mark workers could starve the GC.
type pingPongPair struct {
	start chan int
	done  chan struct{}
	ping  chan int
	pong  chan int
}

func startPingPongPair() *pingPongPair {
	p := &pingPongPair{start: make(chan int), done: make(chan struct{}), ping: make(chan int), pong: make(chan int)}
	go func() { // pinger
		for n := range p.start {
			v := 0
			for i := 0; i < n; i++ {
				p.ping <- v
				v = <-p.pong
			}
			if v != n {
				panic("ping-pong: lost a round trip")
			}
			p.done <- struct{}{}
		}
		close(p.ping)
		close(p.done)
	}()
	go func() { // ponger
		for v := range p.ping {
			p.pong <- v + 1
		}
	}()
	return p
}

func (p *pingPongPair) close() {
	close(p.start)
	for range p.done {
	}
}

// pingPong is the workload: pairs plus a background allocator.
type pingPong struct {
	pairs []*pingPongPair
	alloc *allocator
}

func newPingPong() *pingPong {
	pp := &pingPong{alloc: startAllocator(bgLiveLists)}
	for i := 0; i < pingPongPairs; i++ {
		pp.pairs = append(pp.pairs, startPingPongPair())
	}
	return pp
}

// op: every pair does pingPongRounds round trips while the allocator
// allocates pingPongAllocList KiB; returns when all are done.
func (pp *pingPong) op() {
	pp.alloc.begin(pingPongAllocList)
	for _, p := range pp.pairs {
		p.start <- pingPongRounds
	}
	for _, p := range pp.pairs {
		<-p.done
	}
	pp.alloc.wait()
}

func (pp *pingPong) close() {
	for _, p := range pp.pairs {
		p.close()
	}
	pp.alloc.close()
}

// BenchmarkPingPongAlloc: 2 channel ping-pong pairs (64 round trips each per
// op) beside a goroutine allocating 32 KiB of pointer garbage per op (8 MiB
// live). Measures channel hand-off throughput while the GC runs, and, with
// gc-cycles/op and stw-ns/op, whether the GC keeps up. Run it also with
// -test.cpu=1 (GOMAXPROCS=1): the pairs can then monopolise the only P with
// runnext hand-offs, and gc-cycles/op must stay comparable to the baseline
// toolchain's (GC cycles must still complete: the starvation check).
// 1.27.3, 2 shared cores: 190-240 us/op (300 us/op at GOMAXPROCS=1), so
// -benchtime=5000x takes about 1 s.
func BenchmarkPingPongAlloc(b *testing.B) {
	base := runtime.NumGoroutine()
	pp := newPingPong()
	m := startGC(b)
	for i := 0; i < b.N; i++ {
		pp.op()
	}
	m.stop()
	pp.close()
	checkNoLeak(b, base)
}
