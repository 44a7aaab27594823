package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/fileup/fileup/catalog"
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

// wantNothingStored asserts that the disk store holds no object and
// token's tenant no file.
func (e *env) wantNothingStored(token string) {
	e.t.Helper()
	if objs := e.objects(); len(objs) != 0 {
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
