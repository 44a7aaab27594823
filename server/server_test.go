package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/gen/kie"
	"github.com/fileup/fileup/server"
	"github.com/fileup/fileup/storage"
)

// randomBytes returns n random bytes that sniff as
// application/octet-stream: a leading NUL rules out the types
// http.DetectContentType could otherwise find by chance (BMP's "BM",
// UTF-16 byte order marks, ...).
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	if n > 0 {
		b[0] = 0
	}
	return b
}

func TestKieUploadAndDownload(t *testing.T) {
	e := newEnv(t, nil)
	data := randomBytes(300_000)
	resp, body := e.post(kiePath, tokenA, field("uploadPath", "images/user-uploads"), field("fileName", "blob.bin"), file("local.bin", data))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	got := decode[kieOK](t, body)
	d := got.Data
	if !got.Success || got.Code != kie.StatusOK || d.FileName != "blob.bin" || d.FilePath != "images/user-uploads/blob.bin" ||
		d.FileSize != int64(len(data)) || d.MimeType != "application/octet-stream" {
		t.Errorf("unexpected response %+v", got)
	}
	if d.UploadedAt.IsZero() || !strings.HasPrefix(d.DownloadUrl, e.srv.URL+"/f/") || !strings.HasSuffix(d.DownloadUrl, "/blob.bin") {
		t.Errorf("downloadUrl %q / uploadedAt %v", d.DownloadUrl, d.UploadedAt)
	}

	dl, content := e.get(d.DownloadUrl)
	if dl.StatusCode != http.StatusOK || !bytes.Equal(content, data) {
		t.Fatalf("download: status %d, %d bytes, equal=%v", dl.StatusCode, len(content), bytes.Equal(content, data))
	}
	for h, want := range map[string]string{
		"Content-Type":           "application/octet-stream",
		"X-Content-Type-Options": "nosniff",
		"Accept-Ranges":          "bytes",
		"Content-Disposition":    `attachment; filename=blob.bin`,
	} {
		if got := dl.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	etag := dl.Header.Get("ETag")
	if etag == "" || dl.Header.Get("Last-Modified") == "" {
		t.Errorf("missing ETag/Last-Modified: %v", dl.Header)
	}

	part, partial := e.get(d.DownloadUrl, "Range", "bytes=100-199")
	if part.StatusCode != http.StatusPartialContent || !bytes.Equal(partial, data[100:200]) {
		t.Errorf("range: status %d, %d bytes", part.StatusCode, len(partial))
	}
	nm, _ := e.get(d.DownloadUrl, "If-None-Match", etag)
	if nm.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", nm.StatusCode)
	}
	head, err := http.Head(d.DownloadUrl)
	if err != nil {
		t.Fatal(err)
	}
	head.Body.Close()
	if head.StatusCode != http.StatusOK || head.ContentLength != int64(len(data)) {
		t.Errorf("HEAD: status %d, length %d", head.StatusCode, head.ContentLength)
	}
}

