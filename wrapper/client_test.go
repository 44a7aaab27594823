package wrapper_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fileup/fileup/wrapper"
)

const secret = "SECRET-TOKEN-do-not-print"

// arrival is what the recording server saw of one request.
type arrival struct {
	method, path, auth, contentType, userAgent, idempotencyKey string
	contentLength                                              int64
	transferEncoding                                           []string
	raw                                                        []byte
}

// recorder records every request and answers with the scripted responses
// in turn (the last one repeats).
type recorder struct {
	mu        sync.Mutex
	arrivals  []arrival
	responses []func(w http.ResponseWriter)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.arrivals = append(rec.arrivals, arrival{r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"),
		r.Header.Get("User-Agent"), r.Header.Get(wrapper.IdempotencyKeyHeader), r.ContentLength, r.TransferEncoding, raw})
	i := min(len(rec.arrivals)-1, len(rec.responses)-1)
	respond := rec.responses[i]
	rec.mu.Unlock()
	respond(w)
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.arrivals)
}

func jsonReply(status int, body any, headers ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(body)
	}
}

func rawReply(status int, contentType, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

var kieOK = jsonReply(200, map[string]any{"success": true, "code": 200, "msg": "File uploaded successfully", "data": map[string]any{
	"fileName": "x.bin", "filePath": "p/x.bin", "downloadUrl": "https://files.example/p/x.bin", "fileSize": 11, "mimeType": "text/plain", "uploadedAt": "2025-01-01T12:00:00Z",
}})

var evolinkOK = jsonReply(200, map[string]any{"success": true, "code": 200, "msg": "ok", "data": map[string]any{
	"file_id": "file_1", "file_name": "p.png", "original_name": "orig.png", "file_size": 8, "mime_type": "image/png", "upload_path": "photos",
	"file_url": "https://f.example/photos/p.png", "download_url": "https://f.example/d/file_1", "upload_time": "2025-10-09T00:00:00+08:00", "expires_at": "2025-10-12T00:00:00+08:00",
}})

func envelopeReply(status, code int, msg string, headers ...string) func(http.ResponseWriter) {
	return jsonReply(status, map[string]any{"success": false, "code": code, "msg": msg}, headers...)
}

func newRecorder(t *testing.T, responses ...func(http.ResponseWriter)) (*recorder, *httptest.Server) {
	rec := &recorder{responses: responses}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, srv
}

func tempFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "x.bin")
	os.WriteFile(p, []byte(content), 0o644)
	return p
}

// Options most tests share: the token, a retry policy with millisecond
// backoff, no retries; and kie's required path.
var (
	auth      = wrapper.WithTokenSource(wrapper.StaticToken(secret))
	fast      = wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})
	noRetries = wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: 1})
	kiePath   = wrapper.UploadParams{Path: "p"}
)

func TestKieRequestOnTheWire(t *testing.T) {
	rec, srv := newRecorder(t, kieOK)
	up, err := wrapper.New(wrapper.Kie, srv.URL, auth, wrapper.WithUserAgent("fileup-test"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "hello world")), wrapper.UploadParams{Path: "p", Name: "x.bin"})
	if err != nil {
		t.Fatal(err)
	}
	size := int64(11)
	want := wrapper.Result{Vendor: wrapper.Kie, FileName: "x.bin", UploadPath: "p", FilePath: "p/x.bin", DownloadURL: "https://files.example/p/x.bin",
		Size: &size, MimeType: "text/plain", UploadedAt: time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)}
	if !reflect.DeepEqual(*res, want) {
		t.Errorf("result %+v\nwant   %+v", res, want)
	}
	a := rec.arrivals[0]
	if a.method != "POST" || a.path != "/api/file-stream-upload" || a.auth != "Bearer "+secret || a.userAgent != "fileup-test" {
		t.Errorf("request %s %s auth %q ua %q", a.method, a.path, a.auth, a.userAgent)
	}
	if a.contentLength != int64(len(a.raw)) || len(a.transferEncoding) != 0 {
		t.Errorf("Content-Length %d for %d bytes (TE %v): want exact length, not chunked", a.contentLength, len(a.raw), a.transferEncoding)
	}
	if len(a.idempotencyKey) != 36 {
		t.Errorf("Idempotency-Key %q: want a UUID", a.idempotencyKey)
	}
	fields, name, ct, data := parseForm(t, a.contentType, a.raw)
	if len(fields) != 2 || fields[0] != (wrapper.Field{"uploadPath", "p"}) || fields[1] != (wrapper.Field{"fileName", "x.bin"}) {
		t.Errorf("fields %v: want uploadPath then fileName, before the file", fields)
	}
	if name != "x.bin" || ct != "text/plain; charset=utf-8" || string(data) != "hello world" {
		t.Errorf("file %q %q %q", name, ct, data)
	}
}

