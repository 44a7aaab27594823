package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/fileup/fileup/server"
)

// jsonAPI is one vendor's JSON upload route and its field names: data
// is the Base64 field or the URL field.
type jsonAPI struct {
	api, path                  string
	data, pathField, nameField string
}

var base64APIs = []jsonAPI{
	{"kie", kieBase64Path, "base64Data", "uploadPath", "fileName"},
	{"evolink", evolinkBase64Path, "base64_data", "upload_path", "file_name"},
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// Base64 uploads of both vendors: plain base64 and data URLs, fields in
// any order, the type taken from the decoded bytes; every malformed
// request is a 400 envelope that stores nothing.
func TestBase64Upload(t *testing.T) {
	for _, a := range base64APIs {
		t.Run(a.api, func(t *testing.T) {
			e := newEnv(t, nil)
			ok := []struct {
				name string
				kv   []string
			}{
				{"plain base64", []string{a.pathField, "b64", a.nameField, "p.png", a.data, b64(pngBytes)}},
				{"data URL", []string{a.pathField, "b64", a.nameField, "p.png", a.data, "data:image/png;base64," + b64(pngBytes)}},
				{"fields after the data", []string{a.data, b64(pngBytes), a.pathField, "b64", a.nameField, "p.png"}},
				{"data between the fields", []string{a.pathField, "b64", a.data, b64(pngBytes), a.nameField, "p.png"}},
				// The data URL says GIF; the bytes are a PNG: the bytes win.
				{"type from the bytes", []string{a.pathField, "b64", a.nameField, "p.png", a.data, "data:image/gif;base64," + b64(pngBytes)}},
			}
			for _, tc := range ok {
				t.Run(tc.name, func(t *testing.T) {
					resp, body := e.postJSON(a.path, tokenA, jsonObject(t, tc.kv...))
					got := decodeUpload(t, a.api, resp, body)
					if got.path != "b64" || got.name != "p.png" || got.mime != "image/png" || got.size != int64(len(pngBytes)) {
						t.Errorf("stored %+v, want b64/p.png, image/png, %d bytes", got, len(pngBytes))
					}
					if _, content := e.get(got.url); !bytes.Equal(content, pngBytes) {
						t.Errorf("downloaded %q, want the PNG", content)
					}
				})
			}
			if u := e.usage(tokenA); u.Files != 1 || u.Bytes != int64(len(pngBytes)) {
				t.Errorf("usage %+v after overwriting one name: want 1 file", u)
			}
		})
	}
}

func TestBase64BadRequests(t *testing.T) {
	for _, a := range base64APIs {
		t.Run(a.api, func(t *testing.T) {
			e := newEnv(t, nil)
			obj := func(kv ...string) string { return jsonObject(t, kv...) }
			png := b64(pngBytes)
			tests := []struct {
				name, body, msg string
			}{
				{"invalid base64", obj(a.pathField, "x", a.data, "iVBO*w0K"), "Base64 decoding failed: Invalid Base64 format"},
				{"invalid base64 in a data URL", obj(a.pathField, "x", a.data, "data:image/png;base64,%%%%"), "Invalid Base64"},
				{"truncated JSON", `{"` + a.pathField + `":"x","` + a.data + `":"` + png[:20], "the request body ended early"},
				{"not an object", `["` + png + `"]`, "Invalid JSON"},
				{"not JSON", `uploadPath=x&data=` + png, "Invalid JSON"},
				{"trailing comma", `{"` + a.pathField + `":"x","` + a.data + `":"` + png + `",}`, "Invalid JSON"},
				{"data not a string", `{"` + a.pathField + `":"x","` + a.data + `":12}`, "must be a string"},
				{"path not a string", `{"` + a.pathField + `":["x"],"` + a.data + `":"` + png + `"}`, "must be a string"},
				{"data twice", obj(a.pathField, "x", a.data, png, a.data, png), "the data field was sent twice"},
				{"missing data", obj(a.pathField, "x", a.nameField, "n.png"), "Missing required parameter: " + a.data},
				{"empty object", `{}`, "Missing required parameter: " + a.data},
				{"bad path after the data", obj(a.data, png, a.pathField, "../x"), "Invalid " + a.pathField},
			}
			if a.api == "evolink" {
				tests = append(tests, []struct{ name, body, msg string }{
					// Both spellings of the data field are the same field.
					{"data twice, two spellings", obj("base64_data", png, "base64Data", png), "the data field was sent twice"},
					{"text", obj(a.data, b64([]byte("just some text"))), "Unsupported file type text/plain"},
					{"text in an image data URL", obj(a.data, "data:image/png;base64,"+b64([]byte("<html><script>alert(1)</script>"))), "Unsupported file type text/html"},
				}...)
			} else {
				tests = append(tests, struct{ name, body, msg string }{"missing uploadPath", obj(a.data, png), "Missing required parameter: uploadPath"})
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					resp, body := e.postJSON(a.path, tokenA, tt.body)
					wantEnvelope(t, resp, body, http.StatusBadRequest, tt.msg)
				})
			}
			e.wantNothingStored(tokenA)
		})
	}
}

