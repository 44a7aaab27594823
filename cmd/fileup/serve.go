package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/server"
	"github.com/fileup/fileup/storage"
)

// serveFlags are fileup serve's settings.
type serveFlags struct {
	addr, store, db, tokenFile, publicURL, logFormat, metricsAddr string
	tokens, fetchAllow                                            listValue
	allowShortTokens                                              bool
	maxSize, quotaBytes                                           sizeValue
	quotaFiles                                                    int64
	uploadsPerToken                                               int
	ttl, stall, writeTimeout, headerTimeout, idleTimeout          time.Duration
	grace, janitor, lease, garbageDelay                           time.Duration
}

func serveFlagSet(stderr io.Writer) (*flag.FlagSet, *serveFlags) {
	fs := newFlagSet("serve", "[flags]", stderr)
	f := &serveFlags{maxSize: sizeValue(server.DefaultMaxUploadSize)}
	fs.StringVar(&f.addr, "addr", envOr("FILEUP_ADDR", "127.0.0.1:8080"), "listen address (env FILEUP_ADDR)")
	fs.StringVar(&f.store, "storage", envOr("FILEUP_STORAGE", "./data"), "a directory, or s3://BUCKET?endpoint=HOST:PORT[&secure=false&region=R&prefix=P] with keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (env FILEUP_STORAGE)")
	fs.StringVar(&f.db, "db", envOr("FILEUP_DB", ""), "the file catalog: sqlite:PATH, or postgres://... for several servers sharing one catalog (env FILEUP_DB; default with a directory: sqlite:<storage>/fileup.db; required with s3://)")
	fs.Var(&f.tokens, "token", "accepted bearer token, repeatable (env FILEUP_TOKENS, comma-separated); none: a development token is generated and printed")
	fs.StringVar(&f.tokenFile, "token-file", envOr("FILEUP_TOKEN_FILE", ""), "file with one accepted token per line (env FILEUP_TOKEN_FILE)")
	fs.BoolVar(&f.allowShortTokens, "allow-short-tokens", false, fmt.Sprintf("accept tokens shorter than %d characters (for tests only: short tokens can be guessed)", server.MinTokenLength))
	fs.StringVar(&f.publicURL, "public-url", envOr("FILEUP_PUBLIC_URL", ""), "base URL used in returned download URLs (default: from each request's Host)")
	fs.Var(&f.maxSize, "max-size", "largest accepted file (e.g. 100MiB, 2GiB)")
	fs.DurationVar(&f.ttl, "ttl", server.DefaultTTL, "how long files live; negative: forever")
	fs.Var(&f.quotaBytes, "quota-bytes", "bytes one token may store (0: unlimited)")
	fs.Int64Var(&f.quotaFiles, "quota-files", 0, "files one token may store (0: unlimited)")
	fs.IntVar(&f.uploadsPerToken, "uploads-per-token", server.DefaultUploadsPerUser, "concurrent uploads one token may run on this server (beyond: 429)")
	fs.DurationVar(&f.stall, "stall-timeout", server.DefaultStallTimeout, "cut an upload whose client sends nothing for this long")
	fs.DurationVar(&f.writeTimeout, "write-timeout", server.DefaultWriteTimeout, "cut a download whose client takes nothing for this long")
	fs.DurationVar(&f.headerTimeout, "header-timeout", 10*time.Second, "how long a client may take to send a request's headers")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", 120*time.Second, "how long an idle keep-alive connection is kept")
	fs.DurationVar(&f.grace, "shutdown-timeout", 30*time.Second, "on SIGINT/SIGTERM, how long in-flight requests may take to finish")
	fs.DurationVar(&f.janitor, "janitor-interval", time.Minute, "how often expired files and dead uploads are cleaned up")
	fs.DurationVar(&f.garbageDelay, "garbage-delay", catalog.DefaultGarbageDelay, "how long the bytes of a replaced or expired file stay in storage, so that downloads already reading them can finish, before the janitor deletes them")
	fs.DurationVar(&f.lease, "upload-lease", server.DefaultUploadLease, "how long the upload of a server that died holds its quota reservation and storage before the janitor releases them")
	fs.StringVar(&f.metricsAddr, "metrics-addr", envOr("FILEUP_METRICS_ADDR", ""), "serve /metrics on this separate address (e.g. 127.0.0.1:9091) instead of the main one; 'off': not at all")
	fs.Var(&f.fetchAllow, "fetch-allow", "an address range (CIDR, e.g. 10.0.0.0/8) URL uploads may fetch from although it is not public, repeatable; loopback, private, link-local and cloud metadata addresses are refused otherwise")
	fs.StringVar(&f.logFormat, "log-format", envOr("FILEUP_LOG_FORMAT", "text"), "request log format: text or json (written to stderr)")
	return fs, f
}