// evolink gets the field spelling its spec names first, and its result
// in full.
func TestEvolinkRequestAndResult(t *testing.T) {
	rec, srv := newRecorder(t, evolinkOK)
	up, _ := wrapper.New(wrapper.Evolink, srv.URL, auth)
	png := []byte("\x89PNG\r\n\x1a\n")
	res, err := up.Upload(context.Background(), wrapper.Reader(bytes.NewReader(png), "orig.png", -1), wrapper.UploadParams{Path: "photos", Name: "p.png"})
	if err != nil {
		t.Fatal(err)
	}
	a := rec.arrivals[0]
	if a.path != "/api/v1/files/upload/stream" || a.contentLength != -1 || len(a.transferEncoding) == 0 || a.transferEncoding[0] != "chunked" {
		t.Errorf("path %s, Content-Length %d, TE %v: an unknown size must go chunked", a.path, a.contentLength, a.transferEncoding)
	}
	fields, _, ct, _ := parseForm(t, a.contentType, a.raw)
	if len(fields) != 2 || fields[0] != (wrapper.Field{"upload_path", "photos"}) || fields[1] != (wrapper.Field{"file_name", "p.png"}) || ct != "image/png" {
		t.Errorf("fields %v, type %s", fields, ct)
	}
	if res.FileID != "file_1" || res.FilePath != "photos/p.png" || res.DownloadURL != "https://f.example/d/file_1" || res.OriginalName != "orig.png" ||
		res.FileURL != "https://f.example/photos/p.png" || res.Size == nil || *res.Size != 8 || res.ExpiresAt.Sub(res.UploadedAt) != 72*time.Hour {
		t.Errorf("result %+v", res)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		reply    func(http.ResponseWriter)
		status   int
		code     int
		envelope bool
		check    func(error) bool
		msg      string
	}{
		{"401", envelopeReply(401, 401, "Authentication failed: Invalid API Key"), 401, 401, true, wrapper.IsUnauthorized, "Invalid API Key"},
		{"403 quota", envelopeReply(403, 403, "Quota exhausted"), 403, 403, true, wrapper.IsQuotaExceeded, "Quota exhausted"},
		{"413", envelopeReply(413, 413, "File too large"), 413, 413, true, wrapper.IsTooLarge, "too large"},
		{"200 with success false", envelopeReply(200, 400, "Missing required parameter: uploadPath"), 200, 400, true, not(wrapper.IsRetryable), "uploadPath"},
		{"200 with code 500", jsonReply(200, map[string]any{"success": false, "code": 500, "msg": "Internal server error"}), 200, 500, true, wrapper.IsRetryable, "Internal"},
		{"HTML from a proxy", rawReply(502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"), 502, 0, false, wrapper.IsRetryable, "not a JSON envelope"},
		{"truncated JSON", rawReply(200, "application/json", `{"success": true, "code": 200, "msg": "File up`), 200, 0, false, not(wrapper.IsRetryable), "malformed JSON"},
		{"empty body", rawReply(500, "text/plain", ""), 500, 0, false, wrapper.IsRetryable, "empty response"},
		{"kie envelope without code", jsonReply(200, map[string]any{"success": true, "msg": "ok", "data": map[string]any{"downloadUrl": "https://x"}}), 200, 0, false, not(wrapper.IsRetryable), "no success or code"},
		{"success without data", jsonReply(200, map[string]any{"success": true, "code": 200, "msg": "ok"}), 200, 200, true, not(wrapper.IsRetryable), "without data"},
		{"success without a download URL", jsonReply(200, map[string]any{"success": true, "code": 200, "msg": "ok", "data": map[string]any{"fileName": "x"}}), 200, 200, true, not(wrapper.IsRetryable), "no downloadUrl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newRecorder(t, tt.reply)
			up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, noRetries)
			_, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath)
			var e *wrapper.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *wrapper.Error", err, err)
			}
			if e.StatusCode != tt.status || e.Code != tt.code || e.Envelope != tt.envelope || e.Vendor != wrapper.Kie || e.Op != "upload" || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("error %+v", e)
			}
			if !tt.check(err) {
				t.Errorf("classification helper rejects %v", err)
			}
			if e.Header.Get("Content-Type") == "" {
				t.Error("response headers not kept")
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v %#v %#v", e, e, up), secret) {
				t.Error("the token leaked into an error or String()")
			}
		})
	}
	t.Run("HTML snippet", func(t *testing.T) {
		_, srv := newRecorder(t, rawReply(502, "text/html", "<html>\n<body>502 Bad Gateway</body></html>"))
		up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, noRetries)
		_, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath)
		if !strings.Contains(err.Error(), "502 Bad Gateway") || strings.Contains(err.Error(), "\n") {
			t.Errorf("error %q: want a one-line snippet of the page", err)
		}
	})
}

