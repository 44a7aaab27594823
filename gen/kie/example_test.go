package kie_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/fileup/fileup/gen/kie"
)

// uploadServer implements kie.StrictServerInterface. The strict handler
// hands it the request's *multipart.Reader, so the file part can be
// streamed wherever it goes (here it is only counted).
type uploadServer struct{}

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
	return kie.UploadFileStream200JSONResponse{
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
	}, nil
}

// Serve the generated strict server on a net/http ServeMux and call it with
// the generated client. wrapper/ builds streaming bodies and interprets
// errors for real applications; this shows the generated layer alone.
func Example() {
	mux := http.NewServeMux()
	kie.HandlerFromMux(kie.NewStrictHandler(uploadServer{}, nil), mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("uploadPath", "images/user-uploads")
	_ = mw.WriteField("fileName", "hello.txt")
	fw, _ := mw.CreateFormFile("file", "hello.txt")
	_, _ = io.WriteString(fw, "hello, world\n")
	_ = mw.Close()

	client, err := kie.NewClientWithResponses(srv.URL)
	if err != nil {
		panic(err)
	}
	bearer := func(ctx context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer YOUR_API_KEY")
		return nil
	}
	resp, err := client.UploadFileStreamWithBodyWithResponse(context.Background(), mw.FormDataContentType(), &body, bearer)
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