// The file part may come before the fields (curl -F file=@x -F uploadPath=y).
func TestKieFieldsAfterFile(t *testing.T) {
	e := newEnv(t, nil)
	data := []byte("hello, world\n")
	resp, body := e.post(kiePath, tokenA, file("hello.txt", data), field("uploadPath", "docs"), field("fileName", "greeting.txt"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	got := decode[kieOK](t, body)
	if got.Data.FilePath != "docs/greeting.txt" || got.Data.MimeType != "text/plain; charset=utf-8" {
		t.Errorf("unexpected %+v", got.Data)
	}
	_, content := e.get(got.Data.DownloadUrl)
	if !bytes.Equal(content, data) {
		t.Errorf("download = %q", content)
	}
	if objs := e.objects(); len(objs) != 1 || !strings.HasPrefix(objs[0], e.tenant(tokenA)+"/") {
		t.Errorf("store holds %v, want one object of the tenant (no staged leftovers)", objs)
	}
}

func TestKieRandomNameAndOverwrite(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.post(kiePath, tokenA, field("uploadPath", "a"), file("photo.PNG", pngBytes))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	first := decode[kieOK](t, body).Data
	if !strings.HasSuffix(first.FileName, ".png") || len(first.FileName) < 10 || first.MimeType != "image/png" {
		t.Errorf("generated name %q, type %q", first.FileName, first.MimeType)
	}
	_, body = e.post(kiePath, tokenA, field("uploadPath", "a"), file("photo.PNG", pngBytes))
	if second := decode[kieOK](t, body).Data; second.FileName == first.FileName {
		t.Errorf("two uploads without fileName got the same name %q", first.FileName)
	}

	// The same name again replaces the file.
	for i, content := range []string{"version one", "version two, longer"} {
		resp, body := e.post(kiePath, tokenA, field("uploadPath", "a"), field("fileName", "v.txt"), file("v.txt", []byte(content)))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("upload %d: %d %s", i, resp.StatusCode, body)
		}
		_, got := e.get(decode[kieOK](t, body).Data.DownloadUrl)
		if string(got) != content {
			t.Errorf("after upload %d download = %q, want %q", i, got, content)
		}
	}
}

func TestKieBadRequests(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name  string
		parts []part
		msg   string
	}{
		{"missing uploadPath", []part{file("a.txt", []byte("x"))}, "Missing required parameter: uploadPath"},
		{"missing file", []part{field("uploadPath", "a")}, "Missing required parameter: file"},
		{"leading slash", []part{field("uploadPath", "/a"), file("a.txt", []byte("x"))}, "must not start or end with a slash"},
		{"trailing slash", []part{field("uploadPath", "a/"), file("a.txt", []byte("x"))}, "must not start or end with a slash"},
		{"dot dot", []part{field("uploadPath", "a/../../etc"), file("a.txt", []byte("x"))}, "Invalid uploadPath"},
		{"backslash", []part{field("uploadPath", `a\..\b`), file("a.txt", []byte("x"))}, "Invalid uploadPath"},
		{"name with slash", []part{field("uploadPath", "a"), field("fileName", "b/c"), file("a.txt", []byte("x"))}, "Invalid fileName"},
		{"dot name", []part{field("uploadPath", "a"), field("fileName", ".."), file("a.txt", []byte("x"))}, "Invalid fileName"},
		{"two files", []part{field("uploadPath", "a"), field("fileName", "n"), file("a.txt", []byte("x")), file("b.txt", []byte("y"))}, "Only one file"},
		{"two files, fields last", []part{file("a.txt", []byte("x")), file("b.txt", []byte("y")), field("uploadPath", "a")}, "Only one file"},
		{"duplicate field", []part{field("uploadPath", "a"), field("uploadPath", "b"), file("a.txt", []byte("x"))}, "Duplicate field"},
		{"duplicate after file", []part{field("uploadPath", "a"), field("fileName", "n"), file("a.txt", []byte("x")), field("fileName", "m")}, "Duplicate field"},
		{"long field", []part{field("uploadPath", strings.Repeat("a", 5000)), file("a.txt", []byte("x"))}, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.post(kiePath, tokenA, tt.parts...)
			wantEnvelope(t, resp, body, http.StatusBadRequest, tt.msg)
		})
	}
	if objs := e.objects(); len(objs) != 0 {
		t.Errorf("failed uploads left objects: %v", objs)
	}

	t.Run("not multipart", func(t *testing.T) {
		resp, body := e.do(http.MethodPost, kiePath, tokenA, "application/json", strings.NewReader(`{"uploadPath":"a"}`))
		wantEnvelope(t, resp, body, http.StatusBadRequest, "multipart/form-data")
	})
	t.Run("truncated body", func(t *testing.T) {
		ct, body := formBody(t, field("uploadPath", "a"), field("fileName", "n"), file("a.txt", randomBytes(10_000)))
		resp, rb := e.do(http.MethodPost, kiePath, tokenA, ct, bytes.NewReader(body[:len(body)-50]))
		wantEnvelope(t, resp, rb, http.StatusBadRequest, "")
	})
	t.Run("malformed boundary", func(t *testing.T) {
		resp, rb := e.do(http.MethodPost, kiePath, tokenA, "multipart/form-data; boundary=zzz", strings.NewReader("--yyy\r\nnonsense\r\n"))
		wantEnvelope(t, resp, rb, http.StatusBadRequest, "")
	})
	e.server.Sweep(context.Background())
	if objs := e.objects(); len(objs) != 0 {
		t.Errorf("failed uploads left objects: %v", objs)
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.AuthBurst = 100 }) // the throttle is tested on its own
	ct, body := formBody(t, field("uploadPath", "a"), file("a.txt", []byte("x")))
	tests := []struct {
		name, header, msg string
	}{
		{"missing", "", "missing Authorization"},
		{"basic", "Basic dXNlcjpwYXNz", "expected 'Authorization: Bearer"},
		{"empty bearer", "Bearer ", "expected 'Authorization: Bearer"},
		{"no scheme", tokenA, "expected 'Authorization: Bearer"},
		{"extra space", "Bearer  " + tokenA, "expected 'Authorization: Bearer"},
		{"unknown", "Bearer not-a-token", "Invalid API Key"},
		{"prefix of a token", "Bearer " + tokenA[:10], "Invalid API Key"},
	}
	for _, path := range []string{kiePath, evolinkPath} {
		for _, tt := range tests {
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(body))
				req.Header.Set("Content-Type", ct)
				if tt.header != "" {
					req.Header.Set("Authorization", tt.header)
				}
				resp, err := e.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				rb, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				wantEnvelope(t, resp, rb, http.StatusUnauthorized, tt.msg)
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("no WWW-Authenticate header")
				}
			})
		}
	}
	// The scheme is case-insensitive.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+kiePath, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "bearer "+tokenA)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("lower-case bearer: status %d", resp.StatusCode)
	}
	if logs := e.logs.String(); strings.Contains(logs, tokenA) || strings.Contains(logs, tokenB) || strings.Contains(logs, "not-a-token") {
		t.Errorf("a token reached the logs:\n%s", logs)
	}
}

