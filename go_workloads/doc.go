// Package go_workloads holds the stwbench benchmark workloads: `go test`
// benchmarks that stress the garbage collector and the goroutine scheduler at
// the same time, each reporting gc-cycles/op and stw-ns/op besides ns/op.
// The package has no non-test code; see README.md, and cmd/probe for the
// goroutine start-latency probe.
package go_workloads
