package server

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Label values that stand for anything outside a label's fixed set.
const (
	otherMethod    = "OTHER"
	unmatchedRoute = "unmatched"
	otherAPI       = "other"
)

// maxLoggedMethod bounds the escaped copy of a non-standard request method
// in the request log.
const maxLoggedMethod = 32

// durationBuckets are the upper bounds, in seconds, of the request duration
// histogram: from a cached download to a large upload on a slow link.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}

// metrics holds the server's Prometheus series on a registry of its own
// (several servers may live in one process), with the Go runtime and
// process collectors. Every label takes its values from a fixed set the
// server chooses, never from the raw request: see methodLabel, routeLabel
// and apiLabel.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // route, method, status
	duration *prometheus.HistogramVec // route
	uploads  *prometheus.CounterVec   // api, status
	bytes    *prometheus.CounterVec   // api
	inflight prometheus.Gauge
	handler  http.Handler
}

func newMetrics(log *slog.Logger) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fileup_http_requests_total",
			Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fileup_http_request_duration_seconds",
			Help:    "Request durations by route.",
			Buckets: durationBuckets,
		}, []string{"route"}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fileup_uploads_total",
			Help: "Uploads by API and response status.",
		}, []string{"api", "status"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fileup_upload_bytes_total",
			Help: "Bytes stored by successful uploads.",
		}, []string{"api"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fileup_uploads_in_flight",
			Help: "Uploads being received now.",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.uploads, m.bytes, m.inflight,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, api := range []string{"kie", "evolink"} {
		m.bytes.WithLabelValues(api) // exported as 0 before the first upload
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
		// Scrapes may be anonymous: concurrent ones share one collection,
		// and past a few at once the rest are refused with 503.
		MaxRequestsInFlight: 4,
		CoalesceGather:      true,
		Timeout:             10 * time.Second,
	})
	return m
}

// observe records one finished request. route must be a ServeMux pattern
// (or ""), method the raw request method.
func (m *metrics) observe(route, method string, status int, d time.Duration) {
	route = routeLabel(route)
	m.requests.WithLabelValues(route, methodLabel(method), strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// upload records one finished upload of api ("kie" or "evolink") and the
// bytes it stored.
func (m *metrics) upload(api string, status int, n int64) {
	api = apiLabel(api)
	m.uploads.WithLabelValues(api, strconv.Itoa(status)).Inc()
	if n > 0 {
		m.bytes.WithLabelValues(api).Add(float64(n))
	}
}

// ServeHTTP serves the registry in the Prometheus exposition format.
func (m *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.handler.ServeHTTP(w, r)
}

// MetricsHandler returns the handler of the server's Prometheus metrics, the
// same one Handler serves at GET /metrics, to serve on a separate listener.
func (s *Server) MetricsHandler() http.Handler { return s.metrics }

// methodLabel is method when it is a standard HTTP method, else "OTHER".
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return otherMethod
}

// routeLabel is the matched ServeMux pattern, one of the fixed set the
// server registers, or "unmatched" when no pattern matched.
func routeLabel(pattern string) string {
	if pattern == "" {
		return unmatchedRoute
	}
	return pattern
}

// apiLabel is api when it names one of the vendor APIs, else "other".
func apiLabel(api string) string {
	switch api {
	case "kie", "evolink":
		return api
	}
	return otherAPI
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

// ReadFrom passes a body to the connection's own ReadFrom, so that a
// file reaches sendfile(2) through this wrapper.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	rf, ok := w.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.Copy(writerOnly{w.ResponseWriter}, r)
	}
	n, err := rf.ReadFrom(r)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs each request with log/slog and records its metrics. It logs
// the route pattern, not the path: download paths are capabilities, and
// tokens never reach the log at all. The method is logged as its bounded
// label; a non-standard one also as a short escaped copy (raw_method) with
// its length, so a client cannot grow the log with the method it makes up.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.metrics.observe(r.Pattern, r.Method, sw.status, d)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		if !s.log.Enabled(r.Context(), level) {
			return
		}
		method := methodLabel(r.Method)
		attrs := []slog.Attr{
			slog.String("method", method),
			slog.String("route", routeLabel(r.Pattern)),
			slog.Int("status", sw.status),
			slog.Int64("duration_ms", d.Milliseconds()),
			slog.Int64("bytes_in", r.ContentLength),
			slog.Int64("bytes_out", sw.bytes),
			slog.String("remote", r.RemoteAddr),
		}
		if method == otherMethod {
			attrs = append(attrs,
				slog.Attr{Key: "raw_method", Value: clientString(r.Method, maxLoggedMethod)},
				slog.Int("raw_method_bytes", len(r.Method)))
		}
		s.log.LogAttrs(r.Context(), level, "request", attrs...)
	})
}