func not(f func(error) bool) func(error) bool { return func(err error) bool { return !f(err) } }

// *Error keeps the response: headers with the request id and
// Retry-After, and a bounded excerpt of the body; the token is redacted
// wherever the server echoed it, and neither Error nor %v/%+v/%#v prints
// it.
func TestErrorKeepsTheResponse(t *testing.T) {
	long := strings.Repeat("x", 5000)
	_, srv := newRecorder(t, jsonReply(503, map[string]any{"success": false, "code": 503, "msg": "bad token " + secret + "\x1b[31m\nred", "detail": long},
		"X-Request-Id", "req-42", "Retry-After", "7", "X-Echo", "Bearer "+secret))
	up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, noRetries)
	_, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath)
	e, ok := errors.AsType[*wrapper.Error](err)
	if !ok {
		t.Fatalf("%v", err)
	}
	if e.RequestID() != "req-42" || e.RetryAfter != 7*time.Second || e.Header.Get("X-Request-Id") != "req-42" {
		t.Errorf("request id %q, Retry-After %v", e.RequestID(), e.RetryAfter)
	}
	if len(e.Body) != 1024 || !strings.HasPrefix(e.Body, `{"code":503`) {
		t.Errorf("body excerpt of %d bytes: %.60q", len(e.Body), e.Body)
	}
	if !strings.Contains(err.Error(), "[request id req-42]") || strings.ContainsAny(err.Error(), "\x1b\n") {
		t.Errorf("Error() = %q: want the request id, no control characters", err)
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%v|%+v|%#v|%s", e, e, e, e), e.Msg, e.Body, e.Header.Get("X-Echo")} {
		if strings.Contains(s, secret) {
			t.Errorf("token in %q", s)
		}
	}
	if e.Header.Get("X-Echo") != "Bearer [REDACTED]" || !strings.Contains(e.Msg, "bad token [REDACTED]") {
		t.Errorf("echoed token not redacted: header %q, msg %q", e.Header.Get("X-Echo"), e.Msg)
	}
}

