package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/fileup/fileup/storage"
)

const (
	// maxFieldSize bounds each text field of the form.
	maxFieldSize = 4 << 10
	// maxFields bounds the number of parts in one form.
	maxFields = 32
	// sniffLen is how many leading bytes identify the file type.
	sniffLen = 512
	// stagingTenant holds uploads whose key is not known when their bytes
	// arrive (the form sent the file before its path or name). Tenant
	// namespaces are hex digests, so this name cannot collide with one.
	stagingTenant = "staging"
	// stagingTTL bounds how long an orphaned staged object (after a crash)
	// survives before the janitor removes it. It counts from the start of
	// the upload (the store takes an object's metadata before its bytes),
	// so it must outlast the slowest upload: one that trickles in under
	// StallTimeout for longer than this fails instead of being stored.
	stagingTTL = 24 * time.Hour
)

// field names (canonical) that decide where a file is stored.
const (
	fieldPath = "path"
	fieldName = "name"
)

// apiRules is what differs between the two vendor APIs when parsing and
// storing an upload.
type apiRules struct {
	api string
	// canonical maps a form field name to fieldPath or fieldName; other
	// fields are read (bounded) and ignored.
	canonical map[string]string
	// pathRequired: the form must carry a path (kie's uploadPath).
	pathRequired bool
	// pathLabel names the path field in messages.
	pathLabel, nameLabel string
	// accept vets the detected content type; nil accepts anything.
	accept func(contentType string) *apiError
	// defaultPath is used when no path is sent (pathRequired false).
	defaultPath func(contentType string) string
	// defaultName is used when no name is sent.
	defaultName func(id, original, contentType string) string
}

// uploadResult is what a successful upload produced.
type uploadResult struct {
	meta     storage.Meta
	path     string // upload path (directory part of the key)
	name     string // stored file name (last segment of the key)
	url      string // public URL of the object on this server
	uploaded time.Time
}

// formState accumulates the text fields of one form.
type formState struct {
	rules   *apiRules
	raw     map[string]bool   // raw field names seen, to reject duplicates
	values  map[string]string // canonical -> value
	parts   int
	hasFile bool
}

func newFormState(rules *apiRules) *formState {
	return &formState{rules: rules, raw: map[string]bool{}, values: map[string]string{}}
}

// readField consumes a non-file part.
func (f *formState) readField(p *multipart.Part) *apiError {
	name := p.FormName()
	b, err := io.ReadAll(io.LimitReader(p, maxFieldSize+1))
	if err != nil {
		return classifyReadError(err)
	}
	if len(b) > maxFieldSize {
		return errorf(http.StatusBadRequest, fmt.Sprintf("Field %q is longer than %d bytes", name, maxFieldSize))
	}
	canon, known := f.rules.canonical[name]
	if !known {
		return nil // unknown fields are ignored, as the vendors do
	}
	if f.raw[name] {
		return errorf(http.StatusBadRequest, fmt.Sprintf("Duplicate field %q", name))
	}
	f.raw[name] = true
	v := string(b)
	if prev, ok := f.values[canon]; ok && prev != v {
		return errorf(http.StatusBadRequest, fmt.Sprintf("Conflicting values for %s: both spellings were sent with different values", f.label(canon)))
	}
	f.values[canon] = v
	return nil
}

func (f *formState) label(canon string) string {
	if canon == fieldPath {
		return f.rules.pathLabel
	}
	return f.rules.nameLabel
}

// next returns the next part, or io.EOF at the end of the form.
func (f *formState) next(mr *multipart.Reader) (*multipart.Part, *apiError) {
	p, err := mr.NextPart()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, classifyReadError(err)
	}
	f.parts++
	if f.parts > maxFields {
		return nil, errorf(http.StatusBadRequest, fmt.Sprintf("Too many form parts (more than %d)", maxFields))
	}
	return p, nil
}

// finish reads the rest of the form after the file part: fields only.
func (f *formState) finish(mr *multipart.Reader) *apiError {
	for {
		p, aerr := f.next(mr)
		if aerr != nil {
			return aerr
		}
		if p == nil {
			return nil
		}
		if p.FormName() == "file" {
			return errorf(http.StatusBadRequest, "Only one file per request is accepted")
		}
		if aerr := f.readField(p); aerr != nil {
			return aerr
		}
	}
}

// keyKnown reports whether every field that decides the key has been seen.
func (f *formState) keyKnown() bool {
	_, p := f.values[fieldPath]
	_, n := f.values[fieldName]
	return p && n
}

