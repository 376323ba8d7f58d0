package go_workloads

import (
	"runtime"
	"testing"
)

// Allocation-bound workloads: the mutator does little but allocate
// pointer-rich objects, so the run is dominated by GC (mark assists,
// background mark workers, sweeping) and every op spans many GC cycles.

// churnItem is a pointer-rich object: a map value that points to a linked
// list and to its neighbours.
type churnItem struct {
	list      *node
	neighbors []*churnItem
	id        int
}

const (
	churnItemsPerOp = 64  // map entries built per op
	churnListLen    = 8   // nodes (64 B each) per item
	churnLiveMaps   = 256 // maps kept live: about 256 x 64 x 0.7 KiB = 11 MiB live heap
)

// churn builds, per op, a map[int]*churnItem of 64 items, each with an
// 8-node linked list and pointers to other items, and retires the oldest of
// churnLiveMaps live maps. The live heap stays constant (about 11 MiB of
// pointers to mark) while every op produces about 40 KiB of garbage.
type churn struct {
	live []map[int]*churnItem
	pos  int
}

func newChurn() *churn { return &churn{live: make([]map[int]*churnItem, churnLiveMaps)} }

func (c *churn) op(seq int) {
	m := make(map[int]*churnItem, churnItemsPerOp)
	items := make([]*churnItem, churnItemsPerOp)
	for i := range items {
		var head *node
		for j := 0; j < churnListLen; j++ {
			head = &node{next: head}
			head.payload[0] = uint64(seq)
		}
		items[i] = &churnItem{list: head, id: seq*churnItemsPerOp + i}
		m[items[i].id] = items[i]
	}
	for i, it := range items {
		it.neighbors = []*churnItem{items[(i+1)%len(items)], items[(i+7)%len(items)], items[(i*5+3)%len(items)]}
	}
	c.live[c.pos] = m
	c.pos = (c.pos + 1) % len(c.live)
}

// BenchmarkAllocChurn: pointer-rich garbage (linked nodes, maps of pointers,
// pointer slices) against a constant ~11 MiB live heap of the same shape.
// Measures allocation + GC throughput; GC runs every few dozen ops.
// 1.27.3, 2 shared cores: 50-80 us/op, so -benchtime=15000x takes about 1 s.
func BenchmarkAllocChurn(b *testing.B) {
	base := runtime.NumGoroutine()
	c := newChurn()
	for i := 0; i < churnLiveMaps; i++ { // fill the live set outside the timed region
		c.op(i)
	}
	m := startGC(b)
	for i := 0; i < b.N; i++ {
		c.op(i)
	}
	m.stop()
	checkNoLeak(b, base)
}

// tnode is the binary-trees node: two pointers, 16 bytes.
type tnode struct{ left, right *tnode }

func bottomUpTree(depth int) *tnode {
	if depth <= 0 {
		return &tnode{}
	}
	return &tnode{left: bottomUpTree(depth - 1), right: bottomUpTree(depth - 1)}
}

func (t *tnode) check() int {
	if t.left == nil {
		return 1
	}
	return 1 + t.left.check() + t.right.check()
}

const (
	treesMinDepth  = 4
	treesMaxDepth  = 10 // per op: 4 depths x 2^15 nodes = ~131k nodes, ~2 MiB
	treesLongDepth = 16 // long-lived tree: 131071 nodes, 2 MiB live
)

// binaryTreesOp is one op of the classic benchmarks-game binary-trees: for
// each depth d in 4, 6, 8, 10 build and check 2^(maxDepth-d+minDepth) trees
// of depth d. Returns the total node count (for checking).
func binaryTreesOp() int {
	total := 0
	for d := treesMinDepth; d <= treesMaxDepth; d += 2 {
		iters := 1 << (treesMaxDepth - d + treesMinDepth)
		for i := 0; i < iters; i++ {
			total += bottomUpTree(d).check()
		}
	}
	return total
}

// BenchmarkBinaryTrees: the classic GC-bound binary-trees (benchmarks game)
// with a long-lived depth-16 tree kept live. Almost pure allocation of tiny
// two-pointer objects; measures allocator and GC throughput.
// 1.27.3, 2 shared cores: 5-8 ms/op, so -benchtime=150x takes about 1 s.
func BenchmarkBinaryTrees(b *testing.B) {
	base := runtime.NumGoroutine()
	long := bottomUpTree(treesLongDepth)
	m := startGC(b)
	total := 0
	for i := 0; i < b.N; i++ {
		total += binaryTreesOp()
	}
	m.stop()
	if long.check() != 1<<(treesLongDepth+1)-1 || total == 0 {
		b.Fatal("binary-trees: wrong node count")
	}
	runtime.KeepAlive(long)
	checkNoLeak(b, base)
}