func TestAuth(t *testing.T) {
	t.Run("missing token sends nothing", func(t *testing.T) {
		rec, srv := newRecorder(t, kieOK)
		t.Setenv("KIE_API_KEY", "")
		up, _ := wrapper.New(wrapper.Kie, srv.URL) // defaults to KIE_API_KEY
		_, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath)
		if !errors.Is(err, wrapper.ErrNoToken) || !wrapper.IsUnauthorized(err) || !strings.Contains(err.Error(), "KIE_API_KEY") {
			t.Errorf("error %v", err)
		}
		if rec.count() != 0 {
			t.Errorf("%d requests sent without a token", rec.count())
		}
	})
	t.Run("default env", func(t *testing.T) {
		rec, srv := newRecorder(t, evolinkOK)
		t.Setenv("EVOLINK_API_KEY", "from-env")
		up, _ := wrapper.New(wrapper.Evolink, srv.URL)
		if _, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), wrapper.UploadParams{}); err != nil {
			t.Fatal(err)
		}
		if rec.arrivals[0].auth != "Bearer from-env" {
			t.Errorf("auth %q", rec.arrivals[0].auth)
		}
	})
	t.Run("EnvToken reads at every call", func(t *testing.T) {
		rec, srv := newRecorder(t, kieOK)
		up, _ := wrapper.New(wrapper.Kie, srv.URL, wrapper.WithTokenSource(wrapper.EnvToken("MY_KEY")))
		for _, v := range []string{"first-key", "second-key"} {
			t.Setenv("MY_KEY", v)
			if _, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath); err != nil {
				t.Fatal(err)
			}
		}
		if rec.arrivals[0].auth != "Bearer first-key" || rec.arrivals[1].auth != "Bearer second-key" {
			t.Errorf("auth %q then %q", rec.arrivals[0].auth, rec.arrivals[1].auth)
		}
	})
	t.Run("rotating source", func(t *testing.T) {
		rec, srv := newRecorder(t, kieOK)
		n := 0
		up, _ := wrapper.New(wrapper.Kie, srv.URL, wrapper.WithTokenSource(func(context.Context) (string, error) {
			n++
			return fmt.Sprintf("token-%d", n), nil
		}))
		for range 2 {
			if _, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath); err != nil {
				t.Fatal(err)
			}
		}
		if rec.arrivals[0].auth == rec.arrivals[1].auth {
			t.Errorf("token did not rotate: %q", rec.arrivals[0].auth)
		}
	})
	t.Run("unusable tokens", func(t *testing.T) {
		rec, srv := newRecorder(t, kieOK)
		for _, tok := range []string{"   ", "two words", "new\nline", strings.Repeat("x", 5000)} {
			up, _ := wrapper.New(wrapper.Kie, srv.URL, wrapper.WithTokenSource(wrapper.StaticToken(tok)))
			if _, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath); !errors.Is(err, wrapper.ErrNoToken) {
				t.Errorf("token %.20q: error %v", tok, err)
			}
		}
		if rec.count() != 0 {
			t.Errorf("%d requests sent with unusable tokens", rec.count())
		}
	})
	t.Run("kie needs a path", func(t *testing.T) {
		rec, srv := newRecorder(t, kieOK)
		up, _ := wrapper.New(wrapper.Kie, srv.URL, auth)
		if _, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), wrapper.UploadParams{}); !errors.Is(err, wrapper.ErrMissingPath) || rec.count() != 0 {
			t.Errorf("error %v, %d requests", err, rec.count())
		}
	})
}

