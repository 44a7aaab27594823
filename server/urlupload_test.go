package server_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fileup/fileup/server"
)

// origin is a local HTTP server URL uploads fetch from; it counts the
// requests it receives.
type origin struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []string
}

// newOrigin serves h on addr ("127.0.0.1:0", "127.0.0.2:0"...).
func newOrigin(t *testing.T, addr string, h http.HandlerFunc) *origin {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	o := &origin{}
	o.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.hits = append(o.hits, r.URL.Path)
		o.mu.Unlock()
		h(w, r)
	}))
	o.srv.Listener.Close()
	o.srv.Listener = ln
	o.srv.Start()
	t.Cleanup(o.srv.Close)
	return o
}

func (o *origin) requests() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.hits...)
}

// files an origin serves, each with a Content-Type that lies.
func originFiles(limit int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case strings.HasSuffix(p, ".png"):
			w.Header().Set("Content-Type", "text/html")
			w.Write(pngBytes)
		case p == "/text":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("plain text, whatever the header says"))
		case p == "/big": // declared too large
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("Content-Length", strconv.Itoa(limit+1))
			w.Write(append(append([]byte{}, pngBytes...), make([]byte, limit+1-len(pngBytes))...))
		case p == "/big-chunked": // too large, found out while streaming
			w.Write(pngBytes)
			w.(http.Flusher).Flush()
			w.Write(make([]byte, limit+1-len(pngBytes)))
		case strings.HasPrefix(p, "/redirect/"):
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}
}

var allowLoopback1 = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

var urlAPIs = []jsonAPI{
	{"kie", kieURLPath, "fileUrl", "uploadPath", "fileName"},
	{"evolink", evolinkURLPath, "file_url", "upload_path", "file_name"},
}

// URL uploads of both vendors from an origin the operator allowed: the
// type comes from the bytes (the origin's Content-Type lies), the name
// from the URL unless one is given.
func TestURLUpload(t *testing.T) {
	o := newOrigin(t, "127.0.0.1:0", originFiles(0))
	for _, a := range urlAPIs {
		t.Run(a.api, func(t *testing.T) {
			e := newEnv(t, func(c *server.Config) { c.FetchAllow = allowLoopback1 })
			tests := []struct {
				label    string
				kv       []string
				dir, nm  string
				original string
			}{
				{"name from the URL", []string{a.pathField, "u", a.data, o.srv.URL + "/pics/photo.png"}, "u", "photo.png", "photo.png"},
				{"name given", []string{a.data, o.srv.URL + "/pics/photo.png", a.pathField, "u", a.nameField, "mine.png"}, "u", "mine.png", "photo.png"},
				{"percent-encoded name", []string{a.pathField, "u", a.data, o.srv.URL + "/a%20b.png?x=1"}, "u", "a b.png", "a b.png"},
			}
			if a.api == "evolink" {
				tests = append(tests, struct {
					label    string
					kv       []string
					dir, nm  string
					original string
				}{"no path: by type", []string{a.data, o.srv.URL + "/photo.png"}, "images/png", "photo.png", "photo.png"})
			}
			for _, tt := range tests {
				t.Run(tt.label, func(t *testing.T) {
					resp, body := e.postJSON(a.path, tokenA, jsonObject(t, tt.kv...))
					got := decodeUpload(t, a.api, resp, body)
					if got.path != tt.dir || got.name != tt.nm || got.mime != "image/png" || got.size != int64(len(pngBytes)) {
						t.Errorf("stored %+v, want %s/%s, image/png (sniffed, not the origin's text/html)", got, tt.dir, tt.nm)
					}
					if a.api == "evolink" && got.original != tt.original {
						t.Errorf("original_name = %q, want %q", got.original, tt.original)
					}
					if _, content := e.get(got.url); !bytes.Equal(content, pngBytes) {
						t.Errorf("downloaded %q", content)
					}
				})
			}
		})
	}
	t.Run("kie text served as image/png", func(t *testing.T) {
		e := newEnv(t, func(c *server.Config) { c.FetchAllow = allowLoopback1 })
		resp, body := e.postJSON(kieURLPath, tokenA, jsonObject(t, "uploadPath", "u", "fileUrl", o.srv.URL+"/text"))
		if got := decodeUpload(t, "kie", resp, body); got.mime != "text/plain; charset=utf-8" {
			t.Errorf("mimeType %q, want text/plain from the bytes", got.mime)
		}
	})
	t.Run("evolink refuses text served as image/png", func(t *testing.T) {
		e := newEnv(t, func(c *server.Config) { c.FetchAllow = allowLoopback1 })
		resp, body := e.postJSON(evolinkURLPath, tokenA, jsonObject(t, "file_url", o.srv.URL+"/text"))
		wantEnvelope(t, resp, body, http.StatusBadRequest, "Unsupported file type text/plain")
		e.wantNothingStored(tokenA)
	})
}

// Without --fetch-allow a loopback origin is refused before any request
// reaches it.
func TestURLUploadRefusesLoopbackByDefault(t *testing.T) {
	o := newOrigin(t, "127.0.0.1:0", originFiles(0))
	e := newEnv(t, nil)
	for _, a := range urlAPIs {
		resp, body := e.postJSON(a.path, tokenA, jsonObject(t, a.pathField, "u", a.data, o.srv.URL+"/photo.png"))
		wantEnvelope(t, resp, body, http.StatusBadRequest, "the address is not public")
	}
	if hits := o.requests(); len(hits) != 0 {
		t.Errorf("the origin was asked for %v", hits)
	}
	e.wantNothingStored(tokenA)
}

