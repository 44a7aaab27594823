package server_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/gen/kie"
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
