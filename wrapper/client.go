package wrapper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"time"

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
// when a client is given no token option: KIE_API_KEY or EVOLINK_API_KEY.
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
	Upload(ctx context.Context, src Source, opts ...UploadOption) (*Result, error)
}

// Result is a successful upload, the same shape for both vendors. Fields a
// vendor does not return are zero.
type Result struct {
	Vendor       Vendor    `json:"vendor"`
	FileID       string    `json:"file_id,omitempty"`       // evolink
	FileName     string    `json:"file_name"`               // stored name
	OriginalName string    `json:"original_name,omitempty"` // evolink
	UploadPath   string    `json:"upload_path,omitempty"`
	FilePath     string    `json:"file_path"` // upload path + "/" + file name
	DownloadURL  string    `json:"download_url"`
	FileURL      string    `json:"file_url,omitempty"` // evolink
	Size         int64     `json:"size"`
	MimeType     string    `json:"mime_type"`
	UploadedAt   time.Time `json:"uploaded_at"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"` // evolink
}

// Naming selects evolink's field spelling.
type Naming int

// evolink accepts both spellings; camelCase is sent by default.
const (
	CamelCase  Naming = iota // uploadPath, fileName
	Underscore               // upload_path, file_name
)

// Option configures a Client.
type Option func(*config)

type config struct {
	auth        RequestEditorFn
	editors     []RequestEditorFn
	httpClient  Doer
	retry       RetryPolicy
	attemptTime time.Duration
	userAgent   string
	progress    ProgressFunc
	naming      Naming
}

// WithToken authenticates with a static bearer token.
func WithToken(token string) Option { return func(c *config) { c.auth = BearerToken(token) } }

// WithTokenFromEnv reads the bearer token from an environment variable at
// every request. Without any token option, the vendor's TokenEnv is used.
func WithTokenFromEnv(name string) Option { return func(c *config) { c.auth = BearerFromEnv(name) } }

// WithTokenSource asks src for the bearer token at every request.
func WithTokenSource(src TokenSource) Option {
	return func(c *config) { c.auth = BearerFromSource(src) }
}

// WithHTTPClient sends requests with d, typically an *http.Client (the
// default is a zero http.Client). An http.Client's Timeout should be
// zero, as it would cut long uploads: use WithAttemptTimeout. Only a Doer
// that follows redirects with GetBody (http.Client does) replays bodies on
// 307/308.
func WithHTTPClient(d Doer) Option { return func(c *config) { c.httpClient = d } }

// WithRetry sets the retry policy (zero fields take the defaults).
func WithRetry(p RetryPolicy) Option { return func(c *config) { c.retry = p.withDefaults() } }

// WithoutRetries makes every upload a single attempt.
func WithoutRetries() Option {
	return func(c *config) { c.retry = RetryPolicy{MaxAttempts: 1}.withDefaults() }
}

// WithAttemptTimeout bounds each attempt (sending the request and reading
// the response) through its context, so a stalled attempt is abandoned and
// retried. The default is no bound: the caller's context decides.
func WithAttemptTimeout(d time.Duration) Option { return func(c *config) { c.attemptTime = d } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }

// WithProgress reports the progress of every upload (UploadOption
// Progress overrides it per upload).
func WithProgress(fn ProgressFunc) Option { return func(c *config) { c.progress = fn } }

// WithEvolinkNaming selects the spelling of evolink's path and name
// fields (CamelCase by default).
func WithEvolinkNaming(n Naming) Option { return func(c *config) { c.naming = n } }

// WithRequestEditor adds an editor run on every request after auth.
func WithRequestEditor(fn RequestEditorFn) Option {
	return func(c *config) { c.editors = append(c.editors, fn) }
}

// UploadOption sets a per-upload parameter.
type UploadOption func(*uploadConfig)

type uploadConfig struct {
	path, name, contentType string
	progress                ProgressFunc
}

// UploadPath is the directory the file is stored under (kie requires it;
// evolink categorises by type without it). No leading or trailing slash.
func UploadPath(p string) UploadOption { return func(u *uploadConfig) { u.path = p } }

// FileName is the stored file name (default: the server picks one; on
// kie, uploading the same name again replaces the file).
func FileName(n string) UploadOption { return func(u *uploadConfig) { u.name = n } }

// ContentType sets the file part's Content-Type instead of detecting it.
func ContentType(ct string) UploadOption { return func(u *uploadConfig) { u.contentType = ct } }

// Progress reports this upload's progress.
func Progress(fn ProgressFunc) UploadOption { return func(u *uploadConfig) { u.progress = fn } }

// Client uploads to one vendor's API through its generated client.
type Client struct {
	vendor  Vendor
	baseURL string
	cfg     config
	kie     *kie.Client
	evolink *evolink.Client
}

