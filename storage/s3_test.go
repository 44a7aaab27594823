package storage_test

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/lifecycle"

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

// Servers sharing a bucket may start at once before it exists: each
// NewS3 succeeds, whichever of them creates the bucket, and the bucket
// gets the store's lifecycle rule once.
func TestS3ConcurrentCreate(t *testing.T) {
	for round := range 5 {
		cfg := storagetest.S3FromEnv(t)
		l := storage.LifecycleFor(time.Hour)
		cfg.Lifecycle = &l
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				<-start
				if _, err := storage.NewS3(context.Background(), cfg); err != nil {
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		close(start)
		wg.Wait()
		c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Region: cfg.Region})
		if err != nil {
			t.Fatal(err)
		}
		lc, err := c.GetBucketLifecycle(context.Background(), cfg.Bucket)
		if err != nil || len(lc.Rules) != 1 {
			t.Errorf("round %d: lifecycle %+v, %v; want the store's one rule", round, lc, err)
		}
	}
}

// NewS3 merges the store's lifecycle rules into the bucket's: other rules
// (another application's, or another prefix's store) are kept, the
// store's own are replaced when its configuration changes, and files that
// never expire get no expiration rule.
func TestS3LifecycleMerge(t *testing.T) {
	cfg := storagetest.S3FromEnv(t)
	ctx := context.Background()
	if _, err := storage.NewS3(ctx, cfg); err != nil { // creates the bucket
		t.Fatal(err)
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	theirs := lifecycle.NewConfiguration()
	theirs.Rules = []lifecycle.Rule{
		{ID: "someone-elses", Status: "Enabled", RuleFilter: lifecycle.Filter{Prefix: "logs/"}, Expiration: lifecycle.Expiration{Days: 30}},
		// What an earlier version installed for prefix a/: every object
		// gone after 4 days, whatever the TTL.
		{ID: "fileup-expiry", Status: "Enabled", RuleFilter: lifecycle.Filter{Prefix: "a/"}, Expiration: lifecycle.Expiration{Days: 4}},
	}
	if err := c.SetBucketLifecycle(ctx, cfg.Bucket, theirs); err != nil {
		t.Fatal(err)
	}
	rules := func() map[string]lifecycle.Rule {
		lc, err := c.GetBucketLifecycle(ctx, cfg.Bucket)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]lifecycle.Rule{}
		for _, r := range lc.Rules {
			m[r.ID] = r
		}
		return m
	}
	open := func(prefix string, ttl time.Duration) {
		t.Helper()
		c := cfg
		c.Prefix = prefix
		l := storage.LifecycleFor(ttl)
		c.Lifecycle = &l
		if _, err := storage.NewS3(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	expiries := func(m map[string]lifecycle.Rule) map[string]int {
		out := map[string]int{}
		for _, r := range m {
			if r.Expiration.Days > 0 {
				out[r.RuleFilter.Prefix] = int(r.Expiration.Days)
			}
		}
		return out
	}

	open("a/", 72*time.Hour)
	got := rules()
	if _, ok := got["someone-elses"]; !ok || len(got) < 2 {
		t.Fatalf("rules after the first start: %+v", got)
	}
	if e := expiries(got); len(e) != 2 || e["a/objects/"] != 4 || e["logs/"] != 30 {
		t.Errorf("expirations %v, want a/objects/ after 4 days (72 h + a day), logs/ kept, the old whole-prefix rule gone", e)
	}
	open("a/", 240*time.Hour)
	open("b/", 24*time.Hour)
	if e := expiries(rules()); e["a/objects/"] != 11 || e["b/objects/"] != 2 || e["logs/"] != 30 {
		t.Errorf("expirations %v, want a/ 11 days, b/ 2 days, logs/ 30 days", e)
	}
	open("a/", -1) // files of a/ never expire any more
	if e := expiries(rules()); e["a/objects/"] != 0 || e["b/objects/"] != 2 || e["logs/"] != 30 {
		t.Errorf("expirations %v, want none for a/", e)
	}
	// The rules also ask to abort incomplete uploads after a day; MinIO
	// accepts that with an expiration and drops it, so it is not checked
	// here: AbortIncomplete is what removes dead uploads on MinIO.
}

// AbortIncomplete aborts multipart uploads started before the bound and
// leaves younger ones and other prefixes alone.
func TestS3AbortIncomplete(t *testing.T) {
	cfg := storagetest.S3FromEnv(t)
	ctx := context.Background()
	s, err := storage.NewS3(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	core := minio.Core{Client: s.Client()}
	for _, name := range []string{"objects/t/dead", "elsewhere/x"} {
		if _, err := core.NewMultipartUpload(ctx, cfg.Bucket, name, minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.AbortIncomplete(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("AbortIncomplete(an hour ago) = %d, %v; want 0 (the upload is younger)", n, err)
	}
	if n, err := s.AbortIncomplete(ctx, time.Now().Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("AbortIncomplete(now) = %d, %v; want 1", n, err)
	}
	var left []string
	for u := range s.Client().ListIncompleteUploads(ctx, cfg.Bucket, "", true) {
		left = append(left, u.Key)
	}
	if len(left) != 1 || left[0] != "elsewhere/x" {
		t.Errorf("incomplete uploads left: %v, want only elsewhere/x", left)
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
		{"s3://b?endpoint=s3.example.com&region=eu-west-1&prefix=up/&part_size=8388608&access_key=k&secret_key=s",
			storage.S3Config{Bucket: "b", Endpoint: "s3.example.com", Region: "eu-west-1", Prefix: "up/", PartSize: 8 << 20, AccessKey: "k", SecretKey: "s", UseSSL: true}, true},
		{"s3://b?endpoint=h&part_concurrency=2&buffer_memory=67108864",
			storage.S3Config{Bucket: "b", Endpoint: "h", PartConcurrency: 2, BufferMemory: 64 << 20, AccessKey: "envkey", SecretKey: "envsecret", UseSSL: true}, true},
		{"s3://b?endpoint=h&part_concurrency=0", storage.S3Config{}, false},
		{"s3://b?endpoint=h&part_concurrency=x", storage.S3Config{}, false},
		{"s3://b?endpoint=h&buffer_memory=-1", storage.S3Config{}, false},
		{"s3://b?endpoint=h&part_size=big", storage.S3Config{}, false},
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

// A Put of known size up to a part is one streamed PUT (no buffer); a
// larger one, or one of unknown size, holds at most PartConcurrency part
// buffers, whatever its length, and a small one no part buffer at all. Measured as the bytes the whole
// process allocates during the Put (the buffer pool starts empty: each
// case uses a part size of its own), which include the garbage of the
// requests (more under the race detector): the bounds still tell apart a
// streamed PUT (well under 1 MiB), two part buffers, three and a buffer
// per part (40 MiB).
func TestS3PutMemoryBounded(t *testing.T) {
	const size = 40 << 20
	tests := []struct {
		name     string
		part     uint64 // distinct per case: the buffer pools are keyed by size
		size     int64
		opts     storage.PutOptions
		maxAlloc uint64
	}{
		{"known size, one part", 8 << 20, 8 << 20, storage.PutOptions{Size: 8 << 20, SizeHint: -1}, 2 << 20},
		{"known size, parts", 9 << 20, size, storage.PutOptions{Size: size, SizeHint: -1}, 2*9<<20 + 2<<20},
		{"unknown size", 6 << 20, size, storage.PutOptions{Size: -1, SizeHint: size + 400}, 2*6<<20 + 2<<20},
		{"unknown size no hint", 7 << 20, size, storage.PutOptions{Size: -1, SizeHint: -1}, 2*7<<20 + 2<<20 + 1<<20},
		{"small", 5 << 20, 4 << 10, storage.PutOptions{Size: -1, SizeHint: 4<<10 + 400}, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := storagetest.S3FromEnv(t)
			cfg.PartSize = tt.part
			cfg.PartConcurrency = 2
			ctx := context.Background()
			s, err := storage.NewS3(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			m, err := s.Put(ctx, "t/big", io.LimitReader(zeros{}, tt.size), tt.opts)
			runtime.ReadMemStats(&after)
			if err != nil || m.Size != tt.size {
				t.Fatalf("Put = %+v, %v", m, err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > tt.maxAlloc {
				t.Errorf("Put of %d KiB allocated %.2f MiB, want at most %.2f MiB", tt.size>>10, float64(alloc)/(1<<20), float64(tt.maxAlloc)/(1<<20))
			} else {
				t.Logf("allocated %.2f MiB", float64(alloc)/(1<<20))
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
			if _, err := s.Put(pctx, "t/k", tt.r(cancel), storage.PutOptions{Size: -1, SizeHint: -1}); !errors.Is(err, tt.want) {
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
	if _, err := s.Open(ctx, "t/k"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Open = %v, want ErrNotFound", err)
	}
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }

// ParseS3URL never panics, and what it accepts names a bucket and an
// endpoint, with no negative tuning.
func FuzzParseS3URL(f *testing.F) {
	for _, seed := range []string{
		"s3://b?endpoint=127.0.0.1:9000&secure=false",
		"s3://b?endpoint=h&part_size=8388608&part_concurrency=4&buffer_memory=268435456",
		"s3://b?endpoint=h&part_concurrency=-1", "s3://b?endpoint=h&buffer_memory=9223372036854775808",
		"s3://?endpoint=h", "s3://b?endpoint=", "s3:b", "%zz", "s3://b?endpoint=h&part_size=-5",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cfg, err := storage.ParseS3URL(raw)
		if err != nil {
			return
		}
		if cfg.Bucket == "" || cfg.Endpoint == "" {
			t.Fatalf("ParseS3URL(%q) = %+v: accepted without a bucket or an endpoint", raw, cfg)
		}
		if cfg.PartConcurrency < 0 || cfg.BufferMemory < 0 {
			t.Fatalf("ParseS3URL(%q) = %+v: negative tuning accepted", raw, cfg)
		}
	})
}
