// Command quotacurve measures small-upload latency for several tenants of
// one server side by side: it uploads one file for each tenant in turn
// (A, B, C, A, B, C, ...), sequentially, so that every tenant sees the
// same machine load, and prints each tenant's latency percentiles.
// bench/catalog.sh uses it to show that an upload's quota check does not
// grow with the number of files its tenant already holds.
//
//	quotacurve -url http://127.0.0.1:8080 -count 300 N0=TOKEN0 N20000=TOKEN1
//
// prints one line per tenant: "LABEL COUNT ERRORS P50_MS P99_MS".
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fileup/fileup/wrapper"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quotacurve:", err)
		os.Exit(1)
	}
}

// tenant is one token under test and the latencies of its uploads.
type tenant struct {
	label  string
	up     *wrapper.Client
	lat    []time.Duration
	errors int
	last   error
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("quotacurve", flag.ContinueOnError)
	url := fs.String("url", "", "server base URL")
	count := fs.Int("count", 300, "uploads per tenant")
	size := fs.Int64("size", 4<<10, "bytes per upload")
	path := fs.String("path", "quotacurve", "upload path of the measured files (distinct from the files that fill the tenant)")
	timeout := fs.Duration("timeout", 10*time.Minute, "bound on the whole run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" || fs.NArg() == 0 || *count < 1 || *size < 1 {
		return fmt.Errorf("usage: quotacurve -url URL [-count N] [-size B] LABEL=TOKEN...")
	}
	tenants, err := newTenants(*url, fs.Args())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	for i := range *count {
		for _, t := range tenants {
			t.upload(ctx, *path, fmt.Sprintf("m-%d.bin", i), *size, uint64(i))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	failed := 0
	for _, t := range tenants {
		slices.Sort(t.lat)
		fmt.Fprintf(stdout, "%s %d %d %.2f %.2f\n", t.label, len(t.lat), t.errors, ms(pct(t.lat, 0.50)), ms(pct(t.lat, 0.99)))
		if t.errors > 0 {
			fmt.Fprintf(os.Stderr, "quotacurve: %s: %d errors, the last: %v\n", t.label, t.errors, t.last)
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d tenants had errors", failed)
	}
	return nil
}

// newTenants makes one client per LABEL=TOKEN argument, without retries
// (a retry would hide a slow or failed upload).
func newTenants(url string, args []string) ([]*tenant, error) {
	var tenants []*tenant
	for _, a := range args {
		label, token, ok := strings.Cut(a, "=")
		if !ok || label == "" || token == "" {
			return nil, fmt.Errorf("%q: want LABEL=TOKEN", a)
		}
		up, err := wrapper.New(wrapper.Vendor("kie"), url,
			wrapper.WithTokenSource(wrapper.StaticToken(token)), wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: 1}))
		if err != nil {
			return nil, err
		}
		tenants = append(tenants, &tenant{label: label, up: up})
	}
	return tenants, nil
}

// upload sends one file of size pseudo-random bytes and records its
// latency, or the error.
func (t *tenant) upload(ctx context.Context, path, name string, size int64, seed uint64) {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	src := io.LimitReader(rand.NewChaCha8(s), size)
	t0 := time.Now()
	_, err := t.up.Upload(ctx, wrapper.Reader(src, name, size), wrapper.UploadParams{Path: path, Name: name})
	if err != nil {
		t.errors++
		t.last = err
		return
	}
	t.lat = append(t.lat, time.Since(t0))
}

// pct is the p-th quantile of sorted latencies (nearest rank).
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
