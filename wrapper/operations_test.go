package wrapper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fileup/fileup/wrapper"
)

// The Base64 upload on the wire, for each vendor: its route, a JSON body
// with an exact Content-Length (chunked for an unknown size), the
// vendor's field names, the file as a data URL that decodes back exactly,
// and the Idempotency-Key.
func TestBase64UploadOnTheWire(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0, 1, 2, 0xff}, 5000)...)
	for _, tt := range []struct {
		vendor                    wrapper.Vendor
		ok                        func(http.ResponseWriter)
		path, pathF, nameF, dataF string
	}{
		{wrapper.Kie, kieOK, "/api/file-base64-upload", "uploadPath", "fileName", "base64Data"},
		{wrapper.Evolink, evolinkOK, "/api/v1/files/upload/base64", "upload_path", "file_name", "base64_data"},
	} {
		for _, known := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s known=%v", tt.vendor, known), func(t *testing.T) {
				rec, srv := newRecorder(t, tt.ok)
				up, _ := wrapper.New(tt.vendor, srv.URL, auth)
				size := int64(len(png))
				if !known {
					size = -1
				}
				if _, err := up.UploadBase64(context.Background(), wrapper.Reader(bytes.NewReader(png), "p.png", size), wrapper.UploadParams{Path: "img/b64", Name: "p.png"}); err != nil {
					t.Fatal(err)
				}
				a := rec.arrivals[0]
				if a.method != "POST" || a.path != tt.path || a.contentType != "application/json" || a.auth != "Bearer "+secret || len(a.idempotencyKey) != 36 {
					t.Errorf("%s %s, Content-Type %q, auth %q, key %q", a.method, a.path, a.contentType, a.auth, a.idempotencyKey)
				}
				if known && (a.contentLength != int64(len(a.raw)) || len(a.transferEncoding) != 0) {
					t.Errorf("Content-Length %d for %d bytes (TE %v): want the exact length", a.contentLength, len(a.raw), a.transferEncoding)
				}
				if !known && (a.contentLength != -1 || len(a.transferEncoding) == 0) {
					t.Errorf("Content-Length %d, TE %v: an unknown size must go chunked", a.contentLength, a.transferEncoding)
				}
				fields, mt, data := decodeBase64Body(t, a.raw, tt.dataF)
				if len(fields) != 2 || fields[tt.pathF] != "img/b64" || fields[tt.nameF] != "p.png" || mt != "image/png" || !bytes.Equal(data, png) {
					t.Errorf("fields %v, type %q, %d bytes back (equal %v)", fields, mt, len(data), bytes.Equal(data, png))
				}
			})
		}
	}
}

// A Base64 upload is retried as Upload is: a fresh body with the same
// Idempotency-Key, progress from zero on each attempt.
func TestBase64UploadRetries(t *testing.T) {
	rec, srv := newRecorder(t, envelopeReply(503, 503, "busy"), kieOK)
	up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, fast)
	var progress []int64
	_, err := up.UploadBase64(context.Background(), wrapper.File(tempFile(t, "hello base64")), kiePath,
		wrapper.WithProgress(func(sent, total int64) { progress = append(progress, sent) }))
	if err != nil || rec.count() != 2 {
		t.Fatalf("err %v after %d attempts", err, rec.count())
	}
	for _, a := range rec.arrivals {
		if _, _, data := decodeBase64Body(t, a.raw, "base64Data"); string(data) != "hello base64" {
			t.Errorf("attempt carried %q", data)
		}
	}
	if k := rec.arrivals[0].idempotencyKey; k == "" || k != rec.arrivals[1].idempotencyKey {
		t.Errorf("keys %q and %q: want the same on the retry", k, rec.arrivals[1].idempotencyKey)
	}
	if len(progress) != 2 || progress[0] != 12 || progress[1] != 12 {
		t.Errorf("progress %v: want one final report per attempt", progress)
	}
}

