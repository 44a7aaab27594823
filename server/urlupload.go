package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/internal/fetch"
	"github.com/fileup/fileup/storage"
)

// maxJSONRequest bounds the JSON body of a URL upload: a URL of at most
// fetch.MaxURLLength and the path and name fields.
const maxJSONRequest = 64 << 10

// urlFields are each API's JSON field names for a URL upload. evolink
// also accepts the camelCase spellings its stream upload documents.
var urlFields = map[string]map[string]string{
	"kie": {"fileUrl": "url", "uploadPath": fieldPath, "fileName": fieldName},
	"evolink": {
		"file_url": "url", "fileUrl": "url",
		"upload_path": fieldPath, "uploadPath": fieldPath,
		"file_name": fieldName, "fileName": fieldName,
	},
}

// urlRequest is a URL upload's request body.
type urlRequest struct {
	url    string
	fields *form
}

// readURLRequest reads a URL upload's JSON body: string fields only, each
// spelling at most once, unknown fields ignored.
func readURLRequest(r *http.Request, rules *apiRules) (urlRequest, *apiError) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&raw); err != nil {
		return urlRequest{}, jsonError(err)
	}
	if dec.More() {
		return urlRequest{}, errorf(http.StatusBadRequest, "Invalid JSON: more than one value in the body")
	}
	names := urlFields[rules.api]
	req := urlRequest{fields: newForm(rules, nil)}
	urlField := ""
	for k, v := range raw {
		canon, ok := names[k]
		if !ok {
			continue
		}
		var sv string
		if err := json.Unmarshal(v, &sv); err != nil {
			return urlRequest{}, errorf(http.StatusBadRequest, fmt.Sprintf("Invalid JSON: %s must be a string", quoteField(k)))
		}
		if canon != "url" {
			if aerr := req.fields.set(k, canon, sv); aerr != nil {
				return urlRequest{}, aerr
			}
			continue
		}
		if urlField != "" && req.url != sv {
			return urlRequest{}, errorf(http.StatusBadRequest, "Conflicting values for the file URL: both spellings were sent with different values")
		}
		urlField, req.url = k, sv
	}
	if req.url == "" {
		return urlRequest{}, errorf(http.StatusBadRequest, "Missing required parameter: "+rules.urlField)
	}
	return req, nil
}

// jsonError maps a JSON decoding error to a 400 (413 past the size limit).
func jsonError(err error) *apiError {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body too large: limit is %d bytes", mbe.Limit))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, "Invalid JSON: the body ended early")
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	if errors.As(err, &se) || errors.As(err, &te) {
		return errorf(http.StatusBadRequest, "Invalid JSON: "+clipMessage(err.Error()))
	}
	return classifyReadError(err)
}

// urlUpload stores the file at a URL the client gives: the server fetches
// it under internal/fetch's rules (public addresses only, unless the
// operator allows more, checked on every connection; at most 3 redirects;
// a total timeout; the size limit enforced while streaming) and never
// trusts the remote's Content-Type.
func (s *Server) urlUpload(ctx context.Context, rules *apiRules, tenant string, r *http.Request) (catalog.File, *apiError) {
	r.Body = http.MaxBytesReader(nil, r.Body, maxJSONRequest)
	req, aerr := readURLRequest(r, rules)
	if aerr != nil {
		return catalog.File{}, aerr
	}
	if _, err := s.fetch.Check(req.url); err != nil {
		return catalog.File{}, s.fetchError(ctx, err)
	}
	resp, err := s.fetch.Get(ctx, req.url)
	if err != nil {
		return catalog.File{}, s.fetchError(ctx, err)
	}
	defer resp.Body.Close()
	head := bufio.NewReaderSize(resp.Body, 4<<10)
	src := &urlSource{s: s, ctx: ctx, head: head}
	contentType, aerr := sniff(head, rules, func(err error) *apiError { return s.fetchError(ctx, err) })
	if aerr != nil {
		return catalog.File{}, aerr
	}
	original := resp.FileName
	if checkOriginal(original) != nil {
		original = ""
	}
	in := s.newIngest(tenant)
	place := func() (string, string, *apiError) {
		return req.place(in.id, original, contentType)
	}
	if in.path, in.name, aerr = place(); aerr != nil {
		return catalog.File{}, aerr
	}
	opts := storage.PutOptions{Size: resp.Size, SizeHint: -1, ContentType: contentType}
	return s.receive(ctx, in, src, opts, place, catalog.File{ContentType: contentType, OriginalName: original})
}

// place names a fetched file: without a file name, the name at the end of
// the URL if the rules accept it, else a generated one.
func (req urlRequest) place(id, original, contentType string) (string, string, *apiError) {
	if _, ok := req.fields.values[fieldName]; !ok && original != "" {
		if dir, name, aerr := req.fields.rules.place(req.fields.values[fieldPath], req.hasPath(), original, true, id, original, contentType); aerr == nil {
			return dir, name, nil
		}
	}
	return req.fields.place(id, original, contentType)
}

func (req urlRequest) hasPath() bool {
	_, ok := req.fields.values[fieldPath]
	return ok
}

// fetchError maps a failed fetch to the client's error: the message of a
// *fetch.Error is safe to show (it names no address); its cause is logged.
func (s *Server) fetchError(ctx context.Context, err error) *apiError {
	var fe *fetch.Error
	if !errors.As(err, &fe) {
		s.log.ErrorContext(ctx, "fetching a URL failed", "err", err)
		return errorf(http.StatusInternalServerError, "Internal server error")
	}
	if fe.Err != nil {
		// The cause may name the host the client chose: escaped and cut.
		s.log.InfoContext(ctx, "fetching a URL failed", "kind", fe.Kind.String(), clientAttr("cause", fe.Err.Error()))
	}
	switch fe.Kind {
	case fetch.TooLarge:
		return errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("File too large: limit is %d bytes", s.cfg.MaxUploadSize))
	case fetch.Canceled:
		return errorf(http.StatusBadRequest, "Upload interrupted: the request was cancelled")
	}
	return errorf(http.StatusBadRequest, "Cannot upload from this URL: "+fe.Error())
}

// urlSource is a fetched file's body.
type urlSource struct {
	s    *Server
	ctx  context.Context
	head *bufio.Reader
	err  error
}

func (u *urlSource) Read(p []byte) (int, error) {
	n, err := u.head.Read(p)
	if err != nil && err != io.EOF {
		u.err = err
	}
	return n, err
}

func (u *urlSource) sourceErr() *apiError {
	if u.err == nil {
		return nil
	}
	return u.s.fetchError(u.ctx, u.err)
}
