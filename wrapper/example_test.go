package wrapper_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/wrapper"
)

func exampleFile(name, content string) string {
	dir, _ := os.MkdirTemp("", "fileup-example-src")
	p := filepath.Join(dir, name)
	os.WriteFile(p, []byte(content), 0o644)
	return p
}

// Upload a file to kie.ai. Here the base URL is a local fake of the API;
// pass "" for kie.ai itself.
func Example_kie() {
	baseURL, stop := startFake("my-token")
	defer stop()

	up, err := wrapper.New(wrapper.Kie, baseURL, wrapper.WithTokenSource(wrapper.StaticToken("my-token")))
	if err != nil {
		panic(err)
	}
	res, err := up.Upload(context.Background(), wrapper.File(exampleFile("notes.txt", "hello")), wrapper.UploadParams{Path: "docs"})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.UploadPath, *res.Size, res.MimeType, strings.HasPrefix(res.DownloadURL, baseURL))
	// Output: docs 5 text/plain; charset=utf-8 true
}

// Upload an image to evolink.ai (images only; files expire after 72 h).
func Example_evolink() {
	baseURL, stop := startFake("my-token")
	defer stop()

	up, _ := wrapper.New(wrapper.Evolink, baseURL, wrapper.WithTokenSource(wrapper.StaticToken("my-token")))
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	res, err := up.Upload(context.Background(), wrapper.Reader(strings.NewReader(png), "pixel.png", int64(len(png))),
		wrapper.UploadParams{Path: "photos", Name: "pixel.png"})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.FilePath, res.MimeType, res.ExpiresAt.Sub(res.UploadedAt))
	// Output: photos/pixel.png image/png 72h0m0s
}

// Switch vendor by configuration: both clients are Uploaders.
func ExampleNew() {
	baseURL, stop := startFake("my-token")
	defer stop()
	for _, vendor := range []wrapper.Vendor{wrapper.Kie, wrapper.Evolink} {
		var up wrapper.Uploader
		up, _ = wrapper.New(vendor, baseURL, wrapper.WithTokenSource(wrapper.StaticToken("my-token")))
		gif := "GIF89a\x01\x00\x01\x00\x00\x00\x00;"
		res, err := up.Upload(context.Background(), wrapper.Reader(strings.NewReader(gif), "dot.gif", -1), wrapper.UploadParams{Path: "any"})
		if err != nil {
			panic(err)
		}
		fmt.Println(res.Vendor, res.MimeType)
	}
	// Output:
	// kie image/gif
	// evolink image/gif
}

// Options given to Upload override the client's for that call only: here
// one upload that must not be retried, with its own progress report.
func ExampleClient_Upload() {
	baseURL, stop := startFake("my-token")
	defer stop()
	up, _ := wrapper.New(wrapper.Kie, baseURL, wrapper.WithTokenSource(wrapper.StaticToken("my-token")),
		wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: 6}), wrapper.WithInactivityTimeout(time.Minute))

	var sent int64
	res, err := up.Upload(context.Background(), wrapper.File(exampleFile("once.txt", "just once")),
		wrapper.UploadParams{Path: "docs", Name: "once.txt"},
		wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: 1}),
		wrapper.WithProgress(func(n, total int64) { sent = n }))
	if err != nil {
		panic(err)
	}
	fmt.Println(res.FilePath, sent)
	// Output: docs/once.txt 9
}

// A Body streams header + file + trailer with an exact Content-Length; it
// can be sent with any HTTP client, including the generated ones.
func ExampleNewBody() {
	body, err := wrapper.NewBody(wrapper.ReaderAt(strings.NewReader("hello"), "hello.txt", 5),
		[]wrapper.Field{{Name: "uploadPath", Value: "docs"}}, wrapper.BodyOptions{})
	if err != nil {
		panic(err)
	}
	defer body.Close()
	raw, _ := io.ReadAll(body)
	fmt.Println(body.Len() == int64(len(raw)), strings.HasPrefix(body.ContentType(), "multipart/form-data; boundary="))
	// Output: true true
}

// A TokenSource and a body, used with a generated client directly: Bearer
// sets the Authorization header, and the body's RequestEditor supplies
// the Content-Length and GetBody that the generated client cannot know.
func ExampleBearer() {
	baseURL, stop := startFake("static-token")
	defer stop()
	gif := "GIF89a\x01\x00\x01\x00\x00\x00\x00;"
	body, _ := wrapper.NewBody(wrapper.ReaderAt(strings.NewReader(gif), "dot.gif", int64(len(gif))), nil, wrapper.BodyOptions{})
	defer body.Close()

	client, _ := evolink.NewClientWithResponses(baseURL)
	resp, err := client.UploadFileStreamWithBodyWithResponse(context.Background(), body.ContentType(), body,
		body.RequestEditor(), wrapper.Bearer(wrapper.StaticToken("static-token")))
	if err != nil {
		panic(err)
	}
	if resp.JSON200 == nil {
		fmt.Println("unexpected answer:", resp.Status(), resp.ContentType())
		return
	}
	fmt.Println(resp.StatusCode(), *resp.JSON200.Data.MimeType, *resp.JSON200.Data.FileSize)
	// Output: 200 image/gif 14
}

