package server_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/gen/kie"
	"github.com/fileup/fileup/server"
)

func bearer(token string) func(context.Context, *http.Request) error {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// The generated clients, unmodified, against the reference server: typed
// success and error responses for both APIs.
func TestGeneratedClients(t *testing.T) {
	e := newEnv(t, nil)
	form := func(parts ...part) (string, *bytes.Reader) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for _, p := range parts {
			if p.filename != "" {
				w, _ := mw.CreateFormFile(p.name, p.filename)
				w.Write(p.data)
			} else {
				mw.WriteField(p.name, p.value)
			}
		}
		mw.Close()
		return mw.FormDataContentType(), bytes.NewReader(b.Bytes())
	}
	ctx := context.Background()

	kc, err := kie.NewClientWithResponses(e.srv.URL, kie.WithHTTPClient(e.client))
	if err != nil {
		t.Fatal(err)
	}
	ct, body := form(field("uploadPath", "gen"), field("fileName", "g.txt"), file("g.txt", []byte("generated")))
	kr, err := kc.UploadFileStreamWithBodyWithResponse(ctx, ct, body, bearer(tokenA))
	if err != nil {
		t.Fatal(err)
	}
	if kr.JSON200 == nil || kr.JSON200.Data.FilePath != "gen/g.txt" || kr.JSON200.Data.FileSize != 9 {
		t.Errorf("kie 200: %d %s", kr.StatusCode(), kr.Body)
	}
	ct, body = form(file("g.txt", []byte("x")))
	kr, err = kc.UploadFileStreamWithBodyWithResponse(ctx, ct, body, bearer(tokenA))
	if err != nil || kr.JSON400 == nil || kr.JSON400.Code != kie.StatusBadRequest {
		t.Errorf("kie 400: %v %d %s", err, kr.StatusCode(), kr.Body)
	}
	kr, err = kc.UploadFileStreamWithBodyWithResponse(ctx, ct, body, bearer("nope"))
	if err != nil || kr.JSON401 == nil || kr.JSON401.Code != kie.StatusUnauthorized {
		t.Errorf("kie 401: %v %d %s", err, kr.StatusCode(), kr.Body)
	}

	ec, err := evolink.NewClientWithResponses(e.srv.URL, evolink.WithHTTPClient(e.client))
	if err != nil {
		t.Fatal(err)
	}
	ct, body = form(field("upload_path", "gen"), file("p.png", pngBytes))
	er, err := ec.UploadFileStreamWithBodyWithResponse(ctx, ct, body, bearer(tokenB))
	if err != nil {
		t.Fatal(err)
	}
	if er.JSON200 == nil || er.JSON200.Data == nil || *er.JSON200.Data.UploadPath != "gen" || *er.JSON200.Data.MimeType != "image/png" {
		t.Errorf("evolink 200: %d %s", er.StatusCode(), er.Body)
	}
	ct, body = form(file("p.png", []byte("<html></html>")))
	er, err = ec.UploadFileStreamWithBodyWithResponse(ctx, ct, body, bearer(tokenB))
	if err != nil || er.JSON400 == nil || er.JSON400.Code != 400 {
		t.Errorf("evolink 400: %v %d %s", err, er.StatusCode(), er.Body)
	}
}

// rangeHeader is a request editor that asks for a byte range.
func rangeHeader(r string) func(context.Context, *http.Request) error {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Range", r)
		return nil
	}
}

// genClientEnv is a server where every documented answer can be had: a
// file quota, a small size limit, and a loopback origin URL uploads may
// fetch from.
func genClientEnv(t *testing.T) (*env, *origin) {
	const limit = 64 << 10
	o := newOrigin(t, "127.0.0.1:0", originFiles(limit))
	e := newEnv(t, func(c *server.Config) {
		c.QuotaFiles, c.MaxUploadSize, c.FetchAllow = 2, limit, allowLoopback1
	})
	return e, o
}

