package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/catalog/catalogtest"
	"github.com/fileup/fileup/server"
	"github.com/fileup/fileup/storage"
)

// routes are the ServeMux patterns the server registers: the only values
// the route label may take, besides "unmatched".
var routes = map[string]bool{
	"POST " + kiePath:          true,
	"POST " + evolinkPath:      true,
	kiePath:                    true,
	evolinkPath:                true,
	"GET /f/{tenant}/{key...}": true,
	"/f/":                      true,
	"GET /healthz":             true,
	"GET /metrics":             true,
	"/":                        true,
	"unmatched":                true,
}

var methods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true,
	"OPTIONS": true, "CONNECT": true, "TRACE": true, "OTHER": true,
}

// attackPaths spread the made-up methods over every route.
var attackPaths = []string{
	"/", "/healthz", "/metrics", kiePath, evolinkPath, "/f/0123abcd/some/file.png", "/f/", "/no/such/page",
}

// logStats is a log sink that keeps what the tests assert on, not the log.
type logStats struct {
	mu      sync.Mutex
	lines   int
	maxLine int
	bytes   int
	other   int      // request lines with method OTHER
	bad     []string // request lines that break a rule (kept short)
}

func (l *logStats) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines++
	l.bytes += len(p)
	l.maxLine = max(l.maxLine, len(p))
	var rec struct {
		Msg            string `json:"msg"`
		Method         string `json:"method"`
		Route          string `json:"route"`
		RawMethod      string `json:"raw_method"`
		RawMethodBytes int    `json:"raw_method_bytes"`
	}
	if err := json.Unmarshal(p, &rec); err != nil || rec.Msg != "request" {
		return len(p), nil
	}
	ok := methods[rec.Method] && routes[rec.Route]
	if rec.Method == "OTHER" {
		// The copy is the method itself when short, else 29 bytes and "…".
		if rec.RawMethodBytes <= 32 {
			ok = ok && len(rec.RawMethod) == rec.RawMethodBytes
		} else {
			ok = ok && len(rec.RawMethod) == 32 && strings.HasSuffix(rec.RawMethod, "…")
		}
		if ok {
			l.other++
		}
	} else {
		ok = ok && rec.RawMethod == ""
	}
	if ok {
		return len(p), nil
	}
	if len(l.bad) < 5 {
		l.bad = append(l.bad, string(p[:min(len(p), 300)]))
	}
	return len(p), nil
}

