package go_workloads

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

const (
	// httpInterval is the open-loop arrival period: 1000 requests/s,
	// well below what 2 cores sustain, so latency reflects scheduling and
	// GC rather than saturation.
	httpInterval = time.Millisecond
	// httpMaxConns bounds the client's connections; if the server falls
	// behind, requests queue in the client (still timed from their
	// scheduled send time) instead of opening ever more sockets.
	httpMaxConns = 64
	httpRecords  = 32 // records the handler builds and encodes per request
)

type httpRecord struct {
	ID     int               `json:"id"`
	Name   string            `json:"name"`
	Tags   []string          `json:"tags"`
	Attrs  map[string]string `json:"attrs"`
	Parent *httpRecord       `json:"-"`
}

// httpHandler builds a pointer-rich response (32 records with strings, slices
// and maps, linked to each other) and encodes it as JSON (~3 KiB), so every
// request allocates ~20 KiB.
func httpHandler(w http.ResponseWriter, r *http.Request) {
	seq, _ := strconv.Atoi(r.URL.Query().Get("seq"))
	recs := make([]*httpRecord, httpRecords)
	for i := range recs {
		rec := &httpRecord{
			ID:    seq*httpRecords + i,
			Name:  "record-" + strconv.Itoa(i),
			Tags:  []string{"a", "b", strconv.Itoa(seq % 97)},
			Attrs: map[string]string{"k": strconv.Itoa(i), "seq": strconv.Itoa(seq)},
		}
		if i > 0 {
			rec.Parent = recs[i-1]
		}
		recs[i] = rec
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(recs); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// httpLoad is a loopback HTTP/1.1 server plus a keep-alive client.
type httpLoad struct {
	srv    *httptest.Server
	tr     *http.Transport
	client *http.Client
}

func newHTTPLoad() *httpLoad {
	srv := httptest.NewServer(http.HandlerFunc(httpHandler))
	tr := &http.Transport{
		Proxy:               nil,
		MaxConnsPerHost:     httpMaxConns,
		MaxIdleConns:        httpMaxConns,
		MaxIdleConnsPerHost: httpMaxConns,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
	return &httpLoad{srv: srv, tr: tr, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (h *httpLoad) get(seq int) error {
	resp, err := h.client.Get(h.srv.URL + "/?seq=" + strconv.Itoa(seq))
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %s", resp.Status)
	}
	return err
}

// run issues n requests open-loop: request i is scheduled at
// start + i*interval and sent at that time (or as soon as the dispatcher gets
// to run, if it is late: overdue requests go out back to back, never
// skipped), each from its own goroutine, regardless of whether earlier
// requests have completed. Latency is measured from the scheduled send time,
// not the actual one, so dispatcher lag and queueing count against the
// system (no coordinated omission). It returns, per request, the latency and
// the send lag (scheduled time -> request goroutine running: timer wake-up of
// the dispatcher plus goroutine start latency).
func (h *httpLoad) run(n int, interval time.Duration) (lat, lag []time.Duration, err error) {
	lat = make([]time.Duration, n)
	lag = make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; i++ {
		sched := start.Add(time.Duration(i) * interval)
		if d := time.Until(sched); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(i int, sched time.Time) {
			defer wg.Done()
			lag[i] = time.Since(sched)
			errs[i] = h.get(i)
			lat[i] = time.Since(sched)
		}(i, sched)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return lat, lag, err
		}
	}
	return lat, lag, nil
}

func (h *httpLoad) close() {
	h.srv.Close()
	h.tr.CloseIdleConnections()
}

// latencyPercentiles returns nearest-rank percentiles of d for each q.
func latencyPercentiles(d []time.Duration, qs ...float64) []time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	out := make([]time.Duration, len(qs))
	if len(s) == 0 {
		return out
	}
	for k, q := range qs {
		r := int(math.Ceil(q * float64(len(s))))
		r = max(1, min(r, len(s)))
		out[k] = s[r-1]
	}
	return out
}

// BenchmarkHTTPOpenLoop: a loopback net/http server whose handler allocates
// ~20 KiB of pointer-rich objects per request, driven open-loop at 1000
// requests/s (one op = one request; requests are issued on schedule whether
// or not earlier ones finished). Reports request latency percentiles measured
// from the scheduled send time: p50-ns, p99-ns, p999-ns (nearest rank over
// the b.N requests of the run; p999 needs b.N >= 1000 to mean anything), and
// send-lag-p50-ns / send-lag-p99-ns, the part of it spent before the request
// goroutine ran (dispatcher timer wake-up + goroutine start; Go's timers
// sleep in netpoll with 1 ms granularity when Ps idle, so expect hundreds of
// microseconds here). ns/op is ~ the arrival period (1 ms) and says little;
// the percentiles are the result: they show how GC pauses and mark-phase
// scheduling delay timer- and network-woken goroutines in a real server.
// 1.27.3, 2 cores: -benchtime=1000x takes about 1 s (use >= 1000).
func BenchmarkHTTPOpenLoop(b *testing.B) {
	base := runtime.NumGoroutine()
	h := newHTTPLoad()
	defer func() {
		h.close()
		checkNoLeak(b, base)
	}()
	for i := 0; i < 4; i++ { // open a few connections outside the timed region
		if err := h.get(-1); err != nil {
			b.Fatal(err)
		}
	}
	m := startGC(b)
	lat, lag, err := h.run(b.N, httpInterval)
	m.stop()
	if err != nil {
		b.Fatal(err)
	}
	p := latencyPercentiles(lat, 0.50, 0.99, 0.999)
	b.ReportMetric(float64(p[0]), "p50-ns")
	b.ReportMetric(float64(p[1]), "p99-ns")
	b.ReportMetric(float64(p[2]), "p999-ns")
	q := latencyPercentiles(lag, 0.50, 0.99)
	b.ReportMetric(float64(q[0]), "send-lag-p50-ns")
	b.ReportMetric(float64(q[1]), "send-lag-p99-ns")
}
