package wrapper_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fileup/fileup/wrapper"
)

// The wrapper against an independent mock of each spec: Stoplight Prism
// (`prism mock`), which validates every request against the spec and
// answers with the spec's examples. scripts/prism.sh installs it and sets
// FILEUP_TEST_PRISM; `make test` runs through it.
func TestAgainstPrism(t *testing.T) {
	bin := os.Getenv("FILEUP_TEST_PRISM")
	if bin == "" {
		if os.Getenv("FILEUP_TEST_PRISM_REQUIRED") == "1" {
			t.Fatal("FILEUP_TEST_PRISM is not set and FILEUP_TEST_PRISM_REQUIRED=1: run through scripts/prism.sh")
		}
		t.Skip("FILEUP_TEST_PRISM is not set: run through scripts/prism.sh (as make test does) to test against Prism")
	}
	if testing.Short() {
		t.Skip("starting Prism takes seconds")
	}
	mocks := map[wrapper.Vendor]string{wrapper.Kie: "../api/kie/openapi.yaml", wrapper.Evolink: "../api/evolink/openapi.yaml"}
	urls := map[wrapper.Vendor]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for v, spec := range mocks {
		wg.Go(func() {
			u := startPrism(t, bin, spec)
			mu.Lock()
			urls[v] = u
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Run("kie", func(t *testing.T) { prismKie(t, urls[wrapper.Kie]) })
	t.Run("evolink", func(t *testing.T) { prismEvolink(t, urls[wrapper.Evolink]) })
}

// violations records the responses' sl-violations header, where Prism
// reports a request that broke the spec, and counts requests.
type violations struct {
	mu       sync.Mutex
	seen     []string
	requests atomic.Int32
}

func (v *violations) RoundTrip(req *http.Request) (*http.Response, error) {
	v.requests.Add(1)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && resp.Header.Get("sl-violations") != "" {
		v.mu.Lock()
		v.seen = append(v.seen, resp.Header.Get("sl-violations"))
		v.mu.Unlock()
	}
	return resp, err
}

func (v *violations) check(t *testing.T) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, s := range v.seen {
		t.Errorf("Prism found the request against the spec: %s", s)
	}
	v.seen = nil
}

// prefer asks Prism for the example of one status.
func prefer(code int) wrapper.Option {
	return wrapper.WithRequestEditor(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Prefer", fmt.Sprintf("code=%d", code))
		return nil
	})
}

func prismClient(t *testing.T, v wrapper.Vendor, url string) (*wrapper.Client, *violations) {
	rec := &violations{}
	up, err := wrapper.New(v, url, auth, wrapper.WithHTTPClient(&http.Client{Transport: rec}),
		wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return up, rec
}

// prismErrors checks the error examples of both specs: every status the
// specs document comes back classified.
func prismErrors(t *testing.T, up *wrapper.Client, rec *violations, src func() wrapper.Source, p wrapper.UploadParams) {
	for _, tt := range []struct {
		status   int
		is       func(error) bool
		attempts int32
	}{
		{401, wrapper.IsUnauthorized, 1},
		{403, wrapper.IsQuotaExceeded, 1},
		{405, not(wrapper.IsRetryable), 1},
		{413, wrapper.IsTooLarge, 1},
		{500, wrapper.IsRetryable, 2},
	} {
		before := rec.requests.Load()
		_, err := up.Upload(context.Background(), src(), p, prefer(tt.status))
		e, ok := errors.AsType[*wrapper.Error](err)
		if !ok || e.StatusCode != tt.status || e.Code != tt.status || !tt.is(err) {
			t.Errorf("Prefer code=%d: %v", tt.status, err)
		}
		if n := rec.requests.Load() - before; n != tt.attempts {
			t.Errorf("Prefer code=%d: %d attempts, want %d", tt.status, n, tt.attempts)
		}
	}
	rec.check(t)
}

func prismKie(t *testing.T, url string) {
	up, rec := prismClient(t, wrapper.Kie, url)
	src := func() wrapper.Source { return wrapper.ReaderAt(strings.NewReader("hello prism"), "hello.txt", 11) }
	p := wrapper.UploadParams{Path: "images/user-uploads", Name: "hello.txt"}
	res, err := up.Upload(context.Background(), src(), p)
	if err != nil {
		t.Fatal(err)
	}
	// The spec's example answer.
	if res.FilePath != "images/user-uploads/uploaded-image.png" || res.Size == nil || *res.Size != 154832 || res.UploadedAt.IsZero() {
		t.Errorf("result %+v", res)
	}
	rec.check(t)
	prismErrors(t, up, rec, src, p)
}

func prismEvolink(t *testing.T, url string) {
	up, rec := prismClient(t, wrapper.Evolink, url)
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	src := func() wrapper.Source { return wrapper.ReaderAt(strings.NewReader(png), "photo.png", int64(len(png))) }
	p := wrapper.UploadParams{Path: "photos", Name: "photo.png"}
	res, err := up.Upload(context.Background(), src(), p)
	if err != nil {
		t.Fatal(err)
	}
	if res.FileID != "file_abc123" || res.FilePath != "photos/photo.png" || res.ExpiresAt.Sub(res.UploadedAt) != 72*time.Hour {
		t.Errorf("result %+v", res)
	}
	rec.check(t)
	// Without the optional path and name.
	if _, err := up.Upload(context.Background(), src(), wrapper.UploadParams{}); err != nil {
		t.Error(err)
	}
	rec.check(t)
	prismErrors(t, up, rec, src, p)
}

// startPrism runs `prism mock spec` on a free loopback port until the
// test ends, and returns its URL once it accepts connections.
func startPrism(t *testing.T, bin, spec string) string {
	var port int
	if l, err := net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	} else {
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	var out bytes.Buffer
	var outMu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) {
		outMu.Lock()
		defer outMu.Unlock()
		return out.Write(p)
	})
	cmd := exec.Command(bin, "mock", "--host", "127.0.0.1", "--port", fmt.Sprint(port), spec)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Errorf("starting %s: %v", bin, err)
		return ""
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case err := <-exited:
			outMu.Lock()
			defer outMu.Unlock()
			t.Errorf("prism mock %s exited: %v\n%s", spec, err, out.String())
			return ""
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			outMu.Lock()
			defer outMu.Unlock()
			t.Errorf("prism mock %s did not listen on %s within 60 s\n%s", spec, addr, out.String())
			return ""
		}
		time.Sleep(100 * time.Millisecond) // polling for the port to open
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