// kie stores any type; what it records is what the bytes are, not what a
// data URL claims.
func TestBase64KieSniffsText(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.postJSON(kieBase64Path, tokenA, jsonObject(t, "uploadPath", "t", "fileName", "a.png",
		"base64Data", "data:image/png;base64,"+b64([]byte("plain text, not a picture"))))
	if got := decodeUpload(t, "kie", resp, body); got.mime != "text/plain; charset=utf-8" {
		t.Errorf("mimeType = %q, want text/plain from the bytes", got.mime)
	}
}

// The size limit holds on the decoded bytes: a file of exactly
// MaxUploadSize is stored, one byte more is 413 and stores nothing.
func TestBase64SizeLimit(t *testing.T) {
	const limit = 64 << 10
	for _, be := range backends {
		for _, a := range base64APIs {
			t.Run(be.name+"/"+a.api, func(t *testing.T) {
				testBase64SizeLimit(t, be.newEnv(t, func(c *server.Config) { c.MaxUploadSize = limit }), a, limit)
			})
		}
	}
}

func testBase64SizeLimit(t *testing.T, e *env, a jsonAPI, limit int) {
	file := func(n int) []byte { // an image, for evolink
		return append(append([]byte{}, pngBytes...), randomBytes(n-len(pngBytes))...)
	}
	resp, body := e.postJSON(a.path, tokenA, jsonObject(t, a.pathField, "s", a.data, b64(file(limit+1))))
	wantEnvelope(t, resp, body, http.StatusRequestEntityTooLarge, fmt.Sprintf("File too large: limit is %d bytes", limit))
	e.wantNothingStored(tokenA)

	resp, body = e.postJSON(a.path, tokenA, jsonObject(t, a.pathField, "s", a.data, b64(file(limit))))
	if got := decodeUpload(t, a.api, resp, body); got.size != int64(limit) {
		t.Errorf("size %d, want %d", got.size, limit)
	}
}

// A Base64 body far over the limit is refused while it is still being
// sent: the server answers 413 with the client's body unfinished, so it
// neither waits for nor holds the whole body.
func TestBase64TooLargeMidStream(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			const limit = 64 << 10
			testBase64TooLargeMidStream(t, be.newEnv(t, func(c *server.Config) { c.MaxUploadSize = limit }), limit)
		})
	}
}

func testBase64TooLargeMidStream(t *testing.T, e *env, limit int) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	answered := make(chan struct{})
	wrote := make(chan error, 1)
	go func() {
		_, err := io.WriteString(pw, `{"uploadPath":"s","base64Data":"`+b64(randomBytes(4*limit)))
		select { // the rest of the document never comes before the answer
		case <-answered:
		case <-ctx.Done():
		}
		pw.CloseWithError(errors.New("the test ended the body"))
		wrote <- err
	}()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+kieBase64Path, pr)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tokenA)
	resp, err := e.client.Do(req)
	close(answered)
	pr.CloseWithError(errors.New("answered"))
	<-wrote
	if err != nil {
		t.Fatalf("no answer while the body was unfinished: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantEnvelope(t, resp, body, http.StatusRequestEntityTooLarge, "File too large")
	if resp.Header.Get("Connection") != "close" && !resp.Close {
		t.Error("the connection of an unread body is kept open")
	}
	e.wantNothingStored(tokenA)
}
