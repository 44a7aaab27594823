package wrapper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/server"
	"github.com/fileup/fileup/storage"
	"github.com/fileup/fileup/wrapper"
)

// startFileup runs fileup's reference server in-process, for the
// examples: both APIs, a quota of 2,000 files per token (evolink's
// default), URL uploads allowed from loopback (where the examples serve
// their "remote" files).
func startFileup(token string) (baseURL string, stop func()) {
	dir, err := os.MkdirTemp("", "fileup-example-server")
	if err != nil {
		panic(err)
	}
	store, err := storage.NewDisk(dir)
	if err != nil {
		panic(err)
	}
	cat, err := catalog.Open(context.Background(), "sqlite:"+filepath.Join(dir, "fileup.db"), catalog.Options{})
	if err != nil {
		panic(err)
	}
	s, err := server.New(context.Background(), server.Config{Store: store, Catalog: cat, Tokens: []string{token}, QuotaFiles: 2000,
		FetchAllow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(s)
	return srv.URL, func() {
		srv.Close()
		cat.Close()
		os.RemoveAll(dir)
	}
}

// examplePNG is a 1x1 PNG image.
var examplePNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// Ask the server to fetch a file from a URL and store it. Here the
// server is fileup's reference server, in-process, and the "remote" site
// a local one; pass "" as the base URL for the vendor itself, which
// fetches public addresses only.
func ExampleClient_UploadURL() {
	const token = "example-token-0123456789"
	baseURL, stop := startFileup(token)
	defer stop()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(examplePNG) }))
	defer site.Close()

	up, err := wrapper.New(wrapper.Evolink, baseURL, wrapper.WithTokenSource(wrapper.StaticToken(token)))
	if err != nil {
		panic(err)
	}
	res, err := up.UploadURL(context.Background(), site.URL+"/images/dot.png", wrapper.UploadParams{Path: "downloads", Name: "dot.png"})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.FilePath, res.MimeType, *res.Size, res.ExpiresAt.Sub(res.UploadedAt))
	// Output: downloads/dot.png image/png 67 72h0m0s
}

// Read evolink's file quota (here from fileup's reference server,
// in-process, after one upload). A kie client has no quota: its Quota
// returns errors.ErrUnsupported.
func ExampleClient_Quota() {
	const token = "example-token-0123456789"
	baseURL, stop := startFileup(token)
	defer stop()
	up, _ := wrapper.New(wrapper.Evolink, baseURL, wrapper.WithTokenSource(wrapper.StaticToken(token)))
	ctx := context.Background()
	if _, err := up.Upload(ctx, wrapper.ReaderAt(bytes.NewReader(examplePNG), "dot.png", int64(len(examplePNG))), wrapper.UploadParams{}); err != nil {
		panic(err)
	}

	q, err := up.Quota(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(q.UserGroup, *q.UsedFiles, *q.MaxFiles, *q.RemainFiles)
	out, _ := json.Marshal(q)
	fmt.Println(string(out))
	// Output:
	// default 1 2000 1999
	// {"user_group":"default","used_files":1,"max_files":2000,"remain_files":1999}
}

// Send a file with the Base64 upload: the file is encoded as it is sent,
// never held in memory, with an exact Content-Length.
func ExampleClient_UploadBase64() {
	const token = "example-token-0123456789"
	baseURL, stop := startFileup(token)
	defer stop()
	up, _ := wrapper.New(wrapper.Kie, baseURL, wrapper.WithTokenSource(wrapper.StaticToken(token)))

	res, err := up.UploadBase64(context.Background(), wrapper.File(exampleFile("dot.png", string(examplePNG))),
		wrapper.UploadParams{Path: "images/base64", Name: "dot.png"})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.FilePath, res.MimeType, *res.Size)
	// Output: images/base64/dot.png image/png 67
}

// A Base64 body is JSON around the file's data URL; its length is known
// from the file size. It can be sent with any HTTP client, including the
// generated ones (UploadFileBase64WithBody), with body.RequestEditor().
func ExampleNewBase64Body() {
	body, err := wrapper.NewBase64Body(wrapper.ReaderAt(strings.NewReader("hello"), "hello.txt", 5),
		[]wrapper.Field{{Name: "uploadPath", Value: "docs"}}, wrapper.BodyOptions{})
	if err != nil {
		panic(err)
	}
	defer body.Close()
	raw, _ := io.ReadAll(body)
	fmt.Println(string(raw))
	fmt.Println(body.Len() == int64(len(raw)), body.ContentType())
	// Output:
	// {"uploadPath":"docs","base64Data":"data:text/plain;charset=utf-8;base64,aGVsbG8="}
	// true application/json
}
