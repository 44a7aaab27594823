package wrapper

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"slices"
	"strings"
	"unicode/utf8"
)

// NewBase64Body opens src and returns the JSON body of a Base64 upload:
// an object with fields (string values, in order), then the file as a
// data URL, "data:<type>;base64,<base64 of the file>", in the field
// opts.FileField (default "base64Data", kie's name; evolink's is
// "base64_data"). Both vendors document the data URL form. The type is
// opts.ContentType, or detected from the first 512 bytes as for NewBody,
// written without spaces and with only the parameters a data URL can
// carry unquoted.
//
// The body is the JSON text before the data, the file encoded as it is
// read, and the closing quote and brace: with a known size its exact
// length is known (Len), as 4 base64 characters carry 3 bytes; with an
// unknown size it is sent chunked. Its memory does not depend on the file
// size, and a replayable source's body replays like NewBody's. Field
// names and values must be valid UTF-8 (JSON cannot carry anything
// else). Close it if it is not sent.
func NewBase64Body(src Source, fields []Field, opts BodyOptions) (*Body, error) {
	for _, f := range fields {
		if !utf8.ValidString(f.Name) || !utf8.ValidString(f.Value) {
			return nil, fmt.Errorf("wrapper: field %q is not valid UTF-8, which a JSON body cannot carry", clip(f.Name, 100))
		}
	}
	if opts.FileField == "" {
		opts.FileField = "base64Data"
	}
	return openBody(src, opts, jsonFrame(fields))
}

// jsonFrame frames a file as the base64 data URL of the last field of a
// JSON object.
func jsonFrame(fields []Field) framer {
	return func(_, ct string, opts BodyOptions) (frame, error) {
		mt, err := dataURLType(ct)
		if err != nil {
			return frame{}, err
		}
		var h bytes.Buffer
		h.WriteByte('{')
		for _, f := range fields {
			writeJSONString(&h, f.Name)
			h.WriteByte(':')
			writeJSONString(&h, f.Value)
			h.WriteByte(',')
		}
		writeJSONString(&h, opts.FileField)
		h.WriteString(`:"data:` + mt + `;base64,`)
		return frame{contentType: "application/json", header: h.Bytes(), trailer: []byte(`"}`), encode: true}, nil
	}
}

// writeJSONString writes s, valid UTF-8, as a JSON string.
func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always marshals
	b.Write(q)
}

// maxDataURLType bounds a data URL's media type: servers bound it too
// (fileup serve at 256 bytes).
const maxDataURLType = 200

// dataURLType turns a Content-Type into a data URL's media type: the
// type/subtype, and the parameters whose value is a token (a quoted
// value could hold the comma that ends the media type), joined by ';'
// without spaces, within maxDataURLType bytes.
func dataURLType(ct string) (string, error) {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return "", fmt.Errorf("wrapper: Content-Type %q is not a media type: %w", clip(ct, 100), err)
	}
	if len(mt) > maxDataURLType {
		return "", fmt.Errorf("wrapper: Content-Type %q is longer than %d bytes", clip(ct, 100), maxDataURLType)
	}
	var b strings.Builder
	b.WriteString(mt)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		v := params[k]
		if isToken(v) && b.Len()+len(k)+len(v)+2 <= maxDataURLType {
			b.WriteString(";" + k + "=" + v)
		}
	}
	return b.String(), nil
}

// isToken reports whether s is an RFC 2045 token: printable ASCII
// without spaces or tspecials.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// base64Len is the length of the padded standard base64 of n bytes, or
// -1 for an unknown n.
func base64Len(n int64) int64 {
	if n < 0 {
		return -1
	}
	return (n + 2) / 3 * 4
}

// base64Encoder is an io.Reader of the padded standard base64 of what it
// reads from r. It holds 24 KiB of r and their 32 KiB encoding, whatever
// r's length. An error of r other than io.EOF is returned as is, and the
// encoding of the bytes before it is then never completed.
type base64Encoder struct {
	r    io.Reader
	raw  []byte // raw[:nraw] is read and not yet encoded
	nraw int
	out  []byte // out[i:j] is encoded and not yet returned
	i, j int
	eof  bool // r is exhausted and every byte of it encoded
}

const base64Chunk = 24 << 10 // a multiple of 3

func newBase64Encoder(r io.Reader) *base64Encoder {
	return &base64Encoder{r: r, raw: make([]byte, base64Chunk), out: make([]byte, base64Len(base64Chunk))}
}

// Read returns encoded bytes, reading r once when none are pending.
func (e *base64Encoder) Read(p []byte) (int, error) {
	if e.i == e.j {
		if e.eof {
			return 0, io.EOF
		}
		if err := e.fill(); err != nil {
			return 0, err
		}
		if e.i == e.j && e.eof {
			return 0, io.EOF
		}
	}
	n := copy(p, e.out[e.i:e.j])
	e.i += n
	return n, nil
}

// fill reads r once and encodes the whole quanta read; at r's end, the
// rest too, padded.
func (e *base64Encoder) fill() error {
	k, err := e.r.Read(e.raw[e.nraw:])
	e.nraw += k
	if err != nil && err != io.EOF {
		return err
	}
	m := e.nraw / 3 * 3
	if err == io.EOF {
		m, e.eof = e.nraw, true
	}
	base64.StdEncoding.Encode(e.out, e.raw[:m])
	e.i, e.j = 0, base64.StdEncoding.EncodedLen(m)
	e.nraw = copy(e.raw, e.raw[m:e.nraw])
	return nil
}
