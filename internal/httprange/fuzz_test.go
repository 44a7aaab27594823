package httprange_test

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fileup/fileup/internal/httprange"
)

// partOverhead bounds the bytes a multipart/byteranges part adds to its
// data: boundary line, Content-Range and Content-Type lines, blank line and
// CRLF (about 150 bytes for http.ServeContent's 60-character boundary).
const partOverhead = 256

// FuzzClean: for any header and size, Clean's answer matches a plain
// reading of RFC 9110 §14.1.2, and http.ServeContent, given the cleaned
// header over a real socket, answers with the status Clean announced, a
// valid Content-Range, the right bytes, and never more than the
// representation plus the overhead of MaxRanges parts.
func FuzzClean(f *testing.F) {
	for _, seed := range []struct {
		header string
		size   uint16
	}{
		{"bytes=0-0", 100}, {"bytes=-0", 100}, {"bytes=-5", 0}, {"bytes=0-1,1-2,5-9", 20},
		{"bytes=" + repeat("0-0", 300), 1000}, {"bytes=" + reversed(20), 50}, {"BYTES= 1-,,-3", 10},
		{"bytes=5-1", 10}, {"bytes=99999999999999999999-", 10}, {"items=0-1", 10},
	} {
		f.Add(seed.header, seed.size)
	}
	data := content(1 << 16)
	srv := newOrigin(f, data)
	client := &http.Client{}
	f.Fuzz(func(t *testing.T, header string, size uint16) {
		n := int64(size)
		clean, status := httprange.Clean(header, n)
		checkAgainstRFC(t, header, n, clean, status)
		req, err := http.NewRequest(http.MethodGet, srv.URL+"?n="+strconv.Itoa(int(size)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if clean != "" {
			req.Header.Set("Range", clean)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		limit := n + httprange.MaxRanges*partOverhead + partOverhead
		body, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(body)) > limit {
			t.Fatalf("Range %q on %d bytes: response body over %d bytes", clean, n, limit)
		}
		if res.StatusCode != status {
			t.Fatalf("Range %q on %d bytes: status %d, Clean announced %d", clean, n, res.StatusCode, status)
		}
		checkResponse(t, res, body, data[:n], clean)
	})
}

// span is an inclusive byte range.
type span struct{ first, last int64 }

// checkAgainstRFC compares Clean's answer with a direct reading of the
// header: which ranges are satisfiable, and what bytes they cover.
func checkAgainstRFC(t *testing.T, header string, size int64, clean string, status int) {
	t.Helper()
	want, valid := satisfiable(header, size)
	switch {
	case !valid || size == 0:
		if clean != "" || status != http.StatusOK {
			t.Fatalf("Clean(%q, %d) = %q, %d; want the header dropped", header, size, clean, status)
		}
		return
	case len(want) == 0:
		if clean != "bytes="+strconv.FormatInt(size, 10)+"-" || status != http.StatusRequestedRangeNotSatisfiable {
			t.Fatalf("Clean(%q, %d) = %q, %d; want 416", header, size, clean, status)
		}
		return
	}
	if status != http.StatusPartialContent {
		t.Fatalf("Clean(%q, %d) = %q, %d; want 206", header, size, clean, status)
	}
	got, valid := satisfiable(clean, size)
	if !valid || len(got) == 0 || len(got) > httprange.MaxRanges {
		t.Fatalf("Clean(%q, %d) = %q: not 1..%d valid ranges", header, size, clean, httprange.MaxRanges)
	}
	merged := union(got)
	if len(merged) != len(got) {
		t.Fatalf("Clean(%q, %d) = %q: ranges overlap or touch", header, size, clean)
	}
	expect := union(want)
	if len(expect) > httprange.MaxRanges || len(want) > httprange.MaxSpecs {
		expect = []span{{expect[0].first, expect[len(expect)-1].last}}
	}
	if !slices.Equal(merged, expect) {
		t.Fatalf("Clean(%q, %d) = %q covers %v; want %v", header, size, clean, merged, expect)
	}
}

// satisfiable reads header the plain way (strings.Split, big numbers) and
// returns its satisfiable ranges, clipped to the representation.
func satisfiable(header string, size int64) (spans []span, valid bool) {
	unit, set, ok := strings.Cut(header, "=")
	if !ok || !strings.EqualFold(unit, "bytes") {
		return nil, false
	}
	end := big.NewInt(size)
	listed := false
	for _, spec := range strings.Split(set, ",") {
		spec = strings.Trim(spec, " \t")
		if spec == "" {
			continue
		}
		listed = true
		a, b, ok := strings.Cut(spec, "-")
		first, okA := digits(a)
		last, okB := digits(b)
		switch {
		case !ok || (a != "" && !okA) || (b != "" && !okB) || (a == "" && b == ""):
			return nil, false
		case a == "": // suffix
			if last.Sign() > 0 {
				n := min(size, clip(last))
				spans = append(spans, span{size - n, size - 1})
			}
		case b != "" && last.Cmp(first) < 0:
			return nil, false
		case first.Cmp(end) < 0:
			l := size - 1
			if b != "" {
				l = min(l, clip(last))
			}
			spans = append(spans, span{first.Int64(), l})
		}
	}
	return spans, listed
}

func digits(s string) (*big.Int, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return nil, false
	}
	n, ok := new(big.Int).SetString(s, 10)
	return n, ok
}

func clip(n *big.Int) int64 {
	if n.IsInt64() {
		return n.Int64()
	}
	return 1<<63 - 1
}

// union sorts spans and merges those that overlap or touch.
func union(spans []span) []span {
	s := slices.Clone(spans)
	slices.SortFunc(s, func(a, b span) int { return cmp.Compare(a.first, b.first) })
	var out []span
	for _, r := range s {
		if n := len(out); n > 0 && r.first <= out[n-1].last+1 {
			out[n-1].last = max(out[n-1].last, r.last)
			continue
		}
		out = append(out, r)
	}
	return out
}

// checkResponse checks a response to the cleaned header: the bytes of
// every part and a valid Content-Range for each.
func checkResponse(t *testing.T, res *http.Response, body, data []byte, clean string) {
	t.Helper()
	size := int64(len(data))
	switch res.StatusCode {
	case http.StatusOK:
		if !bytes.Equal(body, data) {
			t.Fatal("200 without the representation")
		}
	case http.StatusRequestedRangeNotSatisfiable:
		if got, want := res.Header.Get("Content-Range"), fmt.Sprintf("bytes */%d", size); got != want {
			t.Fatalf("416 with Content-Range %q, want %q", got, want)
		}
	case http.StatusPartialContent:
		want, _ := satisfiable(clean, size)
		got := parts(t, res, body, data)
		if !slices.Equal(got, want) {
			t.Fatalf("Range %q: parts %v, want %v", clean, got, want)
		}
	default:
		t.Fatalf("status %d", res.StatusCode)
	}
}

// parts returns the ranges of a 206 response, checking each part's bytes.
func parts(t *testing.T, res *http.Response, body, data []byte) []span {
	t.Helper()
	mediaType, params, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if mediaType != "multipart/byteranges" {
		return []span{checkPart(t, res.Header.Get("Content-Range"), body, data)}
	}
	var spans []span
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("multipart part: %v", err)
		}
		spans = append(spans, checkPart(t, p.Header.Get("Content-Range"), b, data))
	}
	if len(spans) < 2 {
		t.Fatalf("multipart response of %d parts", len(spans))
	}
	return spans
}

// checkPart parses "bytes first-last/size", which must lie inside data,
// and checks that b holds those bytes.
func checkPart(t *testing.T, contentRange string, b, data []byte) span {
	t.Helper()
	var s span
	var size int64
	if _, err := fmt.Sscanf(contentRange, "bytes %d-%d/%d", &s.first, &s.last, &size); err != nil ||
		fmt.Sprintf("bytes %d-%d/%d", s.first, s.last, size) != contentRange {
		t.Fatalf("invalid Content-Range %q", contentRange)
	}
	if size != int64(len(data)) || s.first < 0 || s.first > s.last || s.last >= size {
		t.Fatalf("Content-Range %q outside a representation of %d bytes", contentRange, len(data))
	}
	if !bytes.Equal(b, data[s.first:s.last+1]) {
		t.Fatalf("part %q holds the wrong bytes", contentRange)
	}
	return s
}
