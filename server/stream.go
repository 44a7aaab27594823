package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/internal/formdata"
	"github.com/fileup/fileup/storage"
)

const (
	// maxFieldSize bounds each text field of a form.
	maxFieldSize = 4 << 10
	// maxParts bounds the number of parts in one form.
	maxParts = 32
	// maxPartHeader bounds the headers of one part.
	maxPartHeader = 8 << 10
	// sniffLen is how many leading bytes identify the file type.
	sniffLen = 512
)

// formBuffers recycles the read buffers of multipart bodies.
var formBuffers = sync.Pool{New: func() any { b := make([]byte, formdata.DefaultBufferSize); return &b }}

// canonical field names that decide where a file is stored.
const (
	fieldPath = "path"
	fieldName = "name"
)

// formFields maps each API's form field names to fieldPath or fieldName;
// other fields are read (bounded) and ignored, as the vendors do.
var formFields = map[string]map[string]string{
	"kie": {"uploadPath": fieldPath, "fileName": fieldName},
	"evolink": {
		"upload_path": fieldPath, "uploadPath": fieldPath,
		"file_name": fieldName, "fileName": fieldName,
	},
}

// form accumulates the text fields of one multipart form.
type form struct {
	rules  *apiRules
	fr     *formdata.Reader
	raw    map[string]bool   // raw field names seen, to reject duplicates
	values map[string]string // canonical -> value
}

func newForm(rules *apiRules, fr *formdata.Reader) *form {
	return &form{rules: rules, fr: fr, raw: map[string]bool{}, values: map[string]string{}}
}

// next returns the next part, or nil at the end of the form.
func (f *form) next() (*formdata.Part, *apiError) {
	p, err := f.fr.NextPart()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, classifyReadError(err)
	}
	return p, nil
}

// field consumes a non-file part.
func (f *form) field(p *formdata.Part) *apiError {
	name := p.FormName()
	b, err := io.ReadAll(io.LimitReader(p, maxFieldSize+1))
	if err != nil {
		return classifyReadError(err)
	}
	if len(b) > maxFieldSize {
		return errorf(http.StatusBadRequest, fmt.Sprintf("Field %s is longer than %d bytes", quoteField(name), maxFieldSize))
	}
	canon, known := formFields[f.rules.api][name]
	if !known {
		return nil
	}
	return f.set(name, canon, string(b))
}

// set records a field's value; the same field twice, or both spellings
// of one field with different values, is an error.
func (f *form) set(raw, canon, v string) *apiError {
	if f.raw[raw] {
		return errorf(http.StatusBadRequest, fmt.Sprintf("Duplicate field %q", raw))
	}
	f.raw[raw] = true
	if prev, ok := f.values[canon]; ok && prev != v {
		return errorf(http.StatusBadRequest, fmt.Sprintf("Conflicting values for %s: both spellings were sent with different values", f.label(canon)))
	}
	f.values[canon] = v
	return nil
}

func (f *form) label(canon string) string {
	if canon == fieldPath {
		return f.rules.pathField
	}
	return f.rules.nameField
}

// untilFile reads fields up to the file part and returns it.
func (f *form) untilFile() (*formdata.Part, *apiError) {
	for {
		p, aerr := f.next()
		if aerr != nil {
			return nil, aerr
		}
		if p == nil {
			return nil, errorf(http.StatusBadRequest, "Missing required parameter: file")
		}
		if p.FormName() == "file" {
			return p, nil
		}
		if aerr := f.field(p); aerr != nil {
			return nil, aerr
		}
	}
}

// finish reads the rest of the form after the file part: fields only.
func (f *form) finish() *apiError {
	for {
		p, aerr := f.next()
		if aerr != nil || p == nil {
			return aerr
		}
		if p.FormName() == "file" {
			return errorf(http.StatusBadRequest, "Only one file per request is accepted")
		}
		if aerr := f.field(p); aerr != nil {
			return aerr
		}
	}
}

// place resolves the file's upload path and name.
func (f *form) place(id, original, contentType string) (string, string, *apiError) {
	dir, hasDir := f.values[fieldPath]
	name, hasName := f.values[fieldName]
	return f.rules.place(dir, hasDir, name, hasName, id, original, contentType)
}

// known reports whether every field that places the file has been seen.
func (f *form) known() bool {
	_, p := f.values[fieldPath]
	_, n := f.values[fieldName]
	return p && n
}

// streamUpload receives a multipart/form-data upload: the fields before
// the file, the file streamed into a new object, then the fields after
// it, all validated before the object is stored for good.
func (s *Server) streamUpload(ctx context.Context, rules *apiRules, tenant string, r *http.Request) (catalog.File, *apiError) {
	boundary, err := formdata.Boundary(r.Header.Get("Content-Type"))
	if err != nil {
		return catalog.File{}, errorf(http.StatusBadRequest, "Request must be multipart/form-data: "+err.Error())
	}
	bp := formBuffers.Get().(*[]byte)
	defer formBuffers.Put(bp)
	f := newForm(rules, formdata.NewReader(r.Body, boundary, formdata.Options{MaxHeaderBytes: maxPartHeader, MaxParts: maxParts, Buffer: *bp}))
	part, aerr := f.untilFile()
	if aerr != nil {
		return catalog.File{}, aerr
	}
	original, _ := part.FileName()
	if aerr := checkOriginal(original); aerr != nil {
		return catalog.File{}, aerr
	}
	head := bufio.NewReaderSize(part, 4<<10)
	contentType, aerr := sniff(head, rules, classifyReadError)
	if aerr != nil {
		return catalog.File{}, aerr
	}
	in := s.newIngest(tenant)
	if f.known() { // refuse a bad name before receiving the file
		if in.path, in.name, aerr = f.place(in.id, original, contentType); aerr != nil {
			return catalog.File{}, aerr
		}
	}
	opts := storage.PutOptions{Size: -1, SizeHint: r.ContentLength, ContentType: contentType}
	return s.receive(ctx, in, &formSource{head: head, f: f}, opts, func() (string, string, *apiError) {
		return f.place(in.id, original, contentType)
	}, catalog.File{ContentType: contentType, OriginalName: original})
}

