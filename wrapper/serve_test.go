package wrapper_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/catalog/catalogtest"
	"github.com/fileup/fileup/server"
	"github.com/fileup/fileup/storage"
	"github.com/fileup/fileup/wrapper"
)

// serveToken is the token of the reference servers the tests start.
const serveToken = "wrapper-test-token-0123456789"

// refServer starts fileup's reference server (both APIs) over a disk
// store and a SQLite catalog, on a loopback socket, as `fileup serve`
// runs it. mod adjusts its configuration.
func refServer(t *testing.T, mod func(*server.Config)) string {
	t.Helper()
	root := t.TempDir()
	store, err := storage.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{
		Store:   store,
		Catalog: catalogtest.OpenDSN(t, "sqlite:"+filepath.Join(root, "fileup.db"), catalog.Options{}),
		Tokens:  []string{serveToken},
		Logger:  slog.New(slog.DiscardHandler),
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(s)
	srv.Listener = s.Listener(srv.Listener)
	srv.Config = s.HTTPServer("")
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// contract is an http.RoundTripper that validates every response of an
// operation of the normalised specs with kin-openapi (the response side:
// the request side would buffer the upload).
type contract struct {
	t         *testing.T
	mu        sync.Mutex
	validated int
}

var specDocs = sync.OnceValues(func() ([]*openapi3.T, error) {
	var docs []*openapi3.T
	for _, file := range []string{"../api/kie/openapi.yaml", "../api/evolink/openapi.yaml"} {
		doc, err := openapi3.NewLoader().LoadFromFile(file)
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
	return docs, nil
})

// specRoute finds a request's operation in the specs.
func specRoute(t *testing.T, req *http.Request) (*routers.Route, bool) {
	docs, err := specDocs()
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range docs {
		for path, item := range doc.Paths.Map() {
			if op := item.GetOperation(req.Method); op != nil && templateMatches(path, req.URL.Path) {
				return &routers.Route{Spec: doc, Path: path, PathItem: item, Method: req.Method, Operation: op}, true
			}
		}
	}
	return nil, false
}

func templateMatches(template, path string) bool {
	ts, ps := strings.Split(template, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if ts[i] != ps[i] && !strings.HasPrefix(ts[i], "{") {
			return false
		}
	}
	return true
}

func (c *contract) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	rt, ok := specRoute(c.t, req)
	if !ok {
		c.t.Errorf("contract: %s %s is no operation of the specs", req.Method, req.URL.Path)
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: rt, Options: &openapi3filter.Options{ExcludeRequestBody: true}},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		c.t.Errorf("contract: %s %s -> %d violates the spec: %v\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	c.mu.Lock()
	c.validated++
	c.mu.Unlock()
	return resp, nil
}

// checked is how many responses the contract validated.
func (c *contract) checked() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.validated
}

// serveClient is a client of the reference server at url whose responses
// are validated against the specs.
func serveClient(t *testing.T, v wrapper.Vendor, url string, opts ...wrapper.Option) (*wrapper.Client, *contract) {
	c := &contract{t: t}
	opts = append([]wrapper.Option{wrapper.WithTokenSource(wrapper.StaticToken(serveToken)), wrapper.WithHTTPClient(&http.Client{Transport: c})}, opts...)
	up, err := wrapper.New(v, url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return up, c
}

// pngFile is a valid PNG signature and header followed by n random
// bytes: the reference server sniffs it as image/png.
func pngFile(n int) []byte {
	b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	tail := make([]byte, n)
	rand.Read(tail)
	return append(b, tail...)
}

// origin serves files at /<name> on a loopback socket, as a remote site
// would for URL uploads.
func origin(t *testing.T, files map[string][]byte) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream") // never trusted
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// download fetches a result's file and compares it with want.
func download(t *testing.T, res *wrapper.Result, want []byte) {
	t.Helper()
	resp, err := http.Get(res.DownloadURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, want) {
		t.Errorf("download %s: %d, %d bytes (want %d), equal %v, err %v", res.DownloadURL, resp.StatusCode, len(got), len(want), bytes.Equal(got, want), err)
	}
}

// allowLoopback lets the reference server fetch URL uploads from the
// tests' loopback origins.
func allowLoopback(cfg *server.Config) {
	cfg.FetchAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
}

// Every operation of both vendors against the reference server, over
// real sockets, every response valid under the spec; every stored file
// downloads back byte for byte.
func TestAgainstFileupServe(t *testing.T) {
	files := map[string][]byte{"remote.png": pngFile(300 << 10)}
	from := origin(t, files)
	base := refServer(t, func(cfg *server.Config) { allowLoopback(cfg); cfg.QuotaFiles = 100 })
	data := pngFile(700 << 10)
	for _, v := range []wrapper.Vendor{wrapper.Kie, wrapper.Evolink} {
		t.Run(string(v), func(t *testing.T) {
			up, c := serveClient(t, v, base)
			ctx := context.Background()
			p := wrapper.UploadParams{Path: "wrapper/" + string(v)}
			for _, tt := range []struct {
				name   string
				upload func(wrapper.UploadParams) (*wrapper.Result, error)
				want   []byte
			}{
				{"stream", func(p wrapper.UploadParams) (*wrapper.Result, error) {
					return up.Upload(ctx, wrapper.ReaderAt(bytes.NewReader(data), "s.png", int64(len(data))), p)
				}, data},
				{"base64", func(p wrapper.UploadParams) (*wrapper.Result, error) {
					return up.UploadBase64(ctx, wrapper.ReaderAt(bytes.NewReader(data), "b.png", int64(len(data))), p)
				}, data},
				{"base64 chunked", func(p wrapper.UploadParams) (*wrapper.Result, error) {
					return up.UploadBase64(ctx, wrapper.Reader(bytes.NewReader(data), "c.png", -1), p)
				}, data},
				{"url", func(p wrapper.UploadParams) (*wrapper.Result, error) {
					return up.UploadURL(ctx, from+"/remote.png", p)
				}, files["remote.png"]},
			} {
				p := p
				p.Name = strings.ReplaceAll(tt.name, " ", "-") + ".png"
				res, err := tt.upload(p)
				if err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				if res.Vendor != v || res.FilePath != p.Path+"/"+p.Name || res.MimeType != "image/png" || res.Size == nil || *res.Size != int64(len(tt.want)) || res.UploadedAt.IsZero() {
					t.Errorf("%s: result %+v", tt.name, res)
				}
				download(t, res, tt.want)
			}
			if c.checked() != 4 {
				t.Errorf("%d responses validated, want 4", c.checked())
			}
		})
	}
	t.Run("quota", func(t *testing.T) {
		up, c := serveClient(t, wrapper.Evolink, base)
		q, err := up.Quota(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// The 8 uploads above, under the same token.
		if q.UsedFiles == nil || *q.UsedFiles != 8 || q.MaxFiles == nil || *q.MaxFiles != 100 || q.RemainFiles == nil || *q.RemainFiles != 92 || q.UserGroup != "default" || q.IsCustom {
			t.Errorf("quota %+v", q)
		}
		if c.checked() != 1 {
			t.Errorf("%d responses validated", c.checked())
		}
		kie, _ := serveClient(t, wrapper.Kie, base)
		if _, err := kie.Quota(context.Background()); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("kie quota: %v", err)
		}
	})
}

// The reference server's failures reach the caller as *Error, classified
// as the specs document them, every response valid under the spec.
func TestFileupServeErrors(t *testing.T) {
	from := origin(t, map[string][]byte{"big.png": pngFile(2 << 20), "text.txt": []byte("not an image")})
	base := refServer(t, func(cfg *server.Config) { allowLoopback(cfg); cfg.MaxUploadSize = 1 << 20 })
	ctx := context.Background()
	small, big := pngFile(1000), pngFile(2<<20)
	kie, _ := serveClient(t, wrapper.Kie, base, noRetries)
	evo, _ := serveClient(t, wrapper.Evolink, base, noRetries)
	wrong, _ := serveClient(t, wrapper.Evolink, base, noRetries, wrapper.WithTokenSource(wrapper.StaticToken("wrong-token-0123456789")))
	p := wrapper.UploadParams{Path: "errors"}
	for _, tt := range []struct {
		name   string
		err    func() error
		status int
		is     func(error) bool
	}{
		{"401 quota", func() error { _, err := wrong.Quota(ctx); return err }, 401, wrapper.IsUnauthorized},
		{"401 url", func() error { _, err := wrong.UploadURL(ctx, from+"/text.txt", p); return err }, 401, wrapper.IsUnauthorized},
		{"401 base64", func() error {
			_, err := wrong.UploadBase64(ctx, wrapper.ReaderAt(bytes.NewReader(small), "x.png", int64(len(small))), p)
			return err
		}, 401, wrapper.IsUnauthorized},
		{"413 base64 known size", func() error {
			_, err := kie.UploadBase64(ctx, wrapper.ReaderAt(bytes.NewReader(big), "x.png", int64(len(big))), p)
			return err
		}, 413, wrapper.IsTooLarge},
		{"413 base64 chunked", func() error {
			_, err := evo.UploadBase64(ctx, wrapper.Reader(bytes.NewReader(big), "x.png", -1), p)
			return err
		}, 413, wrapper.IsTooLarge},
		{"413 url", func() error { _, err := kie.UploadURL(ctx, from+"/big.png", p); return err }, 413, wrapper.IsTooLarge},
		{"400 evolink url of a text", func() error { _, err := evo.UploadURL(ctx, from+"/text.txt", p); return err }, 400, not(wrapper.IsRetryable)},
		{"400 url to a metadata address", func() error {
			_, err := kie.UploadURL(ctx, "http://169.254.169.254/latest/meta-data/", p)
			return err
		}, 400, not(wrapper.IsRetryable)},
		{"400 evolink base64 of a text", func() error {
			_, err := evo.UploadBase64(ctx, wrapper.ReaderAt(strings.NewReader("plain text"), "x.txt", 10), p)
			return err
		}, 400, not(wrapper.IsRetryable)},
	} {
		err := tt.err()
		e, ok := errors.AsType[*wrapper.Error](err)
		if !ok || e.StatusCode != tt.status || e.Code != tt.status || !e.Envelope || !tt.is(err) {
			t.Errorf("%s: %v, want HTTP %d with the envelope", tt.name, err, tt.status)
		}
	}
}

// A URL upload retried with its Idempotency-Key is stored once by the
// reference server: the same file, one quota charge.
func TestFileupServeURLUploadIdempotent(t *testing.T) {
	from := origin(t, map[string][]byte{"a.png": pngFile(1000)})
	base := refServer(t, allowLoopback)
	up, _ := serveClient(t, wrapper.Evolink, base)
	p := wrapper.UploadParams{IdempotencyKey: "url-upload-1"}
	first, err := up.UploadURL(context.Background(), from+"/a.png", p)
	if err != nil {
		t.Fatal(err)
	}
	again, err := up.UploadURL(context.Background(), from+"/a.png", p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := up.Quota(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if first.FileID == "" || again.FileID != first.FileID || *q.UsedFiles != 1 {
		t.Errorf("file ids %q, %q; %d files stored: want one", first.FileID, again.FileID, *q.UsedFiles)
	}
}

// A full quota refuses every kind of upload with 403, which
// IsQuotaExceeded reports and no retry repeats; the quota read says why.
func TestFileupServeQuotaExhausted(t *testing.T) {
	from := origin(t, map[string][]byte{"a.png": pngFile(100)})
	base := refServer(t, func(cfg *server.Config) { allowLoopback(cfg); cfg.QuotaFiles = 1 })
	up, c := serveClient(t, wrapper.Evolink, base, fast)
	ctx := context.Background()
	png := pngFile(100)
	src := func() wrapper.Source { return wrapper.ReaderAt(bytes.NewReader(png), "a.png", int64(len(png))) }
	if _, err := up.Upload(ctx, src(), wrapper.UploadParams{}); err != nil {
		t.Fatal(err)
	}
	for op, call := range map[string]func() error{
		"upload":        func() error { _, err := up.Upload(ctx, src(), wrapper.UploadParams{}); return err },
		"base64 upload": func() error { _, err := up.UploadBase64(ctx, src(), wrapper.UploadParams{}); return err },
		"url upload":    func() error { _, err := up.UploadURL(ctx, from+"/a.png", wrapper.UploadParams{}); return err },
	} {
		before := c.checked()
		err := call()
		if e, ok := errors.AsType[*wrapper.Error](err); !ok || e.Op != op || e.StatusCode != 403 || !wrapper.IsQuotaExceeded(err) || wrapper.IsRetryable(err) {
			t.Errorf("%s: %v, want a final 403 quota error", op, err)
		}
		if n := c.checked() - before; n != 1 {
			t.Errorf("%s: %d attempts, want 1", op, n)
		}
	}
	q, err := up.Quota(ctx)
	if err != nil || *q.UsedFiles != 1 || *q.RemainFiles != 0 {
		t.Errorf("quota %+v, %v: want 1 used, 0 remaining", q, err)
	}
}

// loseFirstAnswer passes requests on, but loses the answer to the first
// upload after the server has sent it (as a connection cut just then
// would), keeping its body for the test.
type loseFirstAnswer struct {
	next  http.RoundTripper
	mu    sync.Mutex
	lost  []byte
	keys  []string
	calls int
}

func (l *loseFirstAnswer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(req)
	l.mu.Lock()
	defer l.mu.Unlock()
	if req.Method != http.MethodPost || err != nil {
		return resp, err
	}
	l.calls++
	l.keys = append(l.keys, req.Header.Get(wrapper.IdempotencyKeyHeader))
	if l.calls > 1 {
		return resp, nil
	}
	l.lost, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	return nil, io.ErrUnexpectedEOF // the connection broke before the answer arrived
}

// The whole story of a lost answer, with the wrapper's own retries against
// the reference server: the server stored the file and answered, the
// answer was lost, the wrapper retried with the same Idempotency-Key, and
// got the first upload's answer; one file is stored and charged once.
func TestFileupServeLostAnswerRetried(t *testing.T) {
	base := refServer(t, func(c *server.Config) { c.QuotaFiles = 5 })
	lossy := &loseFirstAnswer{next: http.DefaultTransport}
	up, err := wrapper.New(wrapper.Evolink, base, wrapper.WithTokenSource(wrapper.StaticToken(serveToken)),
		wrapper.WithHTTPClient(&http.Client{Transport: lossy}),
		wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	data := pngFile(100_000)
	res, err := up.Upload(context.Background(), wrapper.ReaderAt(bytes.NewReader(data), "a.png", int64(len(data))), wrapper.UploadParams{})
	if err != nil {
		t.Fatalf("upload with its first answer lost: %v", err)
	}
	if lossy.calls != 2 || lossy.keys[0] == "" || lossy.keys[0] != lossy.keys[1] {
		t.Fatalf("%d requests with keys %q: want the same key twice", lossy.calls, lossy.keys)
	}
	if !strings.Contains(string(lossy.lost), `"file_id":"`+res.FileID+`"`) {
		t.Errorf("the retry's answer (file %s) is not the lost one: %s", res.FileID, lossy.lost)
	}
	q, err := up.Quota(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if *q.UsedFiles != 1 || *q.RemainFiles != 4 {
		t.Errorf("quota after the retried upload: %d used, %d left; want 1 and 4", *q.UsedFiles, *q.RemainFiles)
	}
	download(t, res, data)
}
