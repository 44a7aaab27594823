package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fileup/fileup/storage"
	"github.com/fileup/fileup/storage/storagetest"
)

// newTestS3 opens a store on a fresh bucket with 5 MiB parts (the
// minimum), after tune changes its configuration.
func newTestS3(t *testing.T, tune func(*storage.S3Config)) (*storage.S3, storage.S3Config) {
	t.Helper()
	cfg := storagetest.S3FromEnv(t)
	cfg.PartSize = 5 << 20
	if tune != nil {
		tune(&cfg)
	}
	s, err := storage.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, cfg
}

// incomplete lists the multipart uploads left in the store's bucket.
func incomplete(t *testing.T, s *storage.S3, bucket string) []string {
	t.Helper()
	var keys []string
	for u := range s.Client().ListIncompleteUploads(context.Background(), bucket, "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		keys = append(keys, u.Key)
	}
	return keys
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// Every way into Put stores the exact bytes with their checksum: small
// and large, with a hint that is right, too large, too small or absent,
// and of known size (streamed up to a part, in parts beyond).
func TestS3PutPaths(t *testing.T) {
	s, _ := newTestS3(t, func(c *storage.S3Config) { c.PartConcurrency = 2 })
	tests := []struct {
		name string
		size int
		opts storage.PutOptions
	}{
		{"4 KiB with hint", 4 << 10, storage.PutOptions{Size: -1, SizeHint: 4<<10 + 400}},
		{"hint exactly the size", 64 << 10, storage.PutOptions{Size: -1, SizeHint: 64 << 10}},
		{"one part, hint too small", 3 << 20, storage.PutOptions{Size: -1, SizeHint: 1000}},
		{"parts, hint too small", 12 << 20, storage.PutOptions{Size: -1, SizeHint: 1000}},
		{"parts, no hint", 12<<20 + 1, storage.PutOptions{Size: -1, SizeHint: -1}},
		{"exactly two parts", 10 << 20, storage.PutOptions{Size: -1, SizeHint: 10<<20 + 400}},
		{"exactly one part", 5 << 20, storage.PutOptions{Size: -1, SizeHint: 5<<20 + 400}},
		{"hint far too large", 1000, storage.PutOptions{Size: -1, SizeHint: 1 << 40}},
		{"within MaxSize", 7 << 20, storage.PutOptions{Size: -1, SizeHint: 1 << 40, MaxSize: 7 << 20}},
		{"known size, one part", 5 << 20, storage.PutOptions{Size: 5 << 20, SizeHint: -1}},
		{"known size, parts", 11 << 20, storage.PutOptions{Size: 11 << 20, SizeHint: -1}},
		{"known size, exactly two parts", 10 << 20, storage.PutOptions{Size: 10 << 20, SizeHint: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := randomBytes(tt.size)
			key := "t/" + strings.ReplaceAll(tt.name, " ", "-")
			w, err := s.Put(context.Background(), key, struct{ io.Reader }{bytes.NewReader(data)}, tt.opts)
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if w.Size != int64(len(data)) || w.Checksum != storagetest.Checksum(data) {
				t.Errorf("Put = %+v, want size %d checksum %s", w, len(data), storagetest.Checksum(data))
			}
			if got := storagetest.Read(t, s, key); !bytes.Equal(got, data) {
				t.Errorf("read back %d bytes, differing from the %d put", len(got), len(data))
			}
		})
	}
}

// An object that appears under the key while a multipart upload is in
// progress is not replaced by it: the upload fails with ErrExists and
// leaves no parts behind.
func TestS3MultipartCreateOnly(t *testing.T) {
	s, cfg := newTestS3(t, nil)
	ctx := context.Background()
	first := []byte("the first object")
	r := io.MultiReader(io.LimitReader(zeros{}, 6<<20), readFunc(func([]byte) (int, error) {
		storagetest.Put(t, s, "t/race", first, int64(len(first)))
		return 0, io.EOF
	}))
	if _, err := s.Put(ctx, "t/race", r, storage.PutOptions{Size: -1, SizeHint: -1}); !errors.Is(err, storage.ErrExists) {
		t.Errorf("Put = %v, want ErrExists", err)
	}
	// And one that existed before is never replaced by a large Put.
	if _, err := s.Put(ctx, "t/race", io.LimitReader(zeros{}, 12<<20), storage.PutOptions{Size: -1, SizeHint: 12 << 20}); !errors.Is(err, storage.ErrExists) {
		t.Errorf("second Put = %v, want ErrExists", err)
	}
	if got := storagetest.Read(t, s, "t/race"); !bytes.Equal(got, first) {
		t.Errorf("object is %d bytes, want the first one", len(got))
	}
	if left := incomplete(t, s, cfg.Bucket); len(left) != 0 {
		t.Errorf("incomplete uploads left: %v", left)
	}
}

// A part that S3 refuses (here: the upload was aborted behind the
// store's back) fails the Put, which stops reading and leaves nothing.
func TestS3PartFailure(t *testing.T) {
	s, cfg := newTestS3(t, nil)
	ctx := context.Background()
	abort := readFunc(func([]byte) (int, error) {
		for u := range s.Client().ListIncompleteUploads(ctx, cfg.Bucket, "", true) {
			if err := s.Client().RemoveIncompleteUpload(ctx, cfg.Bucket, u.Key); err != nil {
				t.Error(err)
			}
		}
		return 0, io.EOF // on to the next reader
	})
	var tail countingReader
	tail.r = io.LimitReader(zeros{}, 1<<30)
	r := io.MultiReader(io.LimitReader(zeros{}, 6<<20), abort, &tail)
	_, err := s.Put(ctx, "t/k", r, storage.PutOptions{Size: -1, SizeHint: -1})
	if err == nil || !strings.Contains(err.Error(), "part") {
		t.Fatalf("Put = %v, want a part's failure", err)
	}
	// Parts in flight when the failure shows may still be read: at most
	// the upload's buffers (4 × 5 MiB) and the one being filled, not the
	// gigabyte on offer.
	if tail.n > 32<<20 {
		t.Errorf("Put read %d MiB after the upload failed", tail.n>>20)
	} else {
		t.Logf("read %.1f MiB after the upload failed", float64(tail.n)/(1<<20))
	}
	if _, err := s.Open(ctx, "t/k"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Open = %v, want ErrNotFound", err)
	}
	if left := incomplete(t, s, cfg.Bucket); len(left) != 0 {
		t.Errorf("incomplete uploads left: %v", left)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Uploads share BufferMemory: with room for one part buffer in all,
// concurrent large uploads take turns and all complete, and one waiting
// for room gives up when its context ends.
func TestS3BufferBudget(t *testing.T) {
	s, _ := newTestS3(t, func(c *storage.S3Config) { c.BufferMemory = 5 << 20 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			key := "t/turn-" + string(rune('a'+i))
			_, errs[i] = s.Put(ctx, key, io.LimitReader(zeros{}, 12<<20), storage.PutOptions{Size: -1, SizeHint: 12 << 20})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Put %d: %v", i, err)
		}
	}

	// One upload holds the only part buffer until the test lets it go.
	release := make(chan struct{})
	holding := make(chan struct{})
	hold := readFunc(func([]byte) (int, error) {
		close(holding)
		<-release
		return 0, io.EOF
	})
	held := make(chan error, 1)
	go func() {
		_, err := s.Put(ctx, "t/holder", io.MultiReader(io.LimitReader(zeros{}, 6<<20), hold), storage.PutOptions{Size: -1, SizeHint: -1})
		held <- err
	}()
	<-holding
	// It cannot get a buffer before its deadline: the holder keeps it
	// until this Put has returned.
	wctx, wcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer wcancel()
	if _, err := s.Put(wctx, "t/waiter", io.LimitReader(zeros{}, 6<<20), storage.PutOptions{Size: -1, SizeHint: 6 << 20}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting Put = %v, want DeadlineExceeded", err)
	}
	close(release)
	if err := <-held; err != nil {
		t.Errorf("holding Put: %v", err)
	}
}
