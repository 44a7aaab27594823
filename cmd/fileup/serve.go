package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/fileup/fileup/server"
	"github.com/fileup/fileup/storage"
)

func runServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "[flags]", stderr)
	addr := fs.String("addr", envOr("FILEUP_ADDR", "127.0.0.1:8080"), "listen address (env FILEUP_ADDR)")
	store := fs.String("storage", envOr("FILEUP_STORAGE", "./data"), "a directory, or s3://BUCKET?endpoint=HOST:PORT[&secure=false&region=R&prefix=P] with keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (env FILEUP_STORAGE)")
	var tokens listValue
	fs.Var(&tokens, "token", "accepted bearer token, repeatable (env FILEUP_TOKENS, comma-separated); none: a development token is generated and printed")
	tokenFile := fs.String("token-file", envOr("FILEUP_TOKEN_FILE", ""), "file with one accepted token per line (env FILEUP_TOKEN_FILE)")
	publicURL := fs.String("public-url", envOr("FILEUP_PUBLIC_URL", ""), "base URL used in returned download URLs (default: from each request's Host)")
	maxSize := sizeValue(server.DefaultMaxUploadSize)
	fs.Var(&maxSize, "max-size", "largest accepted file (e.g. 100MiB, 2GiB)")
	ttl := fs.Duration("ttl", server.DefaultTTL, "how long files live; 0 means the default, negative forever")
	var quotaBytes sizeValue
	fs.Var(&quotaBytes, "quota-bytes", "bytes one token may store (0: unlimited)")
	quotaFiles := fs.Int64("quota-files", 0, "files one token may store (0: unlimited)")
	stall := fs.Duration("stall-timeout", server.DefaultStallTimeout, "cut an upload whose client sends nothing for this long")
	grace := fs.Duration("shutdown-timeout", 30*time.Second, "on SIGINT/SIGTERM, how long in-flight uploads may take to finish")
	janitor := fs.Duration("janitor-interval", 5*time.Minute, "how often expired files are deleted")
	logFormat := fs.String("log-format", envOr("FILEUP_LOG_FORMAT", "text"), "request log format: text or json (written to stderr)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr(fs, "unexpected arguments %q", fs.Args())
	}
	if *logFormat != "text" && *logFormat != "json" {
		return usageErr(fs, "-log-format must be text or json")
	}

	if env := os.Getenv("FILEUP_TOKENS"); env != "" && len(tokens) == 0 {
		for _, t := range strings.Split(env, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tokens = append(tokens, t)
			}
		}
	}
	if *tokenFile != "" {
		fromFile, err := readTokenFile(*tokenFile)
		if err != nil {
			return err
		}
		tokens = append(tokens, fromFile...)
	}
	devToken := ""
	if len(tokens) == 0 {
		var b [24]byte
		_, _ = rand.Read(b[:])
		devToken = "fileup-dev-" + hex.EncodeToString(b[:])
		tokens = append(tokens, devToken)
	}

	var handler slog.Handler = slog.NewTextHandler(stderr, nil)
	if *logFormat == "json" {
		handler = slog.NewJSONHandler(stderr, nil)
	}
	logger := slog.New(handler)

	st, desc, err := openStore(ctx, *store)
	if err != nil {
		return err
	}
	s, err := server.New(server.Config{
		Store:         st,
		Tokens:        tokens,
		PublicURL:     *publicURL,
		MaxUploadSize: int64(maxSize),
		TTL:           *ttl,
		QuotaBytes:    int64(quotaBytes),
		QuotaFiles:    *quotaFiles,
		StallTimeout:  *stall,
		Logger:        logger,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "fileup: serving kie.ai (POST /api/file-stream-upload) and evolink.ai (POST /api/v1/files/upload/stream) on %s, storage %s\n", base, desc)
	if devToken != "" {
		fmt.Fprintf(stdout, "fileup: no token configured; development token for this run:\n\n  %s\n\nTry:\n  curl -H 'Authorization: Bearer %s' -F file=@README.md -F uploadPath=docs %s/api/file-stream-upload\n  go run ./cmd/fileup upload --base-url %s --token %s --path docs README.md\n\n",
			devToken, devToken, base, base, devToken)
	}

	hs := s.HTTPServer(ln.Addr().String())
	janitorCtx, stopJanitor := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJanitor()
	go s.RunJanitor(janitorCtx, *janitor)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: waiting for in-flight requests", "timeout", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
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

// openStore opens a directory or an s3:// URL.
func openStore(ctx context.Context, spec string) (storage.Store, string, error) {
	if strings.HasPrefix(spec, "s3://") {
		cfg, err := storage.ParseS3URL(spec)
		if err != nil {
			return nil, "", err
		}
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
