package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fileup/fileup/wrapper"
)

// pngMagic starts every evolink bench file, which accepts images only; the
// server identifies types by their leading bytes.
var pngMagic = []byte("\x89PNG\r\n\x1a\n")

func runBench(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", "--base-url URL --token T [flags]", stderr)
	baseURL := fs.String("base-url", envOr("FILEUP_BASE_URL", ""), "server base URL (required; env FILEUP_BASE_URL)")
	token := fs.String("token", envOr("FILEUP_TOKEN", ""), "API token (env FILEUP_TOKEN)")
	provider := fs.String("provider", "kie", "API to load: kie or evolink")
	size := sizeValue(16 << 20)
	fs.Var(&size, "size", "bytes per upload")
	concurrency := fs.Int("concurrency", 16, "concurrent clients")
	duration := fs.Duration("duration", 0, "run for this long (default 30s unless --count is set)")
	count := fs.Int("count", 0, "stop after this many uploads")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *baseURL == "":
		return usageErr(fs, "--base-url is required")
	case *token == "":
		return usageErr(fs, "--token is required")
	case *provider != "kie" && *provider != "evolink":
		return usageErr(fs, "--provider must be kie or evolink")
	case size < 16:
		return usageErr(fs, "--size must be at least 16 bytes")
	case *concurrency < 1 || *concurrency > 1024:
		return usageErr(fs, "--concurrency must be between 1 and 1024")
	case *count < 0 || *duration < 0:
		return usageErr(fs, "--count and --duration must not be negative")
	}
	if *duration == 0 && *count == 0 {
		*duration = 30 * time.Second
	}
	transport := &http.Transport{MaxIdleConnsPerHost: *concurrency, MaxConnsPerHost: 0}
	httpClient := &http.Client{Transport: transport}
	up, err := wrapper.New(wrapper.Vendor(*provider), *baseURL,
		wrapper.WithTokenSource(wrapper.StaticToken(*token)), wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: 1}),
		wrapper.WithHTTPClient(httpClient))
	if err != nil {
		return err
	}
	r := benchRun{up: up, http: httpClient, size: int64(size), provider: *provider, limit: int64(*count)}
	elapsed := r.run(ctx, *duration, *concurrency)
	r.report(stdout, elapsed, *concurrency)
	if r.errors.Load() > 0 || r.integrity.Load() > 0 {
		return fmt.Errorf("%d errors, %d integrity failures", r.errors.Load(), r.integrity.Load())
	}
	if r.ok.Load() == 0 {
		return fmt.Errorf("no upload completed")
	}
	return nil
}

// run runs concurrency workers until duration (0: no limit) or the
// upload count is reached, and returns how long they ran.
func (r *benchRun) run(ctx context.Context, duration time.Duration, concurrency int) time.Duration {
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range concurrency {
		wg.Go(func() { r.worker(ctx, uint64(w)) })
	}
	wg.Wait()
	return time.Since(start)
}

type benchRun struct {
	up       wrapper.Uploader
	http     *http.Client
	size     int64
	provider string
	limit    int64

	started   atomic.Int64
	ok        atomic.Int64
	errors    atomic.Int64
	integrity atomic.Int64
	bytes     atomic.Int64

	errMu    sync.Mutex
	firstErr error

	mu        sync.Mutex
	latencies []time.Duration
}

func (b *benchRun) worker(ctx context.Context, id uint64) {
	for seq := uint64(0); ctx.Err() == nil; seq++ {
		if b.limit > 0 && b.started.Add(1) > b.limit {
			return
		}
		seed := id<<32 | seq
		src := newRandomReader(seed, b.size, b.provider == "evolink")
		hash := sha256.New()
		name := fmt.Sprintf("bench-%d-%d.bin", id, seq)
		if b.provider == "evolink" {
			name = fmt.Sprintf("bench-%d-%d.png", id, seq)
		}
		t0 := time.Now()
		res, err := b.up.Upload(ctx, wrapper.Reader(io.TeeReader(src, hash), name, b.size),
			wrapper.UploadParams{Path: "bench", Name: name})
		lat := time.Since(t0)
		if err != nil {
			if ctx.Err() != nil {
				return // the run ended mid-upload: not a server error
			}
			b.fail(err)
			continue
		}
		want := hex.EncodeToString(hash.Sum(nil))
		got, err := b.download(ctx, res)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.fail(err)
			continue
		}
		if got != want {
			b.integrity.Add(1)
			b.noteErr(fmt.Errorf("integrity: %s: sha256 %s, uploaded %s", name, got, want))
			continue
		}
		b.ok.Add(1)
		b.bytes.Add(b.size)
		b.mu.Lock()
		b.latencies = append(b.latencies, lat)
		b.mu.Unlock()
	}
}

func (b *benchRun) fail(err error) {
	b.errors.Add(1)
	b.noteErr(err)
}

// noteErr keeps the first error for the report.
func (b *benchRun) noteErr(err error) {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	if b.firstErr == nil {
		b.firstErr = err
	}
}

// download fetches an uploaded file and returns its SHA-256.
func (b *benchRun) download(ctx context.Context, res *wrapper.Result) (string, error) {
	url := res.DownloadURL
	if url == "" {
		return "", fmt.Errorf("%s: the server returned no download URL", res.FileID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download %s: %s", url, resp.Status)
	}
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (b *benchRun) report(w io.Writer, elapsed time.Duration, concurrency int) {
	b.mu.Lock()
	lat := slices.Clone(b.latencies)
	b.mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	secs := elapsed.Seconds()
	fmt.Fprintf(w, "uploads:     %d ok, %d errors, %d integrity failures (%d concurrent, %s each, %.1fs)\n",
		b.ok.Load(), b.errors.Load(), b.integrity.Load(), concurrency, humanSize(b.size), secs)
	fmt.Fprintf(w, "throughput:  %.1f uploads/s, %.1f MiB/s uploaded (each verified by download)\n",
		float64(b.ok.Load())/secs, float64(b.bytes.Load())/secs/(1<<20))
	fmt.Fprintf(w, "latency:     p50 %s, p95 %s, p99 %s (upload request)\n",
		pct(0.50).Round(time.Microsecond*100), pct(0.95).Round(time.Microsecond*100), pct(0.99).Round(time.Microsecond*100))
	b.errMu.Lock()
	defer b.errMu.Unlock()
	if b.firstErr != nil {
		fmt.Fprintf(w, "first error: %v\n", b.firstErr)
	}
}

// randomReader streams n pseudo-random bytes from a seed, in constant
// memory; with png it starts with the PNG signature.
type randomReader struct {
	rng    *rand.ChaCha8
	left   int64
	prefix []byte
}

func newRandomReader(seed uint64, n int64, png bool) *randomReader {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	r := &randomReader{rng: rand.NewChaCha8(s), left: n}
	if png {
		r.prefix = pngMagic
	}
	return r
}

func (r *randomReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n := 0
	if len(r.prefix) > 0 {
		n = copy(p, r.prefix)
		r.prefix = r.prefix[n:]
	}
	_, _ = r.rng.Read(p[n:])
	r.left -= int64(len(p))
	return len(p), nil
}
