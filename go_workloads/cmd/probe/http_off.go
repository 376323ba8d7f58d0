//go:build !stwbench_http

// The probe without the http creator: net/http is not linked in.
//
// Linking net/http changes what the other creators measure. Measured with go1.27.3 on
// 2 cores, the sleep creator's baseline whole-window p99 start latency is ≈ 610–780 µs
// without net/http in the binary and 26–39 µs with it (3 × 2 s each, both builds of
// the same source; the runqget-priority toolchain gives ≈ 200–240 µs in both), so a
// probe that carried the http server for one scenario would silently turn every other
// scenario into "a process with the network stack". The harness builds the http creator
// as its own binary (-tags stwbench_http, workload probe-http); go_workloads/README.md.

package main

import (
	"errors"
	"time"
)

const httpBuilt = false

type httpServer struct{ firstErr error }

func startHTTP(int) (*httpServer, error) {
	return nil, errors.New("this probe was built without the http creator (go build -tags stwbench_http)")
}

func (s *httpServer) load(time.Time, time.Time, time.Duration, int) window { return window{} }

func (s *httpServer) close() error { return nil }
