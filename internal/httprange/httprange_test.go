package httprange_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fileup/fileup/internal/httprange"
)

const (
	ok      = http.StatusOK
	partial = http.StatusPartialContent
	refused = http.StatusRequestedRangeNotSatisfiable
)

func TestClean(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header string
		size   int64
		want   string
		status int
	}{
		{"absent", "", 100, "", ok},
		{"whole", "bytes=0-99", 100, "bytes=0-99", partial},
		{"open end", "bytes=0-", 100, "bytes=0-99", partial},
		{"last byte", "bytes=99-", 100, "bytes=99-99", partial},
		{"end past size", "bytes=10-1000", 100, "bytes=10-99", partial},
		{"suffix", "bytes=-10", 100, "bytes=90-99", partial},
		{"suffix past size", "bytes=-1000", 100, "bytes=0-99", partial},
		{"suffix zero", "bytes=-0", 100, "bytes=100-", refused},
		{"start at size", "bytes=100-", 100, "bytes=100-", refused},
		{"start past size", "bytes=100-200", 100, "bytes=100-", refused},
		{"all unsatisfiable", "bytes=-0,100-,500-600", 100, "bytes=100-", refused},
		{"unsatisfiable skipped", "bytes=200-300,0-0", 100, "bytes=0-0", partial},
		{"unit case", "BYTES=0-1", 100, "bytes=0-1", partial},
		{"other unit", "items=0-1", 100, "", ok},
		{"no unit", "0-1", 100, "", ok},
		{"space before =", "bytes =0-1", 100, "", ok},
		{"last before first", "bytes=5-1", 100, "", ok},
		{"one bad spec spoils all", "bytes=0-1,5-1", 100, "", ok},
		{"garbage spec", "bytes=0-1,x", 100, "", ok},
		{"spaces inside spec", "bytes=0 - 1", 100, "", ok},
		{"sign", "bytes=+1-2", 100, "", ok},
		{"double dash", "bytes=--1", 100, "", ok},
		{"dash only", "bytes=-", 100, "", ok},
		{"empty set", "bytes=", 100, "", ok},
		{"only empty elements", "bytes=, ,", 100, "", ok},
		{"NUL", "bytes=0-1\x00", 100, "", ok},
		{"empty elements and OWS", "bytes= 0-1 ,, \t5-6\t,", 100, "bytes=0-1,5-6", partial},
		{"leading zeros", "bytes=007-0009", 100, "bytes=7-9", partial},
		{"huge last", "bytes=0-99999999999999999999999", 100, "bytes=0-99", partial},
		{"huge first", "bytes=99999999999999999999-", 100, "bytes=100-", refused},
		{"huge, last before first", "bytes=99999999999999999999-99999999999999999998", 100, "", ok},
		{"huge suffix", "bytes=-99999999999999999999", 100, "bytes=0-99", partial},
		{"max int64", "bytes=9223372036854775806-9223372036854775807", 1<<63 - 1, "bytes=9223372036854775806-9223372036854775806", partial},
		{"overlap", "bytes=0-10,5-20", 100, "bytes=0-20", partial},
		{"adjacent", "bytes=0-1,2-3", 100, "bytes=0-3", partial},
		{"gap kept", "bytes=0-1,3-4", 100, "bytes=0-1,3-4", partial},
		{"contained", "bytes=0-50,10-20", 100, "bytes=0-50", partial},
		{"order kept", "bytes=10-19,0-4", 100, "bytes=10-19,0-4", partial},
		{"merged at first member", "bytes=50-59,0-4,5-9", 100, "bytes=50-59,0-9", partial},
		{"chain merges all", "bytes=10-19,0-4,3-12", 100, "bytes=0-19", partial},
		{"suffix overlaps start", "bytes=-10,0-95", 100, "bytes=0-99", partial},
		{"same range many times", "bytes=" + repeat("0-0", 15000), 60000, "bytes=0-0", partial},
		{"16 disjoint kept", "bytes=" + disjoint(16), 100, "bytes=" + disjoint(16), partial},
		{"17 disjoint collapse", "bytes=" + disjoint(17), 100, "bytes=0-32", partial},
		{"17 disjoint reversed collapse", "bytes=" + reversed(17), 100, "bytes=0-32", partial},
		{"more than MaxSpecs collapse", "bytes=" + repeat("0-0", httprange.MaxSpecs) + ",50-50", 100, "bytes=0-50", partial},
		{"MaxSpecs coalesced", "bytes=" + repeat("0-0", httprange.MaxSpecs-1) + ",50-50", 100, "bytes=0-0,50-50", partial},
		{"bad spec after many", "bytes=" + repeat("0-0", 1000) + ",x", 100, "", ok},
		{"empty representation", "bytes=0-", 0, "", ok},
		{"empty representation suffix", "bytes=-5", 0, "", ok},
		{"unknown size", "bytes=0-1", -1, "", ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, status := httprange.Clean(tc.header, tc.size)
			if got != tc.want || status != tc.status {
				t.Fatalf("Clean(%.60q, %d) = %q, %d; want %q, %d", tc.header, tc.size, got, status, tc.want, tc.status)
			}
			if got == "" {
				return
			}
			if again, status2 := httprange.Clean(got, tc.size); again != got || status2 != status {
				t.Fatalf("not idempotent: Clean(%q) = %q, %d", got, again, status2)
			}
		})
	}
}