// check validates the flags; it returns a usage message, or "".
func (f *serveFlags) check() string {
	if _, err := f.allowed(); err != nil {
		return err.Error()
	}
	switch {
	case f.logFormat != "text" && f.logFormat != "json":
		return "--log-format must be text or json"
	case f.maxSize <= 0:
		return "--max-size must be positive"
	case f.quotaBytes < 0 || f.quotaFiles < 0:
		return "--quota-bytes and --quota-files must not be negative"
	case f.uploadsPerToken < 1:
		return "--uploads-per-token must be at least 1"
	case f.ttl == 0:
		return "--ttl must not be 0 (negative: files never expire)"
	case f.db == "" && strings.HasPrefix(f.store, "s3://"):
		return "--db is required with s3:// storage: sqlite:PATH for one server, postgres://... for several"
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--stall-timeout", f.stall}, {"--write-timeout", f.writeTimeout}, {"--header-timeout", f.headerTimeout},
		{"--idle-timeout", f.idleTimeout}, {"--shutdown-timeout", f.grace}, {"--janitor-interval", f.janitor},
		{"--upload-lease", f.lease}, {"--garbage-delay", f.garbageDelay}} {
		if d.v <= 0 {
			return d.name + " must be positive"
		}
	}
	return ""
}

func runServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, f := serveFlagSet(stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr(fs, "unexpected arguments %q", fs.Args())
	}
	if msg := f.check(); msg != "" {
		return usageErr(fs, "%s", msg)
	}
	tokens, devToken, err := f.allTokens()
	if err != nil {
		return err
	}
	for _, t := range tokens {
		if err := server.CheckToken(t, f.allowShortTokens); err != nil {
			return usageErr(fs, "%s", strings.TrimPrefix(err.Error(), "server: "))
		}
	}
	logger := newLogger(f.logFormat, stderr)
	st, desc, err := openStore(ctx, f.store, f.ttl)
	if err != nil {
		return err
	}
	cat, dbDesc, err := openCatalog(ctx, f.db, f.store, catalog.Options{GarbageDelay: f.garbageDelay})
	if err != nil {
		return err
	}
	defer cat.Close()
	allow, _ := f.allowed() // checked
	s, err := server.New(ctx, server.Config{
		Store: st, Catalog: cat, Tokens: tokens, AllowShortTokens: f.allowShortTokens,
		PublicURL: f.publicURL, MaxUploadSize: int64(f.maxSize), TTL: f.ttl,
		QuotaBytes: int64(f.quotaBytes), QuotaFiles: f.quotaFiles, UploadsPerToken: f.uploadsPerToken,
		StallTimeout: f.stall, WriteTimeout: f.writeTimeout, UploadLease: f.lease, FetchAllow: allow, Logger: logger,
	})
	if err != nil {
		return err
	}
	if err := importLegacy(ctx, s, st, logger); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "fileup: serving kie.ai and evolink.ai on %s, storage %s, catalog %s\n", base, desc, dbDesc)
	if devToken != "" {
		printDevToken(stdout, devToken, base)
	}
	return serveUntilDone(ctx, s, f, ln, logger)
}

