package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/server"
)

// The JSON upload routes of both APIs.
const (
	kieBase64Path     = "/api/file-base64-upload"
	kieURLPath        = "/api/file-url-upload"
	evolinkBase64Path = "/api/v1/files/upload/base64"
	evolinkURLPath    = "/api/v1/files/upload/url"
	evolinkQuotaPath  = "/api/v1/files/quota"
)

// postJSON posts a raw JSON body with a bearer token ("" for none).
func (e *env) postJSON(path, token, body string) (*http.Response, []byte) {
	e.t.Helper()
	return e.do(http.MethodPost, path, token, "application/json", strings.NewReader(body))
}

// jsonObject encodes fields, in the order given, as a JSON object:
// name, value, name, value...
func jsonObject(t testing.TB, kv ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv[i])
		v, _ := json.Marshal(kv[i+1])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String()
}

// usage is what token's tenant stores now, in the catalog.
func (e *env) usage(token string) catalog.Usage {
	e.t.Helper()
	u, err := e.cat.Usage(context.Background(), e.tenant(token), e.now.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// backends are the two stores and catalogs tests that touch storage run
// against: disk + SQLite, and MinIO + PostgreSQL (skipped without them).
var backends = []struct {
	name   string
	newEnv func(testing.TB, func(*server.Config)) *env
}{{"disk", newEnv}, {"s3", newS3Env}}

// stored lists the objects in e's store, disk or S3.
func (e *env) stored() []string {
	e.t.Helper()
	if e.bucket != "" {
		return s3Keys(e.t, e)
	}
	return e.objects()
}

// wantNothingStored asserts that the store holds no object and token's
// tenant no file.
func (e *env) wantNothingStored(token string) {
	e.t.Helper()
	if objs := e.stored(); len(objs) != 0 {
		e.t.Errorf("the store holds %v, want nothing", objs)
	}
	if u := e.usage(token); u != (catalog.Usage{}) {
		e.t.Errorf("usage = %+v, want nothing", u)
	}
}

// uploaded is what both APIs answer about a stored file, read from either
// success envelope.
type uploaded struct {
	url, name, path, mime, original string
	size                            int64
}

// decodeUpload reads a 200 answer of either API (api "kie" or "evolink").
func decodeUpload(t testing.TB, api string, resp *http.Response, body []byte) uploaded {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if api == "kie" {
		d := decode[kieOK](t, body).Data
		dir := strings.TrimSuffix(d.FilePath, "/"+d.FileName)
		return uploaded{url: d.DownloadUrl, name: d.FileName, path: dir, mime: d.MimeType, size: d.FileSize}
	}
	d := decode[evolinkOK](t, body).Data
	if d == nil || d.FileUrl == nil {
		t.Fatalf("evolink answer without data: %s", body)
	}
	return uploaded{url: *d.FileUrl, name: *d.FileName, path: *d.UploadPath, mime: *d.MimeType, original: *d.OriginalName, size: *d.FileSize}
}

// formStream is a multipart upload whose file the test writes piece by
// piece, with the request's headers of its choosing.
type formStream struct {
	t      testing.TB
	pw     *io.PipeWriter
	mw     *multipart.Writer
	w      io.Writer
	result chan pipedResult
}

// startForm sends the request's headers, the fields and the file part's
// header; the file's bytes are left to write. hdr may be nil.
func (e *env) startForm(path, token string, hdr http.Header, fields ...part) *formStream {
	e.t.Helper()
	pr, pw := io.Pipe()
	f := &formStream{t: e.t, pw: pw, mw: multipart.NewWriter(pw), result: make(chan pipedResult, 1)}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, pr)
	if err != nil {
		e.t.Fatal(err)
	}
	maps.Copy(req.Header, hdr)
	req.Header.Set("Content-Type", f.mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	go func() {
		defer pr.Close()
		resp, err := e.client.Do(req)
		if err != nil {
			f.result <- pipedResult{body: []byte(err.Error())}
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		f.result <- pipedResult{resp.StatusCode, body}
	}()
	for _, p := range fields {
		if err := f.mw.WriteField(p.name, p.value); err != nil {
			e.t.Fatal(err)
		}
	}
	if f.w, err = f.mw.CreateFormFile("file", "stream.png"); err != nil {
		e.t.Fatal(err)
	}
	return f
}

func (f *formStream) write(p []byte) {
	f.t.Helper()
	if _, err := f.w.Write(p); err != nil {
		f.t.Fatalf("writing the upload: %v", err)
	}
}

// finish ends the form and returns the server's answer.
func (f *formStream) finish() (int, []byte) {
	f.t.Helper()
	if err := f.mw.Close(); err != nil {
		f.t.Fatalf("closing the form: %v", err)
	}
	f.pw.Close()
	r := <-f.result
	return r.status, r.body
}

// answer returns the server's answer without finishing the body (for a
// request the server refuses early); the body is cut afterwards.
func (f *formStream) answer() (int, []byte) {
	f.t.Helper()
	select {
	case r := <-f.result:
		f.pw.CloseWithError(errors.New("answered"))
		return r.status, r.body
	case <-time.After(10 * time.Second):
		f.pw.CloseWithError(errors.New("no answer"))
		f.t.Fatal("no answer to an unfinished upload within 10 s")
		return 0, nil
	}
}

// waitInFlight waits until the server counts n uploads in flight.
func (e *env) waitInFlight(n int) {
	e.t.Helper()
	want := fmt.Sprintf("\nfileup_uploads_in_flight %d\n", n)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, m := e.get(e.srv.URL + "/metrics")
		if strings.Contains(string(m), want) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("never %d uploads in flight:\n%s", n, m)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