func TestMethodNotAllowedAndNotFound(t *testing.T) {
	e := newEnv(t, nil)
	for _, path := range uploadPaths {
		for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			resp, body := e.do(m, path, tokenA, "", nil)
			wantEnvelope(t, resp, body, http.StatusMethodNotAllowed, "Method not allowed")
			if resp.Header.Get("Allow") != http.MethodPost {
				t.Errorf("%s %s: Allow = %q", m, path, resp.Header.Get("Allow"))
			}
		}
	}
	resp, body := e.do(http.MethodGet, "/nope", "", "", nil)
	wantEnvelope(t, resp, body, http.StatusNotFound, "Not found")
	resp, body = e.do(http.MethodGet, "/f/"+e.tenant(tokenA)+"/missing.txt", "", "", nil)
	wantEnvelope(t, resp, body, http.StatusNotFound, "File not found")
	resp, body = e.do(http.MethodPost, "/f/0123/x", "", "", nil)
	wantEnvelope(t, resp, body, http.StatusMethodNotAllowed, "Method not allowed")
}

func TestSizeLimit(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.MaxUploadSize = 64 << 10 })
	// Within the limit.
	resp, body := e.post(kiePath, tokenA, field("uploadPath", "a"), field("fileName", "ok"), file("ok", randomBytes(64<<10)))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("at the limit: %d %s", resp.StatusCode, body)
	}
	// One byte over, streamed: cut mid-stream, nothing stored.
	resp, body = e.post(kiePath, tokenA, field("uploadPath", "a"), field("fileName", "big"), file("big", randomBytes(64<<10+1)))
	wantEnvelope(t, resp, body, http.StatusRequestEntityTooLarge, "File too large")
	resp, body = e.post(evolinkPath, tokenA, file("big.png", append(append([]byte{}, pngBytes...), randomBytes(64<<10)...)))
	wantEnvelope(t, resp, body, http.StatusRequestEntityTooLarge, "File too large")
	// Declared far too large: refused before reading.
	pr, pw := io.Pipe()
	defer pw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+kiePath, pr)
	req.ContentLength = 10 << 30
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	req.Header.Set("Authorization", "Bearer "+tokenA)
	go pw.Write(make([]byte, 1024))
	r2, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	wantEnvelope(t, r2, b2, http.StatusRequestEntityTooLarge, "File too large")
	if objs := e.objects(); len(objs) != 1 {
		t.Errorf("store holds %v, want only the file within the limit", objs)
	}
}

