package storage_test

import (
	"context"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/fileup/fileup/storage"
	"github.com/fileup/fileup/storage/storagetest"
)

func TestS3Conformance(t *testing.T) {
	storagetest.S3FromEnv(t) // skips without an endpoint
	storagetest.Run(t, func(t *testing.T) storage.Store {
		cfg := storagetest.S3FromEnv(t)
		cfg.PartSize = 5 << 20 // the minimum: the suite's 6 MiB objects take two parts
		s, err := storage.NewS3(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestS3InstallsLifecycleRule(t *testing.T) {
	cfg := storagetest.S3FromEnv(t)
	cfg.Prefix = "pre/"
	if _, err := storage.NewS3(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	lc, err := c.GetBucketLifecycle(context.Background(), cfg.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if len(lc.Rules) != 1 || lc.Rules[0].Expiration.Days != 4 || lc.Rules[0].RuleFilter.Prefix != "pre/" || lc.Rules[0].Status != "Enabled" {
		t.Errorf("lifecycle rules = %+v", lc.Rules)
	}
}

func TestParseS3URL(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "envkey")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
	tests := []struct {
		in   string
		want storage.S3Config
		ok   bool
	}{
		{"s3://b?endpoint=127.0.0.1:9000&secure=false", storage.S3Config{Bucket: "b", Endpoint: "127.0.0.1:9000", AccessKey: "envkey", SecretKey: "envsecret"}, true},
		{"s3://b?endpoint=s3.example.com&region=eu-west-1&prefix=up/&part_size=8388608&lifecycle_days=-1&access_key=k&secret_key=s",
			storage.S3Config{Bucket: "b", Endpoint: "s3.example.com", Region: "eu-west-1", Prefix: "up/", PartSize: 8 << 20, LifecycleDays: -1, AccessKey: "k", SecretKey: "s", UseSSL: true}, true},
		{"s3://b", storage.S3Config{}, false},
		{"http://b?endpoint=x", storage.S3Config{}, false},
		{"s3://b?endpoint=x&secure=maybe", storage.S3Config{}, false},
	}
	for _, tt := range tests {
		got, err := storage.ParseS3URL(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("ParseS3URL(%q) = %+v, %v; want %+v ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// A Put of known size is one streamed PUT (no part buffer); one of unknown
// size buffers one part, never the whole object. Measured as the bytes the
// whole process allocates during the Put, which include the garbage of
// request signing (it grows with the size, more so under the race
// detector): the bounds are generous but still tell apart a streamed PUT
// (~2 MiB for 20 MiB), a buffered part (5 MiB and more) and a buffered
// object (20 MiB and more).
func TestS3PutMemoryBounded(t *testing.T) {
	cfg := storagetest.S3FromEnv(t)
	cfg.PartSize = 5 << 20 // the minimum, so that 20 MiB needs four parts
	ctx := context.Background()
	s, err := storage.NewS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const size = 20 << 20
	tests := []struct {
		name     string
		size     int64
		maxAlloc uint64
	}{
		{"known size", size, cfg.PartSize - 1<<20},
		{"unknown size", -1, size * 3 / 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			m, err := s.Put(ctx, "t", "big", io.LimitReader(zeros{}, size), storage.PutOptions{Size: tt.size})
			runtime.ReadMemStats(&after)
			if err != nil || m.Size != size {
				t.Fatalf("Put = %+v, %v", m, err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > tt.maxAlloc {
				t.Errorf("Put of %d MiB allocated %.1f MiB, want at most %.1f MiB", size>>20, float64(alloc)/(1<<20), float64(tt.maxAlloc)/(1<<20))
			} else {
				t.Logf("allocated %.1f MiB", float64(alloc)/(1<<20))
			}
		})
	}
}

// A failed multipart upload is aborted: no parts stay behind in the
// bucket, whatever made it fail (including a cancelled context).
func TestS3FailedPutLeavesNoUpload(t *testing.T) {
	cfg := storagetest.S3FromEnv(t)
	cfg.PartSize = 5 << 20
	ctx := context.Background()
	s, err := storage.NewS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const big = 6 << 20 // one full part uploaded before the failure
	boom := errors.New("boom")
	tests := []struct {
		name string
		r    func(cancel context.CancelFunc) io.Reader
		want error
	}{
		{"read error", func(context.CancelFunc) io.Reader {
			return io.MultiReader(io.LimitReader(zeros{}, big), errReader{boom})
		}, boom},
		{"truncated", func(context.CancelFunc) io.Reader {
			return io.MultiReader(io.LimitReader(zeros{}, big), errReader{io.ErrUnexpectedEOF})
		}, io.ErrUnexpectedEOF},
		{"cancelled", func(cancel context.CancelFunc) io.Reader {
			return io.MultiReader(io.LimitReader(zeros{}, big), readFunc(func([]byte) (int, error) { cancel(); return 0, nil }), io.LimitReader(zeros{}, big))
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pctx, cancel := context.WithCancel(ctx)
			defer cancel()
			if _, err := s.Put(pctx, "t", "k", tt.r(cancel), storage.PutOptions{Size: -1}); !errors.Is(err, tt.want) {
				t.Fatalf("Put = %v, want %v", err, tt.want)
			}
		})
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	for u := range c.ListIncompleteUploads(ctx, cfg.Bucket, "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		t.Errorf("incomplete upload left: %s (%s)", u.Key, u.UploadID)
	}
	if _, err := s.Stat(ctx, "t", "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat = %v, want ErrNotFound", err)
	}
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }
