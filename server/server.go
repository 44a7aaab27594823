// Package server is fileup's reference server: one net/http handler that
// implements the generated strict server interfaces of both vendor APIs
// (gen/kie and gen/evolink) over a storage.Store, plus the download routes
// their responses point at.
//
// Routes:
//
//	POST /api/file-stream-upload        kie.ai upload (multipart)
//	POST /api/v1/files/upload/stream    evolink.ai upload (multipart, images only)
//	GET  /f/{tenant}/{key...}           download (also HEAD; Range, ETag)
//	GET  /healthz                       liveness
//	GET  /metrics                       Prometheus text format
//
// Uploads stream: the strict handler hands over the request's
// *multipart.Reader, and the file part is copied into the store as it
// arrives, with no temporary copy and no full-body parsing. Every error is a
// JSON envelope {success:false, code, msg} with code equal to the HTTP
// status.
//
// Each API token is a tenant: its files live in a namespace named by a
// digest of the token, so download URLs are unguessable without the
// token's namespace and one tenant cannot reach another's files.
package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/gen/kie"
	"github.com/fileup/fileup/storage"
)

// Defaults for Config's zero values.
const (
	DefaultMaxUploadSize = 100 << 20
	DefaultTTL           = 72 * time.Hour
	DefaultStallTimeout  = 60 * time.Second
)

// Config configures a Server. Store and at least one token are required.
type Config struct {
	// Store holds the uploaded files.
	Store storage.Store
	// Tokens are the accepted bearer tokens; each is its own tenant.
	Tokens []string
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
	// unlimited. Exhausted quotas answer 403, mid-stream when concurrent
	// uploads of one token together cross QuotaBytes. The server counts
	// its own uploads in flight; replicas sharing a bucket do not see each
	// other's, so across replicas a token can overshoot by those. A file
	// that replaces another adds only the difference once stored (bytes a
	// smaller one frees count from the next upload on); while it is being
	// received, both versions count (both are stored until then).
	QuotaBytes int64
	QuotaFiles int64
	// StallTimeout cuts an upload whose client sends nothing for this long
	// (default 60 s). Slow but steady uploads are never cut.
	StallTimeout time.Duration
	// Logger receives request logs (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// Server serves both upload APIs and downloads over one store.
type Server struct {
	cfg     Config
	store   storage.Store
	log     *slog.Logger
	tokens  []tokenEntry
	metrics *metrics
	quota   *quotaLedger // nil without quotas
	handler http.Handler
}

type tokenEntry struct {
	digest [sha256.Size]byte
	tenant string
}

// TenantOf returns the storage namespace of a token: a hex digest, so the
// token itself never appears in paths, URLs or logs.
func TenantOf(token string) string {
	sum := sha256.Sum256([]byte("fileup-tenant\x00" + token))
	return hex.EncodeToString(sum[:16])
}

// New builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: Config.Store is required")
	}
	if len(cfg.Tokens) == 0 {
		return nil, errors.New("server: at least one token is required")
	}
	if cfg.MaxUploadSize == 0 {
		cfg.MaxUploadSize = DefaultMaxUploadSize
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	s := &Server{cfg: cfg, store: cfg.Store, log: cfg.Logger, metrics: newMetrics(cfg.Logger),
		quota: newQuotaLedger(cfg.QuotaBytes, cfg.QuotaFiles)}
	for _, t := range cfg.Tokens {
		if t == "" || strings.ContainsAny(t, " \t\r\n") {
			return nil, errors.New("server: tokens must be non-empty and contain no white space")
		}
		s.tokens = append(s.tokens, tokenEntry{digest: sha256.Sum256([]byte(t)), tenant: TenantOf(t)})
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// HTTPServer returns an *http.Server for s with timeouts that bound idle
// and header-reading time but never the duration of a large upload (stalls
// are cut per read by StallTimeout instead).
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func (s *Server) now() time.Time { return s.cfg.Now() }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	strictOpts := func() (func(http.ResponseWriter, *http.Request, error), func(http.ResponseWriter, *http.Request, error)) {
		reqErr := func(w http.ResponseWriter, r *http.Request, err error) {
			writeEnvelope(w, http.StatusBadRequest, "Request must be multipart/form-data: "+err.Error())
		}
		respErr := func(w http.ResponseWriter, r *http.Request, err error) {
			s.log.ErrorContext(r.Context(), "response failed", "err", err)
			writeEnvelope(w, http.StatusInternalServerError, "Internal server error")
		}
		return reqErr, respErr
	}
	reqErr, respErr := strictOpts()
	upload := []func(http.Handler) http.Handler{s.uploadLimits, s.authenticate}

	kie.HandlerWithOptions(
		kie.NewStrictHandlerWithOptions(kieAPI{s}, nil, kie.StrictHTTPServerOptions{RequestErrorHandlerFunc: reqErr, ResponseErrorHandlerFunc: respErr}),
		kie.StdHTTPServerOptions{BaseRouter: mux, Middlewares: toKie(upload), ErrorHandlerFunc: reqErr})
	evolink.HandlerWithOptions(
		evolink.NewStrictHandlerWithOptions(evolinkAPI{s}, nil, evolink.StrictHTTPServerOptions{RequestErrorHandlerFunc: reqErr, ResponseErrorHandlerFunc: respErr}),
		evolink.StdHTTPServerOptions{BaseRouter: mux, Middlewares: toEvolink(upload), ErrorHandlerFunc: reqErr})

	for _, p := range []string{"/api/file-stream-upload", "/api/v1/files/upload/stream"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", http.MethodPost)
			writeEnvelope(w, http.StatusMethodNotAllowed, "Method not allowed: use POST")
		})
	}
	mux.HandleFunc("GET /f/{tenant}/{key...}", s.download)
	mux.HandleFunc("/f/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			writeEnvelope(w, http.StatusNotFound, "File not found")
			return
		}
		w.Header().Set("Allow", "GET, HEAD")
		writeEnvelope(w, http.StatusMethodNotAllowed, "Method not allowed: use GET or HEAD")
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
	})
	mux.Handle("GET /metrics", s.metrics)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeEnvelope(w, http.StatusNotFound, "Not found")
	})
	return s.observe(s.recoverPanics(mux))
}