func TestRetries(t *testing.T) {
	t.Run("503 then success replays the same body", func(t *testing.T) {
		rec, srv := newRecorder(t, envelopeReply(503, 500, "busy"), kieOK)
		up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, fast)
		var progress []int64
		_, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "hello world")), kiePath,
			wrapper.WithProgress(func(sent, total int64) { progress = append(progress, sent) }))
		if err != nil || rec.count() != 2 {
			t.Fatalf("err %v after %d attempts", err, rec.count())
		}
		_, _, _, d1 := parseForm(t, rec.arrivals[0].contentType, rec.arrivals[0].raw)
		_, _, _, d2 := parseForm(t, rec.arrivals[1].contentType, rec.arrivals[1].raw)
		if string(d1) != "hello world" || string(d2) != "hello world" {
			t.Errorf("attempts carried %q and %q", d1, d2)
		}
		if len(progress) != 2 || progress[0] != 11 || progress[1] != 11 {
			t.Errorf("progress %v: want one final report per attempt", progress)
		}
	})
	t.Run("gives up after MaxAttempts", func(t *testing.T) {
		rec, srv := newRecorder(t, envelopeReply(500, 500, "down"))
		up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, fast)
		_, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath)
		if rec.count() != 3 || !wrapper.IsRetryable(err) {
			t.Errorf("%d attempts, err %v", rec.count(), err)
		}
	})
	t.Run("429 honours Retry-After", func(t *testing.T) {
		rec, srv := newRecorder(t, envelopeReply(429, 429, "slow down", "Retry-After", "1"), kieOK)
		up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, fast)
		start := time.Now()
		if _, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); rec.count() != 2 || waited < time.Second {
			t.Errorf("%d attempts in %v: Retry-After 1 not honoured", rec.count(), waited)
		}
	})
	t.Run("other 4xx are not retried", func(t *testing.T) {
		rec, srv := newRecorder(t, envelopeReply(400, 400, "bad"), kieOK)
		up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, fast)
		if _, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath); err == nil || rec.count() != 1 {
			t.Errorf("err %v after %d attempts", err, rec.count())
		}
	})
	t.Run("one-shot readers are not retried", func(t *testing.T) {
		rec, srv := newRecorder(t, envelopeReply(503, 503, "busy"), kieOK)
		up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, fast)
		_, err := up.Upload(context.Background(), wrapper.Reader(strings.NewReader("x"), "x", 1), kiePath)
		if err == nil || rec.count() != 1 {
			t.Errorf("err %v after %d attempts", err, rec.count())
		}
	})
	t.Run("connection refused is retried", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		up, _ := wrapper.New(wrapper.Kie, url, auth, fast)
		_, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath)
		if err == nil || !wrapper.IsRetryable(err) || strings.Contains(err.Error(), secret) {
			t.Errorf("err %v", err)
		}
	})
	t.Run("a refused redirect is not retried", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}))
		defer srv.Close()
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("redirects not allowed") }}
		up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, wrapper.WithHTTPClient(hc), fast)
		_, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath)
		if err == nil || wrapper.IsRetryable(err) || hits.Load() != 1 {
			t.Errorf("err %v after %d attempts, want one attempt", err, hits.Load())
		}
	})
	t.Run("an HTTP/2 stream reset is retried", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if hits.Add(1) == 1 {
				io.CopyN(io.Discard, r.Body, 10)
				panic(http.ErrAbortHandler) // resets the stream
			}
			io.Copy(io.Discard, r.Body)
			kieOK(w)
		}))
		srv.EnableHTTP2 = true
		srv.StartTLS()
		defer srv.Close()
		up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, wrapper.WithHTTPClient(srv.Client()), fast)
		_, err := up.Upload(context.Background(), wrapper.File(tempFile(t, strings.Repeat("x", 100_000))), kiePath)
		if err != nil || hits.Load() != 2 {
			t.Errorf("err %v after %d attempts, want success on the second", err, hits.Load())
		}
	})
	t.Run("cancellation stops the backoff", func(t *testing.T) {
		_, srv := newRecorder(t, envelopeReply(503, 503, "busy", "Retry-After", "30"))
		up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, fast)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := up.Upload(ctx, wrapper.File(tempFile(t, "x")), kiePath)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
			t.Errorf("err %v after %v", err, time.Since(start))
		}
	})
}

// A 307 redirect replays the body through GetBody.
func TestRedirectReplaysBody(t *testing.T) {
	rec, target := newRecorder(t, kieOK)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer front.Close()
	up, _ := wrapper.New(wrapper.Kie, front.URL, auth)
	if _, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "moved body")), kiePath); err != nil {
		t.Fatal(err)
	}
	_, _, _, data := parseForm(t, rec.arrivals[0].contentType, rec.arrivals[0].raw)
	if string(data) != "moved body" {
		t.Errorf("redirected request carried %q", data)
	}
}

func TestDefaultsAndVendors(t *testing.T) {
	if _, err := wrapper.New("acme", ""); err == nil {
		t.Error("unknown vendor accepted")
	}
	for _, base := range []string{"http://bad host", "example.com/api", "/api", "ftp://example.com", "http://", "://x"} {
		if _, err := wrapper.New(wrapper.Kie, base, auth); err == nil {
			t.Errorf("base URL %q accepted", base)
		}
	}
	for _, base := range []string{"http://127.0.0.1:8080", "https://example.com/prefix/"} {
		if _, err := wrapper.New(wrapper.Evolink, base, auth); err != nil {
			t.Errorf("base URL %q: %v", base, err)
		}
	}
	k, _ := wrapper.New(wrapper.Kie, "", auth)
	e, _ := wrapper.New(wrapper.Evolink, "", auth)
	if !strings.Contains(k.String(), wrapper.KieBaseURL) || !strings.Contains(e.String(), wrapper.EvolinkBaseURL) {
		t.Errorf("%v %v", k, e)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", k, k, k), secret) {
		t.Error("token printed")
	}
}

