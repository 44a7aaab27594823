// Package httprange cleans the Range header of a download request before
// http.ServeContent answers it, so that ranges cannot amplify a response.
//
// http.ServeContent serves every range a client lists, overlapping or not:
// 15,000 "0-0" ranges make a multipart response of about 140 bytes per byte
// asked for. It also answers "bytes=-0" with 206 and an invalid
// Content-Range. [Clean] rewrites the header (RFC 9110 §14.1.2, byte ranges
// only) into a canonical one that ServeContent answers correctly and
// within bounds:
//
//   - a header that is malformed, or that names another range unit, is
//     dropped, and the full representation is served (RFC 9110 §14.2
//     allows a server to ignore Range);
//   - when no range is satisfiable (a start past the end, "bytes=-0"), the
//     header becomes one that ServeContent answers with 416 and
//     "Content-Range: bytes */size";
//   - overlapping and adjacent ranges are coalesced (RFC 9110 §14.2 allows
//     this "regardless of the order" the ranges came in); the remaining
//     ranges keep the order in which their first member was listed;
//   - when more than [MaxRanges] ranges remain after coalescing, or the
//     header lists more than [MaxSpecs] satisfiable ranges, they are
//     collapsed into one range from the lowest first byte to the highest
//     last byte: a single part, never larger than the representation.
//
// The result lists disjoint, non-adjacent ranges inside the representation,
// so a response is never larger than the representation plus the headers
// of at most MaxRanges parts. The work is linear in the header's length and
// the memory is fixed, whatever the header.
//
// ServeContent still evaluates the preconditions first (If-Match,
// If-None-Match, If-Range), so the cleaned header must be put back on the
// request rather than answered directly; [Apply] does that.
package httprange

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// MaxRanges is the most ranges a cleaned header lists; more are collapsed
// into one covering range.
const MaxRanges = 16

// MaxSpecs is the most satisfiable ranges Clean coalesces one by one; a
// header listing more is collapsed into one covering range without
// looking at how they overlap.
const MaxSpecs = 64

// span is a satisfiable range: bytes first..last of the representation,
// the order-th range listed.
type span struct {
	first, last int64
	order       int
}

// Clean returns the Range header to give http.ServeContent for a
// representation of size bytes, and the status ServeContent answers with
// it (unless a precondition decides otherwise):
//
//   - http.StatusOK and "": no Range header, or one to ignore (malformed,
//     not bytes, or a representation of unknown or zero length, which no
//     Content-Range can describe); the full representation is served;
//   - http.StatusPartialContent and "bytes=a-b[,c-d]...": the satisfiable
//     ranges, coalesced, at most MaxRanges;
//   - http.StatusRequestedRangeNotSatisfiable and "bytes=<size>-": no range
//     is satisfiable; ServeContent answers 416 with
//     "Content-Range: bytes */<size>".
func Clean(header string, size int64) (clean string, status int) {
	if header == "" || size <= 0 {
		return "", http.StatusOK
	}
	var buf [MaxSpecs]span
	spans, cover, ok := parse(header, size, buf[:0])
	switch {
	case !ok:
		return "", http.StatusOK
	case cover.order == 0:
		return "bytes=" + strconv.FormatInt(size, 10) + "-", http.StatusRequestedRangeNotSatisfiable
	case cover.order <= MaxSpecs:
		spans = coalesce(spans)
		if len(spans) <= MaxRanges {
			return format(spans), http.StatusPartialContent
		}
	}
	return format([]span{cover}), http.StatusPartialContent
}

// Apply cleans r's Range header in place for a representation of size
// bytes, and returns the status as [Clean] does. A request with more than
// one Range header line is served in full. Call it just before
// http.ServeContent.
func Apply(r *http.Request, size int64) (status int) {
	values := r.Header.Values("Range")
	if len(values) != 1 {
		r.Header.Del("Range")
		return http.StatusOK
	}
	clean, status := Clean(values[0], size)
	if clean == "" {
		r.Header.Del("Range")
	} else {
		r.Header.Set("Range", clean)
	}
	return status
}

// parse reads a Range header value for a representation of size > 0
// bytes. It appends the first MaxSpecs satisfiable ranges to spans and
// returns, in cover, the range from the lowest first byte to the highest
// last byte of all of them, with cover.order the number of satisfiable
// ranges. ok is false when the header is not a valid bytes range set.
func parse(header string, size int64, spans []span) (_ []span, cover span, ok bool) {
	unit, set, found := strings.Cut(header, "=")
	if !found || !strings.EqualFold(unit, "bytes") {
		return nil, span{}, false
	}
	cover = span{first: size, last: -1}
	listed := false
	for set != "" {
		var spec string
		spec, set, _ = strings.Cut(set, ",")
		spec = strings.Trim(spec, " \t")
		if spec == "" {
			continue // the list syntax allows empty elements
		}
		listed = true
		s, satisfiable, valid := parseSpec(spec, size)
		if !valid {
			return nil, span{}, false
		}
		if !satisfiable {
			continue
		}
		cover.order++
		s.order = cover.order
		cover.first, cover.last = min(cover.first, s.first), max(cover.last, s.last)
		if len(spans) < MaxSpecs {
			spans = append(spans, s)
		}
	}
	return spans, cover, listed
}

// parseSpec reads one range-spec: "first-", "first-last" or "-suffix".
func parseSpec(spec string, size int64) (s span, satisfiable, valid bool) {
	firstDigits, lastDigits, found := strings.Cut(spec, "-")
	if !found || !allDigits(lastDigits) {
		return span{}, false, false
	}
	if firstDigits == "" { // suffix-range
		if lastDigits == "" {
			return span{}, false, false
		}
		n := parseDigits(lastDigits)
		return span{first: size - min(n, size), last: size - 1}, n > 0, true
	}
	if !allDigits(firstDigits) {
		return span{}, false, false
	}
	if lastDigits != "" && cmpDigits(lastDigits, firstDigits) < 0 {
		return span{}, false, false
	}
	first := parseDigits(firstDigits)
	last := size - 1
	if lastDigits != "" {
		last = min(parseDigits(lastDigits), size-1)
	}
	return span{first: first, last: last}, first < size, true
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseDigits reads a non-empty string of decimal digits, saturating at
// the largest int64: positions that large are past the end of any
// representation all the same.
func parseDigits(s string) int64 {
	const limit = (1<<63 - 1) / 10
	var n int64
	for i := range len(s) {
		d := int64(s[i] - '0')
		if n > limit || n*10 > 1<<63-1-d {
			return 1<<63 - 1
		}
		n = n*10 + d
	}
	return n
}

// cmpDigits compares two non-empty strings of decimal digits as numbers,
// however long.
func cmpDigits(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// coalesce merges overlapping and adjacent spans in place and returns them
// in the order their first member was listed.
func coalesce(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int {
		if a.first != b.first {
			return cmp.Compare(a.first, b.first)
		}
		return a.order - b.order
	})
	out := spans[:0]
	for _, s := range spans {
		if n := len(out); n > 0 && s.first <= out[n-1].last+1 {
			prev := &out[n-1]
			prev.last = max(prev.last, s.last)
			prev.order = min(prev.order, s.order)
			continue
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b span) int { return a.order - b.order })
	return out
}

func format(spans []span) string {
	b := make([]byte, 0, len("bytes=")+len(spans)*16)
	b = append(b, "bytes="...)
	for i, s := range spans {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, s.first, 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, s.last, 10)
	}
	return string(b)
}