func repeat(spec string, n int) string {
	return strings.TrimSuffix(strings.Repeat(spec+",", n), ",")
}

// disjoint lists n one-byte ranges with gaps between them: 0-0,2-2,...
func disjoint(n int) string {
	specs := make([]string, n)
	for i := range specs {
		specs[i] = fmt.Sprintf("%d-%d", 2*i, 2*i)
	}
	return strings.Join(specs, ",")
}

func reversed(n int) string {
	specs := strings.Split(disjoint(n), ",")
	for i, j := 0, len(specs)-1; i < j; i, j = i+1, j-1 {
		specs[i], specs[j] = specs[j], specs[i]
	}
	return strings.Join(specs, ",")
}

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		name   string
		lines  []string
		want   []string
		status int
	}{
		{"none", nil, nil, ok},
		{"one", []string{"bytes=0-1,1-5"}, []string{"bytes=0-5"}, partial},
		{"dropped", []string{"bytes=5-1"}, nil, ok},
		{"unsatisfiable", []string{"bytes=-0"}, []string{"bytes=10-"}, refused},
		{"two lines", []string{"bytes=0-1", "bytes=2-3"}, nil, ok},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/f", nil)
			for _, l := range tc.lines {
				r.Header.Add("Range", l)
			}
			if status := httprange.Apply(r, 10); status != tc.status {
				t.Fatalf("status %d, want %d", status, tc.status)
			}
			if got := r.Header.Values("Range"); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("Range %q, want %q", got, tc.want)
			}
		})
	}
}

// TestServeContent: the cleaned header through http.ServeContent over a
// real socket, next to what ServeContent does with the raw header.
func TestServeContent(t *testing.T) {
	const size = 60_000
	data := content(size)
	srv := newOrigin(t, data)
	for _, tc := range []struct {
		name        string
		header      string
		ifRange     string
		status      int
		maxBody     int
		wantRange   string
		rawMinBody  int // the raw header's response is at least this large
		rawBadRange bool
	}{
		{name: "15000 overlapping", header: "bytes=" + repeat("0-0", 15000), status: partial, maxBody: 1,
			wantRange: "bytes 0-0/60000", rawMinBody: 1_000_000},
		{name: "bytes=-0", header: "bytes=-0", status: refused, maxBody: 200,
			wantRange: "bytes */60000", rawBadRange: true},
		{name: "If-Range mismatch serves all", header: "bytes=-0", ifRange: `"other"`, status: ok, maxBody: size},
		{name: "If-Range match", header: "bytes=5-9", ifRange: `"v1"`, status: partial, maxBody: 5, wantRange: "bytes 5-9/60000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clean, status := httprange.Clean(tc.header, size)
			if status != tc.status && tc.ifRange == "" {
				t.Fatalf("Clean status %d, want %d", status, tc.status)
			}
			res, body := get(t, srv.URL+"?n=60000", clean, tc.ifRange)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if len(body) > tc.maxBody {
				t.Fatalf("%d bytes of body, want at most %d", len(body), tc.maxBody)
			}
			if got := res.Header.Get("Content-Range"); got != tc.wantRange {
				t.Fatalf("Content-Range %q, want %q", got, tc.wantRange)
			}
			if tc.rawMinBody == 0 && !tc.rawBadRange {
				return
			}
			raw, rawBody := get(t, srv.URL+"?n=60000", tc.header, tc.ifRange)
			t.Logf("raw header: %d %d bytes; cleaned: %d %d bytes", raw.StatusCode, len(rawBody), res.StatusCode, len(body))
			if len(rawBody) < tc.rawMinBody {
				t.Errorf("raw header gave only %d bytes: the test no longer shows the attack", len(rawBody))
			}
			if tc.rawBadRange && raw.StatusCode != partial {
				t.Errorf("raw header gave %d: the test no longer shows the attack", raw.StatusCode)
			}
		})
	}
}

var fixedTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// content is n bytes that differ from their neighbours, so a part served
// from the wrong offset is caught.
func content(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7 % 251)
	}
	return b
}

// newOrigin serves the first n bytes of data (n from the query) through
// http.ServeContent with the ETag "v1".
func newOrigin(t testing.TB, data []byte) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		if _, err := fmt.Sscan(r.URL.Query().Get("n"), &n); err != nil || n < 0 || n > len(data) {
			http.Error(w, "bad n", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(w, r, "", fixedTime, strings.NewReader(string(data[:n])))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t testing.TB, url, rangeHeader, ifRange string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rangeHeader != "" {
		req.Header.Set("Range", rangeHeader)
	}
	if ifRange != "" {
		req.Header.Set("If-Range", ifRange)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func BenchmarkCleanHuge(b *testing.B) {
	header := "bytes=" + repeat("0-0", 16000) // about 64 KiB, the server's header limit
	b.SetBytes(int64(len(header)))
	b.ReportAllocs()
	for b.Loop() {
		httprange.Clean(header, 1<<20)
	}
}