// resolveKey validates the fields and returns the upload path and file name.
func (f *formState) resolveKey(id, original, contentType string) (dir, name string, aerr *apiError) {
	dir, hasPath := f.values[fieldPath]
	if !hasPath || dir == "" {
		if f.rules.pathRequired {
			return "", "", errorf(http.StatusBadRequest, "Missing required parameter: "+f.rules.pathLabel)
		}
		dir = f.rules.defaultPath(contentType)
	}
	if err := checkPath(dir); err != nil {
		return "", "", errorf(http.StatusBadRequest, "Invalid "+f.rules.pathLabel+": "+err.Error())
	}
	if _, err := storage.CleanKey(dir); err != nil {
		return "", "", errorf(http.StatusBadRequest, "Invalid "+f.rules.pathLabel+": "+reason(err))
	}
	name, hasName := f.values[fieldName]
	if !hasName || name == "" {
		name = f.rules.defaultName(id, original, contentType)
	}
	if err := checkName(name); err != nil {
		return "", "", errorf(http.StatusBadRequest, "Invalid "+f.rules.nameLabel+": "+err.Error())
	}
	if _, err := storage.CleanKey(name); err != nil {
		return "", "", errorf(http.StatusBadRequest, "Invalid "+f.rules.nameLabel+": "+reason(err))
	}
	if err := checkKey(dir, name); err != nil {
		return "", "", errorf(http.StatusBadRequest, "Invalid "+f.rules.pathLabel+"/"+f.rules.nameLabel+": "+err.Error())
	}
	return dir, name, nil
}

// reason strips the package prefix from a storage validation error.
func reason(err error) string {
	return strings.TrimPrefix(err.Error(), "storage: ")
}

// sourceReader wraps the file part: it remembers errors that came from the
// client side (so they are not mistaken for storage failures) and, in
// direct mode, reads and validates the rest of the form before it reports
// EOF, so a bad form aborts the Put before anything becomes visible.
type sourceReader struct {
	r        io.Reader
	atEOF    func() *apiError
	clientEr error
	n        int64
	// charge counts the bytes against the tenant's quota; over quota, the
	// read fails with a 403 error, and keeps failing.
	charge  *quotaCharge
	overQuo error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	if s.overQuo != nil {
		return 0, s.overQuo
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	if qerr := s.charge.add(n); qerr != nil {
		s.overQuo = qerr
		return n, qerr
	}
	if err == io.EOF && s.atEOF != nil {
		hook := s.atEOF
		s.atEOF = nil
		if aerr := hook(); aerr != nil {
			s.clientEr = aerr
			return n, aerr
		}
	}
	if err != nil && err != io.EOF {
		s.clientEr = err
	}
	return n, err
}

// upload runs one upload: parse the form part by part, stream the file
// into the store, and return where it went.
func (s *Server) upload(ctx context.Context, rules *apiRules, tenant string, mr *multipart.Reader, r *http.Request) (*uploadResult, *apiError) {
	charge, aerr := s.openCharge(ctx, tenant)
	if aerr != nil {
		return nil, aerr
	}
	done := false
	defer func() { charge.finish(done) }()
	form := newFormState(rules)
	var part *multipart.Part
	for {
		p, aerr := form.next(mr)
		if aerr != nil {
			return nil, aerr
		}
		if p == nil {
			return nil, errorf(http.StatusBadRequest, "Missing required parameter: file")
		}
		if p.FormName() == "file" {
			part = p
			break
		}
		if aerr := form.readField(p); aerr != nil {
			return nil, aerr
		}
	}

	if err := checkOriginalName(part.FileName()); err != nil {
		return nil, errorf(http.StatusBadRequest, "Invalid filename of the file part: "+err.Error())
	}
	// Identify the file by its leading bytes, without consuming them.
	br := bufio.NewReaderSize(part, 32<<10)
	head, err := br.Peek(sniffLen)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, classifyReadError(err)
	}
	// The type comes from the bytes, never from the client's declared
	// type or the file extension.
	contentType := http.DetectContentType(head)
	if rules.accept != nil {
		if aerr := rules.accept(contentType); aerr != nil {
			return nil, aerr
		}
	}
	original := part.FileName()
	id := newID()
	now := s.now().UTC().Truncate(time.Millisecond)
	expires := time.Time{}
	if s.cfg.TTL > 0 {
		expires = now.Add(s.cfg.TTL)
	}
	meta := storage.Meta{ID: id, OriginalName: original, ContentType: contentType, Created: now, Expires: expires}
	src := &sourceReader{r: br, charge: charge}
	put := storage.PutOptions{Size: -1, MaxSize: s.cfg.MaxUploadSize, Meta: meta}

	var (
		dir, name string
		stored    storage.Meta
	)
	if form.keyKnown() {
		// Fast path: every field that names the file came first; stream
		// straight to the final key. The rest of the form is checked before
		// the store sees EOF, so a bad form stores nothing.
		if dir, name, aerr = form.resolveKey(id, original, contentType); aerr != nil {
			return nil, aerr
		}
		src.atEOF = func() *apiError { return form.finish(mr) }
		s.noteReplaced(ctx, charge, tenant, dir+"/"+name)
		stored, err = s.store.Put(ctx, tenant, dir+"/"+name, src, put)
		if err != nil {
			return nil, s.putError(err, src)
		}
	} else {
		// The file came before its path or name: stage it, read the rest of
		// the form, then move it into place (a rename on disk).
		stageKey := tenant + "/" + id
		staged := put
		staged.Meta.Expires = now.Add(stagingTTL) // from the start of the upload: see stagingTTL
		if _, err := s.store.Put(ctx, stagingTenant, stageKey, src, staged); err != nil {
			return nil, s.putError(err, src)
		}
		discard := func() { _ = s.store.Delete(context.WithoutCancel(ctx), stagingTenant, stageKey) }
		if aerr := form.finish(mr); aerr != nil {
			discard()
			return nil, aerr
		}
		if dir, name, aerr = form.resolveKey(id, original, contentType); aerr != nil {
			discard()
			return nil, aerr
		}
		s.noteReplaced(ctx, charge, tenant, dir+"/"+name)
		stored, err = s.store.Move(ctx, stagingTenant, stageKey, tenant, dir+"/"+name, meta)
		if err != nil {
			discard()
			return nil, s.putError(err, src)
		}
	}
	done = true
	return &uploadResult{
		meta:     stored,
		path:     dir,
		name:     name,
		url:      s.objectURL(r, tenant, dir+"/"+name),
		uploaded: stored.Created,
	}, nil
}

