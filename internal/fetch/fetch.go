// Package fetch downloads a URL that a client chose without becoming a
// proxy into the operator's network.
//
// The reference server's URL uploads hand it a fileUrl to download. An
// attacker would hand it http://169.254.169.254/ (the cloud metadata
// service), http://localhost:6379/, a name that resolves to 10.0.0.5, or a
// public URL that redirects to one of those. A [Client] refuses them all:
//
//   - only absolute http and https URLs of at most [MaxURLLength] bytes,
//     without credentials, are fetched, and the same holds for every
//     redirect, of which at most [MaxRedirects] are followed;
//   - the address check runs where the connection is made (the dialer's
//     Control hook), on the address actually dialled after name
//     resolution, for the first request and every redirect, so DNS
//     rebinding and redirects cannot get around it. Only globally routable
//     unicast addresses are permitted ([Public]), unless an operator's
//     [Config.Allow] prefix covers the address; unspecified addresses and
//     cloud metadata endpoints are refused even then;
//   - no proxy is used (a proxy would make the connection on the client's
//     behalf, out of the dialer's sight);
//   - one timeout covers everything, from name resolution to the body's
//     last byte, and the body fails with TooLarge as soon as it passes
//     [Config.MaxSize] (at once, when Content-Length says so);
//   - the remote's Content-Type is returned for information only, and a
//     file name is suggested from the final URL's path.
//
// Errors are [*Error] values whose messages are safe to show to the client
// that chose the URL: they never name the addresses a host resolved to.
//
// What is still possible: a client can make the server fetch any public
// URL (as the vendors' URL upload does), and tell apart, through the error
// kind, a name that resolves to a refused address (Refused) from one that
// does not resolve at all (Unreachable).
package fetch

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// MaxRedirects is how many redirects a fetch follows; one more fails with
// Kind Redirects.
const MaxRedirects = 3

// Defaults for the zero fields of [Config].
const (
	DefaultTimeout = 30 * time.Second
	DefaultMaxSize = 100 << 20
)

// maxContentType bounds Response.ContentType.
const maxContentType = 256

// Config sets up a [Client]. The zero value fetches public addresses only,
// with the default timeout and size limit.
type Config struct {
	// Allow lists address ranges the client may connect to although they
	// are not public: the server's --fetch-allow, for an operator's own
	// network or a test's loopback origin. Unspecified addresses and cloud
	// metadata endpoints stay refused. IPv4-mapped prefixes are taken as
	// the IPv4 prefixes they stand for.
	Allow []netip.Prefix
	// Timeout bounds a whole fetch, from name resolution to the end of the
	// body (DefaultTimeout when zero).
	Timeout time.Duration
	// MaxSize is the largest body, in bytes, that is read
	// (DefaultMaxSize when zero).
	MaxSize int64
	// UserAgent is sent with every request ("fileup-fetch" when empty).
	UserAgent string
	// RootCAs, when set, replaces the system's certificate authorities
	// (a private CA, or a test's TLS origin).
	RootCAs *x509.CertPool
}

// Client fetches URLs under the rules of the package. It is safe for
// concurrent use; idle connections are kept for reuse (each was checked
// when it was made).
type Client struct {
	allow     []netip.Prefix
	timeout   time.Duration
	maxSize   int64
	userAgent string
	dialer    *net.Dialer
	transport *http.Transport
}

// New returns a Client for cfg, or an error when a field is out of range.
func New(cfg Config) (*Client, error) {
	allow, ok := normalizeAllow(cfg.Allow)
	switch {
	case !ok:
		return nil, errors.New("fetch: invalid Allow prefix")
	case cfg.Timeout < 0:
		return nil, fmt.Errorf("fetch: negative timeout %v", cfg.Timeout)
	case cfg.MaxSize < 0:
		return nil, fmt.Errorf("fetch: negative max size %d", cfg.MaxSize)
	}
	c := &Client{
		allow:     allow,
		timeout:   cmp.Or(cfg.Timeout, DefaultTimeout),
		maxSize:   cmp.Or(cfg.MaxSize, DefaultMaxSize),
		userAgent: cmp.Or(cfg.UserAgent, "fileup-fetch"),
	}
	c.dialer = &net.Dialer{KeepAlive: 30 * time.Second, ControlContext: c.control}
	c.transport = &http.Transport{
		Proxy:                  nil, // a proxy would connect out of the dialer's sight
		DialContext:            c.dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    10 * time.Second,
		DisableCompression:     true, // the bytes as the remote stores them, and an honest Content-Length
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           32,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
	}
	return c, nil
}

// CloseIdleConnections closes the connections kept for reuse.
func (c *Client) CloseIdleConnections() { c.transport.CloseIdleConnections() }

