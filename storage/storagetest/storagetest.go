// Package storagetest is the conformance suite every storage.Store must
// pass. The disk store runs it always; the S3 store runs it against a real
// S3-compatible server (MinIO in CI) configured by FILEUP_TEST_S3_ENDPOINT,
// FILEUP_TEST_S3_ACCESS_KEY and FILEUP_TEST_S3_SECRET_KEY.
package storagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/crc64nvme"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/fileup/fileup/storage"
)

// S3FromEnv returns the configuration of a fresh, uniquely named bucket on
// the S3-compatible server named by FILEUP_TEST_S3_ENDPOINT (host:port, plain
// HTTP) with the keys in FILEUP_TEST_S3_ACCESS_KEY and
// FILEUP_TEST_S3_SECRET_KEY, or skips the test when no endpoint is set
// (scripts/minio.sh starts a local MinIO and sets all three). The bucket is
// created by storage.NewS3; it is removed with its objects when the test
// ends.
func S3FromEnv(t testing.TB) storage.S3Config {
	t.Helper()
	endpoint := os.Getenv("FILEUP_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Skip("FILEUP_TEST_S3_ENDPOINT not set: no S3-compatible server to test against (run the tests under scripts/minio.sh)")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	cfg := storage.S3Config{
		Endpoint:  endpoint,
		AccessKey: os.Getenv("FILEUP_TEST_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("FILEUP_TEST_S3_SECRET_KEY"),
		Bucket:    "fileup-test-" + hex.EncodeToString(b[:]),
		Region:    "us-east-1",
	}
	t.Cleanup(func() { removeBucket(cfg) })
	return cfg
}

// removeBucket deletes a test bucket and its objects if it exists. It is
// best effort: a leftover bucket only costs space on the test server.
func removeBucket(cfg storage.S3Config) {
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""), Region: cfg.Region})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if ok, err := c.BucketExists(ctx, cfg.Bucket); err != nil || !ok {
		return
	}
	for u := range c.ListIncompleteUploads(ctx, cfg.Bucket, "", true) {
		if u.Err == nil {
			_ = c.RemoveIncompleteUpload(ctx, cfg.Bucket, u.Key)
		}
	}
	objects := c.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Recursive: true})
	for range c.RemoveObjects(ctx, cfg.Bucket, objects, minio.RemoveObjectsOptions{}) {
	}
	_ = c.RemoveBucket(ctx, cfg.Bucket)
}

// Checksum is the checksum a Store must report for data.
func Checksum(data []byte) string {
	h := crc64nvme.New()
	h.Write(data)
	return storage.ChecksumPrefix + base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// Run runs the conformance suite; newStore returns an empty store.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("Seek", func(t *testing.T) { testSeek(t, newStore(t)) })
	t.Run("CreateOnly", func(t *testing.T) { testCreateOnly(t, newStore(t)) })
	t.Run("FailedPutLeavesNothing", func(t *testing.T) { testFailedPut(t, newStore(t)) })
	t.Run("ServeContentRange", func(t *testing.T) { testServeContent(t, newStore(t)) })
	t.Run("InvalidKeys", func(t *testing.T) { testInvalidKeys(t, newStore(t)) })
	t.Run("NotFoundAndDelete", func(t *testing.T) { testDelete(t, newStore(t)) })
	t.Run("ConcurrentPuts", func(t *testing.T) { testConcurrent(t, newStore(t)) })
}

// Put stores data under key or fails the test.
func Put(t testing.TB, s storage.Store, key string, data []byte, size int64) storage.Written {
	t.Helper()
	w, err := s.Put(context.Background(), key, bytes.NewReader(data), storage.PutOptions{Size: size, SizeHint: -1})
	if err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
	return w
}

// Read returns an object's bytes or fails the test.
func Read(t testing.TB, s storage.Store, key string) []byte {
	t.Helper()
	o, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open %s: %v", key, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return b
}

func testRoundTrip(t *testing.T, s storage.Store) {
	for _, tt := range []struct {
		name  string
		size  int
		known bool
		hint  int64 // SizeHint when the size is unknown
	}{{"empty", 0, true, -1}, {"empty-unknown", 0, false, -1}, {"small-known", 1000, true, -1}, {"small-unknown", 1000, false, -1},
		{"small-hinted", 1000, false, 1400}, {"6MiB-unknown", 6 << 20, false, -1}, {"6MiB-known", 6 << 20, true, -1},
		{"6MiB-hinted", 6 << 20, false, 6<<20 + 400}, {"6MiB-hint-too-small", 6 << 20, false, 1000}} {
		t.Run(tt.name, func(t *testing.T) {
			data := random(tt.size)
			opts := storage.PutOptions{Size: -1, SizeHint: tt.hint}
			if tt.known {
				opts.Size = int64(len(data))
			}
			key := "tenant/" + tt.name
			w, err := s.Put(context.Background(), key, bytes.NewReader(data), opts)
			if err != nil {
				t.Fatalf("Put %s: %v", key, err)
			}
			if w.Size != int64(len(data)) || w.Checksum != Checksum(data) {
				t.Errorf("Put = %+v, want size %d checksum %s", w, len(data), Checksum(data))
			}
			if got := Read(t, s, key); !bytes.Equal(got, data) {
				t.Errorf("read %d bytes, want %d (equal=%v)", len(got), len(data), bytes.Equal(got, data))
			}
		})
	}
}

