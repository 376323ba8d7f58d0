//go:build stwbench_http

// -creator http: the goroutine measured is created by net/http's accept loop
// (http.Server.Serve does `go c.serve(connCtx)` for every accepted connection),
// i.e. on request arrival, as in a server that is not behind a keep-alive
// connection pool.

package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// httpBuilt: this binary has the http creator (built with -tags stwbench_http).
const httpBuilt = true

const (
	idHeader   = "X-Stwbench-Id"      // the arrival's slot number
	sentHeader = "X-Stwbench-Sent-Ns" // client timestamp before the dial, ns since httpServer.base
)

// httpServer is an in-process HTTP server on a loopback port and the
// open-loop client that loads it.
type httpServer struct {
	// base is the process-wide origin of the timestamps in sentHeader: both
	// sides compute time.Since(base), which uses the monotonic clock (a
	// wall-clock time in the header could jump).
	base     time.Time
	srv      *http.Server
	served   chan error // Serve's result
	url      string
	client   *http.Client
	sem      chan struct{} // one token per request in flight
	samples  []int64       // by slot: latency in ns, -1 until the handler ran
	clientWG sync.WaitGroup
	errMu    sync.Mutex
	firstErr error // the first failed request's error, for the log
}

// startHTTP listens on 127.0.0.1:0 (loopback needs no network) and serves;
// it runs before the window, so the accept loop's goroutine is not one of the
// measured ones.
func startHTTP(maxInflight int) (*httpServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &httpServer{
		base:   time.Now(),
		served: make(chan error, 1),
		url:    "http://" + ln.Addr().String() + "/",
		sem:    make(chan struct{}, maxInflight),
		// A new connection per request: the server's accept loop creates one
		// goroutine per request, the goroutine this creator measures.
		client: &http.Client{
			Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
			Timeout:   30 * time.Second, // a stuck request must not hang the probe
		},
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	s.srv.SetKeepAlivesEnabled(false)
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// ServeHTTP records the latency as its first action: arrival (client
// timestamp before the dial) to the handler running on the connection's
// goroutine. That includes the TCP connect on loopback, the accept loop's
// wake-up (netpoll), the creation and start of the per-connection goroutine
// and the request's read and parse.
func (s *httpServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := int64(time.Since(s.base))
	id, err1 := strconv.Atoi(r.Header.Get(idHeader))
	sent, err2 := strconv.ParseInt(r.Header.Get(sentHeader), 10, 64)
	if err1 == nil && err2 == nil && id >= 0 && id < len(s.samples) {
		atomic.StoreInt64(&s.samples[id], now-sent)
	}
	w.WriteHeader(http.StatusNoContent)
}

// load runs the window: an arrival every interval (paced like -creator sleep,
// by time.Sleep from the calling goroutine), each request sent from a goroutine
// of its own so a slow server never delays the next arrival (open loop). An
// arrival that finds maxInflight requests in flight is dropped, not queued.
// It returns after every request sent has finished.
func (s *httpServer) load(start, deadline time.Time, interval time.Duration, maxSlots int) window {
	s.samples = make([]int64, maxSlots)
	for i := range s.samples {
		s.samples[i] = -1
	}
	dropped := 0
	n := spawnLoop(start, deadline, interval, maxSlots, waiter("http"), func(i int) time.Time {
		t0 := time.Now()
		select {
		case s.sem <- struct{}{}:
			s.clientWG.Add(1)
			go s.request(i)
		default:
			dropped++
		}
		return t0
	})
	s.clientWG.Wait()
	w := window{attempted: n, dropped: dropped, spawned: n - dropped}
	for i := 0; i < n; i++ {
		if v := atomic.LoadInt64(&s.samples[i]); v >= 0 {
			w.samples = append(w.samples, v)
		}
	}
	return w
}

func (s *httpServer) request(id int) {
	defer s.clientWG.Done()
	defer func() { <-s.sem }()
	req, err := http.NewRequest(http.MethodGet, s.url, nil)
	if err != nil {
		s.fail(err)
		return
	}
	req.Header.Set(idHeader, strconv.Itoa(id))
	// Last before Do, which dials first: the latency includes the connect.
	req.Header.Set(sentHeader, strconv.FormatInt(int64(time.Since(s.base)), 10))
	resp, err := s.client.Do(req)
	if err != nil {
		s.fail(err)
		return
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.fail(err)
	}
}

func (s *httpServer) fail(err error) {
	s.errMu.Lock()
	if s.firstErr == nil {
		s.firstErr = err
	}
	s.errMu.Unlock()
}

// close shuts the server down (waiting for its connections to finish) and
// releases the client's resources, so no goroutine of the http creator
// outlives run.
func (s *httpServer) close() error {
	s.client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return err
	}
	if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
