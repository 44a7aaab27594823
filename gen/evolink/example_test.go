package evolink_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/fileup/fileup/gen/evolink"
)

// pixel is the start of a PNG file: enough for a fake server to call it one.
const pixel = "\x89PNG\r\n\x1a\n"

// uploadServer implements evolink.StrictServerInterface with an in-memory
// table of files. evolink accepts both upload_path and uploadPath (and
// file_name and fileName) on stream uploads.
type uploadServer struct {
	files  map[string]string // file_id -> content
	remote map[string]string // URL -> content, instead of the network
}

func (s uploadServer) UploadFileStream(ctx context.Context, req evolink.UploadFileStreamRequestObject) (evolink.UploadFileStreamResponseObject, error) {
	fields := map[string]string{}
	var file bytes.Buffer
	for {
		part, err := req.Body.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return evolink.UploadFileStream400JSONResponse{Code: 400, Msg: err.Error()}, nil
		}
		if part.FormName() == "file" {
			if _, err := io.Copy(&file, io.LimitReader(part, 1<<20)); err != nil {
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
	return evolink.UploadFileStream200JSONResponse(s.store(path, file.String())), nil
}

func (s uploadServer) UploadFileBase64(ctx context.Context, req evolink.UploadFileBase64RequestObject) (evolink.UploadFileBase64ResponseObject, error) {
	data := req.Body.Base64Data
	if _, after, ok := strings.Cut(data, ";base64,"); ok && strings.HasPrefix(data, "data:") {
		data = after // a data URL
	}
	content, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return evolink.UploadFileBase64400JSONResponse{Code: 400, Msg: "Invalid Base64 data"}, nil
	}
	return evolink.UploadFileBase64200JSONResponse(s.store(deref(req.Body.UploadPath), string(content))), nil
}

func (s uploadServer) UploadFileUrl(ctx context.Context, req evolink.UploadFileUrlRequestObject) (evolink.UploadFileUrlResponseObject, error) {
	content, ok := s.remote[req.Body.FileUrl]
	if !ok {
		return evolink.UploadFileUrl400JSONResponse{Code: 400, Msg: "File download failed"}, nil
	}
	return evolink.UploadFileUrl200JSONResponse(s.store(deref(req.Body.UploadPath), content)), nil
}

func (s uploadServer) GetFilesQuota(ctx context.Context, req evolink.GetFilesQuotaRequestObject) (evolink.GetFilesQuotaResponseObject, error) {
	ok, code, group, custom, reason := true, 200, "default", false, ""
	used, limit := len(s.files), 2000
	remain := limit - used
	return evolink.GetFilesQuota200JSONResponse{Success: &ok, Code: &code, Data: &evolink.QuotaData{
		UserGroup: &group, UsedFiles: &used, MaxFiles: &limit, RemainFiles: &remain, IsCustom: &custom, QuotaReason: &reason,
	}}, nil
}

func (s uploadServer) DownloadFile(ctx context.Context, req evolink.DownloadFileRequestObject) (evolink.DownloadFileResponseObject, error) {
	content, ok := s.files[req.FileId]
	if !ok {
		return evolink.DownloadFile404JSONResponse{Code: 404, Msg: "File not found"}, nil
	}
	return evolink.DownloadFile200AsteriskResponse{
		Body: strings.NewReader(content), ContentType: "image/png", ContentLength: int64(len(content)),
	}, nil
}

// store keeps content under the next file_id and returns the 200 envelope.
func (s uploadServer) store(path, content string) evolink.FileUploadResponse {
	id := fmt.Sprintf("file_%d", len(s.files)+1)
	s.files[id] = content
	ok, code, msg, mime := true, 200, "File uploaded successfully", "image/png"
	size := int64(len(content))
	download := "/api/v1/files/download/" + id
	return evolink.FileUploadResponse{
		Success: &ok, Code: &code, Msg: &msg,
		Data: &evolink.FileData{FileId: &id, UploadPath: &path, FileSize: &size, MimeType: &mime, DownloadUrl: &download},
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
func start() (*httptest.Server, *evolink.ClientWithResponses) {
	mux := http.NewServeMux()
	srv := uploadServer{files: map[string]string{}, remote: map[string]string{"https://example.com/image.png": pixel}}
	evolink.HandlerFromMux(evolink.NewStrictHandler(srv, nil), mux)
	ts := httptest.NewServer(mux)
	client, err := evolink.NewClientWithResponses(ts.URL, evolink.WithRequestEditorFn(func(ctx context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer YOUR_API_KEY")
		return nil
	}))
	if err != nil {
		panic(err)
	}
	return ts, client
}

// Serve the generated strict server and call it with the generated client.
func Example() {
	ts, client := start()
	defer ts.Close()

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("uploadPath", "photos") // camelCase works as well as upload_path
	fw, _ := mw.CreateFormFile("file", "pixel.png")
	_, _ = io.WriteString(fw, pixel)
	_ = mw.Close()

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

// Upload an image as a Base64 data URL in JSON, then by URL, and read the
// quota they count against.
func Example_base64AndURLUploads() {
	ts, client := start()
	defer ts.Close()
	ctx := context.Background()

	path := "avatars"
	b64, err := client.UploadFileBase64WithResponse(ctx, evolink.UploadFileBase64JSONRequestBody{
		Base64Data: "data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte(pixel)),
		UploadPath: &path,
	})
	if err != nil || b64.JSON200 == nil {
		fmt.Println("base64 upload failed:", err, b64.Status())
		return
	}
	fmt.Println(*b64.JSON200.Data.FileId, *b64.JSON200.Data.UploadPath, *b64.JSON200.Data.FileSize)

	byURL, err := client.UploadFileUrlWithResponse(ctx, evolink.UploadFileUrlJSONRequestBody{FileUrl: "https://example.com/image.png"})
	if err != nil || byURL.JSON200 == nil {
		fmt.Println("URL upload failed:", err, byURL.Status())
		return
	}
	fmt.Println(*byURL.JSON200.Data.FileId, *byURL.JSON200.Data.FileSize)

	quota, err := client.GetFilesQuotaWithResponse(ctx)
	if err != nil || quota.JSON200 == nil {
		fmt.Println("quota failed:", err, quota.Status())
		return
	}
	q := quota.JSON200.Data
	fmt.Printf("%s: %d of %d files used, %d left\n", *q.UserGroup, *q.UsedFiles, *q.MaxFiles, *q.RemainFiles)
	// Output:
	// file_1 avatars 8
	// file_2 8
	// default: 2 of 2000 files used, 1998 left
}

// Download a file by the file_id an upload returned. The plain Client
// returns the *http.Response, so the body streams; a missing file is a 404
// envelope.
func Example_download() {
	ts, client := start()
	defer ts.Close()
	ctx := context.Background()

	up, err := client.UploadFileUrlWithResponse(ctx, evolink.UploadFileUrlJSONRequestBody{FileUrl: "https://example.com/image.png"})
	if err != nil || up.JSON200 == nil {
		fmt.Println("upload failed:", err)
		return
	}
	resp, err := client.DownloadFile(ctx, *up.JSON200.Data.FileId)
	if err != nil {
		panic(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), n)

	missing, err := client.DownloadFileWithResponse(ctx, "file_nope")
	if err != nil {
		panic(err)
	}
	fmt.Println(missing.StatusCode(), missing.JSON404.Msg)
	// Output:
	// 200 image/png 8
	// 404 File not found
}
