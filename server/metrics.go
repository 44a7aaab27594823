package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// metrics collects a few counters and a latency histogram per route and
// serves them in the Prometheus text exposition format. It is written
// by hand to keep the server free of a metrics dependency for a handful of
// series.
type metrics struct {
	inflight atomic.Int64

	mu       sync.Mutex
	requests map[[3]string]int64 // route, method, status -> count
	bytes    map[string]int64    // api -> uploaded bytes
	uploads  map[[2]string]int64 // api, status -> count
	hist     map[string]*histogram
}

var buckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}

type histogram struct {
	counts []int64 // per bucket, cumulative on output
	sum    float64
	count  int64
}

func newMetrics() *metrics {
	return &metrics{
		requests: map[[3]string]int64{},
		bytes:    map[string]int64{},
		uploads:  map[[2]string]int64{},
		hist:     map[string]*histogram{},
	}
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[[3]string{route, method, fmt.Sprint(status)}]++
	h := m.hist[route]
	if h == nil {
		h = &histogram{counts: make([]int64, len(buckets))}
		m.hist[route] = h
	}
	sec := d.Seconds()
	for i, b := range buckets {
		if sec <= b {
			h.counts[i]++
			break
		}
	}
	h.sum += sec
	h.count++
}

func (m *metrics) upload(api string, status int, n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.uploads[[2]string{api, fmt.Sprint(status)}]++
	m.bytes[api] += n
}

func (m *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	var b strings.Builder
	m.mu.Lock()
	fmt.Fprintf(&b, "# HELP fileup_uploads_total Uploads by API and response status.\n# TYPE fileup_uploads_total counter\n")
	for _, k := range sortedKeys(m.uploads, func(k [2]string) string { return k[0] + k[1] }) {
		fmt.Fprintf(&b, "fileup_uploads_total{api=%q,status=%q} %d\n", k[0], k[1], m.uploads[k])
	}
	fmt.Fprintf(&b, "# HELP fileup_upload_bytes_total Bytes stored by successful uploads.\n# TYPE fileup_upload_bytes_total counter\n")
	for _, k := range sortedKeys(m.bytes, func(k string) string { return k }) {
		fmt.Fprintf(&b, "fileup_upload_bytes_total{api=%q} %d\n", k, m.bytes[k])
	}
	fmt.Fprintf(&b, "# HELP fileup_http_requests_total HTTP requests by route, method and status.\n# TYPE fileup_http_requests_total counter\n")
	for _, k := range sortedKeys(m.requests, func(k [3]string) string { return strings.Join(k[:], "\x00") }) {
		fmt.Fprintf(&b, "fileup_http_requests_total{route=%q,method=%q,status=%q} %d\n", k[0], k[1], k[2], m.requests[k])
	}
	fmt.Fprintf(&b, "# HELP fileup_http_request_duration_seconds Request durations by route.\n# TYPE fileup_http_request_duration_seconds histogram\n")
	for _, route := range sortedKeys(m.hist, func(k string) string { return k }) {
		h := m.hist[route]
		var cum int64
		for i, le := range buckets {
			cum += h.counts[i]
			fmt.Fprintf(&b, "fileup_http_request_duration_seconds_bucket{route=%q,le=%q} %d\n", route, fmt.Sprint(le), cum)
		}
		fmt.Fprintf(&b, "fileup_http_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", route, h.count)
		fmt.Fprintf(&b, "fileup_http_request_duration_seconds_sum{route=%q} %g\n", route, h.sum)
		fmt.Fprintf(&b, "fileup_http_request_duration_seconds_count{route=%q} %d\n", route, h.count)
	}
	m.mu.Unlock()
	fmt.Fprintf(&b, "# HELP fileup_uploads_in_flight Uploads being received now.\n# TYPE fileup_uploads_in_flight gauge\nfileup_uploads_in_flight %d\n", m.inflight.Load())
	_, _ = w.Write([]byte(b.String()))
}

func sortedKeys[K comparable, V any](m map[K]V, str func(K) string) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return str(keys[i]) < str(keys[j]) })
	return slices.Clip(keys)
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs each request with log/slog and records its metrics. It logs
// the route pattern, not the path: download paths are capabilities, and
// tokens never reach the log at all.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.metrics.observe(route, r.Method, sw.status, d)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "request",
			"method", r.Method, "route", route, "status", sw.status,
			"duration_ms", d.Milliseconds(), "bytes_in", r.ContentLength, "bytes_out", sw.bytes,
			"remote", r.RemoteAddr)
	})
}