// Response is a successful (2xx) answer whose body is still to be read.
type Response struct {
	// Body streams the file. Reads fail with an *Error of Kind TooLarge
	// past MaxSize, Timeout past the fetch's deadline, Broken when the
	// connection fails, Canceled when the caller's context ends. The caller
	// must close it; closing releases the fetch's timer and connection.
	Body io.ReadCloser
	// Size is the body's length from Content-Length, or -1 when unknown.
	Size int64
	// ContentType is what the remote claims (at most 256 bytes), for
	// information only: never trust it; sniff the bytes.
	ContentType string
	// FileName is a name suggested by the final URL's last path segment,
	// percent-decoded, at most MaxFileNameLength bytes, or "" when there
	// is none. It is the remote's choice: validate it as any client name.
	FileName string
}

// errTimeout is the cause of a fetch's context when Timeout expires.
var errTimeout = errors.New("fetch: timeout")

// Get fetches rawURL. On success the caller reads and closes
// Response.Body; the timeout keeps running until then. Errors are *Error.
func (c *Client) Get(ctx context.Context, rawURL string) (*Response, error) {
	u, e := c.check(rawURL)
	if e != nil {
		return nil, e
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.timeout, errTimeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, badURL("not a valid URL")
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "*/*")
	hops := 0
	hc := &http.Client{Transport: c.transport, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		hops = len(via)
		return c.checkRedirect(req, hops)
	}}
	resp, err := hc.Do(req)
	if err != nil {
		e := c.failure(ctx, err, hops) // before cancel, which would look like the caller's
		cancel()
		return nil, e
	}
	if e := c.checkResponse(resp, hops); e != nil {
		resp.Body.Close()
		cancel()
		return nil, e
	}
	ct := resp.Header.Get("Content-Type")
	return &Response{
		Body:        &body{c: c, rc: resp.Body, ctx: ctx, cancel: cancel, hops: hops},
		Size:        resp.ContentLength,
		ContentType: ct[:min(len(ct), maxContentType)],
		FileName:    fileName(resp.Request.URL),
	}, nil
}

// checkResponse refuses a non-2xx answer and a Content-Length over MaxSize.
func (c *Client) checkResponse(resp *http.Response, hops int) *Error {
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return &Error{Kind: Status, StatusCode: resp.StatusCode, Redirects: hops}
	case resp.ContentLength > c.maxSize:
		return c.newError(TooLarge, hops, nil)
	}
	return nil
}

// checkRedirect applies the URL rules to the target of redirect number
// hops.
func (c *Client) checkRedirect(req *http.Request, hops int) error {
	if hops > MaxRedirects {
		return &Error{Kind: Redirects, Redirects: MaxRedirects}
	}
	if e := c.checkURL(req.URL); e != nil {
		e.Redirects = hops
		return e
	}
	req.Header.Del("Referer") // the previous URL may carry a signature
	return nil
}

// failure turns the error of http.Client.Do into an *Error.
func (c *Client) failure(ctx context.Context, err error, hops int) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	kind := Unreachable
	switch {
	case errors.Is(err, errRefused):
		kind = Refused
	case context.Cause(ctx) == errTimeout:
		kind = Timeout
	case ctx.Err() != nil:
		kind = Canceled
	}
	return c.newError(kind, hops, err)
}

// newError is an *Error of kind with the reason the kind implies.
func (c *Client) newError(kind Kind, hops int, err error) *Error {
	e := &Error{Kind: kind, Redirects: hops, Err: err}
	switch kind {
	case Refused:
		e.Reason = "the address is not public"
	case Timeout:
		e.Reason = "after " + c.timeout.String()
	case TooLarge:
		e.Reason = fmt.Sprintf("larger than %d bytes", c.maxSize)
	}
	return e
}

// body enforces MaxSize on the response body and turns its errors into
// *Error values.
type body struct {
	c      *Client
	rc     io.ReadCloser
	n      int64 // bytes read
	ctx    context.Context
	cancel context.CancelFunc
	hops   int
	err    error // the first error, returned by every later Read
}

func (b *body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if room := b.c.maxSize - b.n + 1; int64(len(p)) > room {
		p = p[:room] // one byte past the limit is enough to know
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	if over := b.n - b.c.maxSize; over > 0 {
		b.n -= over
		b.err = b.c.newError(TooLarge, b.hops, nil)
		return n - int(over), b.err
	}
	if err != nil && err != io.EOF {
		kind := Broken
		switch {
		case context.Cause(b.ctx) == errTimeout:
			kind = Timeout
		case b.ctx.Err() != nil:
			kind = Canceled
		}
		b.err = b.c.newError(kind, b.hops, err)
		return n, b.err
	}
	return n, err
}

// Close closes the body and ends the fetch's timer.
func (b *body) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}
