package evolink_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"

	"github.com/fileup/fileup/gen/evolink"
)

// uploadServer implements evolink.StrictServerInterface. evolink accepts
// both upload_path and uploadPath (and file_name and fileName).
type uploadServer struct{}

func (uploadServer) UploadFileStream(ctx context.Context, req evolink.UploadFileStreamRequestObject) (evolink.UploadFileStreamResponseObject, error) {
	fields := map[string]string{}
	var size int64
	for {
		part, err := req.Body.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return evolink.UploadFileStream400JSONResponse{Code: 400, Msg: err.Error()}, nil
		}
		if part.FormName() == "file" {
			if size, err = io.Copy(io.Discard, part); err != nil {
				return evolink.UploadFileStream400JSONResponse{Code: 400, Msg: err.Error()}, nil
			}
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(part, 1024))
		fields[part.FormName()] = string(b)
	}
	path := fields["upload_path"]
	if path == "" {
		path = fields["uploadPath"]
	}
	ok, code, msg, mime := true, 200, "File uploaded successfully", "image/png"
	return evolink.UploadFileStream200JSONResponse{
		Success: &ok,
		Code:    &code,
		Msg:     &msg,
		Data:    &evolink.FileData{UploadPath: &path, FileSize: &size, MimeType: &mime},
	}, nil
}

// Serve the generated strict server and call it with the generated client.
func Example() {
	mux := http.NewServeMux()
	evolink.HandlerFromMux(evolink.NewStrictHandler(uploadServer{}, nil), mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("uploadPath", "photos") // camelCase works as well as upload_path
	fw, _ := mw.CreateFormFile("file", "pixel.png")
	_, _ = fw.Write([]byte("\x89PNG\r\n\x1a\n"))
	_ = mw.Close()

	client, err := evolink.NewClientWithResponses(srv.URL)
	if err != nil {
		panic(err)
	}
	resp, err := client.UploadFileStreamWithBodyWithResponse(context.Background(), mw.FormDataContentType(), &body)
	if err != nil {
		panic(err)
	}
	if resp.JSON200 == nil || resp.JSON200.Data == nil {
		fmt.Println("upload failed:", resp.Status())
		return
	}
	fmt.Println(*resp.JSON200.Data.UploadPath, *resp.JSON200.Data.FileSize)
	// Output: photos 8
}