// Every failure the server reports is a *wrapper.Error, with the status,
// the envelope's code and msg, and the response's headers.
func ExampleError() {
	baseURL, stop := startFake("right-token")
	defer stop()
	up, _ := wrapper.New(wrapper.Kie, baseURL, wrapper.WithTokenSource(wrapper.StaticToken("wrong-token")))
	_, err := up.Upload(context.Background(), wrapper.File(exampleFile("a.txt", "a")), wrapper.UploadParams{Path: "p"})

	if e, ok := errors.AsType[*wrapper.Error](err); ok {
		fmt.Println(e.StatusCode, e.Code, e.Msg, e.Header.Get("Content-Type"))
	}
	fmt.Println(wrapper.IsUnauthorized(err), wrapper.IsRetryable(err))
	// Output:
	// 401 401 Authentication failed: Invalid API Key application/json
	// true false
}

// Temporary failures (network errors; 408, 429, 5xx as HTTP status or
// envelope code) are retried with a fresh body and the same
// Idempotency-Key, with backoff and Retry-After.
func ExampleWithRetry() {
	baseURL, stop := startFake("my-token")
	defer stop()
	var calls atomic.Int32
	var keys sync.Map // the Idempotency-Key of each attempt
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys.Store(r.Header.Get(wrapper.IdempotencyKeyHeader), true)
		if calls.Add(1) == 1 {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"success":false,"code":500,"msg":"try again"}`) // HTTP 200, code 500
			return
		}
		proxy, _ := http.NewRequest(r.Method, baseURL+r.URL.Path, r.Body)
		proxy.Header = r.Header
		proxy.ContentLength = r.ContentLength
		resp, err := http.DefaultClient.Do(proxy)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer flaky.Close()

	up, _ := wrapper.New(wrapper.Kie, flaky.URL, wrapper.WithTokenSource(wrapper.StaticToken("my-token")),
		wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: 3, BaseDelay: 10 * time.Millisecond}))
	res, err := up.Upload(context.Background(), wrapper.File(exampleFile("r.txt", "retried")), wrapper.UploadParams{Path: "p"})
	distinct := 0
	keys.Range(func(k, v any) bool { distinct++; return true })
	fmt.Println(calls.Load(), distinct, err, *res.Size)
	// Output: 2 1 <nil> 7
}

// Progress reports file bytes as the transport takes them.
func ExampleWithProgress() {
	baseURL, stop := startFake("my-token")
	defer stop()
	var last, total int64
	up, _ := wrapper.New(wrapper.Kie, baseURL, wrapper.WithTokenSource(wrapper.StaticToken("my-token")),
		wrapper.WithProgress(func(sent, size int64) { last, total = sent, size }))
	_, err := up.Upload(context.Background(), wrapper.File(exampleFile("big.bin", strings.Repeat("x", 1<<20))), wrapper.UploadParams{Path: "p"})
	fmt.Println(err, last, total)
	// Output: <nil> 1048576 1048576
}

// A TokenSource is asked for the token at every attempt, so it can rotate
// keys (here: a key that a refresher replaced).
func ExampleTokenSource() {
	baseURL, stop := startFake("key-2")
	defer stop()
	var current atomic.Value
	current.Store("key-1")
	up, _ := wrapper.New(wrapper.Kie, baseURL, wrapper.WithTokenSource(func(ctx context.Context) (string, error) {
		return current.Load().(string), nil
	}))
	upload := func() error {
		_, err := up.Upload(context.Background(), wrapper.ReaderAt(strings.NewReader("x"), "x.txt", 1), wrapper.UploadParams{Path: "p"})
		return err
	}
	fmt.Println(wrapper.IsUnauthorized(upload()))
	current.Store("key-2") // rotated
	fmt.Println(upload())
	// Output:
	// true
	// <nil>
}

// Without a token the upload fails before anything is opened or sent.
func ExampleErrNoToken() {
	os.Unsetenv("EVOLINK_API_KEY")
	up, _ := wrapper.New(wrapper.Evolink, "http://127.0.0.1:1") // token from EVOLINK_API_KEY by default
	_, err := up.Upload(context.Background(), wrapper.File("photo.png"), wrapper.UploadParams{})
	fmt.Println(errors.Is(err, wrapper.ErrNoToken))
	fmt.Println(err)
	// Output:
	// true
	// wrapper: no API token: environment variable EVOLINK_API_KEY is empty
}
