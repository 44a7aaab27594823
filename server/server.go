// Package server is fileup's reference server: one net/http handler that
// implements the generated server interfaces of both vendor APIs (gen/kie
// and gen/evolink) over a file catalog (package catalog) and an object
// store (package storage), plus the download routes their responses point
// at.
//
// Routes:
//
//	POST /api/file-stream-upload            kie.ai upload (multipart)
//	POST /api/v1/files/upload/stream        evolink.ai upload (multipart, images only)
//	GET  /f/{link}/{name}                   download (also HEAD; Range, ETag)
//	GET  /healthz                           liveness (and the catalog answers)
//	GET  /metrics                           Prometheus metrics
//
// The server implements the generated net/http ServerInterface of each
// vendor rather than the strict one: it reads request bodies itself, so an
// upload streams from the socket into the store in large reads, with every
// header, field and name bounded, and nothing parsed into memory first.
// Responses are the generated response types. Every error is a JSON
// envelope {success:false, code, msg} with code equal to the HTTP status.
//
// # Files, names and links
//
// Every upload is written once, to a new object; a catalog transaction
// then makes it the file at (tenant, upload path, name), replacing any
// file there atomically. Quotas are reserved in the catalog as bytes
// arrive, so they hold across every server process sharing the catalog.
// Each API token is a tenant, whose id is derived from the token with a
// secret kept in the catalog. A download URL is /f/<link>/<name>: link is
// random, so one shared URL reveals nothing about the tenant's other
// files; a file replaced under the same name keeps its URL.
package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/internal/fetch"
	"github.com/fileup/fileup/internal/throttle"
	"github.com/fileup/fileup/storage"
)

// Defaults for Config's zero values.
const (
	DefaultMaxUploadSize  = 100 << 20
	DefaultTTL            = 72 * time.Hour
	DefaultStallTimeout   = 60 * time.Second
	DefaultWriteTimeout   = 60 * time.Second
	DefaultUploadsPerUser = 64
	DefaultUploadLease    = 5 * time.Minute
	DefaultIdempotencyTTL = 24 * time.Hour
	// MinTokenLength is the shortest token New accepts unless
	// Config.AllowShortTokens is set.
	MinTokenLength = 16
)

// Config configures a Server. Store, Catalog and at least one token are
// required.
type Config struct {
	// Store holds the files' bytes; Catalog their names and metadata.
	Store   storage.Store
	Catalog catalog.Catalog
	// Tokens are the accepted bearer tokens; each is its own tenant.
	Tokens []string
	// AllowShortTokens accepts tokens shorter than MinTokenLength (tests).
	AllowShortTokens bool
	// PublicURL is the base of the URLs returned to clients, such as
	// "https://files.example.com". Empty: derived from each request's Host.
	PublicURL string
	// MaxUploadSize bounds one file in bytes (default 100 MiB); larger
	// uploads fail with 413 as soon as the limit is crossed.
	MaxUploadSize int64
	// TTL is how long files live (default 72 h, as evolink documents);
	// negative means forever.
	TTL time.Duration
	// QuotaBytes and QuotaFiles bound what one token may store; 0 means
	// unlimited. They hold exactly for concurrent uploads of one token
	// across every server sharing the catalog: an upload reserves its
	// file when it starts and its bytes as they arrive, and is refused
	// with 403 (mid-stream for bytes) when they do not fit. Every server
	// sharing a catalog must be given the same quotas.
	QuotaBytes int64
	QuotaFiles int64
	// StallTimeout cuts an upload whose client sends nothing for this long
	// (default 60 s). Slow but steady uploads are never cut.
	StallTimeout time.Duration
	// WriteTimeout cuts a download whose client takes nothing for this
	// long (default 60 s): each 256 KiB must be taken within it.
	WriteTimeout time.Duration
	// UploadsPerToken bounds one token's concurrent uploads in this
	// process (default 16); beyond it uploads are refused with 429.
	UploadsPerToken int
	// UploadLease is how long an upload in flight holds its reservation
	// and object without this process renewing it (default 5 minutes; it
	// is renewed as the bytes arrive). A process that dies mid-upload
	// releases them this long after; the janitor then removes the object.
	UploadLease time.Duration
	// IdempotencyTTL is how long an upload's Idempotency-Key is
	// remembered (default 24 h).
	IdempotencyTTL time.Duration
	// FetchAllow lists address ranges URL uploads may fetch from although
	// they are not public (loopback, private, link-local...): the
	// operator's own network, or a test's origin. Cloud metadata
	// addresses stay refused.
	FetchAllow []netip.Prefix
	// FetchTimeout bounds one URL upload's download (default 30 s, as kie
	// documents).
	FetchTimeout time.Duration
	// AuthBurst failed authentications from one client address are
	// answered normally; then one more per AuthRefill (default 10, and
	// one a second), and 401 with Retry-After otherwise.
	AuthBurst  int
	AuthRefill time.Duration
	// Logger receives request logs (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// Server serves the vendor APIs and downloads over one catalog and store.
type Server struct {
	cfg       Config
	store     storage.Store
	cat       catalog.Catalog
	log       *slog.Logger
	tokens    []tokenEntry
	metrics   *metrics
	active    activeUploads
	fetch     *fetch.Client
	authLimit *throttle.Limiter
	handler   http.Handler
}

type tokenEntry struct {
	digest [sha256.Size]byte
	tenant string
}

// New builds a Server. It reads (creating it on first use) the catalog's
// tenant secret.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Catalog == nil {
		return nil, errors.New("server: Config.Store and Config.Catalog are required")
	}
	if len(cfg.Tokens) == 0 {
		return nil, errors.New("server: at least one token is required")
	}
	cfg = withDefaults(cfg)
	s := &Server{cfg: cfg, store: cfg.Store, cat: cfg.Catalog, log: cfg.Logger, metrics: newMetrics(cfg.Logger),
		active: activeUploads{limit: cfg.UploadsPerToken}}
	var err error
	if s.fetch, err = fetch.New(fetch.Config{Allow: cfg.FetchAllow, Timeout: cfg.FetchTimeout, MaxSize: cfg.MaxUploadSize, UserAgent: "fileup"}); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if s.authLimit, err = throttle.New(throttle.Config{Burst: cfg.AuthBurst, Refill: cfg.AuthRefill}); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	secret, err := tenantSecret(ctx, cfg.Catalog)
	if err != nil {
		return nil, err
	}
	for _, t := range cfg.Tokens {
		if err := checkToken(t, cfg.AllowShortTokens); err != nil {
			return nil, err
		}
		s.tokens = append(s.tokens, tokenEntry{digest: sha256.Sum256([]byte(t)), tenant: tenantID(secret, t)})
	}
	s.handler = s.routes()
	return s, nil
}

