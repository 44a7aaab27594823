// Package storagetest is the conformance suite every storage.Store must
// pass. The disk store runs it always; the S3 store runs it against a real
// S3-compatible server (MinIO in CI) configured by FILEUP_TEST_S3_ENDPOINT,
// FILEUP_TEST_S3_ACCESS_KEY and FILEUP_TEST_S3_SECRET_KEY.
package storagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
	objects := c.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Recursive: true})
	for range c.RemoveObjects(ctx, cfg.Bucket, objects, minio.RemoveObjectsOptions{}) {
	}
	_ = c.RemoveBucket(ctx, cfg.Bucket)
}

// Run runs the conformance suite; newStore returns an empty store.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	ctx := context.Background()
	const tenant, other = "t1", "t2"

	put := func(t *testing.T, s storage.Store, tenant, key string, data []byte, size int64) storage.Meta {
		t.Helper()
		m, err := s.Put(ctx, tenant, key, bytes.NewReader(data), storage.PutOptions{Size: size, Meta: storage.Meta{ContentType: "application/octet-stream"}})
		if err != nil {
			t.Fatalf("Put %s/%s: %v", tenant, key, err)
		}
		return m
	}
	read := func(t *testing.T, s storage.Store, tenant, key string) ([]byte, storage.Meta) {
		t.Helper()
		o, err := s.Get(ctx, tenant, key)
		if err != nil {
			t.Fatalf("Get %s/%s: %v", tenant, key, err)
		}
		defer o.Close()
		b, err := io.ReadAll(o)
		if err != nil {
			t.Fatal(err)
		}
		return b, o.Meta()
	}

	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		for _, tt := range []struct {
			name  string
			size  int
			known bool
		}{{"empty", 0, true}, {"small known", 1000, true}, {"small unknown", 1000, false}, {"3MiB unknown", 3 << 20, false}, {"3MiB known", 3 << 20, true}} {
			t.Run(tt.name, func(t *testing.T) {
				data := random(tt.size)
				size := int64(-1)
				if tt.known {
					size = int64(len(data))
				}
				key := "dir/sub/" + strings.ReplaceAll(tt.name, " ", "-") + ".bin"
				expires := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
				m, err := s.Put(ctx, tenant, key, bytes.NewReader(data), storage.PutOptions{Size: size, Meta: storage.Meta{
					ID: "id-" + tt.name, OriginalName: "Ünïcode \"name\".bin", ContentType: "image/png", Expires: expires,
				}})
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(data)
				if m.SHA256 != "" && m.SHA256 != hex.EncodeToString(sum[:]) {
					t.Errorf("SHA256 = %s, want %x", m.SHA256, sum)
				}
				// Backends that keep no digest (S3) leave SHA256 empty.
				want := storage.Meta{Tenant: tenant, Key: key, ID: "id-" + tt.name, OriginalName: "Ünïcode \"name\".bin",
					ContentType: "image/png", Size: int64(len(data)), SHA256: m.SHA256, Created: m.Created, Expires: expires}
				if !metaEqual(m, want) {
					t.Errorf("Put meta = %+v, want %+v", m, want)
				}
				if m.Created.IsZero() || time.Since(m.Created) > time.Minute {
					t.Errorf("Created = %v", m.Created)
				}
				got, gm := read(t, s, tenant, key)
				if !bytes.Equal(got, data) {
					t.Errorf("read %d bytes, want %d (equal=%v)", len(got), len(data), bytes.Equal(got, data))
				}
				if !metaEqual(gm, want) {
					t.Errorf("Get meta = %+v, want %+v", gm, want)
				}
				sm, err := s.Stat(ctx, tenant, key)
				if err != nil || !metaEqual(sm, want) {
					t.Errorf("Stat = %+v, %v", sm, err)
				}
				if gm.ETag() == "" {
					t.Error("empty ETag")
				}
			})
		}
	})

	t.Run("Seek", func(t *testing.T) {
		s := newStore(t)
		data := random(100_000)
		put(t, s, tenant, "seek.bin", data, -1)
		o, err := s.Get(ctx, tenant, "seek.bin")
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
	})

	t.Run("Overwrite", func(t *testing.T) {
		s := newStore(t)
		v1, v2 := bytes.Repeat([]byte("1"), 200_000), bytes.Repeat([]byte("2"), 300_000)
		put(t, s, tenant, "o.bin", v1, -1)
		// Readers during the overwrite see v1 or v2 in full, never a mix.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var bad sync.Once
		var badMsg string
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					o, err := s.Get(ctx, tenant, "o.bin")
					if err != nil {
						bad.Do(func() { badMsg = "Get during overwrite: " + err.Error() })
						return
					}
					b, err := io.ReadAll(o)
					o.Close()
					if errors.Is(err, storage.ErrChanged) {
						continue // replaced mid-read: refused, not mixed
					}
					if err != nil || !(bytes.Equal(b, v1) || bytes.Equal(b, v2)) {
						bad.Do(func() { badMsg = fmt.Sprintf("reader saw a mix or partial object (%d bytes, err %v)", len(b), err) })
						return
					}
				}
			}()
		}
		put(t, s, tenant, "o.bin", v2, int64(len(v2)))
		close(stop)
		wg.Wait()
		if badMsg != "" {
			t.Error(badMsg)
		}
		if got, _ := read(t, s, tenant, "o.bin"); !bytes.Equal(got, v2) {
			t.Errorf("after overwrite: %d bytes", len(got))
		}
		if u, err := s.Usage(ctx, tenant); err != nil || u.Files != 1 || u.Bytes != int64(len(v2)) {
			t.Errorf("Usage = %+v, %v", u, err)
		}
	})

	t.Run("FailedPutLeavesOldObject", func(t *testing.T) {
		s := newStore(t)
		old := []byte("the old version")
		put(t, s, tenant, "f.bin", old, -1)
		boom := errors.New("client went away")
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		const big = 6 << 20 // more than one S3 part at the minimum part size
		failAfter := func(n int, err error) func(context.CancelFunc) io.Reader {
			return func(context.CancelFunc) io.Reader {
				return io.MultiReader(bytes.NewReader(random(n)), errReader{err})
			}
		}
		data := func(n int) func(context.CancelFunc) io.Reader {
			return func(context.CancelFunc) io.Reader { return bytes.NewReader(random(n)) }
		}
		cancelAfter := func(n, total int) func(context.CancelFunc) io.Reader {
			return func(cancel context.CancelFunc) io.Reader {
				return io.MultiReader(bytes.NewReader(random(n)), cancelReader{cancel}, bytes.NewReader(random(total-n)))
			}
		}
		tests := []struct {
			name string
			ctx  context.Context
			r    func(cancel context.CancelFunc) io.Reader // cancel cancels the Put's context
			opts storage.PutOptions
			want error
		}{
			{"read error", ctx, failAfter(100_000, boom), storage.PutOptions{Size: -1}, boom},
			{"read error known size", ctx, failAfter(100_000, boom), storage.PutOptions{Size: 200_000}, boom},
			{"read error after a part", ctx, failAfter(big, boom), storage.PutOptions{Size: -1}, boom},
			{"read error after a part known size", ctx, failAfter(big, boom), storage.PutOptions{Size: big + 1000}, boom},
			{"truncated", ctx, failAfter(100_000, io.ErrUnexpectedEOF), storage.PutOptions{Size: -1}, io.ErrUnexpectedEOF},
			{"truncated known size", ctx, failAfter(100_000, io.ErrUnexpectedEOF), storage.PutOptions{Size: 200_000}, io.ErrUnexpectedEOF},
			{"truncated after a part", ctx, failAfter(big, io.ErrUnexpectedEOF), storage.PutOptions{Size: -1}, io.ErrUnexpectedEOF},
			{"context cancelled", cancelled, data(100_000), storage.PutOptions{Size: -1}, context.Canceled},
			{"context cancelled midway", ctx, cancelAfter(50_000, 100_000), storage.PutOptions{Size: -1}, context.Canceled},
			{"context cancelled after a part", ctx, cancelAfter(big, big+1000), storage.PutOptions{Size: -1}, context.Canceled},
			{"too large", ctx, data(100_001), storage.PutOptions{Size: -1, MaxSize: 100_000}, storage.ErrTooLarge},
			{"too large after a part", ctx, data(big + 1), storage.PutOptions{Size: -1, MaxSize: big}, storage.ErrTooLarge},
			{"too large known", ctx, data(100_001), storage.PutOptions{Size: 100_001, MaxSize: 100_000}, storage.ErrTooLarge},
			{"short", ctx, data(1000), storage.PutOptions{Size: 2000}, storage.ErrSizeMismatch},
			{"long", ctx, data(3000), storage.PutOptions{Size: 2000}, storage.ErrSizeMismatch},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				try := func(key string) error {
					ctx, cancel := context.WithCancel(tt.ctx)
					defer cancel()
					_, err := s.Put(ctx, tenant, key, tt.r(cancel), tt.opts)
					return err
				}
				if err := try("f.bin"); !errors.Is(err, tt.want) {
					t.Errorf("Put error = %v, want %v", err, tt.want)
				}
				if got, _ := read(t, s, tenant, "f.bin"); !bytes.Equal(got, old) {
					t.Errorf("old object changed to %d bytes", len(got))
				}
				newKey := "new/" + strings.ReplaceAll(tt.name, " ", "-")
				if err := try(newKey); !errors.Is(err, tt.want) {
					t.Errorf("Put of a new key: %v, want %v", err, tt.want)
				}
				if _, serr := s.Stat(ctx, tenant, newKey); !errors.Is(serr, storage.ErrNotFound) {
					t.Errorf("failed Put of a new key left an object (Stat: %v)", serr)
				}
				if u, err := s.Usage(ctx, tenant); err != nil || u.Files != 1 || u.Bytes != int64(len(old)) {
					t.Errorf("Usage = %+v, %v; want only the old object", u, err)
				}
			})
		}
	})

	t.Run("ServeContentRange", func(t *testing.T) {
		s := newStore(t)
		data := random(10_000)
		put(t, s, tenant, "r.bin", data, int64(len(data)))
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
			o, err := s.Get(ctx, tenant, "r.bin")
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/r.bin", nil)
			if tt.rng != "" {
				req.Header.Set("Range", tt.rng)
			}
			w := httptest.NewRecorder()
			w.Header().Set("ETag", o.Meta().ETag())
			http.ServeContent(w, req, "r.bin", o.Meta().Created, o)
			o.Close()
			if w.Code != tt.wantStatus || (tt.want != nil && !bytes.Equal(w.Body.Bytes(), tt.want)) {
				t.Errorf("Range %q: status %d, %d bytes; want %d, %d bytes", tt.rng, w.Code, w.Body.Len(), tt.wantStatus, len(tt.want))
			}
		}
	})

	t.Run("TenantIsolation", func(t *testing.T) {
		s := newStore(t)
		put(t, s, tenant, "same/key", []byte("one"), -1)
		put(t, s, other, "same/key", []byte("two"), -1)
		if got, _ := read(t, s, tenant, "same/key"); string(got) != "one" {
			t.Errorf("tenant 1 reads %q", got)
		}
		if got, _ := read(t, s, other, "same/key"); string(got) != "two" {
			t.Errorf("tenant 2 reads %q", got)
		}
		if err := s.Delete(ctx, other, "same/key"); err != nil {
			t.Fatal(err)
		}
		if got, _ := read(t, s, tenant, "same/key"); string(got) != "one" {
			t.Errorf("delete in tenant 2 affected tenant 1: %q", got)
		}
	})

	t.Run("InvalidKeys", func(t *testing.T) {
		s := newStore(t)
		for _, key := range []string{"", "/abs", "a/../../b", "..", "a//b", `a\b`, "a/\x00", ".hidden", "a/./b", "trailing/"} {
			if _, err := s.Put(ctx, tenant, key, strings.NewReader("x"), storage.PutOptions{Size: -1}); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("Put(%q) error = %v, want ErrInvalidKey", key, err)
			}
			if _, err := s.Get(ctx, tenant, key); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("Get(%q) error = %v, want ErrInvalidKey", key, err)
			}
		}
		for _, tn := range []string{"", "UPPER", "a/b", "..", strings.Repeat("a", 65)} {
			if _, err := s.Put(ctx, tn, "k", strings.NewReader("x"), storage.PutOptions{Size: -1}); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("Put tenant %q error = %v, want ErrInvalidKey", tn, err)
			}
		}
	})

	t.Run("NotFoundAndDelete", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Get(ctx, tenant, "missing"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get missing = %v", err)
		}
		if _, err := s.Stat(ctx, tenant, "missing/deeper"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat missing = %v", err)
		}
		put(t, s, tenant, "d/x", []byte("x"), 1)
		for range 2 { // idempotent
			if err := s.Delete(ctx, tenant, "d/x"); err != nil {
				t.Fatalf("Delete: %v", err)
			}
		}
		if _, err := s.Stat(ctx, tenant, "d/x"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat after Delete = %v", err)
		}
	})

	t.Run("ExpiryAndUsage", func(t *testing.T) {
		s := newStore(t)
		past := time.Now().Add(-time.Minute)
		future := time.Now().Add(time.Hour)
		for i, exp := range []time.Time{past, future, {}} {
			_, err := s.Put(ctx, tenant, "e/"+strconv.Itoa(i), bytes.NewReader(random(100*(i+1))), storage.PutOptions{Size: -1, Meta: storage.Meta{Expires: exp}})
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Get(ctx, tenant, "e/0"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get expired = %v, want ErrNotFound", err)
		}
		if _, err := s.Stat(ctx, tenant, "e/0"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat expired = %v, want ErrNotFound", err)
		}
		if u, err := s.Usage(ctx, tenant); err != nil || u.Files != 2 || u.Bytes != 500 {
			t.Errorf("Usage = %+v, %v; want 2 files, 500 bytes", u, err)
		}
		n, err := s.DeleteExpired(ctx, time.Now())
		if err != nil || n != 1 {
			t.Errorf("DeleteExpired = %d, %v; want 1", n, err)
		}
		n, err = s.DeleteExpired(ctx, future.Add(time.Second))
		if err != nil || n != 1 {
			t.Errorf("DeleteExpired later = %d, %v; want 1", n, err)
		}
		if _, err := s.Stat(ctx, tenant, "e/2"); err != nil {
			t.Errorf("object without expiry: %v", err)
		}
	})

	// The janitor must never delete a version that replaced the expired
	// one it read: an overwrite racing DeleteExpired survives it.
	t.Run("DeleteExpiredKeepsOverwrite", func(t *testing.T) {
		s := newStore(t)
		const key = "race/k"
		past := storage.Meta{Expires: time.Now().Add(-time.Hour)}
		for i := range 200 {
			if _, err := s.Put(ctx, tenant, key, strings.NewReader("expired"), storage.PutOptions{Size: -1, Meta: past}); err != nil {
				t.Fatal(err)
			}
			fresh := "fresh " + strconv.Itoa(i)
			var wg sync.WaitGroup
			var putErr, delErr error
			var deleted int
			wg.Add(2)
			go func() {
				defer wg.Done()
				deleted, delErr = s.DeleteExpired(ctx, time.Now())
			}()
			go func() {
				defer wg.Done()
				_, putErr = s.Put(ctx, tenant, key, strings.NewReader(fresh), storage.PutOptions{Size: -1, Meta: storage.Meta{Expires: time.Now().Add(time.Hour)}})
			}()
			wg.Wait()
			if putErr != nil || delErr != nil || deleted > 1 {
				t.Fatalf("iteration %d: Put: %v; DeleteExpired = %d, %v", i, putErr, deleted, delErr)
			}
			o, err := s.Get(ctx, tenant, key)
			if err != nil {
				t.Fatalf("iteration %d: the overwrite that raced DeleteExpired is gone: %v", i, err)
			}
			b, err := io.ReadAll(o)
			o.Close()
			if err != nil || string(b) != fresh {
				t.Fatalf("iteration %d: read %q, %v; want %q", i, b, err, fresh)
			}
		}
	})

	t.Run("Move", func(t *testing.T) {
		s := newStore(t)
		data := random(50_000)
		staged := put(t, s, "staging", tenant+"/abc", data, -1)
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
		put(t, s, tenant, "dest/file", []byte("old"), -1)
		m, err := s.Move(ctx, "staging", tenant+"/abc", tenant, "dest/file", storage.Meta{ID: "moved", OriginalName: "o.bin", ContentType: "text/plain", Expires: exp})
		if err != nil {
			t.Fatal(err)
		}
		if m.Tenant != tenant || m.Key != "dest/file" || m.ID != "moved" || m.Size != staged.Size || m.SHA256 != staged.SHA256 || !m.Expires.Equal(exp) {
			t.Errorf("moved meta %+v", m)
		}
		got, gm := read(t, s, tenant, "dest/file")
		if !bytes.Equal(got, data) || !metaEqual(gm, m) {
			t.Errorf("after Move: %d bytes, meta %+v", len(got), gm)
		}
		if _, err := s.Stat(ctx, "staging", tenant+"/abc"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("source still there: %v", err)
		}
		if _, err := s.Move(ctx, "staging", tenant+"/abc", tenant, "x", storage.Meta{}); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Move of a missing object = %v", err)
		}
	})
}

func metaEqual(a, b storage.Meta) bool {
	return a.Tenant == b.Tenant && a.Key == b.Key && a.ID == b.ID && a.OriginalName == b.OriginalName &&
		a.ContentType == b.ContentType && a.Size == b.Size && a.SHA256 == b.SHA256 &&
		a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires)
}

type errReader struct{ err error }

// cancelReader cancels a context when read, then reports end of data.
type cancelReader struct{ cancel context.CancelFunc }

func (c cancelReader) Read([]byte) (int, error) {
	c.cancel()
	return 0, io.EOF
}

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