func TestQuota(t *testing.T) {
	t.Run("files", func(t *testing.T) {
		e := newEnv(t, func(c *server.Config) { c.QuotaFiles = 2 })
		for i := range 2 {
			resp, body := e.post(kiePath, tokenA, field("uploadPath", "q"), file("a.txt", []byte(fmt.Sprint(i))))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("upload %d: %d %s", i, resp.StatusCode, body)
			}
		}
		resp, body := e.post(kiePath, tokenA, field("uploadPath", "q"), file("a.txt", []byte("x")))
		wantEnvelope(t, resp, body, http.StatusForbidden, "Quota exhausted")
		resp, body = e.post(evolinkPath, tokenA, file("a.png", pngBytes))
		wantEnvelope(t, resp, body, http.StatusForbidden, "Quota exhausted")
		// Another token has its own quota.
		resp, body = e.post(kiePath, tokenB, field("uploadPath", "q"), file("a.txt", []byte("x")))
		if resp.StatusCode != http.StatusOK {
			t.Errorf("token B: %d %s", resp.StatusCode, body)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		e := newEnv(t, func(c *server.Config) { c.QuotaBytes = 1000 })
		resp, body := e.post(kiePath, tokenA, field("uploadPath", "q"), field("fileName", "a"), file("a", randomBytes(600)))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		resp, body = e.post(kiePath, tokenA, field("uploadPath", "q"), field("fileName", "b"), file("b", randomBytes(600)))
		wantEnvelope(t, resp, body, http.StatusForbidden, "Quota exhausted")
		u, err := e.cat.Usage(context.Background(), e.tenant(tokenA), e.now.Now())
		if err != nil || u.Bytes != 600 || u.Files != 1 {
			t.Errorf("usage = %+v, %v; the refused upload must leave nothing", u, err)
		}
	})
}

// One tenant can neither read, overwrite nor list another's files.
func TestTenantIsolation(t *testing.T) {
	e := newEnv(t, nil)
	_, body := e.post(kiePath, tokenA, field("uploadPath", "shared"), field("fileName", "f.txt"), file("f.txt", []byte("A's data")))
	urlA := decode[kieOK](t, body).Data.DownloadUrl
	_, body = e.post(kiePath, tokenB, field("uploadPath", "shared"), field("fileName", "f.txt"), file("f.txt", []byte("B's data")))
	urlB := decode[kieOK](t, body).Data.DownloadUrl
	if urlA == urlB {
		t.Fatalf("both tenants got the same URL %s", urlA)
	}
	if _, got := e.get(urlA); string(got) != "A's data" {
		t.Errorf("A's file = %q after B uploaded the same path", got)
	}
	if _, got := e.get(urlB); string(got) != "B's data" {
		t.Errorf("B's file = %q", got)
	}
	// B's upload to the same path and name does not replace A's file:
	// each token has its own names.
	if u, err := e.cat.Usage(context.Background(), e.tenant(tokenA), e.now.Now()); err != nil || u.Files != 1 {
		t.Errorf("A's usage = %+v, %v", u, err)
	}
}

func TestScriptableDownloadsAreAttachments(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name, data, ctype, disposition string
	}{
		{"page.html", "<!DOCTYPE html><html><script>alert(1)</script></html>", "text/html; charset=utf-8", "attachment"},
		{"img.svg", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, "text/xml; charset=utf-8", "attachment"},
		{"notes.txt", "just text", "text/plain; charset=utf-8", "inline"},
		{"pixel.png", string(pngBytes), "image/png", "inline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body := e.post(kiePath, tokenA, field("uploadPath", "x"), field("fileName", tt.name), file(tt.name, []byte(tt.data)))
			d := decode[kieOK](t, body).Data
			if d.MimeType != tt.ctype {
				t.Errorf("mimeType = %q, want %q", d.MimeType, tt.ctype)
			}
			resp, _ := e.get(d.DownloadUrl)
			if got := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(got, tt.disposition) {
				t.Errorf("Content-Disposition = %q, want %s", got, tt.disposition)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("headers %v", resp.Header)
			}
			resp, _ = e.get(d.DownloadUrl + "?download=1")
			if got := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(got, "attachment") {
				t.Errorf("?download=1: Content-Disposition = %q", got)
			}
		})
	}
}