// toKie and toEvolink adapt plain middlewares to the generated types.
func toKie(ms []func(http.Handler) http.Handler) []kie.MiddlewareFunc {
	out := make([]kie.MiddlewareFunc, len(ms))
	for i, m := range ms {
		out[i] = kie.MiddlewareFunc(m)
	}
	return out
}

func toEvolink(ms []func(http.Handler) http.Handler) []evolink.MiddlewareFunc {
	out := make([]evolink.MiddlewareFunc, len(ms))
	for i, m := range ms {
		out[i] = evolink.MiddlewareFunc(m)
	}
	return out
}

type ctxKey int

const (
	tenantKey ctxKey = iota
	requestKey
)

// requestFrom returns the HTTP request an upload arrived in (for its Host).
func requestFrom(ctx context.Context) *http.Request {
	r, _ := ctx.Value(requestKey).(*http.Request)
	return r
}

// tenantFrom returns the authenticated tenant of a request context.
func tenantFrom(ctx context.Context) string {
	t, _ := ctx.Value(tenantKey).(string)
	return t
}

// authenticate checks the bearer token in constant time against every
// configured token, and stores the tenant in the request context.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(h, " ")
		if h == "" {
			writeUnauthorized(w, "Authentication failed: missing Authorization header")
			return
		}
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t") {
			writeUnauthorized(w, "Authentication failed: expected 'Authorization: Bearer <API key>'")
			return
		}
		digest := sha256.Sum256([]byte(token))
		tenant := ""
		for _, t := range s.tokens {
			if subtle.ConstantTimeCompare(digest[:], t.digest[:]) == 1 {
				tenant = t.tenant
			}
		}
		if tenant == "" {
			writeUnauthorized(w, "Authentication failed: Invalid API Key")
			return
		}
		ctx := context.WithValue(r.Context(), tenantKey, tenant)
		ctx = context.WithValue(ctx, requestKey, r)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func writeUnauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="fileup"`)
	writeEnvelope(w, http.StatusUnauthorized, msg)
}

// uploadLimits rejects bodies whose declared length is already too large,
// caps the body at the size limit plus room for the form's other parts, and
// cuts clients that stall.
func (s *Server) uploadLimits(next http.Handler) http.Handler {
	const formOverhead = 1 << 20
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if max := s.cfg.MaxUploadSize; max > 0 {
			if r.ContentLength > max+formOverhead {
				w.Header().Set("Connection", "close")
				writeEnvelope(w, http.StatusRequestEntityTooLarge, "File too large: limit is "+itoa(max)+" bytes")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, max+formOverhead)
		}
		// The multipart reader pulls 4 KiB at a time; a 64 KiB buffer
		// turns that into one socket read per 64 KiB.
		stall := &stallReader{rc: r.Body, ctl: http.NewResponseController(w), timeout: s.cfg.StallTimeout}
		br := bodyBuffers.Get().(*bufio.Reader)
		br.Reset(stall)
		defer func() { br.Reset(nil); bodyBuffers.Put(br) }()
		r.Body = bufferedBody{Reader: br, Closer: stall}
		s.metrics.inflight.Add(1)
		defer s.metrics.inflight.Add(-1)
		next.ServeHTTP(w, r)
	})
}

// bodyBuffers recycles the 64 KiB read buffers of upload bodies.
var bodyBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}

// bufferedBody is a request body read through a bufio.Reader.
type bufferedBody struct {
	*bufio.Reader
	io.Closer
}

// recoverPanics turns a panic into a 500 envelope and a log line.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "route", r.Pattern, "panic", v)
				writeEnvelope(w, http.StatusInternalServerError, "Internal server error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}