// The URL upload on the wire: the vendor's route and JSON fields (the
// optional ones left out when empty), the same Idempotency-Key on the
// retry.
func TestURLUploadOnTheWire(t *testing.T) {
	for _, tt := range []struct {
		vendor wrapper.Vendor
		ok     func(http.ResponseWriter)
		params wrapper.UploadParams
		path   string
		want   map[string]string
	}{
		{wrapper.Kie, kieOK, wrapper.UploadParams{Path: "dl", Name: "x.png"}, "/api/file-url-upload",
			map[string]string{"fileUrl": "https://example.com/a.png?x=1&y=<2>", "uploadPath": "dl", "fileName": "x.png"}},
		{wrapper.Kie, kieOK, wrapper.UploadParams{Path: "dl"}, "/api/file-url-upload",
			map[string]string{"fileUrl": "https://example.com/a.png?x=1&y=<2>", "uploadPath": "dl"}},
		{wrapper.Evolink, evolinkOK, wrapper.UploadParams{Path: "photos", Name: "p.png"}, "/api/v1/files/upload/url",
			map[string]string{"file_url": "https://example.com/a.png?x=1&y=<2>", "upload_path": "photos", "file_name": "p.png"}},
		{wrapper.Evolink, evolinkOK, wrapper.UploadParams{}, "/api/v1/files/upload/url",
			map[string]string{"file_url": "https://example.com/a.png?x=1&y=<2>"}},
	} {
		t.Run(fmt.Sprintf("%s %v", tt.vendor, tt.want), func(t *testing.T) {
			rec, srv := newRecorder(t, envelopeReply(502, 502, "upstream"), tt.ok)
			progressed := false
			up, _ := wrapper.New(tt.vendor, srv.URL, auth, fast, wrapper.WithProgress(func(int64, int64) { progressed = true }))
			res, err := up.UploadURL(context.Background(), "https://example.com/a.png?x=1&y=<2>", tt.params)
			if err != nil || rec.count() != 2 {
				t.Fatalf("%d attempts: %v", rec.count(), err)
			}
			if res.DownloadURL == "" || progressed {
				t.Errorf("result %+v, progress called %v", res, progressed)
			}
			for _, a := range rec.arrivals {
				var got map[string]string
				if err := json.Unmarshal(a.raw, &got); err != nil {
					t.Fatal(err)
				}
				if a.method != "POST" || a.path != tt.path || a.contentType != "application/json" || a.contentLength != int64(len(a.raw)) || fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("%s %s %q (length %d of %d): %v", a.method, a.path, a.contentType, a.contentLength, len(a.raw), got)
				}
			}
			if k := rec.arrivals[0].idempotencyKey; len(k) != 36 || k != rec.arrivals[1].idempotencyKey {
				t.Errorf("keys %q, %q: want one UUID on both attempts", k, rec.arrivals[1].idempotencyKey)
			}
		})
	}
}

// Bad input to UploadURL fails before anything is sent.
func TestURLUploadBadInput(t *testing.T) {
	rec, srv := newRecorder(t, kieOK)
	k, _ := wrapper.New(wrapper.Kie, srv.URL, auth)
	e, _ := wrapper.New(wrapper.Evolink, srv.URL, auth)
	tests := []struct {
		name string
		up   *wrapper.Client
		url  string
		p    wrapper.UploadParams
		want string
	}{
		{"ftp", e, "ftp://example.com/a.png", wrapper.UploadParams{}, "http or https"},
		{"relative", e, "/a.png", wrapper.UploadParams{}, "http or https"},
		{"no host", e, "https:///a.png", wrapper.UploadParams{}, "http or https"},
		{"not a URL", e, "http://[::1", wrapper.UploadParams{}, "file URL"},
		{"too long", e, "https://example.com/" + strings.Repeat("a", wrapper.MaxFileURL), wrapper.UploadParams{}, "longer than"},
		{"content type", e, "https://example.com/a.png", wrapper.UploadParams{ContentType: "image/png"}, "ContentType"},
		{"kie without a path", k, "https://example.com/a.png", wrapper.UploadParams{}, "upload path"},
		{"invalid UTF-8", e, "https://example.com/a.png", wrapper.UploadParams{Name: "a\xff.png"}, "UTF-8"},
		{"bad key", e, "https://example.com/a.png", wrapper.UploadParams{IdempotencyKey: "a b"}, "IdempotencyKey"},
	}
	for _, tt := range tests {
		if _, err := tt.up.UploadURL(context.Background(), tt.url, tt.p); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
	if rec.count() != 0 {
		t.Errorf("%d requests sent for bad input", rec.count())
	}
}

var quotaOK = jsonReply(200, map[string]any{"success": true, "code": 200, "data": map[string]any{
	"user_group": "default", "used_files": 35, "max_files": 2000, "remain_files": 1965, "is_custom": true, "quota_reason": "beta"}})

func TestQuota(t *testing.T) {
	t.Run("on the wire", func(t *testing.T) {
		rec, srv := newRecorder(t, envelopeReply(503, 503, "busy"), quotaOK)
		up, _ := wrapper.New(wrapper.Evolink, srv.URL, auth, fast)
		q, err := up.Quota(context.Background())
		if err != nil || rec.count() != 2 {
			t.Fatalf("%d attempts: %v", rec.count(), err)
		}
		a := rec.arrivals[1]
		if a.method != "GET" || a.path != "/api/v1/files/quota" || a.auth != "Bearer "+secret || a.idempotencyKey != "" || len(a.raw) != 0 {
			t.Errorf("%s %s auth %q key %q body %q", a.method, a.path, a.auth, a.idempotencyKey, a.raw)
		}
		if q.UserGroup != "default" || *q.UsedFiles != 35 || *q.MaxFiles != 2000 || *q.RemainFiles != 1965 || !q.IsCustom || q.QuotaReason != "beta" {
			t.Errorf("quota %+v", q)
		}
	})
	t.Run("absent fields", func(t *testing.T) {
		_, srv := newRecorder(t, jsonReply(200, map[string]any{"data": map[string]any{"used_files": 0}})) // no success, code, msg
		up, _ := wrapper.New(wrapper.Evolink, srv.URL, auth)
		q, err := up.Quota(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(q)
		if q.UsedFiles == nil || *q.UsedFiles != 0 || q.MaxFiles != nil || q.RemainFiles != nil || string(b) != `{"used_files":0}` {
			t.Errorf("quota %+v, JSON %s: want used_files 0 and nothing else", q, b)
		}
	})
	t.Run("errors", func(t *testing.T) {
		_, srv := newRecorder(t, envelopeReply(401, 401, "Authentication failed", "X-Request-Id", "q-1"))
		up, _ := wrapper.New(wrapper.Evolink, srv.URL, auth, fast)
		_, err := up.Quota(context.Background())
		e, ok := errors.AsType[*wrapper.Error](err)
		if !ok || e.Op != "quota" || e.StatusCode != 401 || e.RequestID() != "q-1" || !wrapper.IsUnauthorized(err) || !strings.HasPrefix(err.Error(), "evolink quota: HTTP 401") {
			t.Errorf("error %v", err)
		}
	})
	t.Run("kie has none", func(t *testing.T) {
		rec, srv := newRecorder(t, quotaOK)
		up, _ := wrapper.New(wrapper.Kie, srv.URL, auth)
		if _, err := up.Quota(context.Background()); !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), "kie") || rec.count() != 0 {
			t.Errorf("error %v after %d requests", err, rec.count())
		}
	})
}