// waitArrivals waits until the server has recorded n requests.
func (rec *recorder) waitArrivals(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for rec.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d requests arrived, want %d", rec.count(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// failingReaderAt fails every read that reaches offset failAt.
type failingReaderAt struct {
	size, failAt int64
	err          error
}

func (f failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, io.EOF
	}
	if off+int64(len(p)) > f.failAt {
		n := max(0, int(f.failAt-off))
		clear(p[:n])
		return n, f.err
	}
	clear(p)
	return len(p), nil
}

// What the server receives from an upload whose source fails mid-stream
// never parses as a complete form, the client gets the source's error as
// a *SourceError, and the upload is not retried although the source is
// replayable.
func TestMidStreamErrorOnTheWire(t *testing.T) {
	boom := errors.New("disk on fire")
	for _, tt := range []struct {
		name string
		src  wrapper.Source
	}{
		{"known size", wrapper.ReaderAt(failingReaderAt{size: 1 << 20, failAt: 300_000, err: boom}, "x.bin", 1<<20)},
		{"chunked", wrapper.Reader(&failingReader{data: make([]byte, 300_000), err: boom}, "x.bin", -1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec, srv := newRecorder(t, kieOK)
			up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, fast)
			_, err := up.Upload(context.Background(), tt.src, wrapper.UploadParams{Path: "p", ContentType: "application/octet-stream"})
			var se *wrapper.SourceError
			if !errors.As(err, &se) || !errors.Is(err, boom) || wrapper.IsRetryable(err) {
				t.Fatalf("error %v (%T): want a non-retryable *SourceError wrapping the read error", err, err)
			}
			rec.waitArrivals(t, 1)
			time.Sleep(50 * time.Millisecond) // a retry would have arrived by now
			if rec.count() != 1 {
				t.Errorf("%d attempts: a source failure must not be retried", rec.count())
			}
			a := rec.arrivals[0]
			if len(a.raw) < 100_000 {
				t.Fatalf("only %d bytes arrived; the test wants a body cut mid-file", len(a.raw))
			}
			if _, err := parseFormErr(a.contentType, a.raw); err == nil {
				t.Errorf("the server parsed a complete form out of %d truncated bytes", len(a.raw))
			}
		})
	}
}

// parseFormErr parses a whole form, returning the first error.
func parseFormErr(contentType string, raw []byte) (int, error) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, err
	}
	mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
	for n := 0; ; n++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if _, err := io.Copy(io.Discard, p); err != nil {
			return n, err
		}
	}
}

// File names reach the wire escaped as mime/multipart escapes them, and a
// server reads them back.
func TestFileNameOnTheWire(t *testing.T) {
	tests := []struct{ name, wire, back string }{
		{`plain.png`, `filename="plain.png"`, `plain.png`},
		{`say "hi".png`, `filename="say \"hi\".png"`, `say "hi".png`},
		{`back\slash.png`, `filename="back\\slash.png"`, `back\slash.png`},
		{"evil\r\nX-Injected: 1.png", `filename="evil%0D%0AX-Injected: 1.png"`, "evil%0D%0AX-Injected: 1.png"},
		{"名前 ünï.png", `filename="名前 ünï.png"`, "名前 ünï.png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, srv := newRecorder(t, kieOK)
			up, _ := wrapper.New(wrapper.Kie, srv.URL, auth)
			png := "\x89PNG\r\n\x1a\n...."
			if _, err := up.Upload(context.Background(), wrapper.Reader(strings.NewReader(png), tt.name, int64(len(png))), kiePath); err != nil {
				t.Fatal(err)
			}
			a := rec.arrivals[0]
			wantHeader := `Content-Disposition: form-data; name="file"; ` + tt.wire + "\r\nContent-Type: image/png\r\n\r\n"
			if !bytes.Contains(a.raw, []byte(wantHeader)) {
				t.Errorf("part header not found; body starts:\n%q", a.raw[:min(len(a.raw), 400)])
			}
			if _, name, _, _ := parseForm(t, a.contentType, a.raw); name != tt.back {
				t.Errorf("server read file name %q, want %q", name, tt.back)
			}
		})
	}
}

