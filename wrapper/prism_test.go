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

// uploadStatuses are the error statuses both specs document for every
// upload, with the classification each must get and the attempts it
// takes (500 is retried once by prismClient's policy).
var uploadStatuses = []prismStatus{
	{401, wrapper.IsUnauthorized, 1},
	{403, wrapper.IsQuotaExceeded, 1},
	{405, not(wrapper.IsRetryable), 1},
	{413, wrapper.IsTooLarge, 1},
	{500, wrapper.IsRetryable, 2},
}

type prismStatus struct {
	status   int
	is       func(error) bool
	attempts int32
}

// prismErrors checks the error examples of an operation: every status in
// statuses comes back classified, after the expected attempts.
func prismErrors(t *testing.T, rec *violations, op string, statuses []prismStatus, call func(...wrapper.Option) error) {
	t.Helper()
	for _, tt := range statuses {
		before := rec.requests.Load()
		err := call(prefer(tt.status))
		e, ok := errors.AsType[*wrapper.Error](err)
		if !ok || e.StatusCode != tt.status || e.Code != tt.status || !tt.is(err) {
			t.Errorf("%s, Prefer code=%d: %v", op, tt.status, err)
		}
		if n := rec.requests.Load() - before; n != tt.attempts {
			t.Errorf("%s, Prefer code=%d: %d attempts, want %d", op, tt.status, n, tt.attempts)
		}
	}
	rec.check(t)
}

// prismUploads checks every upload operation of a client against Prism:
// success (check judges the spec's example result), then the errors.
func prismUploads(t *testing.T, up *wrapper.Client, rec *violations, src func() wrapper.Source, p wrapper.UploadParams, check func(op string, res *wrapper.Result)) {
	ctx := context.Background()
	ops := []struct {
		name   string
		upload func(...wrapper.Option) (*wrapper.Result, error)
	}{
		{"upload", func(o ...wrapper.Option) (*wrapper.Result, error) { return up.Upload(ctx, src(), p, o...) }},
		{"base64 upload", func(o ...wrapper.Option) (*wrapper.Result, error) { return up.UploadBase64(ctx, src(), p, o...) }},
		{"url upload", func(o ...wrapper.Option) (*wrapper.Result, error) {
			return up.UploadURL(ctx, "https://example.com/images/photo.png", p, o...)
		}},
	}
	for _, op := range ops {
		res, err := op.upload()
		if err != nil {
			t.Errorf("%s: %v", op.name, err)
			continue
		}
		check(op.name, res)
		rec.check(t)
		prismErrors(t, rec, op.name, uploadStatuses, func(o ...wrapper.Option) error { _, err := op.upload(o...); return err })
	}
}

func prismKie(t *testing.T, url string) {
	up, rec := prismClient(t, wrapper.Kie, url)
	src := func() wrapper.Source { return wrapper.ReaderAt(strings.NewReader("hello prism"), "hello.txt", 11) }
	p := wrapper.UploadParams{Path: "images/user-uploads", Name: "hello.txt"}
	prismUploads(t, up, rec, src, p, func(op string, res *wrapper.Result) {
		// The spec's example answer.
		if res.FilePath != "images/user-uploads/uploaded-image.png" || res.Size == nil || *res.Size != 154832 || res.UploadedAt.IsZero() {
			t.Errorf("%s: result %+v", op, res)
		}
	})
	if _, err := up.Quota(context.Background()); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("kie quota: %v", err)
	}
}

func prismEvolink(t *testing.T, url string) {
	up, rec := prismClient(t, wrapper.Evolink, url)
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	src := func() wrapper.Source { return wrapper.ReaderAt(strings.NewReader(png), "photo.png", int64(len(png))) }
	p := wrapper.UploadParams{Path: "photos", Name: "photo.png"}
	prismUploads(t, up, rec, src, p, func(op string, res *wrapper.Result) {
		if res.FileID != "file_abc123" || res.FilePath == "" || res.ExpiresAt.Sub(res.UploadedAt) != 72*time.Hour {
			t.Errorf("%s: result %+v", op, res)
		}
	})
	// Without the optional path and name.
	ctx := context.Background()
	if _, err := up.Upload(ctx, src(), wrapper.UploadParams{}); err != nil {
		t.Error(err)
	}
	if _, err := up.UploadBase64(ctx, src(), wrapper.UploadParams{}); err != nil {
		t.Error(err)
	}
	if _, err := up.UploadURL(ctx, "https://example.com/photo.png", wrapper.UploadParams{}); err != nil {
		t.Error(err)
	}
	rec.check(t)

	q, err := up.Quota(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if q.UserGroup != "default" || *q.UsedFiles != 35 || *q.MaxFiles != 2000 || *q.RemainFiles != 1965 || q.IsCustom {
		t.Errorf("quota %+v: want the spec's example", q)
	}
	rec.check(t)
	prismErrors(t, rec, "quota", []prismStatus{{401, wrapper.IsUnauthorized, 1}, {500, wrapper.IsRetryable, 2}},
		func(o ...wrapper.Option) error { _, err := up.Quota(ctx, o...); return err })
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
