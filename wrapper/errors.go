package wrapper

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
	"unicode"
)

// Error is a failed call as the server reported it: an HTTP status other
// than 2xx, an envelope that reports a failure (success:false or a code
// other than 2xx, even with HTTP 200), or a body that is not the vendor's
// JSON envelope at all (a proxy's HTML error page, a truncated JSON
// document). Test for it with errors.As or the Is* helpers.
//
// Error keeps what a support ticket needs: the status, the response
// headers (RequestID picks the request id out of them) and the start of
// the body. Neither Error nor GoString prints a header or the token, and
// the token the request was sent with is replaced by [REDACTED] wherever
// the server echoed it (Msg, Header, Body).
type Error struct {
	Vendor Vendor
	// Op names the call that failed: "upload", "base64 upload", "url
	// upload" or "quota".
	Op string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the envelope's code; 0 when the body had none.
	Code int
	// Msg is the envelope's msg (at most 1 KiB of it), or a description
	// of a body that was not an envelope.
	Msg string
	// Envelope reports whether the body was the vendor's JSON envelope.
	Envelope bool
	// Header is the response's header.
	Header http.Header
	// Body is the start of the response body, at most 1 KiB.
	Body string
	// RetryAfter is the server's Retry-After, if it sent one.
	RetryAfter time.Duration
}

// maxExcerpt bounds Error.Body and Error.Msg.
const maxExcerpt = 1 << 10

// Error is one line: vendor, call, HTTP status, the envelope's code and
// msg or a description and snippet of the body, and the request id. Text
// from the server is printed with control characters removed.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: HTTP %d", e.Vendor, e.Op, e.StatusCode)
	if e.Envelope && e.Code != 0 {
		fmt.Fprintf(&b, ", code %d", e.Code)
	}
	fmt.Fprintf(&b, ": %s", oneLine(e.Msg, 300))
	if !e.Envelope && e.Body != "" {
		fmt.Fprintf(&b, " (body: %q)", oneLine(e.Body, 200))
	}
	if id := e.RequestID(); id != "" {
		fmt.Fprintf(&b, " [request id %s]", id)
	}
	return b.String()
}

// GoString makes %#v print what Error prints, not the headers.
func (e *Error) GoString() string { return "&wrapper.Error{" + e.Error() + "}" }

// requestIDHeaders are where servers and the proxies in front of them put
// the id of a request, in order of preference.
var requestIDHeaders = []string{"X-Request-Id", "Request-Id", "X-Amz-Request-Id", "X-Amzn-Requestid", "X-Correlation-Id", "X-Trace-Id", "Cf-Ray"}

// RequestID is the id the server (or a proxy in front of it) gave the
// request, from the first of X-Request-Id, Request-Id, X-Amz-Request-Id,
// X-Amzn-RequestId, X-Correlation-Id, X-Trace-Id and CF-Ray it sent;
// empty if none. It is at most 128 printable characters.
func (e *Error) RequestID() string {
	for _, h := range requestIDHeaders {
		if v := e.Header.Get(h); v != "" {
			return oneLine(v, 128)
		}
	}
	return ""
}

// Temporary reports whether the same request may succeed later: the
// status or the envelope code says so (408, 425, 429, 500, 502, 503, 504,
// or a CDN's 520-524) and neither names a final failure (any other 4xx or
// 5xx). So HTTP 200 with code 500 is temporary, HTTP 500 with code 400 is
// not.
func (e *Error) Temporary() bool {
	s, c := verdictOf(e.StatusCode), verdictOf(e.Code)
	if s == final || c == final {
		return false
	}
	return s == retry || c == retry
}

// verdict is what a status or an envelope code says about a failure.
type verdict uint8

const (
	neutral verdict = iota // absent, 1xx-3xx: says nothing
	retry                  // the same request may succeed later
	final                  // the same request will fail again
)

// retryableCodes are the statuses, and envelope codes, after which the
// same request may succeed. Every other 4xx and 5xx is final.
var retryableCodes = map[int]bool{
	http.StatusRequestTimeout:      true,
	http.StatusTooEarly:            true,
	http.StatusTooManyRequests:     true,
	http.StatusInternalServerError: true,
	http.StatusBadGateway:          true,
	http.StatusServiceUnavailable:  true,
	http.StatusGatewayTimeout:      true,
	520:                            true, // CDN: unknown error from the origin
	521:                            true, // CDN: origin down
	522:                            true, // CDN: connection to the origin timed out
	523:                            true, // CDN: origin unreachable
	524:                            true, // CDN: the origin did not answer in time
}

func verdictOf(code int) verdict {
	switch {
	case code < 400:
		return neutral
	case retryableCodes[code]:
		return retry
	}
	return final
}