// kie's generated client, unmodified, for its Base64 and URL uploads:
// the typed 200 and every error type the server can answer.
func TestGeneratedKieJSONUploads(t *testing.T) {
	e, o := genClientEnv(t)
	ctx := context.Background()
	kc, err := kie.NewClientWithResponses(e.srv.URL, kie.WithHTTPClient(e.client))
	if err != nil {
		t.Fatal(err)
	}
	name := "g.png"
	b64Req := func(data string) kie.UploadFileBase64JSONRequestBody {
		return kie.UploadFileBase64JSONRequestBody{Base64Data: data, UploadPath: "gen", FileName: &name}
	}
	wantErr := func(what string, got *kie.ApiResponse, status kie.StatusCode, body []byte) {
		t.Helper()
		if got == nil || got.Success || got.Code != status || got.Msg == "" {
			t.Errorf("%s: want a typed %d envelope, got %s", what, status, body)
		}
	}

	br, err := kc.UploadFileBase64WithResponse(ctx, b64Req("data:image/png;base64,"+b64(pngBytes)), bearer(tokenA))
	if err != nil {
		t.Fatal(err)
	}
	if br.JSON200 == nil || br.JSON200.Data.FilePath != "gen/g.png" || br.JSON200.Data.MimeType != "image/png" || br.JSON200.Data.FileSize != int64(len(pngBytes)) {
		t.Errorf("base64 200: %d %s", br.StatusCode(), br.Body)
	}
	br, _ = kc.UploadFileBase64WithResponse(ctx, b64Req("not base64!"), bearer(tokenA))
	wantErr("base64 400", br.JSON400, kie.StatusBadRequest, br.Body)
	br, _ = kc.UploadFileBase64WithResponse(ctx, b64Req(b64(pngBytes)), bearer("not-a-token-0123456789"))
	wantErr("base64 401", br.JSON401, kie.StatusUnauthorized, br.Body)
	br, _ = kc.UploadFileBase64WithResponse(ctx, b64Req(b64(randomBytes(64<<10+1))), bearer(tokenA))
	wantErr("base64 413", br.JSON413, kie.StatusPayloadTooLarge, br.Body)

	uploadURL := func(url string, token string) *kie.UploadFileUrlResponse {
		t.Helper()
		ur, err := kc.UploadFileUrlWithResponse(ctx, kie.UploadFileUrlJSONRequestBody{FileUrl: url, UploadPath: "gen"}, bearer(token))
		if err != nil {
			t.Fatal(err)
		}
		return ur
	}
	ur := uploadURL(o.srv.URL+"/missing", tokenA)
	wantErr("url 400", ur.JSON400, kie.StatusBadRequest, ur.Body)
	ur = uploadURL(o.srv.URL+"/big", tokenA)
	wantErr("url 413, declared", ur.JSON413, kie.StatusPayloadTooLarge, ur.Body)
	ur = uploadURL(o.srv.URL+"/big-chunked", tokenA)
	wantErr("url 413, streamed", ur.JSON413, kie.StatusPayloadTooLarge, ur.Body)
	ur = uploadURL(o.srv.URL+"/x.png", "")
	wantErr("url 401", ur.JSON401, kie.StatusUnauthorized, ur.Body)
	ur = uploadURL(o.srv.URL+"/from/url.png", tokenA)
	if ur.JSON200 == nil || ur.JSON200.Data.FilePath != "gen/url.png" || ur.JSON200.Data.MimeType != "image/png" {
		t.Errorf("url 200: %d %s", ur.StatusCode(), ur.Body)
	}
	// Two files stored: the quota is full.
	ur = uploadURL(o.srv.URL+"/third.png", tokenA)
	wantErr("url 403", ur.JSON403, kie.StatusQuotaExhausted, ur.Body)
	name = "third.png"
	br, _ = kc.UploadFileBase64WithResponse(ctx, b64Req(b64(pngBytes)), bearer(tokenA))
	wantErr("base64 403", br.JSON403, kie.StatusQuotaExhausted, br.Body)
}