// Progress through a real transport: bounded rate, monotone, the right
// total, a final report; -1 as total for an unknown size.
func TestProgressOnTheWire(t *testing.T) {
	const size = 4 << 20
	for _, known := range []bool{true, false} {
		_, srv := newRecorder(t, kieOK)
		var calls [][2]int64
		up, _ := wrapper.New(wrapper.Kie, srv.URL, auth,
			wrapper.WithProgress(func(sent, total int64) { calls = append(calls, [2]int64{sent, total}) }))
		n := int64(size)
		if !known {
			n = -1
		}
		start := time.Now()
		if _, err := up.Upload(context.Background(), wrapper.Reader(bytes.NewReader(make([]byte, size)), "z", n), kiePath); err != nil {
			t.Fatal(err)
		}
		// The rate bound: a call per 64 KiB sent, or per 100 ms when the
		// bytes go out slowly, and a final one.
		limit := size/(64<<10) + 2 + int(time.Since(start)/(100*time.Millisecond))
		if len(calls) < 2 || len(calls) > limit {
			t.Errorf("known=%v: %d progress calls for 4 MiB, want at most %d", known, len(calls), limit)
		}
		prev := int64(0)
		for _, c := range calls {
			if c[0] < prev || c[1] != n {
				t.Fatalf("known=%v: progress %v", known, calls)
			}
			prev = c[0]
		}
		if prev != size {
			t.Errorf("known=%v: last report %d, want %d", known, prev, size)
		}
	}
}

// countingDoer is a Doer that is not an *http.Client.
type countingDoer struct {
	n atomic.Int32
}

func (d *countingDoer) Do(req *http.Request) (*http.Response, error) {
	d.n.Add(1)
	return http.DefaultClient.Do(req)
}

func TestCustomDoerAndEditors(t *testing.T) {
	rec, srv := newRecorder(t, kieOK)
	d := &countingDoer{}
	up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, wrapper.WithHTTPClient(d),
		wrapper.WithRequestEditor(func(ctx context.Context, req *http.Request) error {
			req.Header.Set("X-Trace", "t1")
			return nil
		}))
	if _, err := up.Upload(context.Background(), wrapper.File(tempFile(t, "x")), kiePath); err != nil {
		t.Fatal(err)
	}
	if d.n.Load() != 1 || rec.count() != 1 {
		t.Errorf("doer used %d times, %d requests", d.n.Load(), rec.count())
	}
}

func TestSourceMisuse(t *testing.T) {
	if _, err := wrapper.NewBody(wrapper.ReaderAt(strings.NewReader("x"), "x", -1), nil, wrapper.BodyOptions{}); err == nil {
		t.Error("ReaderAt with an unknown size accepted")
	}
	if _, err := wrapper.NewBody(wrapper.ReadSeeker(nil, "x"), nil, wrapper.BodyOptions{}); err == nil {
		t.Error("nil ReadSeeker accepted")
	}
	if _, err := wrapper.NewBody(wrapper.File(t.TempDir()), nil, wrapper.BodyOptions{}); err == nil {
		t.Error("a directory accepted as a File")
	}
	if _, err := wrapper.NewBody(wrapper.Source{}, nil, wrapper.BodyOptions{}); err == nil {
		t.Error("zero Source accepted")
	}
}

