package wrapper

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/gen/kie"
)

// Vendor names an API.
type Vendor string

// The supported vendors.
const (
	Kie     Vendor = "kie"
	Evolink Vendor = "evolink"
)

// Default base URLs, the servers of the vendor specs.
const (
	KieBaseURL     = "https://kieai.redpandaai.co"
	EvolinkBaseURL = "https://files-api.evolink.ai"
)

// TokenEnv is the environment variable the vendor's token is read from
// when a client is given no token source: KIE_API_KEY or EVOLINK_API_KEY.
func (v Vendor) TokenEnv() string {
	switch v {
	case Kie:
		return "KIE_API_KEY"
	case Evolink:
		return "EVOLINK_API_KEY"
	}
	return ""
}

// Doer sends HTTP requests; *http.Client is one. It is the generated
// clients' HttpRequestDoer.
type Doer interface {
	Do(req *http.Request) (*http.Response, error)
}

// Uploader uploads a file. *Client implements it for both vendors.
type Uploader interface {
	Upload(ctx context.Context, src Source, p UploadParams, opts ...Option) (*Result, error)
}

// UploadParams are what an upload (Upload, UploadBase64, UploadURL) asks
// the server for.
type UploadParams struct {
	// Path is the directory the file is stored under, without leading or
	// trailing slash. kie requires it; evolink categorises by type
	// without it.
	Path string
	// Name is the stored file name. Empty: the server picks one (a random
	// name: see IdempotencyKey). On kie, uploading a name again replaces
	// the file.
	Name string
	// ContentType is the file part's Content-Type (UploadBase64: the
	// data URL's type). Empty: detected from the first 512 bytes with
	// http.DetectContentType. UploadURL takes none: the server detects
	// the type of what it downloads.
	ContentType string
	// IdempotencyKey is sent as the Idempotency-Key header, the same on
	// every attempt of the upload. Empty: a random key for this call.
	// Set it to make retries of your own (a new call after a crash)
	// count as the same upload. At most 255 printable ASCII characters.
	IdempotencyKey string
}

// IdempotencyKeyHeader is the header that carries an upload's idempotency
// key. A server that honours it (fileup serve does, per API key, for a
// bounded time) answers a retried upload with the first attempt's result
// and stores the file once. kie.ai and evolink.ai do not document it: there,
// a retry whose first attempt reached the server but whose response was
// lost stores the file twice when the server picks the name (and counts
// twice against a quota); with UploadParams.Name, kie overwrites the same
// file instead. Disable retries (WithRetry(RetryPolicy{MaxAttempts: 1}))
// where a second copy is worse than a failed upload.
const IdempotencyKeyHeader = "Idempotency-Key"

// Client calls one vendor's API. It is safe for concurrent use.
type Client struct {
	vendor  Vendor
	baseURL string
	cfg     config
}

var _ Uploader = (*Client)(nil)

// ErrMissingPath is returned by kie uploads without UploadParams.Path,
// which the kie API requires.
var ErrMissingPath = errors.New("wrapper: kie requires an upload path (UploadParams.Path)")

// New returns a Client for vendor at baseURL ("" for the vendor's own
// server; a fileup reference server speaks both APIs). baseURL must be an
// absolute http or https URL. Without WithTokenSource the token is read
// from the vendor's TokenEnv at every call.
func New(vendor Vendor, baseURL string, opts ...Option) (*Client, error) {
	switch vendor {
	case Kie, Evolink:
	default:
		return nil, fmt.Errorf("wrapper: unknown vendor %q (want %q or %q)", vendor, Kie, Evolink)
	}
	if baseURL == "" {
		baseURL = map[Vendor]string{Kie: KieBaseURL, Evolink: EvolinkBaseURL}[vendor]
	}
	if err := checkBaseURL(baseURL); err != nil {
		return nil, err
	}
	c := &Client{vendor: vendor, baseURL: baseURL, cfg: defaultConfig(vendor).with(opts)}
	if c.cfg.err != nil {
		return nil, c.cfg.err
	}
	return c, nil
}

func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("wrapper: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("wrapper: base URL %q: want an absolute http or https URL", raw)
	}
	return nil
}

// Vendor is the client's API.
func (c *Client) Vendor() Vendor { return c.vendor }

// String describes the client without its credentials.
func (c *Client) String() string { return fmt.Sprintf("wrapper.Client{%s %s}", c.vendor, c.baseURL) }

// GoString is String, so %#v prints no credentials either.
func (c *Client) GoString() string { return c.String() }

// Upload sends src with the stream upload (multipart/form-data) and
// returns where it was stored. Failures are *Error (the server
// answered), *SourceError (reading src failed), ErrNoToken,
// ErrMissingPath, or a transport error. Retryable failures are retried
// per the RetryPolicy when src is replayable; opts override the client's
// options for this call.
func (c *Client) Upload(ctx context.Context, src Source, p UploadParams, opts ...Option) (*Result, error) {
	return c.uploadSource(ctx, streamUpload, src, p, opts)
}