// evolink's generated client, unmodified, for its Base64 and URL
// uploads, the quota and the download: typed answers, success and error.
func TestGeneratedEvolinkOperations(t *testing.T) {
	e, o := genClientEnv(t)
	ctx := context.Background()
	ec, err := evolink.NewClientWithResponses(e.srv.URL, evolink.WithHTTPClient(e.client))
	if err != nil {
		t.Fatal(err)
	}
	wantErr := func(what string, got *evolink.ErrorResponse, status int, body []byte) {
		t.Helper()
		if got == nil || got.Success || got.Code != status || got.Msg == "" {
			t.Errorf("%s: want a typed %d envelope, got %s", what, status, body)
		}
	}
	path := "gen"

	br, err := ec.UploadFileBase64WithResponse(ctx, evolink.UploadFileBase64JSONRequestBody{Base64Data: b64(pngBytes), UploadPath: &path}, bearer(tokenA))
	if err != nil {
		t.Fatal(err)
	}
	if br.JSON200 == nil || br.JSON200.Data == nil || *br.JSON200.Data.UploadPath != "gen" || *br.JSON200.Data.MimeType != "image/png" {
		t.Fatalf("base64 200: %d %s", br.StatusCode(), br.Body)
	}
	fileID := *br.JSON200.Data.FileId
	br, _ = ec.UploadFileBase64WithResponse(ctx, evolink.UploadFileBase64JSONRequestBody{Base64Data: b64([]byte("text"))}, bearer(tokenA))
	wantErr("base64 400", br.JSON400, 400, br.Body)
	br, _ = ec.UploadFileBase64WithResponse(ctx, evolink.UploadFileBase64JSONRequestBody{Base64Data: b64(pngBytes)})
	wantErr("base64 401", br.JSON401, 401, br.Body)
	big := append(append([]byte{}, pngBytes...), randomBytes(64<<10)...)
	br, _ = ec.UploadFileBase64WithResponse(ctx, evolink.UploadFileBase64JSONRequestBody{Base64Data: b64(big)}, bearer(tokenA))
	wantErr("base64 413", br.JSON413, 413, br.Body)

	uploadURL := func(url, token string) *evolink.UploadFileUrlResponse {
		t.Helper()
		ur, err := ec.UploadFileUrlWithResponse(ctx, evolink.UploadFileUrlJSONRequestBody{FileUrl: url}, bearer(token))
		if err != nil {
			t.Fatal(err)
		}
		return ur
	}
	ur := uploadURL(o.srv.URL+"/text", tokenA)
	wantErr("url 400", ur.JSON400, 400, ur.Body)
	ur = uploadURL(o.srv.URL+"/u.png", "")
	wantErr("url 401", ur.JSON401, 401, ur.Body)
	ur = uploadURL(o.srv.URL+"/big-chunked", tokenA)
	wantErr("url 413", ur.JSON413, 413, ur.Body)
	ur = uploadURL(o.srv.URL+"/u.png", tokenA)
	if ur.JSON200 == nil || ur.JSON200.Data == nil || *ur.JSON200.Data.FileName != "u.png" || *ur.JSON200.Data.UploadPath != "images/png" {
		t.Errorf("url 200: %d %s", ur.StatusCode(), ur.Body)
	}
	// Two files stored: the quota is full.
	ur = uploadURL(o.srv.URL+"/third.png", tokenA)
	wantErr("url 403", ur.JSON403, 403, ur.Body)
	br, _ = ec.UploadFileBase64WithResponse(ctx, evolink.UploadFileBase64JSONRequestBody{Base64Data: b64(pngBytes)}, bearer(tokenA))
	wantErr("base64 403", br.JSON403, 403, br.Body)

	qr, err := ec.GetFilesQuotaWithResponse(ctx, bearer(tokenA))
	if err != nil {
		t.Fatal(err)
	}
	if qr.JSON200 == nil || qr.JSON200.Data == nil || *qr.JSON200.Data.UsedFiles != 2 || *qr.JSON200.Data.MaxFiles != 2 || *qr.JSON200.Data.RemainFiles != 0 {
		t.Errorf("quota 200: %d %s", qr.StatusCode(), qr.Body)
	}
	qr, _ = ec.GetFilesQuotaWithResponse(ctx, bearer("not-a-token-0123456789"))
	wantErr("quota 401", qr.JSON401, 401, qr.Body)

	dr, err := ec.DownloadFileWithResponse(ctx, fileID)
	if err != nil {
		t.Fatal(err)
	}
	if dr.StatusCode() != http.StatusOK || !bytes.Equal(dr.Body, pngBytes) {
		t.Errorf("download 200: %d, %d bytes", dr.StatusCode(), len(dr.Body))
	}
	dr, _ = ec.DownloadFileWithResponse(ctx, fileID, rangeHeader("bytes=1-3"))
	if dr.StatusCode() != http.StatusPartialContent || dr.Headers206 == nil || dr.Headers206.ContentRange != fmt.Sprintf("bytes 1-3/%d", len(pngBytes)) || !bytes.Equal(dr.Body, pngBytes[1:4]) {
		t.Errorf("download 206: %d %v %q", dr.StatusCode(), dr.Headers206, dr.Body)
	}
	dr, _ = ec.DownloadFileWithResponse(ctx, fileID, rangeHeader("bytes=1000-"))
	wantErr("download 416", dr.JSON416, 416, dr.Body)
	dr, _ = ec.DownloadFileWithResponse(ctx, "file_00000000000000000000000000000000")
	wantErr("download 404", dr.JSON404, 404, dr.Body)
}