func TestExpiryAndJanitor(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.TTL = time.Hour })
	_, body := e.post(kiePath, tokenA, field("uploadPath", "x"), field("fileName", "e.txt"), file("e.txt", []byte("soon gone")))
	url := decode[kieOK](t, body).Data.DownloadUrl
	if resp, _ := e.get(url); resp.StatusCode != http.StatusOK {
		t.Fatalf("before expiry: %d", resp.StatusCode)
	}
	e.now.Advance(time.Hour + time.Second)
	resp, b := e.get(url)
	wantEnvelope(t, resp, b, http.StatusNotFound, "File not found")

	// The janitor removes the expired file's row at once, and its object
	// once downloads already reading it have had time to finish.
	e.server.Sweep(context.Background())
	if objs := e.objects(); len(objs) != 1 {
		t.Errorf("the object went with its row: %v", objs)
	}
	e.now.Advance(catalog.DefaultGarbageDelay)
	e.server.Sweep(context.Background())
	if objs := e.objects(); len(objs) != 0 {
		t.Errorf("janitor left %v", objs)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t, nil)
	e.post(kiePath, tokenA, field("uploadPath", "m"), file("m.txt", []byte("12345")))
	e.post(kiePath, "", field("uploadPath", "m"), file("m.txt", []byte("12345")))
	resp, body := e.get(e.srv.URL + "/healthz")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "ok") {
		t.Errorf("healthz: %d %s", resp.StatusCode, body)
	}
	_, body = e.get(e.srv.URL + "/metrics")
	for _, want := range []string{
		`fileup_uploads_total{api="kie",status="200"} 1`,
		`fileup_upload_bytes_total{api="kie"} 5`,
		`fileup_http_requests_total{method="POST",route="POST /api/file-stream-upload",status="401"} 1`,
		`fileup_http_request_duration_seconds_count{route="POST /api/file-stream-upload"} 2`,
		`fileup_uploads_in_flight 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

// A slow client that keeps sending is not cut; one that stops is.
func TestStalledAndSlowUploads(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.StallTimeout = time.Second })
	ct, body := formBody(t, field("uploadPath", "s"), field("fileName", "slow.bin"), file("slow.bin", randomBytes(160_000)))

	send := func(pause time.Duration, chunks int) (*http.Response, []byte, error) {
		pr, pw := io.Pipe()
		go func() {
			step := len(body) / chunks
			for i := 0; i < chunks; i++ {
				end := (i + 1) * step
				if i == chunks-1 {
					end = len(body)
				}
				if _, err := pw.Write(body[i*step : end]); err != nil {
					return
				}
				time.Sleep(pause)
			}
			pw.Close()
		}()
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+kiePath, pr)
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+tokenA)
		resp, err := e.client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b, nil
	}

	// 30 chunks, 100 ms apart: 3 s in all, three times the stall timeout.
	// Each chunk (over 5 KB) is larger than the transport's write buffer,
	// so each goes out on its own.
	resp, b, err := send(100*time.Millisecond, 30)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("slow upload: %v %v %s", err, resp, b)
	}
	// Two chunks, three seconds apart: stalled after the first.
	resp, b, err = send(3*time.Second, 2)
	if err == nil {
		wantEnvelope(t, resp, b, http.StatusBadRequest, "stalled")
	} // else: the server closed the connection, which also cuts the upload
	e.server.Sweep(context.Background())
	if objs := e.objects(); len(objs) != 1 {
		t.Errorf("store holds %v, want only the slow upload", objs)
	}
}

// A client that disconnects mid-upload leaves nothing behind.
func TestClientDisconnect(t *testing.T) {
	e := newEnv(t, nil)
	ct, body := formBody(t, field("uploadPath", "d"), field("fileName", "cut.bin"), file("cut.bin", randomBytes(1<<20)))
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", kiePath, tokenA, ct, len(body))
	conn.Write(body[:len(body)/2])
	time.Sleep(100 * time.Millisecond)
	conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, m := e.get(e.srv.URL + "/metrics")
		if strings.Contains(string(m), "fileup_uploads_in_flight 0") && strings.Contains(string(m), `fileup_uploads_total{api="kie",status="400"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("upload still in flight:\n%s", m)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if objs := e.objects(); len(objs) != 0 {
		t.Errorf("interrupted upload left %v", objs)
	}
}

var _ storage.Store = (*storage.Disk)(nil)