// failure is a kind of failure the Is* helpers report.
type failure uint8

const (
	unauthorized failure = iota + 1
	quotaExceeded
	tooLarge
)

// failures maps statuses and envelope codes to kinds of failure, as both
// normalised specs use them.
var failures = map[int]failure{
	http.StatusUnauthorized:          unauthorized,
	http.StatusForbidden:             quotaExceeded,
	http.StatusRequestEntityTooLarge: tooLarge,
}

// is reports whether the status or the code names the failure k. A 403
// counts as quota exhausted only when it came with the API's envelope: a
// proxy's or firewall's 403 page says nothing about quotas.
func (e *Error) is(k failure) bool {
	if failures[e.Code] == k && e.Envelope {
		return true
	}
	return failures[e.StatusCode] == k && (k != quotaExceeded || e.Envelope)
}

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsUnauthorized reports a rejected or missing API key (HTTP status or
// envelope code 401), or no token available at all.
func IsUnauthorized(err error) bool {
	if errors.Is(err, ErrNoToken) {
		return true
	}
	e, ok := asError(err)
	return ok && e.is(unauthorized)
}

// IsQuotaExceeded reports an exhausted quota: envelope code 403, or HTTP
// 403 with the API's envelope. It never looks at message text.
func IsQuotaExceeded(err error) bool {
	e, ok := asError(err)
	return ok && e.is(quotaExceeded)
}

// IsTooLarge reports a file over the server's size limit: HTTP status or
// envelope code 413.
func IsTooLarge(err error) bool {
	e, ok := asError(err)
	return ok && e.is(tooLarge)
}

// IsRetryable reports whether retrying the same call may succeed: a
// temporary server error (see Error.Temporary), an attempt cut by the
// inactivity timeout, or a network failure (connection refused, reset or
// lost, a timeout, a response cut short, an HTTP/2 stream reset by the
// server). Reading the source, a missing token or path, cancellation, an
// unknown host, a refused redirect, TLS failures and final statuses are
// not retryable.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if e, ok := asError(err); ok {
		return e.Temporary()
	}
	var (
		se *SourceError
		ce *tls.CertificateVerificationError
	)
	switch {
	case errors.As(err, &se), errors.As(err, &ce), errors.Is(err, ErrNoToken), errors.Is(err, ErrMissingPath),
		errors.Is(err, context.Canceled):
		return false
	}
	return transient(err)
}

// transient reports whether a transport error is a failure of the network
// or the connection, which a new attempt may not meet. Failures that would
// recur (an unknown host, a refused redirect, an unsupported scheme, a TLS
// alert or a plain-HTTP answer to HTTPS) are not.
func transient(err error) bool {
	var (
		dns *net.DNSError
		op  *net.OpError
		ne  net.Error
	)
	switch {
	case errors.As(err, &dns):
		return !dns.IsNotFound
	case errors.As(err, &op):
		return op.Op != "remote error" // dial, read, write; not a TLS alert
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true // the connection closed before the answer
	}
	// net/http reports these with unexported types, so only their text
	// tells them apart: a keep-alive connection the server closed as the
	// request went out, and HTTP/2 connections lost or closed, or streams
	// reset by the server (what an HTTP/1 connection reset is over HTTP/2).
	msg := err.Error()
	for _, m := range transientMessages {
		if strings.Contains(msg, m) {
			return true
		}
	}
	if strings.Contains(msg, "stream error: ") {
		for _, code := range []string{"INTERNAL_ERROR", "CANCEL", "REFUSED_STREAM", "ENHANCE_YOUR_CALM"} {
			if strings.Contains(msg, "; "+code) {
				return true
			}
		}
	}
	return false
}

var transientMessages = []string{
	"http: server closed idle connection",
	"http2: client connection lost",
	"http2: server sent GOAWAY",
}

// oneLine returns s as one printable line of at most max bytes (then
// "..."): invalid UTF-8 replaced, control characters and runs of white
// space turned into single spaces.
func oneLine(s string, max int) string {
	s = strings.ToValidUTF8(s[:min(len(s), max*2)], "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "..."
	}
	return s
}

// redact replaces the token wherever it occurs in s. Tokens shorter than
// 8 bytes are not searched for: they would match ordinary text.
func redact(s, token string) string {
	if len(token) < 8 {
		return s
	}
	return strings.ReplaceAll(s, token, "[REDACTED]")
}

// redactHeader returns a copy of h with the token redacted from values.
func redactHeader(h http.Header, token string) http.Header {
	out := h.Clone()
	for k, vs := range out {
		for i, v := range vs {
			vs[i] = redact(v, token)
		}
		out[k] = vs
	}
	return out
}