func testSeek(t *testing.T, s storage.Store) {
	data := random(100_000)
	Put(t, s, "t/seek", data, -1)
	o, err := s.Open(context.Background(), "t/seek")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if n, err := o.Seek(0, io.SeekEnd); err != nil || n != int64(len(data)) {
		t.Fatalf("Seek end = %d, %v", n, err)
	}
	if _, err := o.Seek(50_000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 1000)
	if _, err := io.ReadFull(o, part); err != nil || !bytes.Equal(part, data[50_000:51_000]) {
		t.Errorf("range read wrong: %v", err)
	}
}

// Put never replaces an object: the second Put of a key fails and the
// first object is intact.
func testCreateOnly(t *testing.T, s storage.Store) {
	first := []byte("the first object")
	Put(t, s, "t/once", first, -1)
	for _, size := range []int64{-1, 5} {
		_, err := s.Put(context.Background(), "t/once", strings.NewReader("again"), storage.PutOptions{Size: size, SizeHint: -1})
		if !errors.Is(err, storage.ErrExists) {
			t.Errorf("second Put (size %d) = %v, want ErrExists", size, err)
		}
	}
	// Larger ones take other paths on S3: one streamed PUT (which S3
	// refuses before reading it all), and parts.
	const mid, big = 4 << 20, 6 << 20
	for _, opts := range []storage.PutOptions{{Size: mid, SizeHint: -1}, {Size: -1, SizeHint: big + 400}, {Size: big, SizeHint: -1}} {
		n := max(opts.Size, opts.SizeHint-400)
		if _, err := s.Put(context.Background(), "t/once", bytes.NewReader(random(int(n))), opts); !errors.Is(err, storage.ErrExists) {
			t.Errorf("larger second Put (%+v) = %v, want ErrExists", opts, err)
		}
	}
	if got := Read(t, s, "t/once"); !bytes.Equal(got, first) {
		t.Errorf("object changed to %q", got)
	}
}

type putCase struct {
	name string
	r    func(cancel context.CancelFunc) io.Reader // cancel cancels the Put's context
	opts storage.PutOptions
	want error
}

func failedPutCases() []putCase {
	boom := errors.New("client went away")
	const big = 6 << 20 // more than one S3 part at the minimum part size
	failAfter := func(n int, err error) func(context.CancelFunc) io.Reader {
		return func(context.CancelFunc) io.Reader { return io.MultiReader(bytes.NewReader(random(n)), errReader{err}) }
	}
	data := func(n int) func(context.CancelFunc) io.Reader {
		return func(context.CancelFunc) io.Reader { return bytes.NewReader(random(n)) }
	}
	cancelAfter := func(n, total int) func(context.CancelFunc) io.Reader {
		return func(cancel context.CancelFunc) io.Reader {
			return io.MultiReader(bytes.NewReader(random(n)), cancelReader{cancel}, bytes.NewReader(random(total-n)))
		}
	}
	unknown := storage.PutOptions{Size: -1, SizeHint: -1}
	known := func(n int64) storage.PutOptions { return storage.PutOptions{Size: n, SizeHint: -1} }
	max := func(n int64) storage.PutOptions { return storage.PutOptions{Size: -1, SizeHint: -1, MaxSize: n} }
	// hinted is what the reference server passes for a form upload: the
	// request's length bounds the file's.
	hinted := func(n int64) storage.PutOptions { return storage.PutOptions{Size: -1, SizeHint: n} }
	return []putCase{
		{"read error", failAfter(100_000, boom), unknown, boom},
		{"read error known size", failAfter(100_000, boom), known(200_000), boom},
		{"read error after a part", failAfter(big, boom), unknown, boom},
		{"read error after a part known size", failAfter(big, boom), known(big + 1000), boom},
		{"truncated", failAfter(100_000, io.ErrUnexpectedEOF), unknown, io.ErrUnexpectedEOF},
		{"truncated known size", failAfter(100_000, io.ErrUnexpectedEOF), known(200_000), io.ErrUnexpectedEOF},
		{"truncated after a part", failAfter(big, io.ErrUnexpectedEOF), unknown, io.ErrUnexpectedEOF},
		{"context cancelled midway", cancelAfter(50_000, 100_000), unknown, context.Canceled},
		{"context cancelled after a part", cancelAfter(big, big+1000), unknown, context.Canceled},
		{"read error after a part with hint", failAfter(big, boom), hinted(big + 1000), boom},
		{"truncated after a part with hint", failAfter(big, io.ErrUnexpectedEOF), hinted(2 * big), io.ErrUnexpectedEOF},
		{"truncated small with hint", failAfter(1000, io.ErrUnexpectedEOF), hinted(5000), io.ErrUnexpectedEOF},
		{"too large", data(100_001), max(100_000), storage.ErrTooLarge},
		{"too large with hint", data(100_001), storage.PutOptions{Size: -1, SizeHint: 200_000, MaxSize: 100_000}, storage.ErrTooLarge},
		{"too large after a part with hint", data(big + 1), storage.PutOptions{Size: -1, SizeHint: 2 * big, MaxSize: big}, storage.ErrTooLarge},
		{"too large after a part", data(big + 1), max(big), storage.ErrTooLarge},
		{"too large known", data(100_001), storage.PutOptions{Size: 100_001, MaxSize: 100_000, SizeHint: -1}, storage.ErrTooLarge},
		{"short", data(1000), known(2000), storage.ErrSizeMismatch},
		{"long", data(3000), known(2000), storage.ErrSizeMismatch},
	}
}