func withDefaults(cfg Config) Config {
	if cfg.MaxUploadSize == 0 {
		cfg.MaxUploadSize = DefaultMaxUploadSize
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.UploadsPerToken == 0 {
		cfg.UploadsPerToken = DefaultUploadsPerUser
	}
	if cfg.UploadLease == 0 {
		cfg.UploadLease = DefaultUploadLease
	}
	if cfg.IdempotencyTTL == 0 {
		cfg.IdempotencyTTL = DefaultIdempotencyTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return cfg
}

// CheckToken reports whether New accepts token, with allowShort as
// Config.AllowShortTokens, so that a command can refuse a weak token as a
// usage error before it opens anything.
func CheckToken(token string, allowShort bool) error { return checkToken(token, allowShort) }

func checkToken(t string, allowShort bool) error {
	switch {
	case t == "" || strings.ContainsAny(t, " \t\r\n"):
		return errors.New("server: tokens must be non-empty and contain no white space")
	case len(t) < MinTokenLength && !allowShort:
		return fmt.Errorf("server: a token of %d characters is too short to resist guessing: use at least %d", len(t), MinTokenLength)
	}
	return nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// HTTPServer returns an *http.Server for s with timeouts that bound idle
// and header-reading time but never the duration of a large upload or
// download (stalls are cut per read by StallTimeout and per write by
// WriteTimeout instead).
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		ConnContext:       connContext,
	}
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// activeUploads counts each tenant's uploads in flight in this process.
type activeUploads struct {
	limit int
	mu    sync.Mutex
	n     map[string]int
}

// enter admits one more upload of tenant, or reports false at the limit.
// The caller calls the returned function when the upload ends.
func (a *activeUploads) enter(tenant string) (leave func(), ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil {
		a.n = map[string]int{}
	}
	if a.n[tenant] >= a.limit {
		return nil, false
	}
	a.n[tenant]++
	return func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.n[tenant]--; a.n[tenant] == 0 {
			delete(a.n, tenant)
		}
	}, true
}

// recoverPanics turns a panic into a 500 envelope and a log line.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "route", r.Pattern, "panic", fmt.Sprint(v))
				writeEnvelope(w, http.StatusInternalServerError, "Internal server error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// healthz answers 200 when the catalog answers, 503 otherwise.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	if err := s.cat.Ping(ctx); err != nil {
		s.log.ErrorContext(ctx, "health check: the catalog does not answer", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"catalog unavailable"}`+"\n")
		return
	}
	_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
}
