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
	"sync/atomic"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/gen/kie"
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

	up, err := wrapper.NewKie(baseURL, wrapper.WithToken("my-token"))
	if err != nil {
		panic(err)
	}
	res, err := up.Upload(context.Background(), wrapper.File(exampleFile("notes.txt", "hello")), wrapper.UploadPath("docs"))
	if err != nil {
		panic(err)
	}
	fmt.Println(res.UploadPath, res.Size, res.MimeType, strings.HasPrefix(res.DownloadURL, baseURL))
	// Output: docs 5 text/plain; charset=utf-8 true
}

// Upload an image to evolink.ai (images only; files expire after 72 h).
func Example_evolink() {
	baseURL, stop := startFake("my-token")
	defer stop()

	up, _ := wrapper.NewEvolink(baseURL, wrapper.WithToken("my-token"))
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	res, err := up.Upload(context.Background(), wrapper.Reader(strings.NewReader(png), "pixel.png", int64(len(png))),
		wrapper.UploadPath("photos"), wrapper.FileName("pixel.png"))
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
		up, _ = wrapper.New(vendor, baseURL, wrapper.WithToken("my-token"))
		gif := "GIF89a\x01\x00\x01\x00\x00\x00\x00;"
		res, err := up.Upload(context.Background(), wrapper.Reader(strings.NewReader(gif), "dot.gif", -1), wrapper.UploadPath("any"))
		if err != nil {
			panic(err)
		}
		fmt.Println(res.Vendor, res.MimeType)
	}
	// Output:
	// kie image/gif
	// evolink image/gif
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

// The auth editors plug straight into the generated clients.
func ExampleBearerFromEnv() {
	baseURL, stop := startFake("token-from-env")
	defer stop()
	os.Setenv("KIE_API_KEY", "token-from-env")
	defer os.Unsetenv("KIE_API_KEY")

	body, _ := wrapper.NewBody(wrapper.ReaderAt(strings.NewReader("hi"), "hi.txt", 2),
		[]wrapper.Field{{Name: "uploadPath", Value: "raw"}}, wrapper.BodyOptions{})
	client, _ := kie.NewClientWithResponses(baseURL)
	resp, err := client.UploadFileStreamWithBodyWithResponse(context.Background(), body.ContentType(), body,
		wrapper.BearerFromEnv("KIE_API_KEY"))
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode(), resp.JSON200.Data.FileSize)
	// Output: 200 2
}

// Every failure the server reports is a *wrapper.Error.
func ExampleError() {
	baseURL, stop := startFake("right-token")
	defer stop()
	up, _ := wrapper.NewKie(baseURL, wrapper.WithToken("wrong-token"))
	_, err := up.Upload(context.Background(), wrapper.File(exampleFile("a.txt", "a")), wrapper.UploadPath("p"))

	var e *wrapper.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.Code, e.Msg)
	}
	fmt.Println(wrapper.IsUnauthorized(err))
	// Output:
	// 401 401 Authentication failed: Invalid API Key
	// true
}

// Temporary failures (408, 429, 5xx, network errors) are retried with a
// fresh body, with backoff and Retry-After.
func ExampleWithRetry() {
	baseURL, stop := startFake("my-token")
	defer stop()
	var calls atomic.Int32
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"success":false,"code":503,"msg":"try again"}`)
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

	up, _ := wrapper.NewKie(flaky.URL, wrapper.WithToken("my-token"),
		wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: 3, BaseDelay: 10_000_000}))
	res, err := up.Upload(context.Background(), wrapper.File(exampleFile("r.txt", "retried")), wrapper.UploadPath("p"))
	fmt.Println(calls.Load(), err, res.Size)
	// Output: 2 <nil> 7
}

// Progress reports file bytes as the transport takes them.
func ExampleProgress() {
	baseURL, stop := startFake("my-token")
	defer stop()
	up, _ := wrapper.NewKie(baseURL, wrapper.WithToken("my-token"))
	var last, total int64
	_, err := up.Upload(context.Background(), wrapper.File(exampleFile("big.bin", strings.Repeat("x", 1<<20))),
		wrapper.UploadPath("p"), wrapper.Progress(func(sent, size int64) { last, total = sent, size }))
	fmt.Println(err, last, total)
	// Output: <nil> 1048576 1048576
}

// A static token and a body, used with a generated client directly: the
// body's RequestEditor supplies the Content-Length and GetBody that the
// generated client cannot know.
func ExampleBearerToken() {
	baseURL, stop := startFake("static-token")
	defer stop()
	gif := "GIF89a\x01\x00\x01\x00\x00\x00\x00;"
	body, _ := wrapper.NewBody(wrapper.ReaderAt(strings.NewReader(gif), "dot.gif", int64(len(gif))), nil, wrapper.BodyOptions{})
	defer body.Close()

	client, _ := evolink.NewClientWithResponses(baseURL)
	resp, err := client.UploadFileStreamWithBodyWithResponse(context.Background(), body.ContentType(), body,
		body.RequestEditor(), wrapper.BearerToken("static-token"))
	if err != nil {
		panic(err)
	}
	fmt.Println(resp.StatusCode(), *resp.JSON200.Data.MimeType, *resp.JSON200.Data.FileSize)
	// Output: 200 image/gif 14
}

// A TokenSource is asked for the token at every request, so it can rotate
// keys (here: a key that a refresher replaced).
func ExampleBearerFromSource() {
	baseURL, stop := startFake("key-2")
	defer stop()
	var current atomic.Value
	current.Store("key-1")
	up, _ := wrapper.NewKie(baseURL, wrapper.WithTokenSource(func(ctx context.Context) (string, error) {
		return current.Load().(string), nil
	}))
	upload := func() error {
		_, err := up.Upload(context.Background(), wrapper.ReaderAt(strings.NewReader("x"), "x.txt", 1), wrapper.UploadPath("p"))
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
	up, _ := wrapper.NewEvolink("http://127.0.0.1:1") // token from EVOLINK_API_KEY by default
	_, err := up.Upload(context.Background(), wrapper.File("photo.png"))
	fmt.Println(errors.Is(err, wrapper.ErrNoToken))
	fmt.Println(err)
	// Output:
	// true
	// wrapper: no API token: environment variable EVOLINK_API_KEY is empty
}
