package wrapper_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/fileup/fileup/wrapper"
)

// Every attempt of an Upload carries the same Idempotency-Key; every
// Upload call its own.
func TestIdempotencyKeyPerCall(t *testing.T) {
	rec, srv := newRecorder(t, envelopeReply(503, 503, "busy"), kieOK, envelopeReply(503, 503, "busy"), kieOK)
	up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, fast)
	for range 2 {
		if _, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	for _, a := range rec.arrivals {
		keys = append(keys, a.idempotencyKey)
	}
	if len(keys) != 4 || keys[0] == "" || keys[0] != keys[1] || keys[2] != keys[3] || keys[0] == keys[2] {
		t.Errorf("keys per attempt %q: want one key per call, the same on its retry", keys)
	}
}

func TestIdempotencyKeyFromTheCaller(t *testing.T) {
	rec, srv := newRecorder(t, kieOK)
	up, _ := wrapper.New(wrapper.Kie, srv.URL, auth)
	if _, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), wrapper.UploadParams{Path: "p", IdempotencyKey: "order-1234"}); err != nil {
		t.Fatal(err)
	}
	if rec.arrivals[0].idempotencyKey != "order-1234" {
		t.Errorf("key %q", rec.arrivals[0].idempotencyKey)
	}
	for _, bad := range []string{"has space", "new\nline", "ünï", strings.Repeat("k", 256)} {
		_, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), wrapper.UploadParams{Path: "p", IdempotencyKey: bad})
		if err == nil || !strings.Contains(err.Error(), "IdempotencyKey") {
			t.Errorf("key %.20q: error %v", bad, err)
		}
	}
	if rec.count() != 1 {
		t.Errorf("%d requests: bad keys must fail before sending", rec.count())
	}
}

// store is a server that commits an upload once it has read it all,
// then (for the first request) loses the answer: it closes the
// connection instead of responding, as a crash or a proxy timeout would.
// With honour set, a request whose Idempotency-Key it has committed gets
// the first result back and stores nothing.
type store struct {
	honour bool

	mu      sync.Mutex
	files   []string          // stored names
	charged int               // quota charges
	byKey   map[string]string // idempotency key -> stored name
	calls   int
}

func (s *store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return
	}
	key := r.Header.Get(wrapper.IdempotencyKeyHeader)
	s.mu.Lock()
	s.calls++
	first := s.calls == 1
	name, seen := s.byKey[key]
	if !s.honour || !seen {
		var b [6]byte
		rand.Read(b[:])
		name = hex.EncodeToString(b[:]) + ".bin" // no name given: the server picks a random one
		s.files = append(s.files, name)
		s.charged++
		s.byKey[key] = name
	}
	s.mu.Unlock()
	if first {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close() // committed, but the answer is lost
		}
		return
	}
	jsonReply(200, map[string]any{"success": true, "code": 200, "msg": "ok", "data": map[string]any{
		"fileName": name, "filePath": "p/" + name, "downloadUrl": "https://f.example/p/" + name, "fileSize": 1,
		"mimeType": "text/plain", "uploadedAt": "2025-01-01T00:00:00Z"}})(w)
}

// The first response is lost after the server committed; the retry
// carries the same key, so a server that honours it stores one file,
// charges the quota once, and answers with the first result. One that
// ignores the key (as kie.ai and evolink.ai may) stores two.
func TestLostResponseThenRetry(t *testing.T) {
	for _, honour := range []bool{true, false} {
		s := &store{honour: honour, byKey: map[string]string{}}
		srv := httptest.NewServer(s)
		defer srv.Close()
		up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, fast)
		res, err := up.Upload(context.Background(), wrapper.ReaderAt(strings.NewReader("x"), "x.txt", 1), kiePath)
		if err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		files, charged, calls := s.files, s.charged, s.calls
		s.mu.Unlock()
		if calls != 2 {
			t.Fatalf("honour=%v: %d requests, want the lost one and its retry", honour, calls)
		}
		switch {
		case honour && (len(files) != 1 || charged != 1 || res.FileName != files[0]):
			t.Errorf("key honoured: files %v, %d charges, result %s: want one file, charged once, the first result", files, charged, res.FileName)
		case !honour && len(files) != 2:
			t.Errorf("key ignored: files %v: want the documented second copy", files)
		}
	}
}

// A response lost before the body was read is not an answer: the client
// cannot know whether the server committed, so it retries (with the key).
func TestLostResponseIsRetryable(t *testing.T) {
	s := &store{honour: true, byKey: map[string]string{}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, noRetries)
	_, err := up.Upload(context.Background(), wrapper.ReaderAt(strings.NewReader("x"), "x.txt", 1), kiePath)
	var e *wrapper.Error
	if err == nil || errors.As(err, &e) || !wrapper.IsRetryable(err) {
		t.Errorf("error %v: want a retryable transport error", err)
	}
}
