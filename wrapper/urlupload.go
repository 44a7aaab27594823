package wrapper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/gen/kie"
)

// MaxFileURL bounds the URL UploadURL sends (fileup serve refuses longer
// ones).
const MaxFileURL = 8 << 10

// UploadURL asks the server to download fileURL and store the file, and
// returns where it was stored, as Upload does. fileURL must be an
// absolute http or https URL that the server can reach: the vendors fetch
// public addresses only (kie: within 30 s, files up to about 100 MB;
// evolink: images only), and so does fileup serve unless its operator
// allows more (--fetch-allow). A URL the server cannot fetch is an *Error
// with status 400 (413 for a file over its size limit).
//
// Everything else is as for Upload: p's Path (required on kie) and Name,
// its IdempotencyKey (sent on every attempt), the retries (the request is
// a small JSON document, always replayable), the token, *Error and the
// per-call options. p.ContentType must be empty: the server detects the
// type from the downloaded bytes. WithProgress has no effect: the file
// never passes through the client. The inactivity timeout counts the
// server's download as inactivity (no response arrives meanwhile), so it
// must exceed the time the server may take to fetch the file; the
// default (DefaultInactivityTimeout) leaves room for kie's 30 s.
func (c *Client) UploadURL(ctx context.Context, fileURL string, p UploadParams, opts ...Option) (*Result, error) {
	cfg := c.cfg.with(opts)
	if cfg.err != nil {
		return nil, cfg.err
	}
	if err := checkFileURL(fileURL); err != nil {
		return nil, err
	}
	if p.ContentType != "" {
		return nil, errors.New("wrapper: UploadURL takes no ContentType: the server detects the type of the file it downloads")
	}
	if _, err := c.fields(p, true); err != nil {
		return nil, err
	}
	key, err := idempotencyKey(p.IdempotencyKey)
	if err != nil {
		return nil, err
	}
	body, err := c.urlRequestBody(fileURL, p)
	if err != nil {
		return nil, err
	}
	var res *Result
	r := &call{
		op:             "url upload",
		idempotencyKey: key,
		replayable:     true,
		build: func(ctx context.Context, _ func()) (*http.Request, func(), error) {
			req, err := c.urlRequest(body)
			if err != nil {
				return nil, nil, fmt.Errorf("wrapper: %w", err)
			}
			return req.WithContext(ctx), func() {}, nil
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

// checkFileURL checks what both vendors document of a file URL: an
// absolute http or https URL (with a host).
func checkFileURL(raw string) error {
	if len(raw) > MaxFileURL {
		return fmt.Errorf("wrapper: the file URL is longer than %d bytes", MaxFileURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("wrapper: file URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("wrapper: file URL %q: want an absolute http or https URL", clip(raw, 200))
	}
	return nil
}

// urlRequestBody is the URL upload's JSON document, as the generated
// request types spell it.
func (c *Client) urlRequestBody(fileURL string, p UploadParams) ([]byte, error) {
	var v any
	switch c.vendor {
	case Kie:
		v = kie.UrlUploadRequest{FileUrl: fileURL, UploadPath: p.Path, FileName: optional(p.Name)}
	case Evolink:
		v = evolink.UrlUploadRequest{FileUrl: fileURL, UploadPath: optional(p.Path), FileName: optional(p.Name)}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("wrapper: %w", err)
	}
	return b, nil
}

// urlRequest builds one attempt's URL upload request with the generated
// client's builder; net/http gives it a Content-Length and GetBody.
func (c *Client) urlRequest(body []byte) (*http.Request, error) {
	if c.vendor == Kie {
		return kie.NewUploadFileUrlRequestWithBody(c.baseURL, "application/json", bytes.NewReader(body))
	}
	return evolink.NewUploadFileUrlRequestWithBody(c.baseURL, "application/json", bytes.NewReader(body))
}

// optional is nil for "", else a pointer to s.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
