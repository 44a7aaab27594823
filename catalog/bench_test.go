package catalog_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/catalog/catalogtest"
)

// benchLimits are quotas that hold the benchmarks' files but are checked.
var benchLimits = catalog.Limits{Bytes: 1 << 50, Files: 1 << 40}

// beginCommit begins and commits the i-th small file of tenant.
func beginCommit(c catalog.Catalog, tenant string, i int64) error {
	now := time.Now()
	s := tenant + "-" + strconv.FormatInt(i, 10)
	f := catalog.File{ID: s, Tenant: tenant, Path: "bench", Name: s, Link: s, Object: s, Size: 1024,
		ContentType: "text/plain", Checksum: "sha256:0", Created: now, Expires: now.Add(72 * time.Hour)}
	if err := c.Begin(ctx, catalog.Upload{Object: s, Tenant: tenant, Bytes: 1024, Lease: now.Add(time.Minute)}, benchLimits, now); err != nil {
		return err
	}
	_, err := c.Commit(ctx, f, nil, catalog.Limits{}, now)
	return err
}

// BenchmarkBeginCommit: the cost of an upload's catalog work does not grow
// with what the tenant already stores.
func BenchmarkBeginCommit(b *testing.B) {
	for _, d := range dialects {
		for _, n := range []int{0, 1000, 20000} {
			b.Run(fmt.Sprintf("%s/files=%d", d.name, n), func(b *testing.B) {
				c := catalogtest.OpenDSN(b, d.dsn(b), catalog.Options{})
				if err := catalog.Seed(ctx, c, "t", n, 1024, time.Now()); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := range int64(b.N) {
					if err := beginCommit(c, "t", i); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCommitsParallel: Begin+Commit pairs from 64 goroutines, of one
// tenant (whose row every transaction locks) or of 64, reported as
// commits/s; SQLite with synchronous FULL (the catalog's) and NORMAL for
// comparison.
func BenchmarkCommitsParallel(b *testing.B) {
	open := map[string]func(b *testing.B) catalog.Catalog{
		"sqlite-full":   func(b *testing.B) catalog.Catalog { return openSQLiteSync(b, "FULL") },
		"sqlite-normal": func(b *testing.B) catalog.Catalog { return openSQLiteSync(b, "NORMAL") },
		"postgres": func(b *testing.B) catalog.Catalog {
			return catalogtest.OpenDSN(b, catalogtest.PostgresDSN(b), catalog.Options{})
		},
	}
	for _, name := range []string{"sqlite-full", "sqlite-normal", "postgres"} {
		for _, tenants := range []int64{1, 64} {
			b.Run(fmt.Sprintf("%s/tenants=%d", name, tenants), func(b *testing.B) {
				c := open[name](b)
				var seq, worker atomic.Int64
				b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
				start := time.Now()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					tenant := "t" + strconv.FormatInt(worker.Add(1)%tenants, 10)
					for pb.Next() {
						if err := beginCommit(c, tenant, seq.Add(1)); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "commits/s")
			})
		}
	}
}

func openSQLiteSync(b *testing.B, sync string) catalog.Catalog {
	c, err := catalog.OpenSQLite(ctx, filepath.Join(b.TempDir(), "catalog.db"), sync)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}