// newQuietEnv is a server on a real socket, configured as the command
// configures it, whose log goes to a logStats.
func newQuietEnv(t *testing.T) (*httptest.Server, *server.Server, *logStats) {
	t.Helper()
	store, err := storage.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	logs := &logStats{}
	s, err := server.New(context.Background(), server.Config{
		Store:   store,
		Catalog: catalogtest.OpenDSN(t, catalogtest.SQLiteDSN(t), catalog.Options{}),
		Tokens:  []string{tokenA},
		Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(s)
	srv.Listener = s.Listener(srv.Listener)
	srv.Config = s.HTTPServer("") // the command's limits and timeouts
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, s, logs
}

// sendMadeUpMethods sends n requests, one connection after another, each
// with a different upper-case method of size() bytes, spread over
// attackPaths. Each method is a unique prefix (from the request's number)
// followed by a random window of a random pool of letters.
func sendMadeUpMethods(t *testing.T, base string, rng *rand.Rand, n int, size func() int) {
	t.Helper()
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	pool := make([]byte, 128<<10)
	for i := range pool {
		pool[i] = byte('A' + rng.IntN(26))
	}
	method := make([]byte, 0, 64<<10)
	for i := range n {
		method = method[:0]
		for v := i + 1; v > 0; v /= 26 {
			method = append(method, byte('A'+v%26))
		}
		start := rng.IntN(len(pool) / 2)
		method = append(method, pool[start:start+max(0, size()-len(method))]...)
		req, err := http.NewRequest(string(method), base+attackPaths[i%len(attackPaths)], nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("%s %s: status %d", method[:8], req.URL.Path, resp.StatusCode)
		}
	}
}

// scrape fetches and parses a metrics exposition.
func scrape(t *testing.T, url string) (map[string]*dto.MetricFamily, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %v", resp.StatusCode, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return families, body
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

// value returns the counter or gauge of the series of family name whose
// labels include want ("name{k=v,...}" in the failure message).
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	for _, m := range fams[name].GetMetric() {
		got := labels(m)
		match := true
		for k, v := range want {
			match = match && got[k] == v
		}
		if match {
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Errorf("no series %s with labels %v", name, want)
	return -1
}

// Thousands of requests with made-up methods of up to 60 KB leave
// /metrics small, with only bounded label values, and one short log line
// each.
func TestMadeUpMethodsLeaveMetricsAndLogsBounded(t *testing.T) {
	srv, _, logs := newQuietEnv(t)
	rng := rand.New(rand.NewPCG(13, 1))
	const n = 2000
	sendMadeUpMethods(t, srv.URL, rng, n, func() int { return 1 + rng.IntN(60<<10) })

	fams, body := scrape(t, srv.URL+"/metrics")
	reqs := fams["fileup_http_requests_total"]
	var total float64
	for _, m := range reqs.GetMetric() {
		l := labels(m)
		if !methods[l["method"]] || !routes[l["route"]] || len(l["status"]) != 3 {
			t.Errorf("unbounded label values: %v", l)
		}
		if _, err := strconv.Atoi(l["status"]); err != nil {
			t.Errorf("status label %q", l["status"])
		}
		if l["method"] == "OTHER" {
			total += m.GetCounter().GetValue()
		}
	}
	if total != n {
		t.Errorf("OTHER requests counted %v, want %d", total, n)
	}
	// At most one series per route, method and status the attack reached.
	if got := len(reqs.GetMetric()); got > 2*len(attackPaths) {
		t.Errorf("%d request series after %d made-up methods", got, n)
	}
	if got := len(fams["fileup_http_request_duration_seconds"].GetMetric()); got > len(routes) {
		t.Errorf("%d duration series", got)
	}
	if len(body) > 64<<10 {
		t.Errorf("/metrics is %d bytes", len(body))
	}
	for line := range strings.Lines(string(body)) {
		if len(line) > 512 {
			t.Errorf("exposition line of %d bytes: %.80s...", len(line), line)
		}
	}
	t.Logf("/metrics: %d bytes, %d request series; log: %d lines, %d bytes, longest %d",
		len(body), len(reqs.GetMetric()), logs.lines, logs.bytes, logs.maxLine)

	logs.mu.Lock()
	defer logs.mu.Unlock()
	if logs.other != n || len(logs.bad) > 0 {
		t.Errorf("%d of %d request lines well-formed; bad lines: %q", logs.other, n, logs.bad)
	}
	if logs.maxLine > 512 {
		t.Errorf("longest log line %d bytes", logs.maxLine)
	}
}

// heapAfterGC is the live heap once garbage (and sync.Pool's victim
// cache) is collected.
func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// The attack that grew the hand-written exporter by hundreds of MiB: 2,000
// requests with 60 KB random methods. The server's heap stays where it was.
func TestMadeUpMethodsDoNotGrowTheHeap(t *testing.T) {
	srv, _, logs := newQuietEnv(t)
	rng := rand.New(rand.NewPCG(13, 2))
	size := func() int { return 60 << 10 }
	sendMadeUpMethods(t, srv.URL, rng, 50, size) // warm up connections and pools
	before := heapAfterGC()
	sendMadeUpMethods(t, srv.URL, rng, 2000, size)
	after := heapAfterGC()
	growth := int64(after) - int64(before)
	t.Logf("heap %d -> %d bytes (%+d) after 2,000 requests of 60 KB methods; log %d bytes", before, after, growth, logs.bytes)
	if growth > 4<<20 {
		t.Errorf("heap grew by %d bytes (limit 4 MiB)", growth)
	}
}

// The Go runtime and process collectors are part of the exposition.
func TestMetricsIncludeRuntimeAndProcess(t *testing.T) {
	srv, _, _ := newQuietEnv(t)
	fams, _ := scrape(t, srv.URL+"/metrics")
	for _, name := range []string{
		"go_goroutines", "go_memstats_heap_alloc_bytes", "go_gc_duration_seconds",
		"process_resident_memory_bytes", "process_open_fds", "process_cpu_seconds_total",
	} {
		if len(fams[name].GetMetric()) == 0 {
			t.Errorf("no %s", name)
		}
	}
	if got := value(t, fams, "go_goroutines", nil); got < 1 {
		t.Errorf("go_goroutines = %v", got)
	}
}

// Per-route counts, upload counts and bytes, and the in-flight gauge, as
// before; MetricsHandler serves the same registry on another listener;
// each server has its own registry.
func TestMetricsCountRequestsAndUploads(t *testing.T) {
	e := newEnv(t, nil)
	other := newEnv(t, nil) // a second server in the process
	apart := httptest.NewServer(e.server.MetricsHandler())
	t.Cleanup(apart.Close)

	e.post(kiePath, tokenA, field("uploadPath", "m"), file("m.txt", []byte("12345")))
	e.post(kiePath, tokenA, field("uploadPath", "m"), file("n.txt", []byte("678")))
	e.post(kiePath, "", field("uploadPath", "m"), file("m.txt", []byte("12345")))
	e.post(evolinkPath, tokenA, file("p.png", pngBytes))
	e.post(evolinkPath, tokenA, file("t.txt", []byte("not an image")))
	e.get(e.srv.URL + "/healthz")
	e.get(e.srv.URL + "/healthz")
	e.do("BREW", "/healthz", "", "", nil)

	for _, url := range []string{e.srv.URL + "/metrics", apart.URL} {
		fams, _ := scrape(t, url)
		for _, c := range []struct {
			name   string
			labels map[string]string
			want   float64
		}{
			{"fileup_uploads_total", map[string]string{"api": "kie", "status": "200"}, 2},
			{"fileup_uploads_total", map[string]string{"api": "evolink", "status": "200"}, 1},
			{"fileup_uploads_total", map[string]string{"api": "evolink", "status": "400"}, 1},
			{"fileup_upload_bytes_total", map[string]string{"api": "kie"}, 8},
			{"fileup_upload_bytes_total", map[string]string{"api": "evolink"}, float64(len(pngBytes))},
			{"fileup_http_requests_total", map[string]string{"route": "POST " + kiePath, "method": "POST", "status": "200"}, 2},
			{"fileup_http_requests_total", map[string]string{"route": "POST " + kiePath, "method": "POST", "status": "401"}, 1},
			{"fileup_http_requests_total", map[string]string{"route": "POST " + evolinkPath, "method": "POST", "status": "400"}, 1},
			{"fileup_http_requests_total", map[string]string{"route": "GET /healthz", "method": "GET", "status": "200"}, 2},
			{"fileup_http_requests_total", map[string]string{"route": "/", "method": "OTHER", "status": "404"}, 1},
			{"fileup_uploads_in_flight", nil, 0},
		} {
			if got := value(t, fams, c.name, c.labels); got != c.want {
				t.Errorf("%s: %s %v = %v, want %v", url, c.name, c.labels, got, c.want)
			}
		}
		var count uint64
		for _, m := range fams["fileup_http_request_duration_seconds"].GetMetric() {
			if labels(m)["route"] == "POST "+kiePath {
				count = m.GetHistogram().GetSampleCount()
			}
		}
		if count != 3 {
			t.Errorf("%s: kie duration count = %d, want 3", url, count)
		}
	}

	fams, _ := scrape(t, other.srv.URL+"/metrics")
	if n := len(fams["fileup_uploads_total"].GetMetric()); n != 0 {
		t.Errorf("the other server counts %d upload series", n)
	}
}

// A standard method is logged as is; a made-up one as OTHER with a short
// escaped copy and its length.
func TestRequestLogBoundsTheMethod(t *testing.T) {
	e := newEnv(t, nil)
	e.get(e.srv.URL + "/healthz")
	long := strings.Repeat("X", 10_000)
	e.do(long, "/healthz", "", "", nil)

	var lines []map[string]any
	for line := range strings.Lines(e.logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == "request" {
			lines = append(lines, rec)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d request lines, want 2", len(lines))
	}
	if l := lines[0]; l["method"] != "GET" || l["route"] != "GET /healthz" || l["raw_method"] != nil {
		t.Errorf("GET line: %v", l)
	}
	want := strings.Repeat("X", 29) + "…"
	if l := lines[1]; l["method"] != "OTHER" || l["raw_method"] != want || l["raw_method_bytes"] != float64(len(long)) {
		t.Errorf("made-up method line: %v", l)
	}
	if n := len(e.logs.String()); n > 1024 {
		t.Errorf("two request lines took %d bytes", n)
	}
}
