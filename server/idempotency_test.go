package server_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/fileup/fileup/server"
)

// withKey sends a request through e's validating client with an
// Idempotency-Key (values as given: none, one or several).
func (e *env) withKey(method, path, token, contentType string, body []byte, keys ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header[server.IdempotencyHeader] = keys
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

// evolinkID is the file_id of an evolink 200 answer.
func (e *env) evolinkID(resp *http.Response, body []byte) (id, url string) {
	e.t.Helper()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	d := decode[evolinkOK](e.t, body).Data
	return *d.FileId, *d.FileUrl
}

// A retry with the same Idempotency-Key gets the first answer: the same
// file id and URL, one file stored and charged once, even when the retry
// sends other bytes. Keys are per token and per operation.
func TestIdempotencyKey(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { testIdempotencyKey(t, be.newEnv(t, func(c *server.Config) { c.QuotaFiles = 10 })) })
	}
}

func testIdempotencyKey(t *testing.T, e *env) {
	const key = "upload-2026-11-01-0001"
	img := append(append([]byte{}, pngBytes...), "first"...)
	ct, first := formBody(t, field("upload_path", "idem"), file("a.png", img))
	id1, url1 := e.evolinkID(e.withKey(http.MethodPost, evolinkPath, tokenA, ct, first, key))
	ct2, other := formBody(t, field("upload_path", "idem"), field("file_name", "b.png"), file("b.png", pngBytes))
	id2, url2 := e.evolinkID(e.withKey(http.MethodPost, evolinkPath, tokenA, ct2, other, key))
	if id1 != id2 || url1 != url2 {
		t.Errorf("the retry got file %s at %s, want the first answer %s at %s", id2, url2, id1, url1)
	}
	if _, got := e.get(url1); !bytes.Equal(got, img) {
		t.Errorf("the file holds %q, want the first upload's bytes", got)
	}
	if u := e.usage(tokenA); u.Files != 1 || u.Bytes != int64(len(img)) {
		t.Errorf("usage %+v, want the one file charged once", u)
	}
	if objs := e.stored(); len(objs) != 1 {
		t.Errorf("objects %v, want one", objs)
	}

	// The same key with another token, or on another operation, is a
	// new upload.
	idB, _ := e.evolinkID(e.withKey(http.MethodPost, evolinkPath, tokenB, ct, first, key))
	b64Body := jsonObject(t, "upload_path", "idem", "base64_data", b64(img))
	idBase64, _ := e.evolinkID(e.withKey(http.MethodPost, evolinkBase64Path, tokenA, "application/json", []byte(b64Body), key))
	kct, kbody := formBody(t, field("uploadPath", "idem"), field("fileName", "k.png"), file("k.png", img))
	resp, body := e.withKey(http.MethodPost, kiePath, tokenA, kct, kbody, key)
	kieURL := decodeUpload(t, "kie", resp, body).url
	if idB == id1 || idBase64 == id1 || kieURL == url1 {
		t.Errorf("a key reused across tokens or operations replayed the first file: %s %s %s", idB, idBase64, kieURL)
	}
	if u := e.usage(tokenA); u.Files != 3 {
		t.Errorf("token A stores %d files, want 3 (stream, base64, kie)", u.Files)
	}
	if u := e.usage(tokenB); u.Files != 1 {
		t.Errorf("token B stores %d files, want 1", u.Files)
	}
	// Each of those is replayed in its own scope.
	if id, _ := e.evolinkID(e.withKey(http.MethodPost, evolinkBase64Path, tokenA, "application/json", []byte(b64Body), key)); id != idBase64 {
		t.Errorf("base64 retry got %s, want %s", id, idBase64)
	}
	if id, _ := e.evolinkID(e.withKey(http.MethodPost, evolinkPath, tokenB, ct, first, key)); id != idB {
		t.Errorf("token B's retry got %s, want %s", id, idB)
	}
}

// Keys that are too long, empty, not printable ASCII or sent twice are
// refused with 400 and store nothing; 255 printable bytes are accepted.
func TestIdempotencyKeyInvalid(t *testing.T) {
	e := newEnv(t, nil)
	ct, body := formBody(t, field("uploadPath", "k"), file("a.txt", []byte("x")))
	tests := []struct {
		label string
		keys  []string
		msg   string
	}{
		{"256 bytes", []string{strings.Repeat("k", 256)}, "1 to 255 characters"},
		{"empty", []string{""}, "1 to 255 characters"},
		{"space", []string{"two words"}, "printable ASCII only"},
		{"non-ASCII", []string{"schlüssel"}, "printable ASCII only"},
		{"twice", []string{"a", "b"}, "sent more than once"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			resp, b := e.withKey(http.MethodPost, kiePath, tokenA, ct, body, tt.keys...)
			wantEnvelope(t, resp, b, http.StatusBadRequest, "Invalid Idempotency-Key: "+tt.msg)
		})
	}
	e.wantNothingStored(tokenA)
	resp, b := e.withKey(http.MethodPost, kiePath, tokenA, ct, body, strings.Repeat("k", 255))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("a key of 255 bytes: %d %s", resp.StatusCode, b)
	}
}