// noteReplaced tells the quota charge which file, if any, the upload will
// replace at key, so that its commit counts only the difference. With no
// quota it costs nothing; a failed lookup counts as no file (which errs
// on the side of refusing later uploads until the next refresh).
func (s *Server) noteReplaced(ctx context.Context, charge *quotaCharge, tenant, key string) {
	if charge == nil {
		return
	}
	m, err := s.store.Stat(ctx, tenant, key)
	charge.replacing(m, err == nil)
}

// openCharge opens the upload's quota charge; the caller must finish it.
func (s *Server) openCharge(ctx context.Context, tenant string) (*quotaCharge, *apiError) {
	charge, err := s.quota.open(ctx, s.store, tenant)
	if err != nil {
		var aerr *apiError
		if errors.As(err, &aerr) {
			return nil, aerr
		}
		s.log.ErrorContext(ctx, "quota check failed", "err", err)
		return nil, errorf(http.StatusInternalServerError, "Internal server error")
	}
	return charge, nil
}

// putError maps a failed Put to the client's error.
func (s *Server) putError(err error, src *sourceReader) *apiError {
	var aerr *apiError
	switch {
	case errors.As(err, &aerr):
		return aerr
	case errors.Is(err, storage.ErrTooLarge):
		return errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("File too large: limit is %d bytes", s.cfg.MaxUploadSize))
	case src.clientEr != nil:
		return classifyReadError(src.clientEr)
	case errors.Is(err, storage.ErrInvalidKey):
		return errorf(http.StatusBadRequest, "Invalid upload path or file name: "+reason(err))
	default:
		s.log.Error("storage write failed", "err", err)
		return errorf(http.StatusInternalServerError, "Internal server error: the file could not be stored")
	}
}

// classifyReadError maps an error reading the request body.
func classifyReadError(err error) *apiError {
	var aerr *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &aerr):
		return aerr
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body too large: limit is %d bytes", mbe.Limit))
	case errors.Is(err, errStalled):
		return errorf(http.StatusRequestTimeout, "Upload stalled: no data received in time")
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.Canceled):
		return errorf(http.StatusBadRequest, "Upload interrupted: the request body ended early")
	default:
		return errorf(http.StatusBadRequest, "Malformed multipart body: "+err.Error())
	}
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var safeExt = regexp.MustCompile(`^\.[A-Za-z0-9]{1,10}$`)

// extensionFor picks a file extension for a generated name: the client's
// own extension when it is plain, else one for the detected type.
func extensionFor(original, contentType string) string {
	if ext := path.Ext(original); safeExt.MatchString(ext) {
		return strings.ToLower(ext)
	}
	mt, _, _ := strings.Cut(contentType, ";")
	switch mt {
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "application/pdf":
		return ".pdf"
	case "text/plain":
		return ".txt"
	case "application/zip":
		return ".zip"
	}
	return ".bin"
}
