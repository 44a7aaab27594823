package wrapper_test

import (
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/gen/kie"
)

// fake is a minimal server for both APIs, built on the generated strict
// handlers: it checks the bearer token, reads the form and answers with
// the vendors' envelopes. It stores nothing.
type fake struct {
	url   string
	token string
}

// startFake serves both APIs on a loopback socket.
func startFake(token string) (url string, stop func()) {
	f := &fake{token: token}
	mux := http.NewServeMux()
	kie.HandlerFromMux(kie.NewStrictHandler(fakeKie{f}, nil), mux)
	evolink.HandlerFromMux(evolink.NewStrictHandler(fakeEvolink{f}, nil), mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(kie.ApiResponse{Success: false, Code: kie.StatusUnauthorized, Msg: "Authentication failed: Invalid API Key"})
			return
		}
		mux.ServeHTTP(w, r)
	}))
	f.url = srv.URL
	return srv.URL, srv.Close
}

// upload is what the fake read from a form.
type upload struct {
	fields                map[string]string
	fileName, contentType string
	size                  int64
	err                   error
}

func readForm(mr *multipart.Reader) upload {
	u := upload{fields: map[string]string{}}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return u
		}
		if err != nil {
			u.err = err
			return u
		}
		if p.FormName() == "file" {
			u.fileName, u.contentType = p.FileName(), p.Header.Get("Content-Type")
			u.size, u.err = io.Copy(io.Discard, p)
		} else {
			b, err := io.ReadAll(io.LimitReader(p, 4096))
			u.fields[p.FormName()], u.err = string(b), err
		}
		if u.err != nil {
			return u
		}
	}
}

func (u upload) name(keys ...string) string {
	for _, k := range keys {
		if v := u.fields[k]; v != "" {
			return v
		}
	}
	return u.fileName
}

var fakeTime = time.Date(2025, 10, 9, 0, 0, 0, 0, time.UTC)

type fakeKie struct{ *fake }

func (f fakeKie) UploadFileStream(ctx context.Context, req kie.UploadFileStreamRequestObject) (kie.UploadFileStreamResponseObject, error) {
	u := readForm(req.Body)
	dir := u.fields["uploadPath"]
	if u.err != nil || dir == "" || u.fileName == "" {
		return kie.UploadFileStream400JSONResponse{Code: kie.StatusBadRequest, Msg: "Missing required parameter: uploadPath"}, nil
	}
	p := dir + "/" + u.name("fileName")
	return kie.UploadFileStream200JSONResponse{Success: true, Code: kie.StatusOK, Msg: "File uploaded successfully", Data: kie.FileUploadResult{
		FileName: u.name("fileName"), FilePath: p, DownloadUrl: f.url + "/files/" + p, FileSize: u.size, MimeType: u.contentType, UploadedAt: fakeTime,
	}}, nil
}

type fakeEvolink struct{ *fake }

func (f fakeEvolink) UploadFileStream(ctx context.Context, req evolink.UploadFileStreamRequestObject) (evolink.UploadFileStreamResponseObject, error) {
	u := readForm(req.Body)
	if u.err != nil || !strings.HasPrefix(u.contentType, "image/") {
		return evolink.UploadFileStream400JSONResponse{Code: 400, Msg: "Unsupported file type " + u.contentType}, nil
	}
	dir, name := u.name("upload_path", "uploadPath"), u.name("file_name", "fileName")
	id, fileURL, downloadURL, expires := "file_1", f.url+"/files/"+dir+"/"+name, f.url+"/api/v1/files/download/file_1", fakeTime.Add(72*time.Hour)
	ok, code, msg := true, 200, "File uploaded successfully"
	return evolink.UploadFileStream200JSONResponse{Success: &ok, Code: &code, Msg: &msg, Data: &evolink.FileData{
		FileId: &id, FileName: &name, OriginalName: &u.fileName, FileSize: &u.size, MimeType: &u.contentType, UploadPath: &dir,
		FileUrl: &fileURL, DownloadUrl: &downloadURL, UploadTime: &fakeTime, ExpiresAt: &expires,
	}}, nil
}
