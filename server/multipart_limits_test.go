package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// rawForm builds a multipart body part by part, headers as given.
type rawForm struct {
	b bytes.Buffer
}

const rawBoundary = "limits-boundary-7d1e"

func (f *rawForm) part(headers string, data []byte) *rawForm {
	fmt.Fprintf(&f.b, "--%s\r\n%s\r\n\r\n", rawBoundary, headers)
	f.b.Write(data)
	f.b.WriteString("\r\n")
	return f
}

func (f *rawForm) field(name, value string) *rawForm {
	return f.part(`Content-Disposition: form-data; name="`+name+`"`, []byte(value))
}

func (f *rawForm) file(filename string, data []byte) *rawForm {
	return f.part(`Content-Disposition: form-data; name="file"; filename="`+filename+`"`+"\r\nContent-Type: application/octet-stream", data)
}

func (f *rawForm) body() []byte {
	return append(f.b.Bytes(), "--"+rawBoundary+"--\r\n"...)
}

// The form's limits bound what one request can make the server hold: a
// part header over 8 KiB, more than 32 parts and a 100,000-character
// file name (in a part header) are 400 envelopes that store nothing and
// leave the token's usage as it was, before or after the file part.
func TestMultipartLimits(t *testing.T) {
	for _, be := range backends {
		for _, api := range []struct{ name, path, pathField string }{
			{"kie", kiePath, "uploadPath"},
			{"evolink", evolinkPath, "upload_path"},
		} {
			t.Run(be.name+"/"+api.name, func(t *testing.T) {
				e := be.newEnv(t, nil)
				e.uploadPNG(api.path, api.pathField)
				before, objects := e.usage(tokenA), e.stored()

				// many is a form of n parts: the path, the file (second or
				// last) and fields the APIs ignore.
				many := func(n int, fileLast bool) *rawForm {
					f := (&rawForm{}).field(api.pathField, "lim")
					if !fileLast {
						f.file("a.png", pngBytes)
					}
					for i := range n - 2 {
						f.field(fmt.Sprintf("extra%d", i), "x")
					}
					if fileLast {
						f.file("a.png", pngBytes)
					}
					return f
				}
				pad := `Content-Disposition: form-data; name="note"` + "\r\nX-Pad: " + strings.Repeat("p", 8<<10)
				tests := []struct {
					label string
					form  *rawForm
					msg   string
				}{
					{"part header over 8 KiB", (&rawForm{}).part(pad, []byte("x")).field(api.pathField, "lim").file("a.png", pngBytes),
						"Malformed multipart body: a part's headers exceed 8192 bytes"},
					{"part header over 8 KiB after the file", (&rawForm{}).field(api.pathField, "lim").file("a.png", pngBytes).part(pad, []byte("x")),
						"Malformed multipart body: a part's headers exceed 8192 bytes"},
					{"100,000-character file name", (&rawForm{}).field(api.pathField, "lim").file(strings.Repeat("n", 100_000)+".png", pngBytes),
						"Malformed multipart body: a part's headers exceed 8192 bytes"},
					{"33 parts, file first", many(33, false), "Too many form parts (more than 32)"},
					{"33 parts, file last", many(33, true), "Too many form parts (more than 32)"},
				}
				for _, tt := range tests {
					t.Run(tt.label, func(t *testing.T) {
						body := tt.form.body()
						resp, b := e.do(http.MethodPost, api.path, tokenA, "multipart/form-data; boundary="+rawBoundary, bytes.NewReader(body))
						wantEnvelope(t, resp, b, http.StatusBadRequest, tt.msg)
					})
				}
				if u := e.usage(tokenA); u != before {
					t.Errorf("usage %+v after refused forms, want %+v", u, before)
				}
				if objs := e.stored(); len(objs) != len(objects) {
					t.Errorf("objects %v after refused forms, want %v", objs, objects)
				}
				// At the limits: 32 parts, a header just under 8 KiB.
				for _, f := range []*rawForm{
					many(32, false),
					many(32, true),
					(&rawForm{}).part(pad[:len(pad)-200], []byte("x")).field(api.pathField, "lim").file("a.png", pngBytes),
				} {
					resp, b := e.do(http.MethodPost, api.path, tokenA, "multipart/form-data; boundary="+rawBoundary, bytes.NewReader(f.body()))
					if resp.StatusCode != http.StatusOK {
						t.Errorf("a form within the limits: %d %s", resp.StatusCode, b)
					}
				}
			})
		}
	}
}

// uploadPNG stores one image for tokenA through a stream upload route.
func (e *env) uploadPNG(path, pathField string) {
	e.t.Helper()
	resp, body := e.post(path, tokenA, field(pathField, "first"), file("first.png", pngBytes))
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
}