var _ Uploader = (*Client)(nil)

// ErrMissingPath is returned by kie uploads without UploadPath, which the
// kie API requires.
var ErrMissingPath = errors.New("wrapper: kie requires an upload path (UploadPath)")

// New returns a Client for vendor at baseURL ("" for the vendor's own
// server; any fileup reference server speaks both APIs). baseURL must be an
// absolute http or https URL.
func New(vendor Vendor, baseURL string, opts ...Option) (*Client, error) {
	c := &Client{vendor: vendor, baseURL: baseURL}
	switch vendor {
	case Kie:
		if c.baseURL == "" {
			c.baseURL = KieBaseURL
		}
	case Evolink:
		if c.baseURL == "" {
			c.baseURL = EvolinkBaseURL
		}
	default:
		return nil, fmt.Errorf("wrapper: unknown vendor %q (want %q or %q)", vendor, Kie, Evolink)
	}
	if err := checkBaseURL(c.baseURL); err != nil {
		return nil, err
	}
	c.cfg = config{retry: DefaultRetryPolicy, httpClient: &http.Client{}}
	for _, o := range opts {
		o(&c.cfg)
	}
	if c.cfg.auth == nil {
		c.cfg.auth = BearerFromEnv(vendor.TokenEnv())
	}
	var err error
	switch vendor {
	case Kie:
		c.kie, err = kie.NewClient(c.baseURL, kie.WithHTTPClient(c.cfg.httpClient))
	case Evolink:
		c.evolink, err = evolink.NewClient(c.baseURL, evolink.WithHTTPClient(c.cfg.httpClient))
	}
	if err != nil {
		return nil, fmt.Errorf("wrapper: %w", err)
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

// NewKie is New(Kie, baseURL, opts...).
func NewKie(baseURL string, opts ...Option) (*Client, error) { return New(Kie, baseURL, opts...) }

// NewEvolink is New(Evolink, baseURL, opts...).
func NewEvolink(baseURL string, opts ...Option) (*Client, error) {
	return New(Evolink, baseURL, opts...)
}

// Vendor is the client's API.
func (c *Client) Vendor() Vendor { return c.vendor }

// String describes the client without its credentials.
func (c *Client) String() string { return fmt.Sprintf("wrapper.Client{%s %s}", c.vendor, c.baseURL) }

// GoString is String, so %#v prints no credentials either.
func (c *Client) GoString() string { return c.String() }

// fields returns the form's text fields for the vendor.
func (c *Client) fields(u uploadConfig) ([]Field, error) {
	var f []Field
	switch c.vendor {
	case Kie:
		if u.path == "" {
			return nil, ErrMissingPath
		}
		f = append(f, Field{"uploadPath", u.path})
		if u.name != "" {
			f = append(f, Field{"fileName", u.name})
		}
	case Evolink:
		pathField, nameField := "uploadPath", "fileName"
		if c.cfg.naming == Underscore {
			pathField, nameField = "upload_path", "file_name"
		}
		if u.path != "" {
			f = append(f, Field{pathField, u.path})
		}
		if u.name != "" {
			f = append(f, Field{nameField, u.name})
		}
	}
	return f, nil
}

// Upload sends src and returns where it was stored. Failures are *Error
// (the server answered), *SourceError (reading src failed), ErrNoToken,
// ErrMissingPath, or a transport error. Retryable failures are retried per
// the client's RetryPolicy when src is replayable.
func (c *Client) Upload(ctx context.Context, src Source, opts ...UploadOption) (*Result, error) {
	u := uploadConfig{progress: c.cfg.progress}
	for _, o := range opts {
		o(&u)
	}
	fields, err := c.fields(u)
	if err != nil {
		return nil, err
	}
	// Fail on a missing token before opening or sending anything.
	probe, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL, nil)
	if err != nil {
		return nil, fmt.Errorf("wrapper: %w", err)
	}
	if err := c.cfg.auth(ctx, probe); err != nil {
		return nil, err
	}
	bodyOpts := BodyOptions{ContentType: u.contentType, Progress: u.progress}
	policy := c.cfg.retry
	for attempt := 1; ; attempt++ {
		res, err := c.attempt(ctx, src, fields, bodyOpts)
		if err == nil {
			return res, nil
		}
		if attempt >= policy.MaxAttempts || !src.Replayable() || !IsRetryable(err) || ctx.Err() != nil {
			return nil, err
		}
		var retryAfter time.Duration
		if e, ok := asError(err); ok {
			retryAfter = e.RetryAfter
		}
		wait, ok := policy.delay(attempt+1, retryAfter)
		if !ok {
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (after %d attempts; last error: %v)", ctx.Err(), attempt, err)
		case <-t.C:
		}
	}
}

// maxEnvelope bounds how much of a response is read: envelopes are small.
const maxEnvelope = 1 << 20

func (c *Client) attempt(ctx context.Context, src Source, fields []Field, opts BodyOptions) (*Result, error) {
	body, err := NewBody(src, fields, opts)
	if err != nil {
		return nil, err
	}
	// After the response is read, wait until no transport goroutine reads
	// the source: only then may a retry open it again. A one-shot source
	// is never reopened; the transport closes its body.
	defer body.closeAll()
	if c.cfg.attemptTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.attemptTime)
		defer cancel()
	}
	editors := []RequestEditorFn{c.cfg.auth, body.RequestEditor(), func(ctx context.Context, req *http.Request) error {
		if c.cfg.userAgent != "" {
			req.Header.Set("User-Agent", c.cfg.userAgent)
		}
		return nil
	}}
	editors = append(editors, c.cfg.editors...)

	var resp *http.Response
	switch c.vendor {
	case Kie:
		resp, err = c.kie.UploadFileStreamWithBody(ctx, body.ContentType(), body, convert[kie.RequestEditorFn](editors)...)
	case Evolink:
		resp, err = c.evolink.UploadFileStreamWithBody(ctx, body.ContentType(), body, convert[evolink.RequestEditorFn](editors)...)
	}
	if err != nil {
		var se *SourceError
		if errors.As(err, &se) {
			return nil, se
		}
		return nil, fmt.Errorf("%s upload: %w", c.vendor, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxEnvelope))
	if err != nil {
		return nil, fmt.Errorf("%s upload: reading the response: %w", c.vendor, err)
	}
	return c.interpret(resp, raw)
}