// A failed Put reports the cause and leaves no object behind.
func testFailedPut(t *testing.T, s storage.Store) {
	for i, tt := range failedPutCases() {
		t.Run(tt.name, func(t *testing.T) {
			key := "t/failed-" + string(rune('a'+i))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if _, err := s.Put(ctx, key, tt.r(cancel), tt.opts); !errors.Is(err, tt.want) {
				t.Errorf("Put error = %v, want %v", err, tt.want)
			}
			if o, err := s.Open(context.Background(), key); !errors.Is(err, storage.ErrNotFound) {
				if err == nil {
					o.Close()
				}
				t.Errorf("a failed Put left an object (Open: %v)", err)
			}
			// The key is still free.
			Put(t, s, key, []byte("ok"), 2)
		})
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Put(cancelled, "t/cancelled", strings.NewReader("x"), storage.PutOptions{Size: -1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context = %v", err)
	}
}

func testServeContent(t *testing.T, s storage.Store) {
	data := random(10_000)
	Put(t, s, "t/r", data, int64(len(data)))
	for _, tt := range []struct {
		rng        string
		wantStatus int
		want       []byte
	}{
		{"", http.StatusOK, data},
		{"bytes=100-199", http.StatusPartialContent, data[100:200]},
		{"bytes=-10", http.StatusPartialContent, data[len(data)-10:]},
		{"bytes=9990-", http.StatusPartialContent, data[9990:]},
		{"bytes=20000-", http.StatusRequestedRangeNotSatisfiable, nil},
	} {
		o, err := s.Open(context.Background(), "t/r")
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/r", nil)
		if tt.rng != "" {
			req.Header.Set("Range", tt.rng)
		}
		w := httptest.NewRecorder()
		http.ServeContent(w, req, "r", time.Now(), o)
		o.Close()
		if w.Code != tt.wantStatus || (tt.want != nil && !bytes.Equal(w.Body.Bytes(), tt.want)) {
			t.Errorf("Range %q: status %d, %d bytes; want %d, %d bytes", tt.rng, w.Code, w.Body.Len(), tt.wantStatus, len(tt.want))
		}
	}
}

func testInvalidKeys(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for _, key := range []string{"", "/abs", "a/../../b", "..", "a//b", `a\b`, "a/\x00", ".hidden", "a/./b", "trailing/", strings.Repeat("k", 1025)} {
		if _, err := s.Put(ctx, key, strings.NewReader("x"), storage.PutOptions{Size: -1}); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Put(%q) error = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Open(ctx, key); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Open(%q) error = %v, want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, key); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Delete(%q) error = %v, want ErrInvalidKey", key, err)
		}
	}
}

func testDelete(t *testing.T, s storage.Store) {
	ctx := context.Background()
	if _, err := s.Open(ctx, "t/missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Open missing = %v", err)
	}
	if _, err := s.Open(ctx, "t/missing/deeper"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Open missing/deeper = %v", err)
	}
	Put(t, s, "t/d", []byte("x"), 1)
	Put(t, s, "u/d", []byte("y"), 1)
	for range 2 { // idempotent
		if err := s.Delete(ctx, "t/d"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	if _, err := s.Open(ctx, "t/d"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Open after Delete = %v", err)
	}
	if got := Read(t, s, "u/d"); string(got) != "y" {
		t.Errorf("Delete of t/d affected u/d: %q", got)
	}
}

// Concurrent Puts of distinct keys, some under new directories, all land
// intact.
func testConcurrent(t *testing.T, s storage.Store) {
	const n = 16
	var wg sync.WaitGroup
	datas := make([][]byte, n)
	errs := make([]error, n)
	for i := range n {
		datas[i] = random(10_000 + i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := "c" + string(rune('a'+i%4)) + "/" + string(rune('a'+i))
			_, errs[i] = s.Put(context.Background(), key, bytes.NewReader(datas[i]), storage.PutOptions{Size: -1, SizeHint: -1})
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Put %d: %v", i, errs[i])
		}
		key := "c" + string(rune('a'+i%4)) + "/" + string(rune('a'+i))
		if got := Read(t, s, key); !bytes.Equal(got, datas[i]) {
			t.Errorf("%s: read %d bytes, want %d", key, len(got), len(datas[i]))
		}
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// cancelReader cancels a context when read, then reports end of data.
type cancelReader struct{ cancel context.CancelFunc }

func (c cancelReader) Read([]byte) (int, error) {
	c.cancel()
	return 0, io.EOF
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