func TestClassifiers(t *testing.T) {
	e := func(status, code int, msg string) error {
		return fmt.Errorf("uploading x: %w", &wrapper.Error{Vendor: wrapper.Kie, StatusCode: status, Code: code, Msg: msg, Envelope: code != 0})
	}
	refused := &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	tests := []struct {
		name                                  string
		err                                   error
		unauthorized, quota, large, retryable bool
	}{
		{"401", e(401, 401, "Authentication failed"), true, false, false, false},
		{"envelope 401 in HTTP 200", e(200, 401, "bad key"), true, false, false, false},
		{"no token", fmt.Errorf("x: %w", wrapper.ErrNoToken), true, false, false, false},
		{"403", e(403, 403, "Quota exhausted"), false, true, false, false},
		{"quota in msg is not read", e(400, 400, "monthly QUOTA used up"), false, false, false, false},
		{"500 naming a quota service", e(500, 500, "quota service down"), false, false, false, true},
		{"envelope 403 in HTTP 200", e(200, 403, "Quota exhausted"), false, true, false, false},
		{"403 page from a firewall", e(403, 0, "response is not a JSON envelope"), false, false, false, false},
		{"envelope 500 in HTTP 200", e(200, 500, "Internal server error"), false, false, false, true},
		{"envelope 400 in HTTP 500", e(500, 400, "bad"), false, false, false, false},
		{"413", e(413, 413, "File too large"), false, false, true, false},
		{"413 as HTML", e(413, 0, "response is not a JSON envelope"), false, false, true, false},
		{"400", e(400, 400, "Missing required parameter: uploadPath"), false, false, false, false},
		{"405", e(405, 405, "Method not allowed"), false, false, false, false},
		{"408", e(408, 0, "timeout"), false, false, false, true},
		{"429", e(429, 429, "slow down"), false, false, false, true},
		{"500", e(500, 500, "Internal server error"), false, false, false, true},
		{"502 HTML", e(502, 0, "response is not a JSON envelope"), false, false, false, true},
		{"connection refused", refused, false, false, false, true},
		{"attempt timeout", &url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}, false, false, false, true},
		{"cut response", fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), false, false, false, true},
		{"closed before the answer", &url.Error{Op: "Post", URL: "http://x", Err: io.EOF}, false, false, false, true},
		{"connection reset", &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}, false, false, false, true},
		{"DNS server failure", &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}}}, false, false, false, true},
		{"unknown host", &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}}}, false, false, false, false},
		{"closed network connection", &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "write", Err: net.ErrClosed}}, false, false, false, true},
		{"idle connection closed by the server", &url.Error{Op: "Post", URL: "http://x", Err: errors.New("http: server closed idle connection")}, false, false, false, true},
		{"HTTP/2 connection lost", &url.Error{Op: "Post", URL: "https://x", Err: errors.New("http2: client connection lost")}, false, false, false, true},
		{"HTTP/2 GOAWAY", &url.Error{Op: "Post", URL: "https://x", Err: errors.New("http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=NO_ERROR, debug=\"\"")}, false, false, false, true},
		{"HTTP/2 stream reset", &url.Error{Op: "Post", URL: "https://x", Err: errors.New("stream error: stream ID 1; INTERNAL_ERROR; received from peer")}, false, false, false, true},
		{"HTTP/2 protocol error", &url.Error{Op: "Post", URL: "https://x", Err: errors.New("stream error: stream ID 1; PROTOCOL_ERROR; received from peer")}, false, false, false, false},
		{"redirect refused", &url.Error{Op: "Post", URL: "http://x", Err: errors.New("redirects not allowed")}, false, false, false, false},
		{"unsupported scheme", &url.Error{Op: "Post", URL: "ftp://x", Err: errors.New(`unsupported protocol scheme "ftp"`)}, false, false, false, false},
		{"TLS alert", &url.Error{Op: "Post", URL: "https://x", Err: &net.OpError{Op: "remote error", Err: errors.New("tls: handshake failure")}}, false, false, false, false},
		{"HTTP answer to HTTPS", &url.Error{Op: "Post", URL: "https://x", Err: tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}}, false, false, false, false},
		{"canceled", &url.Error{Op: "Post", URL: "http://x", Err: context.Canceled}, false, false, false, false},
		{"source", &url.Error{Op: "Post", URL: "http://x", Err: &wrapper.SourceError{Err: errors.New("EIO")}}, false, false, false, false},
		{"missing path", wrapper.ErrMissingPath, false, false, false, false},
		{"other", errors.New("something else"), false, false, false, false},
		{"nil", nil, false, false, false, false},
	}
	for _, tt := range tests {
		got := [4]bool{wrapper.IsUnauthorized(tt.err), wrapper.IsQuotaExceeded(tt.err), wrapper.IsTooLarge(tt.err), wrapper.IsRetryable(tt.err)}
		if want := [4]bool{tt.unauthorized, tt.quota, tt.large, tt.retryable}; got != want {
			t.Errorf("%s: unauthorized/quota/large/retryable = %v, want %v", tt.name, got, want)
		}
	}
}