// Every operation reports failures as *Error naming it, with the status,
// code, headers and body, and the token redacted.
func TestOperationErrors(t *testing.T) {
	_, srv := newRecorder(t, envelopeReply(413, 413, "File too large for "+secret, "X-Request-Id", "r-9"))
	up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, noRetries)
	src := func() wrapper.Source { return wrapper.ReaderAt(strings.NewReader("x"), "x", 1) }
	for op, call := range map[string]func() error{
		"upload":        func() error { _, err := up.Upload(context.Background(), src(), kiePath); return err },
		"base64 upload": func() error { _, err := up.UploadBase64(context.Background(), src(), kiePath); return err },
		"url upload": func() error {
			_, err := up.UploadURL(context.Background(), "https://example.com/x", kiePath)
			return err
		},
	} {
		err := call()
		e, ok := errors.AsType[*wrapper.Error](err)
		if !ok || e.Op != op || e.StatusCode != 413 || e.Code != 413 || !wrapper.IsTooLarge(err) || e.RequestID() != "r-9" ||
			!strings.HasPrefix(err.Error(), "kie "+op+": HTTP 413") || strings.Contains(err.Error()+e.Body+e.Msg, secret) {
			t.Errorf("%s: error %v", op, err)
		}
	}
}

// While the server downloads a URL upload, nothing moves: an answer that
// takes longer than the inactivity timeout is cut, as documented, and
// retried with the same key.
func TestURLUploadInactivity(t *testing.T) {
	const idle = 300 * time.Millisecond
	srv, calls := stallOnce(t, -1)
	up, _ := wrapper.New(wrapper.Kie, srv.URL, auth, wrapper.WithInactivityTimeout(idle))
	_, err := up.UploadURL(context.Background(), "https://example.com/slow.png", kiePath, noRetries)
	if !wrapper.IsRetryable(err) || !strings.Contains(err.Error(), "inactivity timeout") || !strings.HasPrefix(err.Error(), "kie url upload: ") {
		t.Fatalf("error %v: want a retryable inactivity timeout", err)
	}
	calls.Store(0)
	if _, err := up.UploadURL(context.Background(), "https://example.com/slow.png", kiePath, fast); err != nil || calls.Load() != 2 {
		t.Errorf("%d attempts: %v", calls.Load(), err)
	}
}
