package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/minio/minio-go/v7"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/catalog/catalogtest"
	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/gen/kie"
	"github.com/fileup/fileup/server"
	"github.com/fileup/fileup/storage"
	"github.com/fileup/fileup/storage/storagetest"
)

const (
	tokenA      = "token-a-0123456789abcdef"
	tokenB      = "token-b-0123456789abcdef"
	kiePath     = "/api/file-stream-upload"
	evolinkPath = "/api/v1/files/upload/stream"
)

// uploadPaths are every upload route of both APIs.
var uploadPaths = []string{
	kiePath, "/api/file-base64-upload", "/api/file-url-upload",
	evolinkPath, "/api/v1/files/upload/base64", "/api/v1/files/upload/url",
}

// pngBytes is a valid 1x1 PNG image.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	t      testing.TB
	srv    *httptest.Server
	server *server.Server
	store  storage.Store
	cat    catalog.Catalog
	root   string // disk store root ("" for S3)
	bucket string // S3 bucket ("" for disk)
	logs   *syncBuffer
	client *http.Client // validates every API response against the spec
	now    *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newEnv starts the reference server over a disk store and a SQLite
// catalog, on a real socket.
func newEnv(t testing.TB, mod func(*server.Config)) *env {
	t.Helper()
	root := t.TempDir()
	store, err := storage.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalogtest.OpenDSN(t, "sqlite:"+filepath.Join(root, "fileup.db"), catalog.Options{})
	return newEnvWith(t, store, cat, root, mod)
}

// newS3Env is newEnv over the test S3-compatible server (a fresh bucket)
// and a PostgreSQL catalog (a fresh database) when one is configured,
// else SQLite.
func newS3Env(t testing.TB, mod func(*server.Config)) *env {
	t.Helper()
	cfg := storagetest.S3FromEnv(t)
	store, err := storage.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	dsn := catalogtest.SQLiteDSN(t)
	if os.Getenv("FILEUP_TEST_PG_DSN") != "" {
		dsn = catalogtest.PostgresDSN(t)
	}
	e := newEnvWith(t, store, catalogtest.OpenDSN(t, dsn, catalog.Options{}), "", mod)
	e.bucket = cfg.Bucket
	return e
}

// s3Keys lists the objects in an S3 env's bucket.
func s3Keys(t testing.TB, e *env) []string {
	t.Helper()
	var keys []string
	for oi := range e.store.(*storage.S3).Client().ListObjects(context.Background(), e.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if oi.Err != nil {
			t.Fatal(oi.Err)
		}
		keys = append(keys, oi.Key)
	}
	return keys
}

func newEnvWith(t testing.TB, store storage.Store, cat catalog.Catalog, root string, mod func(*server.Config)) *env {
	t.Helper()
	logs := &syncBuffer{}
	clk := &clock{t: time.Now().Truncate(time.Second)}
	cfg := server.Config{
		Store:   store,
		Catalog: cat,
		Tokens:  []string{tokenA, tokenB},
		Logger:  slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:     clk.Now,
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
	e := &env{t: t, srv: srv, server: s, store: store, cat: cat, root: root, logs: logs, now: clk}
	e.client = &http.Client{Transport: &contractTransport{t: t, next: http.DefaultTransport}}
	return e
}

// tenant is the tenant id of a token on e's server.
func (e *env) tenant(token string) string { return server.TenantOfToken(e.server, token) }

// objects lists the objects in the disk store (keys, <tenant>/<id>).
func (e *env) objects() []string {
	e.t.Helper()
	return files(e.t, filepath.Join(e.root, "objects"))
}

// contractTransport validates every response of the upload operations
// against the normalised spec (kin-openapi, response side only: the
// request side would buffer the whole upload).
type contractTransport struct {
	t    testing.TB
	next http.RoundTripper
}

var specs = sync.OnceValue(func() []*openapi3.T {
	var docs []*openapi3.T
	for _, file := range []string{"../api/kie/openapi.yaml", "../api/evolink/openapi.yaml"} {
		doc, err := openapi3.NewLoader().LoadFromFile(file)
		if err != nil {
			panic(err)
		}
		docs = append(docs, doc)
	}
	return docs
})

// route finds the operation of a request in the specs. On a wrong method
// there is no operation, but the body must still be the error envelope
// of one of the path's operations.
func route(req *http.Request) (*routers.Route, bool) {
	for _, doc := range specs() {
		for path, item := range doc.Paths.Map() {
			if !pathMatches(path, req.URL.Path) {
				continue
			}
			op := item.GetOperation(req.Method)
			for _, other := range item.Operations() {
				if op == nil {
					op = other
				}
			}
			return &routers.Route{Spec: doc, Path: path, PathItem: item, Method: req.Method, Operation: op}, true
		}
	}
	return nil, false
}

// pathMatches matches a request path against a spec path template.
func pathMatches(template, path string) bool {
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

func (c *contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	rt, ok := route(req)
	if !ok {
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req,
			Route:   rt,
			Options: &openapi3filter.Options{ExcludeRequestBody: true},
		},
		Status:  resp.StatusCode,
		Header:  resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		c.t.Errorf("contract: %s %s -> %d violates the spec: %v\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	return resp, nil
}

// part is one multipart part; file parts have a filename.
type part struct {
	name, filename, value string
	data                  []byte
}

func field(name, value string) part { return part{name: name, value: value} }
func file(filename string, data []byte) part {
	return part{name: "file", filename: filename, data: data}
}

func formBody(t testing.TB, parts ...part) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		if p.filename != "" {
			w, err := mw.CreateFormFile(p.name, p.filename)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(p.data)
			continue
		}
		mw.WriteField(p.name, p.value)
	}
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

// post sends a multipart form with a bearer token ("" for none).
func (e *env) post(path, token string, parts ...part) (*http.Response, []byte) {
	e.t.Helper()
	ct, body := formBody(e.t, parts...)
	return e.do(http.MethodPost, path, token, ct, bytes.NewReader(body))
}

func (e *env) do(method, path, token, contentType string, body io.Reader) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

func (e *env) get(url string, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

type kieOK = kie.FileUploadResponse
type evolinkOK = evolink.FileUploadResponse

// decode decodes a JSON body strictly.
func decode[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, b)
	}
	return v
}

type envelope struct {
	Success bool   `json:"success"`
	Code    int    `json:"code"`
	Msg     string `json:"msg"`
}

// wantEnvelope asserts an error envelope with the given status.
func wantEnvelope(t *testing.T, resp *http.Response, body []byte, status int, msgPart string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status = %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	env := decode[envelope](t, body)
	if env.Success || env.Code != status || !strings.Contains(env.Msg, msgPart) {
		t.Errorf("envelope = %+v, want success=false code=%d msg containing %q", env, status, msgPart)
	}
}

// files lists every regular file under root (relative paths).
func files(t testing.TB, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ioPipe() (*io.PipeReader, *io.PipeWriter) { return io.Pipe() }