// A redirect from the allowed origin to an address that is not allowed
// is refused without connecting to it, and neither the answer nor the
// log names the address the redirect pointed at (the client only knows
// the origin's URL).
func TestURLUploadRedirectsToRefusedAddresses(t *testing.T) {
	o := newOrigin(t, "127.0.0.1:0", originFiles(0))
	// Another loopback address, not allowed, serving what was asked.
	other := newOrigin(t, "127.0.0.2:0", originFiles(0))
	_, otherPort, _ := net.SplitHostPort(other.srv.Listener.Addr().String())
	e := newEnv(t, func(c *server.Config) { c.FetchAllow = allowLoopback1 })
	targets := []struct {
		to, hidden, msg string
	}{
		{other.srv.URL + "/photo.png", "127.0.0.2", "the address is not public (after 1 redirect)"},
		{"http://169.254.169.254/latest/meta-data/iam/", "169.254.169.254", "the address is not public (after 1 redirect)"},
		{"http://10.0.0.1/internal.png", "10.0.0.1", "the address is not public (after 1 redirect)"},
		{"http://[::ffff:10.0.0.1]/x.png", "10.0.0.1", "IPv4-mapped IPv6 addresses are not fetched (after 1 redirect)"},
		{"http://localhost:" + otherPort + "/photo.png", "localhost", "the name is reserved for this host (after 1 redirect)"},
		{"file:///etc/passwd", "/etc/passwd", "only http and https URLs can be fetched (after 1 redirect)"},
	}
	for _, tt := range targets {
		for _, a := range urlAPIs {
			t.Run(a.api+" "+tt.to, func(t *testing.T) {
				u := o.srv.URL + "/redirect/?to=" + urlQueryEscape(tt.to)
				resp, body := e.postJSON(a.path, tokenA, jsonObject(t, a.pathField, "u", a.data, u))
				wantEnvelope(t, resp, body, http.StatusBadRequest, tt.msg)
				if strings.Contains(string(body), tt.hidden) {
					t.Errorf("the answer names %s: %s", tt.hidden, body)
				}
			})
		}
	}
	if hits := other.requests(); len(hits) != 0 {
		t.Errorf("the refused loopback address was asked for %v", hits)
	}
	logs := e.logs.String()
	for _, tt := range targets {
		if strings.Contains(logs, tt.hidden) {
			t.Errorf("the log names %s:\n%s", tt.hidden, logs)
		}
	}
	e.wantNothingStored(tokenA)
}

func urlQueryEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "?", "%3F", "#", "%23", "+", "%2B", " ", "%20")
	return r.Replace(s)
}

// A remote file over the limit is 413, whether the origin declares its
// length or not; a remote error is a 400 naming the remote's status.
func TestURLUploadRemoteFailures(t *testing.T) {
	const limit = 64 << 10
	o := newOrigin(t, "127.0.0.1:0", originFiles(limit))
	for _, be := range backends {
		for _, a := range urlAPIs {
			t.Run(be.name+"/"+a.api, func(t *testing.T) {
				e := be.newEnv(t, func(c *server.Config) { c.FetchAllow, c.MaxUploadSize = allowLoopback1, limit })
				tests := []struct {
					path   string
					status int
					msg    string
				}{
					{"/big", http.StatusRequestEntityTooLarge, fmt.Sprintf("File too large: limit is %d bytes", limit)},
					{"/big-chunked", http.StatusRequestEntityTooLarge, fmt.Sprintf("File too large: limit is %d bytes", limit)},
					{"/missing", http.StatusBadRequest, "the remote answered 404 Not Found"},
				}
				for _, tt := range tests {
					resp, body := e.postJSON(a.path, tokenA, jsonObject(t, a.pathField, "u", a.data, o.srv.URL+tt.path))
					wantEnvelope(t, resp, body, tt.status, tt.msg)
				}
				e.wantNothingStored(tokenA)
			})
		}
	}
}

// Malformed URL upload requests are 400 envelopes.
func TestURLUploadBadRequests(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.FetchAllow = allowLoopback1 })
	for _, a := range urlAPIs {
		tests := []struct {
			label, body, msg string
		}{
			{"missing URL", jsonObject(t, a.pathField, "u"), "Missing required parameter: " + a.data},
			{"URL not a string", `{"` + a.data + `":1}`, "must be a string"},
			{"not JSON", `fileUrl=http://example.com/`, "Invalid JSON"},
			{"two values", `{"` + a.data + `":"http://127.0.0.1/"} {}`, "more than one value"},
			{"ftp", jsonObject(t, a.pathField, "u", a.data, "ftp://127.0.0.1/x.png"), "only http and https"},
			{"credentials", jsonObject(t, a.pathField, "u", a.data, "http://user:pw@127.0.0.1/x.png"), "credentials in the URL"},
		}
		for _, tt := range tests {
			t.Run(a.api+" "+tt.label, func(t *testing.T) {
				resp, body := e.postJSON(a.path, tokenA, tt.body)
				wantEnvelope(t, resp, body, http.StatusBadRequest, tt.msg)
			})
		}
	}
	e.wantNothingStored(tokenA)
}