// sniff identifies the file from its leading bytes, without consuming
// them: the type comes from the bytes, never from the client's declared
// type or the file name.
func sniff(head *bufio.Reader, rules *apiRules, readErr func(error) *apiError) (string, *apiError) {
	b, err := head.Peek(sniffLen)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return "", readErr(err)
	}
	ct := http.DetectContentType(b)
	if rules.accept != nil {
		if aerr := rules.accept(ct); aerr != nil {
			return "", aerr
		}
	}
	return ct, nil
}

// formSource is the file part of a form: at its end it reads and checks
// the rest of the form before reporting EOF, so a bad form fails the Put
// before the object is complete. It remembers errors that came from the
// client, so they are not mistaken for storage failures.
type formSource struct {
	head     *bufio.Reader
	f        *form
	finished bool
	clientEr error
}

func (s *formSource) Read(p []byte) (int, error) {
	n, err := s.head.Read(p)
	if err == io.EOF {
		if aerr := s.end(); aerr != nil {
			return n, aerr
		}
	}
	if err != nil && err != io.EOF {
		s.clientEr = err
	}
	return n, err
}

// end reads and checks the rest of the form, once, when the file's data
// has ended.
func (s *formSource) end() *apiError {
	if s.finished {
		return nil
	}
	s.finished = true
	if aerr := s.f.finish(); aerr != nil {
		s.clientEr = aerr
		return aerr
	}
	return nil
}

// WriteTo writes the file's data to w straight from the form's read
// buffer, then checks the rest of the form as Read does at its end. An
// error that did not come from w is the client's.
func (s *formSource) WriteTo(w io.Writer) (int64, error) {
	rw := &recordingWriter{w: w}
	n, err := s.head.WriteTo(rw)
	if err != nil {
		if rw.err == nil {
			s.clientEr = err
		}
		return n, err
	}
	if aerr := s.end(); aerr != nil {
		return n, aerr
	}
	return n, nil
}

// recordingWriter passes writes on to w and keeps the first error w
// returned, to tell it from a read error.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

func (s *formSource) sourceErr() *apiError {
	if s.clientEr == nil {
		return nil
	}
	return classifyReadError(s.clientEr)
}

// source is a file being received.
type source interface {
	io.Reader
	// sourceErr is the client's error for a failure to read the source
	// (as opposed to a failure to store it), if there was one.
	sourceErr() *apiError
}

// receive stores src as a new file for in's tenant: it records the upload,
// streams the bytes into the store, places the file (place runs once the
// source is read, when every field is known) and commits it. opts gives
// what is known of the size; meta carries the content type and original
// name.
func (s *Server) receive(ctx context.Context, in *ingest, src source, opts storage.PutOptions, place func() (string, string, *apiError), meta catalog.File) (catalog.File, *apiError) {
	hint := opts.SizeHint
	if opts.Size >= 0 {
		hint = opts.Size
	}
	if aerr := in.begin(ctx, hint); aerr != nil {
		return catalog.File{}, aerr
	}
	defer in.abort(ctx)
	defer in.keepAlive(ctx)()
	w, err := in.write(ctx, src, opts)
	if err != nil {
		return catalog.File{}, s.putError(ctx, err, src, in.object)
	}
	dir, name, aerr := place()
	if aerr != nil {
		return catalog.File{}, aerr
	}
	meta.Path, meta.Name, meta.Link = dir, name, newID()
	meta.Created = s.now().UTC().Truncate(time.Millisecond)
	if s.cfg.TTL > 0 {
		meta.Expires = meta.Created.Add(s.cfg.TTL)
	}
	stored, err := in.commit(ctx, meta, w, recordFrom(ctx))
	var re *catalog.ReplayError
	switch {
	case errors.As(err, &re):
		// A retry of this request, running at the same time, stored its
		// file first: that is the answer to both.
		return re.Record.File, nil
	case err != nil:
		return catalog.File{}, asAPIError(err)
	}
	return stored, nil
}

// putError maps a failed Put of object to the client's error; the log
// names neither the object nor the store's paths.
func (s *Server) putError(ctx context.Context, err error, src source, object string) *apiError {
	var aerr *apiError
	switch {
	case errors.As(err, &aerr):
		return aerr
	case errors.Is(err, storage.ErrTooLarge):
		return errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("File too large: limit is %d bytes", s.cfg.MaxUploadSize))
	case src.sourceErr() != nil:
		return src.sourceErr()
	}
	s.log.ErrorContext(ctx, "storage write failed", "err", redact(err, object))
	return errorf(http.StatusInternalServerError, "Internal server error: the file could not be stored")
}