// allowed parses --fetch-allow.
func (f *serveFlags) allowed() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range f.fetchAllow {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("--fetch-allow %q: want an address range such as 10.0.0.0/8 or fd00::/8", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// serveUntilDone serves until ctx is done, then shuts down gracefully.
func serveUntilDone(ctx context.Context, s *server.Server, f *serveFlags, ln net.Listener, logger *slog.Logger) error {
	hs := s.HTTPServer(ln.Addr().String())
	hs.ReadHeaderTimeout, hs.IdleTimeout = f.headerTimeout, f.idleTimeout
	metrics, err := metricsServer(s, hs, f.metricsAddr, logger)
	if err != nil {
		return err
	}
	janitorCtx, stopJanitor := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJanitor()
	go s.RunJanitor(janitorCtx, f.janitor)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(s.Listener(ln)) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: waiting for in-flight requests", "timeout", f.grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), f.grace)
	defer cancel()
	if metrics != nil {
		_ = metrics.Shutdown(sctx)
	}
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// metricsServer moves /metrics to its own listener when addr is set
// ("off" removes it); it returns that listener's server, if any.
func metricsServer(s *server.Server, hs *http.Server, addr string, logger *slog.Logger) (*http.Server, error) {
	if addr == "" {
		return nil, nil
	}
	main := hs.Handler
	hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			http.NotFound(w, r)
			return
		}
		main.ServeHTTP(w, r)
	})
	if addr == "off" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.MetricsHandler())
	ms := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := ms.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics listener failed", "err", err)
		}
	}()
	logger.Info("metrics on a separate listener", "addr", ln.Addr().String())
	return ms, nil
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func printDevToken(w io.Writer, token, base string) {
	fmt.Fprintf(w, "fileup: no token configured; development token for this run:\n\n  %s\n\nTry:\n  curl -H 'Authorization: Bearer %s' -F file=@README.md -F uploadPath=docs %s/api/file-stream-upload\n  go run ./cmd/fileup upload --base-url %s --token %s --path docs README.md\n\n",
		token, token, base, base, token)
}

// allTokens gathers the tokens from the flags, FILEUP_TOKENS and the token
// file; with none, it makes a development token.
func (f *serveFlags) allTokens() (tokens []string, devToken string, err error) {
	tokens = f.tokens
	if env := os.Getenv("FILEUP_TOKENS"); env != "" && len(tokens) == 0 {
		for _, t := range strings.Split(env, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tokens = append(tokens, t)
			}
		}
	}
	if f.tokenFile != "" {
		fromFile, err := readTokenFile(f.tokenFile)
		if err != nil {
			return nil, "", err
		}
		tokens = append(tokens, fromFile...)
	}
	if len(tokens) == 0 {
		var b [24]byte
		_, _ = rand.Read(b[:])
		devToken = "fileup-dev-" + hex.EncodeToString(b[:])
		tokens = append(tokens, devToken)
	}
	return tokens, devToken, nil
}

// openStore opens a directory or an s3:// URL; an S3 bucket gets the
// lifecycle rules that fit files living ttl.
func openStore(ctx context.Context, spec string, ttl time.Duration) (storage.Store, string, error) {
	if strings.HasPrefix(spec, "s3://") {
		cfg, err := storage.ParseS3URL(spec)
		if err != nil {
			return nil, "", err
		}
		l := storage.LifecycleFor(ttl)
		cfg.Lifecycle = &l
		st, err := storage.NewS3(ctx, cfg)
		if err != nil {
			return nil, "", err
		}
		return st, "s3://" + cfg.Bucket + " at " + cfg.Endpoint, nil
	}
	st, err := storage.NewDisk(spec)
	if err != nil {
		return nil, "", err
	}
	return st, spec, nil
}

// openCatalog opens the catalog named by dsn, or the default SQLite file
// for the store.
func openCatalog(ctx context.Context, dsn, store string, opts catalog.Options) (catalog.Catalog, string, error) {
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(store, "fileup.db")
	}
	cat, err := catalog.Open(ctx, dsn, opts)
	if err != nil {
		return nil, "", err
	}
	desc := dsn
	if !strings.HasPrefix(dsn, "sqlite:") {
		desc = "postgres" // the DSN may hold a password
	}
	return cat, desc, nil
}

// importLegacy imports files of the first disk format, once.
func importLegacy(ctx context.Context, s *server.Server, st storage.Store, logger *slog.Logger) error {
	d, ok := st.(*storage.Disk)
	if !ok {
		return nil
	}
	n, err := s.ImportLegacy(ctx, d)
	if n > 0 {
		logger.Info("imported files of the first storage format into the catalog", "files", n)
	}
	return err
}

func readTokenFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var tokens []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		tokens = append(tokens, line)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("token file %s holds no token", path)
	}
	return tokens, nil
}
