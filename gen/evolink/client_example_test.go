package evolink_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/wrapper"
)

// uploadImage sends an image with the generated client and a streaming
// body from wrapper.NewBody, and checks every way the call can end.
// evolink's envelope fields are all optional, hence the pointers.
func uploadImage(ctx context.Context, baseURL string, src wrapper.Source, tokens wrapper.TokenSource) (*evolink.FileData, error) {
	client, err := evolink.NewClientWithResponses(baseURL)
	if err != nil {
		return nil, err
	}
	body, err := wrapper.NewBody(src, []wrapper.Field{{Name: "upload_path", Value: "photos"}}, wrapper.BodyOptions{})
	if err != nil {
		return nil, err
	}
	defer body.Close()
	resp, err := client.UploadFileStreamWithBodyWithResponse(ctx, body.ContentType(), body,
		body.RequestEditor(), wrapper.Bearer(tokens))
	if err != nil {
		return nil, err // no response at all: resp is nil
	}
	out := resp.JSON200
	if out == nil && resp.StatusCode() == http.StatusOK {
		// JSON under a non-JSON Content-Type: the generated client leaves
		// JSON200 nil without an error.
		out = new(evolink.FileUploadResponse)
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return nil, fmt.Errorf("upload: HTTP 200 with Content-Type %q: %w", resp.ContentType(), err)
		}
	}
	switch {
	case out == nil:
		return nil, fmt.Errorf("upload: %s: %.200s", resp.Status(), resp.Body)
	case out.Success != nil && !*out.Success, out.Code != nil && *out.Code != http.StatusOK:
		return nil, fmt.Errorf("upload failed: %.200s", resp.Body)
	case out.Data == nil:
		return nil, fmt.Errorf("upload: success without data")
	}
	return out.Data, nil
}

// Call the generated client with a streaming body and check every
// outcome: a full answer, a minimal one (every field is optional), JSON
// under a text/plain Content-Type, and an error status.
func ExampleClientWithResponses_UploadFileStreamWithBodyWithResponse() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Header.Get("Authorization") != "Bearer YOUR_API_KEY":
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"success":false,"code":401,"msg":"Authentication failed: Invalid API Key"}`)
		case strings.HasPrefix(r.URL.Path, "/minimal/"):
			io.WriteString(w, `{"data":{"file_id":"file_2"}}`)
		case strings.HasPrefix(r.URL.Path, "/as-text/"):
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, `{"success":true,"code":200,"data":{"file_id":"file_3"}}`)
		default:
			io.WriteString(w, `{"success":true,"code":200,"msg":"ok","data":{"file_id":"file_1","download_url":"https://files.example/d/file_1"}}`)
		}
	}))
	defer srv.Close()
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"

	for _, tt := range []struct{ base, token string }{
		{srv.URL, "YOUR_API_KEY"},
		{srv.URL + "/minimal/", "YOUR_API_KEY"},
		{srv.URL + "/as-text/", "YOUR_API_KEY"},
		{srv.URL, "wrong-key"},
	} {
		src := wrapper.ReaderAt(strings.NewReader(png), "photo.png", int64(len(png)))
		data, err := uploadImage(context.Background(), tt.base, src, wrapper.StaticToken(tt.token))
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(orNone(data.FileId), orNone(data.DownloadUrl))
	}
	// Output:
	// file_1 https://files.example/d/file_1
	// file_2 (none)
	// file_3 (none)
	// error: upload: 401 Unauthorized: {"success":false,"code":401,"msg":"Authentication failed: Invalid API Key"}
}

// orNone prints an optional field.
func orNone(p *string) string {
	if p == nil {
		return "(none)"
	}
	return *p
}
