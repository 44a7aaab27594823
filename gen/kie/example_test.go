package kie_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"time"

	"github.com/fileup/fileup/gen/kie"
)

// uploadServer implements kie.StrictServerInterface. The strict handler
// hands UploadFileStream the request's *multipart.Reader, so the file part
// can be streamed wherever it goes (here it is only counted). The JSON
// operations get their body decoded; the URL upload "downloads" from a
// fixed table instead of the network.
type uploadServer struct {
	remote map[string]string // URL -> content
}

func (uploadServer) UploadFileStream(ctx context.Context, req kie.UploadFileStreamRequestObject) (kie.UploadFileStreamResponseObject, error) {
	var uploadPath, fileName string
	var size int64
	for {
		part, err := req.Body.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return kie.UploadFileStream400JSONResponse{Code: kie.StatusBadRequest, Msg: err.Error()}, nil
		}
		switch part.FormName() {
		case "uploadPath":
			b, _ := io.ReadAll(io.LimitReader(part, 1024))
			uploadPath = string(b)
		case "fileName":
			b, _ := io.ReadAll(io.LimitReader(part, 1024))
			fileName = string(b)
		case "file":
			if size, err = io.Copy(io.Discard, part); err != nil {
				return kie.UploadFileStream400JSONResponse{Code: kie.StatusBadRequest, Msg: err.Error()}, nil
			}
		}
	}
	if uploadPath == "" {
		return kie.UploadFileStream400JSONResponse{Code: kie.StatusBadRequest, Msg: "Missing required parameter: uploadPath"}, nil
	}
	return kie.UploadFileStream200JSONResponse(stored(uploadPath, fileName, size)), nil
}

func (uploadServer) UploadFileBase64(ctx context.Context, req kie.UploadFileBase64RequestObject) (kie.UploadFileBase64ResponseObject, error) {
	data := req.Body.Base64Data
	if _, after, ok := strings.Cut(data, ";base64,"); ok && strings.HasPrefix(data, "data:") {
		data = after // a data URL
	}
	n, err := io.Copy(io.Discard, base64.NewDecoder(base64.StdEncoding, strings.NewReader(data)))
	if err != nil {
		return kie.UploadFileBase64400JSONResponse{Code: kie.StatusBadRequest, Msg: "Base64 decoding failed: Invalid Base64 format"}, nil
	}
	return kie.UploadFileBase64200JSONResponse(stored(req.Body.UploadPath, deref(req.Body.FileName), n)), nil
}

func (s uploadServer) UploadFileUrl(ctx context.Context, req kie.UploadFileUrlRequestObject) (kie.UploadFileUrlResponseObject, error) {
	content, ok := s.remote[req.Body.FileUrl]
	if !ok {
		return kie.UploadFileUrl400JSONResponse{Code: kie.StatusBadRequest, Msg: "File download failed"}, nil
	}
	name := deref(req.Body.FileName)
	if name == "" {
		name = path.Base(req.Body.FileUrl) // the name is taken from the URL
	}
	return kie.UploadFileUrl200JSONResponse(stored(req.Body.UploadPath, name, int64(len(content)))), nil
}

// stored is the 200 envelope every upload answers with.
func stored(uploadPath, fileName string, size int64) kie.FileUploadResponse {
	return kie.FileUploadResponse{
		Success: true,
		Code:    kie.StatusOK,
		Msg:     "File uploaded successfully",
		Data: kie.FileUploadResult{
			FileName:    fileName,
			FilePath:    uploadPath + "/" + fileName,
			DownloadUrl: "https://files.example.com/" + uploadPath + "/" + fileName,
			FileSize:    size,
			MimeType:    "text/plain",
			UploadedAt:  time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC),
		},
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// start serves the generated strict server on a net/http ServeMux and
// returns it with a generated client that sends the API key.
func start() (*httptest.Server, *kie.ClientWithResponses) {
	mux := http.NewServeMux()
	srv := uploadServer{remote: map[string]string{"https://example.com/images/sample.jpg": "not really a JPEG\n"}}
	kie.HandlerFromMux(kie.NewStrictHandler(srv, nil), mux)
	ts := httptest.NewServer(mux)
	client, err := kie.NewClientWithResponses(ts.URL, kie.WithRequestEditorFn(func(ctx context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer YOUR_API_KEY")
		return nil
	}))
	if err != nil {
		panic(err)
	}
	return ts, client
}

// Serve the generated strict server on a net/http ServeMux and call it with
// the generated client. wrapper/ builds streaming bodies and interprets
// errors for real applications; this shows the generated layer alone.
func Example() {
	ts, client := start()
	defer ts.Close()

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("uploadPath", "images/user-uploads")
	_ = mw.WriteField("fileName", "hello.txt")
	fw, _ := mw.CreateFormFile("file", "hello.txt")
	_, _ = io.WriteString(fw, "hello, world\n")
	_ = mw.Close()

	resp, err := client.UploadFileStreamWithBodyWithResponse(context.Background(), mw.FormDataContentType(), &body)
	if err != nil {
		panic(err)
	}
	if resp.JSON200 == nil {
		fmt.Println("upload failed:", resp.Status())
		return
	}
	fmt.Println(resp.JSON200.Data.FilePath, resp.JSON200.Data.FileSize)
	// Output: images/user-uploads/hello.txt 13
}

// Upload a file as Base64 text in JSON: plain Base64 or a data URL.
func Example_base64Upload() {
	ts, client := start()
	defer ts.Close()

	name := "hello.txt"
	resp, err := client.UploadFileBase64WithResponse(context.Background(), kie.UploadFileBase64JSONRequestBody{
		Base64Data: "data:text/plain;base64," + base64.StdEncoding.EncodeToString([]byte("hello, world\n")),
		UploadPath: "images/base64",
		FileName:   &name,
	})
	if err != nil {
		panic(err)
	}
	if resp.JSON200 == nil {
		fmt.Println("upload failed:", resp.Status())
		return
	}
	fmt.Println(resp.JSON200.Data.FilePath, resp.JSON200.Data.FileSize)
	// Output: images/base64/hello.txt 13
}

// Upload a file that the service downloads from a URL. Errors come back as
// typed envelopes (here JSON400, an ApiResponse).
func Example_urlUpload() {
	ts, client := start()
	defer ts.Close()

	for _, u := range []string{"https://example.com/images/sample.jpg", "https://example.com/missing.jpg"} {
		resp, err := client.UploadFileUrlWithResponse(context.Background(), kie.UploadFileUrlJSONRequestBody{
			FileUrl:    u,
			UploadPath: "images/downloaded",
		})
		if err != nil {
			panic(err)
		}
		switch {
		case resp.JSON200 != nil:
			fmt.Println(resp.JSON200.Data.FilePath, resp.JSON200.Data.FileSize)
		case resp.JSON400 != nil:
			fmt.Println(resp.JSON400.Code, resp.JSON400.Msg)
		}
	}
	// Output:
	// images/downloaded/sample.jpg 18
	// 400 File download failed
}
