package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/internal/jsonstream"
	"github.com/fileup/fileup/storage"
)

// base64Fields are each API's JSON field names for a Base64 upload.
// evolink also accepts the camelCase spellings its stream upload
// documents.
var base64Fields = map[string]map[string]string{
	"kie": {"base64Data": "data", "uploadPath": fieldPath, "fileName": fieldName},
	"evolink": {
		"base64_data": "data", "base64Data": "data",
		"upload_path": fieldPath, "uploadPath": fieldPath,
		"file_name": fieldName, "fileName": fieldName,
	},
}

// base64Upload stores a file sent as a JSON object with a Base64 (or data
// URL) field. The body is decoded as it arrives: the Base64 string is
// never held in memory, the size limit is enforced on the decoded bytes as
// they come (413), and the fields may come in any order (those after the
// data are read and checked before the file is stored for good).
func (s *Server) base64Upload(ctx context.Context, rules *apiRules, tenant string, r *http.Request) (catalog.File, *apiError) {
	j := &jsonFields{jr: jsonstream.NewReader(r.Body, jsonstream.Options{}), names: base64Fields[rules.api], f: newForm(rules, nil)}
	if aerr := j.untilData(); aerr != nil {
		return catalog.File{}, aerr
	}
	data, _, err := j.jr.Base64() // the data URL's media type is not trusted
	if err != nil {
		return catalog.File{}, jsonReadError(err, j.field)
	}
	head := bufio.NewReaderSize(data, 4<<10)
	j.head = head
	contentType, aerr := sniff(head, rules, func(err error) *apiError { return jsonReadError(err, j.field) })
	if aerr != nil {
		return catalog.File{}, aerr
	}
	in := s.newIngest(tenant)
	if j.f.known() { // refuse a bad name before receiving the file
		if in.path, in.name, aerr = j.f.place(in.id, "", contentType); aerr != nil {
			return catalog.File{}, aerr
		}
	}
	// Base64 takes 4 bytes for 3: the body bounds the file's size.
	opts := storage.PutOptions{Size: -1, SizeHint: max(-1, r.ContentLength/4*3+3), ContentType: contentType}
	return s.receive(ctx, in, j, opts, func() (string, string, *apiError) {
		return j.f.place(in.id, "", contentType)
	}, catalog.File{ContentType: contentType})
}

// jsonFields reads a Base64 upload's JSON object: the fields before the
// data, the data itself as the upload's source, then the fields after it.
type jsonFields struct {
	jr       *jsonstream.Reader
	names    map[string]string
	f        *form
	field    string        // the data field's name as sent
	head     *bufio.Reader // the decoded data
	finished bool
	err      *apiError
}

// untilData reads fields up to the data field.
func (j *jsonFields) untilData() *apiError {
	for {
		name, err := j.jr.Next()
		if err == io.EOF {
			return errorf(http.StatusBadRequest, "Missing required parameter: "+j.f.rules.dataField)
		}
		if err != nil {
			return jsonReadError(err, name)
		}
		if j.names[name] == "data" {
			j.field = name
			return nil
		}
		if aerr := j.field1(name); aerr != nil {
			return aerr
		}
	}
}

// field1 reads one field other than the data (unknown ones are skipped).
func (j *jsonFields) field1(name string) *apiError {
	canon, ok := j.names[name]
	switch {
	case !ok:
		return nil
	case canon == "data":
		return errorf(http.StatusBadRequest, "Only one file per request is accepted: the data field was sent twice")
	}
	v, err := j.jr.String(maxFieldSize)
	if err != nil {
		return jsonReadError(err, name)
	}
	return j.f.set(name, canon, v)
}

// finish reads the fields after the data, to the end of the object.
func (j *jsonFields) finish() *apiError {
	for {
		name, err := j.jr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return jsonReadError(err, name)
		}
		if aerr := j.field1(name); aerr != nil {
			return aerr
		}
	}
}

// Read reads the decoded data; at its end it reads and checks the rest
// of the object before reporting EOF, so a bad request fails the Put.
func (j *jsonFields) Read(p []byte) (int, error) {
	n, err := j.head.Read(p)
	switch {
	case err == io.EOF && !j.finished:
		j.finished = true
		if aerr := j.finish(); aerr != nil {
			j.err = aerr
			return n, aerr
		}
	case err != nil && err != io.EOF:
		j.err = jsonReadError(err, j.field)
	}
	return n, err
}

func (j *jsonFields) sourceErr() *apiError { return j.err }

// jsonReadError maps an error reading a JSON body (field is the field
// being read) to the client's error.
func jsonReadError(err error, field string) *apiError {
	var je *jsonstream.Error
	switch {
	case errors.Is(err, jsonstream.ErrInvalidBase64) && errors.As(err, &je):
		// kie's own wording for this error, and where it is.
		return errorf(http.StatusBadRequest, fmt.Sprintf("Base64 decoding failed: Invalid Base64 format (%s, at byte %d of the body)", clipMessage(je.Detail), je.Offset))
	case errors.Is(err, jsonstream.ErrInvalidBase64):
		return errorf(http.StatusBadRequest, "Base64 decoding failed: Invalid Base64 format")
	case errors.Is(err, jsonstream.ErrNotString):
		return errorf(http.StatusBadRequest, fmt.Sprintf("Invalid JSON: %s must be a string", quoteField(field)))
	case errors.Is(err, jsonstream.ErrTooLong):
		return errorf(http.StatusBadRequest, fmt.Sprintf("Field %s is longer than %d bytes", quoteField(field), maxFieldSize))
	case errors.As(err, &je):
		return errorf(http.StatusBadRequest, "Invalid JSON: "+clipMessage(je.Error()))
	}
	return classifyReadError(err)
}
