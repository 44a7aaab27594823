package kie_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/fileup/fileup/gen/kie"
	"github.com/fileup/fileup/wrapper"
)

// uploadWithGeneratedClient is the README's "Use a generated client
// directly": the generated client sends a streaming body from
// wrapper.NewBody with bearer auth, and every way the call can end is
// checked.
func uploadWithGeneratedClient(ctx context.Context, baseURL, path string, tokens wrapper.TokenSource) (*kie.FileUploadResult, error) {
	client, err := kie.NewClientWithResponses(baseURL)
	if err != nil {
		return nil, err
	}
	body, err := wrapper.NewBody(wrapper.File(path), []wrapper.Field{{Name: "uploadPath", Value: "images"}}, wrapper.BodyOptions{})
	if err != nil {
		return nil, err
	}
	defer body.Close()
	// body.RequestEditor sets the exact Content-Length and GetBody, which
	// the generated client cannot know; Bearer adds the token.
	resp, err := client.UploadFileStreamWithBodyWithResponse(ctx, body.ContentType(), body,
		body.RequestEditor(), wrapper.Bearer(tokens))
	if err != nil {
		return nil, err // no response at all: resp is nil
	}
	out := resp.JSON200
	if out == nil && resp.StatusCode() == http.StatusOK {
		// The generated client decodes only JSON Content-Types and leaves
		// JSON200 nil, without an error, for JSON sent as text/plain.
		out = new(kie.FileUploadResponse)
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return nil, fmt.Errorf("upload: HTTP 200 with Content-Type %q: %w", resp.ContentType(), err)
		}
	}
	if out == nil { // an error status; JSON401 and the like hold its envelope
		return nil, fmt.Errorf("upload: %s: %.200s", resp.Status(), resp.Body)
	}
	if !out.Success || out.Code != kie.StatusOK {
		return nil, fmt.Errorf("upload: code %d: %s", out.Code, out.Msg)
	}
	return &out.Data, nil
}

// Call the generated client with a streaming body and check every
// outcome: success, JSON under a text/plain Content-Type, and an error
// status.
func ExampleClientWithResponses_UploadFileStreamWithBodyWithResponse() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := fileSize(r)
		if r.Header.Get("Authorization") != "Bearer YOUR_API_KEY" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"success":false,"code":401,"msg":"Authentication failed: Invalid API Key"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(r.URL.Path, "/as-text/") {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		}
		fmt.Fprintf(w, `{"success":true,"code":200,"msg":"ok","data":{"fileName":"a.txt","filePath":"images/a.txt",`+
			`"downloadUrl":"https://files.example/images/a.txt","fileSize":%d,"mimeType":"text/plain","uploadedAt":"2025-01-01T12:00:00Z"}}`, n)
	}))
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "kie-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "a.txt")
	os.WriteFile(path, []byte("hello"), 0o644)

	for _, tt := range []struct{ base, token string }{
		{srv.URL, "YOUR_API_KEY"},
		{srv.URL + "/as-text/", "YOUR_API_KEY"}, // the server answers JSON as text/plain
		{srv.URL, "wrong-key"},
	} {
		res, err := uploadWithGeneratedClient(context.Background(), tt.base, path, wrapper.StaticToken(tt.token))
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(res.FilePath, res.FileSize)
	}
	// Output:
	// images/a.txt 5
	// images/a.txt 5
	// error: upload: 401 Unauthorized: {"success":false,"code":401,"msg":"Authentication failed: Invalid API Key"}
}

// fileSize reads a request's form and returns the size of its file part.
func fileSize(r *http.Request) int64 {
	mr, err := r.MultipartReader()
	if err != nil {
		return -1
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			return -1
		}
		if p.FormName() == "file" {
			n, _ := io.Copy(io.Discard, p)
			return n
		}
	}
}
