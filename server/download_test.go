package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fileup/fileup/server"
	"github.com/fileup/fileup/storage"
)

// seekFailStore serves objects that cannot seek.
type seekFailStore struct{ storage.Store }

type seekFailObject struct{ io.ReadSeekCloser }

func (seekFailObject) Seek(int64, int) (int64, error) {
	return 0, errors.New("the object cannot seek")
}

func (s seekFailStore) Open(ctx context.Context, key string) (io.ReadSeekCloser, error) {
	o, err := s.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return seekFailObject{o}, nil
}

// uploadText stores a small text file through kie and returns its URL.
func (e *env) uploadText(name, content string) string {
	e.t.Helper()
	resp, body := e.post(kiePath, tokenA, field("uploadPath", "d"), field("fileName", name), file(name, []byte(content)))
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	return decode[kieOK](e.t, body).Data.DownloadUrl
}

// Errors of downloads are JSON envelopes like every other error, including
// those http.ServeContent writes itself.
func TestDownloadErrorsAreEnvelopes(t *testing.T) {
	tests := []struct {
		name     string
		seekFail bool
		headers  []string
		status   int
		msg      string
		hdr      map[string]string // other headers the answer must carry
	}{
		{"unsatisfiable range", false, []string{"Range", "bytes=1000-2000"}, http.StatusRequestedRangeNotSatisfiable,
			"range not satisfiable", map[string]string{"Content-Range": "bytes */11", "Content-Disposition": ""}},
		{"zero-length suffix range", false, []string{"Range", "bytes=-0"}, http.StatusRequestedRangeNotSatisfiable,
			"range not satisfiable", map[string]string{"Content-Range": "bytes */11"}},
		{"failed precondition", false, []string{"If-Match", `"not-the-etag"`}, http.StatusPreconditionFailed,
			"Precondition failed", map[string]string{"Cache-Control": "no-store"}},
		{"object cannot seek", true, nil, http.StatusInternalServerError,
			"Internal server error", map[string]string{"Content-Disposition": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if tt.seekFail {
				e = newEnvWith(t, seekFailStore{e.store}, e.cat, e.root, nil)
			}
			r, b := e.get(e.uploadText("a.txt", "hello world"), tt.headers...)
			wantEnvelope(t, r, b, tt.status, tt.msg)
			for h, want := range tt.hdr {
				if got := r.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			if tt.status >= 500 && !strings.Contains(e.logs.String(), "download failed") {
				t.Errorf("the failure is not logged: %s", e.logs.String())
			}
		})
	}
}

// Ranges cannot make a response larger than the file: 15,000 overlapping
// ranges are merged into one.
func TestDownloadRangeAmplification(t *testing.T) {
	e := newEnv(t, nil)
	url := e.uploadText("r.txt", strings.Repeat("0123456789", 6000))
	resp, body := e.get(url, "Range", "bytes="+strings.TrimSuffix(strings.Repeat("0-0,", 15000), ","))
	if resp.StatusCode != http.StatusPartialContent || string(body) != "0" {
		t.Errorf("15,000 ranges of byte 0: status %d, %d bytes; want 206 and 1 byte", resp.StatusCode, len(body))
	}
	resp, body = e.get(url, "Range", "bytes=0-9,5-19,100-109")
	if resp.StatusCode != http.StatusPartialContent || !strings.Contains(resp.Header.Get("Content-Type"), "multipart/byteranges") ||
		!strings.Contains(string(body), "Content-Range: bytes 0-19/60000") {
		t.Errorf("overlapping ranges not merged: %d %q", resp.StatusCode, body)
	}
}

// A file replaced under its name keeps its URL; the old bytes are served
// to nobody once it is replaced, and the ETag changes.
func TestOverwriteKeepsURL(t *testing.T) {
	e := newEnv(t, nil)
	first := e.uploadText("v.txt", "version one")
	r1, _ := e.get(first)
	second := e.uploadText("v.txt", "version two")
	if first != second {
		t.Fatalf("the URL changed on overwrite: %s, then %s", first, second)
	}
	r2, got := e.get(first)
	if string(got) != "version two" || r1.Header.Get("ETag") == r2.Header.Get("ETag") {
		t.Errorf("after the overwrite: %q, ETag %s then %s", got, r1.Header.Get("ETag"), r2.Header.Get("ETag"))
	}
	nm, _ := e.get(first, "If-None-Match", r1.Header.Get("ETag"))
	if nm.StatusCode != http.StatusOK {
		t.Errorf("If-None-Match with the old ETag: %d, want 200", nm.StatusCode)
	}
}

// A download URL gives nothing away: a random link, no tenant, and the
// neighbouring names of a tenant are not reachable by guessing.
func TestDownloadURLsGiveNothingAway(t *testing.T) {
	e := newEnv(t, nil)
	a := e.uploadText("README.md", "one")
	b := e.uploadText("CHANGES.md", "two")
	tenant := e.tenant(tokenA)
	for _, u := range []string{a, b} {
		if strings.Contains(u, tenant) || strings.Contains(u, "/d/") {
			t.Errorf("URL %s shows the tenant or the upload path", u)
		}
	}
	guess := strings.TrimSuffix(a, "README.md") + "CHANGES.md"
	if resp, _ := e.get(guess); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a neighbour's name under another file's link: %d", resp.StatusCode)
	}
	for _, p := range []string{"/f/" + tenant + "/d/README.md", "/f/x", "/f/", "/f/a/"} {
		if resp, _ := e.get(e.srv.URL + p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
}

// A client that stops reading a download is cut after the write timeout;
// one that reads slowly is not.
func TestDownloadWriteTimeout(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.WriteTimeout = 300 * time.Millisecond })
	const size = 32 << 20 // far more than the socket buffers hold
	resp, body := e.post(kiePath, tokenA, field("uploadPath", "w"), field("fileName", "big.bin"), file("big.bin", randomBytes(size)))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	path := strings.TrimPrefix(decode[kieOK](t, body).Data.DownloadUrl, e.srv.URL)
	get := func(pause time.Duration) int64 {
		conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
		time.Sleep(pause)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		r := bufio.NewReaderSize(conn, 64<<10)
		n, _ := io.Copy(io.Discard, r)
		return n
	}
	if n := get(2 * time.Second); n >= size {
		t.Errorf("a client that read nothing for 2 s received the whole file (%d bytes)", n)
	}
	if n := get(100 * time.Millisecond); n < size {
		t.Errorf("a client that paused 100 ms received %d of %d bytes", n, size)
	}
}

// evolink's download_url serves the file by its id.
func TestDownloadByID(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.post(evolinkPath, tokenA, file("p.png", pngBytes))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	d := decode[evolinkOK](t, body).Data
	if !strings.HasPrefix(*d.DownloadUrl, e.srv.URL+"/api/v1/files/download/file_") {
		t.Fatalf("download_url %s", *d.DownloadUrl)
	}
	r, got := e.get(*d.DownloadUrl)
	if r.StatusCode != http.StatusOK || string(got) != string(pngBytes) || r.Header.Get("Content-Type") != "image/png" {
		t.Errorf("download by id: %d, %d bytes, %s", r.StatusCode, len(got), r.Header.Get("Content-Type"))
	}
	for _, id := range []string{"file_", "file_0123", "abc", strings.TrimPrefix(*d.FileId, "file_")} {
		r, b := e.do(http.MethodGet, "/api/v1/files/download/"+id, "", "", nil)
		wantEnvelope(t, r, b, http.StatusNotFound, "File not found")
	}
}
