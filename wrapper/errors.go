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

// Error is a failed upload as the server reported it: an HTTP status other
// than 2xx, an envelope with success:false (even with HTTP 200), or a body
// that is not the JSON envelope at all (a proxy's HTML error page, a
// truncated JSON document). Test for it with errors.As or the Is* helpers.
type Error struct {
	Vendor     Vendor
	StatusCode int    // HTTP status
	Code       int    // the envelope's code; 0 when there was no envelope
	Msg        string // the envelope's msg, or a description of the body
	// Envelope reports whether the body was the vendor's JSON envelope.
	Envelope bool
	// Snippet is the start of a body that was not an envelope, with
	// control characters removed; empty otherwise.
	Snippet string
	// RetryAfter is the server's Retry-After, if it sent one.
	RetryAfter time.Duration
}

// Error is one line: vendor, HTTP status, and the envelope's code and msg
// or a description and snippet of the body.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Vendor, e.StatusCode)
	if e.Envelope {
		fmt.Fprintf(&b, ", code %d: %s", e.Code, e.Msg)
	} else {
		fmt.Fprintf(&b, ": %s", e.Msg)
		if e.Snippet != "" {
			fmt.Fprintf(&b, " (body: %q)", e.Snippet)
		}
	}
	return b.String()
}

// Temporary reports whether the same request may succeed later: 408, 429
// and 5xx.
func (e *Error) Temporary() bool {
	s := e.StatusCode
	return s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500
}

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsUnauthorized reports a rejected or missing API key (HTTP or envelope
// code 401), or no token available at all.
func IsUnauthorized(err error) bool {
	if errors.Is(err, ErrNoToken) {
		return true
	}
	e, ok := asError(err)
	return ok && (e.StatusCode == http.StatusUnauthorized || e.Code == http.StatusUnauthorized)
}

// IsQuotaExceeded reports an exhausted upload quota (403 in the
// normalised specs, or any error whose message says quota).
func IsQuotaExceeded(err error) bool {
	e, ok := asError(err)
	return ok && (e.StatusCode == http.StatusForbidden || e.Code == http.StatusForbidden ||
		strings.Contains(strings.ToLower(e.Msg), "quota"))
}

// IsTooLarge reports a file over the server's size limit (413).
func IsTooLarge(err error) bool {
	e, ok := asError(err)
	return ok && (e.StatusCode == http.StatusRequestEntityTooLarge || e.Code == http.StatusRequestEntityTooLarge)
}

// IsRetryable reports whether retrying the same upload may succeed: a
// temporary server error (408, 429, 5xx) or a network failure (connection
// refused, reset or lost, a timeout, a response cut short, an HTTP/2 stream
// reset by the server). Reading the source, a missing token or path,
// cancellation, an unknown host, a refused redirect, TLS failures and
// other 4xx are not retryable.
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
	// net/http reports these with unexported types: a keep-alive connection
	// the server closed as the request went out, and HTTP/2 connections
	// lost or closed, or streams reset by the server (what an HTTP/1
	// connection reset is over HTTP/2).
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

// snippet returns the start of a body as printable text.
func snippet(b []byte) string {
	const max = 200
	s := strings.ToValidUTF8(string(b[:min(len(b), max*2)]), "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}