// envelope is what both vendors answer with.
type envelope struct {
	Success *bool           `json:"success"`
	Code    *int            `json:"code"`
	Msg     *string         `json:"msg"`
	Data    json.RawMessage `json:"data"`
}

// interpret turns a response into a Result or an *Error.
func (c *Client) interpret(resp *http.Response, raw []byte) (*Result, error) {
	e := &Error{Vendor: c.vendor, StatusCode: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&env); err != nil || env.Success == nil || env.Code == nil {
		e.Msg = "response is not a JSON envelope"
		if len(raw) == 0 {
			e.Msg = "empty response"
		} else if err != nil && bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			e.Msg = "malformed JSON envelope: " + err.Error()
		}
		e.Snippet = snippet(raw)
		return nil, e
	}
	e.Envelope, e.Code = true, *env.Code
	if env.Msg != nil {
		e.Msg = *env.Msg
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 || !*env.Success {
		return nil, e
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		e.Msg = "success envelope without data"
		return nil, e
	}
	var res *Result
	var err error
	switch c.vendor {
	case Kie:
		res, err = kieResult(env.Data)
	case Evolink:
		res, err = evolinkResult(env.Data)
	}
	if err != nil {
		e.Msg = "malformed data in success envelope: " + err.Error()
		e.Snippet = snippet(raw)
		return nil, e
	}
	return res, nil
}

func kieResult(data json.RawMessage) (*Result, error) {
	var d kie.FileUploadResult
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	if d.DownloadUrl == "" {
		return nil, errors.New("no downloadUrl")
	}
	dir := path.Dir(d.FilePath)
	if dir == "." {
		dir = ""
	}
	return &Result{
		Vendor: Kie, FileName: d.FileName, UploadPath: dir, FilePath: d.FilePath, DownloadURL: d.DownloadUrl,
		Size: d.FileSize, MimeType: d.MimeType, UploadedAt: d.UploadedAt,
	}, nil
}

func evolinkResult(data json.RawMessage) (*Result, error) {
	var d evolink.FileData
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, err
	}
	r := &Result{
		Vendor:       Evolink,
		FileID:       deref(d.FileId),
		FileName:     deref(d.FileName),
		OriginalName: deref(d.OriginalName),
		UploadPath:   deref(d.UploadPath),
		DownloadURL:  deref(d.DownloadUrl),
		FileURL:      deref(d.FileUrl),
		Size:         deref(d.FileSize),
		MimeType:     deref(d.MimeType),
		UploadedAt:   deref(d.UploadTime),
		ExpiresAt:    deref(d.ExpiresAt),
	}
	if r.DownloadURL == "" {
		r.DownloadURL = r.FileURL
	}
	if r.DownloadURL == "" {
		return nil, errors.New("no download_url or file_url")
	}
	r.FilePath = r.FileName
	if r.UploadPath != "" {
		r.FilePath = r.UploadPath + "/" + r.FileName
	}
	return r, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// convert adapts editors to a generated package's editor type.
func convert[T ~func(context.Context, *http.Request) error](fns []RequestEditorFn) []T {
	out := make([]T, len(fns))
	for i, f := range fns {
		out[i] = T(f)
	}
	return out
}