// UploadBase64 sends src with the Base64 upload: a JSON document whose
// data field holds the file as a data URL (see NewBase64Body), streamed
// with an exact Content-Length, never whole in memory. It behaves as
// Upload in every other way: errors, retries, Idempotency-Key, progress
// (file bytes, as their encoding is sent). The vendors recommend it for
// small files (kie advises the stream upload above 10 MB), as base64
// adds a third to the bytes sent. Path and Name must be valid UTF-8.
func (c *Client) UploadBase64(ctx context.Context, src Source, p UploadParams, opts ...Option) (*Result, error) {
	return c.uploadSource(ctx, base64Upload, src, p, opts)
}

// sourceUpload is an operation that sends a Source in its body.
type sourceUpload struct {
	op      string // names the operation in errors
	newBody func(Source, []Field, BodyOptions) (*Body, error)
	// request builds the vendor's request, from the generated client.
	request   map[Vendor]func(server, contentType string, body io.Reader) (*http.Request, error)
	dataField map[Vendor]string // the file's field ("": the body's default)
	json      bool              // the fields go in a JSON body: valid UTF-8 only
}

var (
	streamUpload = sourceUpload{
		op:      "upload",
		newBody: NewBody,
		request: map[Vendor]func(string, string, io.Reader) (*http.Request, error){
			Kie: kie.NewUploadFileStreamRequestWithBody, Evolink: evolink.NewUploadFileStreamRequestWithBody},
	}
	base64Upload = sourceUpload{
		op:      "base64 upload",
		newBody: NewBase64Body,
		request: map[Vendor]func(string, string, io.Reader) (*http.Request, error){
			Kie: kie.NewUploadFileBase64RequestWithBody, Evolink: evolink.NewUploadFileBase64RequestWithBody},
		dataField: map[Vendor]string{Kie: "base64Data", Evolink: "base64_data"},
		json:      true,
	}
)

// uploadSource runs an upload of src with the operation u.
func (c *Client) uploadSource(ctx context.Context, u sourceUpload, src Source, p UploadParams, opts []Option) (*Result, error) {
	cfg := c.cfg.with(opts)
	if cfg.err != nil {
		return nil, cfg.err
	}
	fields, err := c.fields(p, u.json)
	if err != nil {
		return nil, err
	}
	key, err := idempotencyKey(p.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	var res *Result
	r := &call{
		op:             u.op,
		idempotencyKey: key,
		replayable:     src.Replayable(),
		build: func(ctx context.Context, touch func()) (*http.Request, func(), error) {
			opts := BodyOptions{FileField: u.dataField[c.vendor], ContentType: p.ContentType, Progress: cfg.progress, touch: touch}
			return c.bodyRequest(ctx, u, src, fields, opts)
		},
		decode: func(data []byte) (err error) {
			res, err = decodeResult(c.vendor, data)
			return err
		},
	}
	if err := c.send(ctx, &cfg, r); err != nil {
		return nil, err
	}
	return res, nil
}

// fields returns the text fields of an upload for the vendor. evolink
// accepts camelCase too; the wrapper sends the spelling its spec names
// first. For a JSON body (json), path and name must be valid UTF-8.
func (c *Client) fields(p UploadParams, json bool) ([]Field, error) {
	pathField, nameField := "uploadPath", "fileName"
	if c.vendor == Evolink {
		pathField, nameField = "upload_path", "file_name"
	} else if p.Path == "" {
		return nil, ErrMissingPath
	}
	if json && (!utf8.ValidString(p.Path) || !utf8.ValidString(p.Name)) {
		return nil, errors.New("wrapper: UploadParams.Path and Name must be valid UTF-8 in a JSON request")
	}
	var f []Field
	if p.Path != "" {
		f = append(f, Field{pathField, p.Path})
	}
	if p.Name != "" {
		f = append(f, Field{nameField, p.Name})
	}
	return f, nil
}

// bodyRequest opens src into a body and builds the request with the
// generated client's request builder. release closes the body and its
// replays, waiting until no transport goroutine reads the source (only
// then may a retry open it again); a one-shot source is never reopened,
// so its body is left to the transport, which always closes it.
func (c *Client) bodyRequest(ctx context.Context, u sourceUpload, src Source, fields []Field, opts BodyOptions) (*http.Request, func(), error) {
	body, err := u.newBody(src, fields, opts)
	if err != nil {
		return nil, nil, err
	}
	req, err := u.request[c.vendor](c.baseURL, body.ContentType(), body)
	if err != nil {
		body.Close()
		return nil, nil, fmt.Errorf("wrapper: %w", err)
	}
	req = req.WithContext(ctx)
	body.RequestEditor()(ctx, req) // Content-Length and GetBody; cannot fail
	release := func() {}
	if src.Replayable() {
		release = body.closeAll
	}
	return req, release, nil
}

// idempotencyKey checks a caller's key, or makes a random one (a UUID
// version 4, the form most servers expect).
func idempotencyKey(k string) (string, error) {
	if k == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
	}
	if len(k) > 255 {
		return "", errors.New("wrapper: IdempotencyKey is longer than 255 bytes")
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] >= 0x7f {
			return "", errors.New("wrapper: IdempotencyKey must be printable ASCII without spaces")
		}
	}
	return k, nil
}
