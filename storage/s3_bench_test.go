package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/fileup/fileup/storage"
	"github.com/fileup/fileup/storage/storagetest"
)

// benchS3 opens a store on a fresh bucket of the S3 server in
// FILEUP_TEST_S3_ENDPOINT, or skips.
func benchS3(b *testing.B) *storage.S3 {
	b.Helper()
	cfg := storagetest.S3FromEnv(b)
	s, err := storage.NewS3(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkS3Put streams FILEUP_BENCH_S3_MIB MiB (default 64) of random
// bytes through Put from a plain io.Reader, as the reference server does
// with a request body: of unknown size with the request's length as
// SizeHint, and (known) of known size, as for a URL upload.
//
//	scripts/minio.sh go test -run '^$' -bench S3Put -benchtime 3x ./storage
func BenchmarkS3Put(b *testing.B) {
	s := benchS3(b)
	mib := int64(64)
	if v := os.Getenv("FILEUP_BENCH_S3_MIB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("FILEUP_BENCH_S3_MIB=%q: want a positive number of MiB", v)
		}
		mib = n
	}
	size := mib << 20
	for _, tt := range []struct {
		name string
		opts storage.PutOptions
	}{
		{"unknown", storage.PutOptions{Size: -1, SizeHint: size + 400}},
		{"known", storage.PutOptions{Size: size, SizeHint: -1}},
	} {
		b.Run(fmt.Sprintf("%s/%dMiB", tt.name, mib), func(b *testing.B) {
			ctx := context.Background()
			b.SetBytes(size)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				key := fmt.Sprintf("bench/%s-%d", tt.name, i)
				i++
				w, err := s.Put(ctx, key, newRandomStream(size), tt.opts)
				if err != nil || w.Size != size {
					b.Fatalf("Put = %+v, %v", w, err)
				}
			}
		})
	}
}

// BenchmarkS3PutSmall measures 4 KiB Puts of unknown size at 64 concurrent
// goroutines (on any GOMAXPROCS), the common case of a small upload.
//
//	scripts/minio.sh go test -run '^$' -bench S3PutSmall -benchtime 2000x ./storage
func BenchmarkS3PutSmall(b *testing.B) {
	s := benchS3(b)
	const size = 4 << 10
	data := make([]byte, size)
	_, _ = rand.Read(data)
	var n atomic.Int64
	b.SetBytes(size)
	b.ReportAllocs()
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0))) // goroutines = parallelism × GOMAXPROCS
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			key := fmt.Sprintf("small/%d", n.Add(1))
			r := struct{ io.Reader }{bytes.NewReader(data)}
			if _, err := s.Put(ctx, key, r, storage.PutOptions{Size: -1, SizeHint: size + 400}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
}

// randomStream delivers n bytes cycled from a block of random bytes: as
// incompressible as random data to the server, and cheap to produce. It is
// a plain io.Reader, as a request body is (no ReaderAt, no WriterTo).
type randomStream struct {
	n   int64
	off int
}

var randomBlock = func() []byte {
	b := make([]byte, 1<<20+7) // an odd length: parts do not repeat it exactly
	_, _ = rand.Read(b)
	return b
}()

func newRandomStream(n int64) *randomStream { return &randomStream{n: n} }

func (r *randomStream) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	m := copy(p, randomBlock[r.off:])
	r.off = (r.off + m) % len(randomBlock)
	r.n -= int64(m)
	return m, nil
}