// dropProxy forwards each connection to target, reads the server's whole
// answer to its first request, and closes the client's connection without
// passing the answer on: a response lost on the way back.
type dropProxy struct {
	ln      net.Listener
	answers chan int // the status of each answer dropped
}

func newDropProxy(t *testing.T, target string) *dropProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{ln: ln, answers: make(chan int, 16)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.drop(c, target)
		}
	}()
	return p
}

func (p *dropProxy) drop(c net.Conn, target string) {
	defer c.Close()
	s, err := net.Dial("tcp", target)
	if err != nil {
		p.answers <- 0
		return
	}
	defer s.Close()
	go io.Copy(s, c)
	resp, err := http.ReadResponse(bufio.NewReader(s), nil)
	if err != nil {
		p.answers <- 0
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	p.answers <- resp.StatusCode
}

// An upload whose answer is lost (the server stored the file, the client
// never heard) and its retry with the same key store one file, charged
// once, and the retry is told about that file.
func TestIdempotencyKeyLostAnswer(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			testIdempotencyKeyLostAnswer(t, be.newEnv(t, func(c *server.Config) { c.QuotaFiles = 10 }))
		})
	}
}

func testIdempotencyKeyLostAnswer(t *testing.T, e *env) {
	proxy := newDropProxy(t, e.srv.Listener.Addr().String())
	// No file name: a retry stored anew would be a second file.
	ct, body := formBody(t, field("upload_path", "lost"), file("l.png", pngBytes))
	const key = "lost-answer-1"

	req, _ := http.NewRequest(http.MethodPost, "http://"+proxy.ln.Addr().String()+evolinkPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+tokenA)
	req.Header.Set(server.IdempotencyHeader, key)
	direct := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // no reused connection, so no transparent retry
	if resp, err := direct.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the proxy passed an answer on: %d", resp.StatusCode)
	}
	if status := <-proxy.answers; status != http.StatusOK {
		t.Fatalf("the server answered the first request %d, want 200 (stored)", status)
	}

	id, url := e.evolinkID(e.withKey(http.MethodPost, evolinkPath, tokenA, ct, body, key))
	if _, err := e.cat.FileByID(context.Background(), strings.TrimPrefix(id, "file_"), e.now.Now()); err != nil {
		t.Errorf("the retry answered %s, which the catalog does not hold: %v", id, err)
	}
	if u := e.usage(tokenA); u.Files != 1 || u.Bytes != int64(len(pngBytes)) {
		t.Errorf("usage %+v after a lost answer and its retry, want one file charged once", u)
	}
	if objs := e.stored(); len(objs) != 1 {
		t.Errorf("objects %v, want one", objs)
	}
	if _, got := e.get(url); !bytes.Equal(got, pngBytes) {
		t.Errorf("download %q", got)
	}
}

// Two requests with one key in flight at once: the one that commits
// second is answered with the first one's file, and its own bytes are
// dropped.
func TestIdempotencyKeyConcurrentRetries(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			testIdempotencyKeyConcurrentRetries(t, be.newEnv(t, func(c *server.Config) { c.QuotaFiles = 10 }))
		})
	}
}

func testIdempotencyKeyConcurrentRetries(t *testing.T, e *env) {
	hdr := http.Header{server.IdempotencyHeader: {"concurrent-1"}}
	a := e.startForm(evolinkPath, tokenA, hdr, field("upload_path", "c"))
	a.write(pngBytes)
	b := e.startForm(evolinkPath, tokenA, hdr, field("upload_path", "c"))
	b.write(pngBytes)
	e.waitInFlight(2) // both passed the key check before either stored
	a.write([]byte("a"))
	sa, ba := a.finish()
	b.write([]byte("b"))
	sb, bb := b.finish()
	if sa != http.StatusOK || sb != http.StatusOK {
		t.Fatalf("answers %d %s and %d %s, want 200 twice", sa, ba, sb, bb)
	}
	ida, _ := e.evolinkID(&http.Response{StatusCode: sa}, ba)
	idb, _ := e.evolinkID(&http.Response{StatusCode: sb}, bb)
	if ida != idb {
		t.Errorf("concurrent retries stored %s and %s, want one file", ida, idb)
	}
	if u := e.usage(tokenA); u.Files != 1 || u.Bytes != int64(len(pngBytes))+1 {
		t.Errorf("usage %+v, want one file", u)
	}
	if objs := e.stored(); len(objs) != 1 {
		t.Errorf("objects %v, want the first upload's only", objs)
	}
}
