package fetch_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fileup/fileup/internal/fetch"
)

// origin is a local HTTP server playing the remote side of URL uploads.
type origin struct {
	*httptest.Server
	port string
	hits atomic.Int64 // requests to /hit
	done chan struct{}
}

func newOrigin(t *testing.T) *origin {
	t.Helper()
	o := &origin{done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/file/", o.file)
	mux.HandleFunc("/chunked", o.chunked)
	mux.HandleFunc("/liar", o.liar)
	mux.HandleFunc("/stall-headers", func(w http.ResponseWriter, r *http.Request) { o.wait(r) })
	mux.HandleFunc("/stall-body", func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 100))
		w.(http.Flusher).Flush()
		o.wait(r)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", r.URL.Query().Get("to")) // as given, unlike http.Redirect
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("/chain/{n}", o.chain)
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
	})
	mux.HandleFunc("/short", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write(make([]byte, 50)) // and the server closes the connection
	})
	mux.HandleFunc("/hit", func(w http.ResponseWriter, r *http.Request) { o.hits.Add(1) })
	o.Server = httptest.NewServer(mux)
	t.Cleanup(o.Close)
	t.Cleanup(func() { close(o.done) }) // runs first: stalled handlers return
	u, _ := url.Parse(o.URL)
	o.port = u.Port()
	return o
}

// wait blocks a handler until its client goes away or the test ends.
func (o *origin) wait(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-o.done:
	}
}

func size(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil {
		return 1000
	}
	return n
}

// file serves n bytes with a Content-Length and an HTML Content-Type.
func (o *origin) file(w http.ResponseWriter, r *http.Request) {
	n := size(r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.Write(pattern(n))
}

// chunked serves n bytes without a Content-Length.
func (o *origin) chunked(w http.ResponseWriter, r *http.Request) {
	data := pattern(size(r))
	for len(data) > 0 {
		k := min(len(data), 700)
		w.Write(data[:k])
		w.(http.Flusher).Flush()
		data = data[k:]
	}
}

// liar announces n bytes, sends 10 and stalls: a client that read the body
// before judging Content-Length would hang.
func (o *origin) liar(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", strconv.Itoa(size(r)))
	w.Write(make([]byte, 10))
	w.(http.Flusher).Flush()
	o.wait(r)
}

// chain redirects /chain/n to /chain/n-1, and /chain/0 answers "ok"; a
// request that carries a Referer gets 400.
func (o *origin) chain(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Referer") != "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	n, _ := strconv.Atoi(r.PathValue("n"))
	if n > 0 {
		http.Redirect(w, r, "/chain/"+strconv.Itoa(n-1), http.StatusMovedPermanently)
		return
	}
	io.WriteString(w, "ok")
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

func newClient(t *testing.T, cfg fetch.Config) *fetch.Client {
	t.Helper()
	c, err := fetch.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func kindOf(err error) fetch.Kind {
	var e *fetch.Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// leaky matches what must never be in a message shown to a client: IPv4
// and IPv6 addresses, and "localhost".
var leaky = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+|[0-9A-Fa-f]:[0-9A-Fa-f]|::|(?i)localhost`)

// checkError checks that err is an *Error of kind after hops redirects,
// and that its message names no address and none of secrets (ports).
func checkError(t *testing.T, err error, kind fetch.Kind, hops int, secrets ...string) *fetch.Error {
	t.Helper()
	var e *fetch.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *fetch.Error", err, err)
	}
	if e.Kind != kind || e.Redirects != hops {
		t.Fatalf("error %q: Kind %v after %d redirects, want %v after %d", err, e.Kind, e.Redirects, kind, hops)
	}
	msg := err.Error()
	if m := leaky.FindString(msg); m != "" {
		t.Fatalf("message %q shows %q", msg, m)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			t.Fatalf("message %q shows %q", msg, s)
		}
	}
	return e
}

func get(t *testing.T, c *fetch.Client, rawURL string) (*fetch.Response, []byte, error) {
	t.Helper()
	res, err := c.Get(t.Context(), rawURL)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res, body, err
}

func TestLocalOriginNeedsAllow(t *testing.T) {
	o := newOrigin(t)
	_, _, err := get(t, newClient(t, fetch.Config{}), o.URL+"/hit")
	checkError(t, err, fetch.Refused, 0, o.port)
	if n := o.hits.Load(); n != 0 {
		t.Fatalf("the origin was reached %d times", n)
	}

	res, body, err := get(t, newClient(t, fetch.Config{Allow: loopback}), o.URL+"/file/dir/photo%20one.png?n=5000")
	if err != nil {
		t.Fatalf("with Allow: %v", err)
	}
	if string(body) != string(pattern(5000)) || res.Size != 5000 {
		t.Fatalf("got %d bytes, Size %d; want the 5000 bytes served", len(body), res.Size)
	}
	if res.ContentType != "text/html; charset=utf-8" || res.FileName != "photo one.png" {
		t.Fatalf("ContentType %q, FileName %q", res.ContentType, res.FileName)
	}
}

// counter is a listener that counts the connections made to it.
type counter struct {
	port     string
	accepted atomic.Int64
}

// listen opens a counting listener on addr, or returns nil where the
// system has no such address (the refusal is still tested, through the
// error's kind, which a connection attempt could not produce).
func listen(t *testing.T, addr string) *counter {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Logf("no listener on %s: %v", addr, err)
		return nil
	}
	t.Cleanup(func() { l.Close() })
	_, port, _ := net.SplitHostPort(l.Addr().String())
	c := &counter{port: port}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			c.accepted.Add(1)
			conn.Close()
		}
	}()
	return c
}

func (c *counter) portOr(fallback string) string {
	if c == nil {
		return fallback
	}
	return c.port
}

func TestRefusedTargets(t *testing.T) {
	o := newOrigin(t)
	other, v6 := listen(t, "127.0.0.2:0"), listen(t, "[::1]:0")
	c := newClient(t, fetch.Config{Allow: loopback})
	p := o.port
	for _, tc := range []struct {
		target string
		kind   fetch.Kind
	}{
		{"http://127.0.0.2:" + other.portOr(p) + "/hit", fetch.Refused},
		{"http://10.0.0.1/", fetch.Refused},
		{"http://169.254.169.254/latest/meta-data/", fetch.Refused},
		{"http://[::1]:" + v6.portOr(p) + "/hit", fetch.Refused},
		{"http://[::ffff:127.0.0.1]:" + p + "/hit", fetch.Refused},
		{"http://[::ffff:7f00:1]:" + p + "/hit", fetch.Refused},
		{"http://localhost:" + p + "/hit", fetch.Refused},
		{"http://LocalHost.:" + p + "/hit", fetch.Refused},
		{"http://a.b.localhost:" + p + "/hit", fetch.Refused},
		{"http://0.0.0.0:" + p + "/hit", fetch.Refused},
		{"http://[::]:" + p + "/hit", fetch.Refused},
		{"http://[fd00:ec2::254]/", fetch.Refused},
		{"http://100.100.100.200/", fetch.Refused},
		{"http://[64:ff9b::7f00:1]:" + p + "/hit", fetch.Refused},
		{"http://2130706433:" + p + "/hit", fetch.BadURL},
		{"http://0x7f.1:" + p + "/hit", fetch.BadURL},
		{"http://127.1:" + p + "/hit", fetch.BadURL},
		{"http://user:pw@127.0.0.1:" + p + "/hit", fetch.BadURL},
		{"file:///etc/passwd", fetch.BadURL},
		{"ftp://127.0.0.1:" + p + "/hit", fetch.BadURL},
		{"gopher://127.0.0.1:" + p + "/_hit", fetch.BadURL},
		{"data:text/plain,hi", fetch.BadURL},
	} {
		t.Run(tc.target, func(t *testing.T) {
			_, _, err := get(t, c, tc.target)
			checkError(t, err, tc.kind, 0, p, other.portOr(p), v6.portOr(p))
			_, _, err = get(t, c, o.URL+"/redirect?to="+url.QueryEscape(tc.target))
			checkError(t, err, tc.kind, 1, p, other.portOr(p), v6.portOr(p))
		})
	}
	if n := o.hits.Load(); n != 0 {
		t.Errorf("the origin's /hit was reached %d times", n)
	}
	for _, l := range []*counter{other, v6} {
		if l != nil && l.accepted.Load() != 0 {
			t.Errorf("a refused listener accepted %d connections", l.accepted.Load())
		}
	}
}

func TestRedirects(t *testing.T) {
	o := newOrigin(t)
	c := newClient(t, fetch.Config{Allow: loopback})
	_, body, err := get(t, c, o.URL+"/chain/3")
	if err != nil || string(body) != "ok" {
		t.Fatalf("3 redirects: %q, %v", body, err)
	}
	_, _, err = get(t, c, o.URL+"/chain/4")
	checkError(t, err, fetch.Redirects, fetch.MaxRedirects, o.port)

	res, _, err := get(t, c, o.URL+"/redirect?to="+url.QueryEscape("/file/final.jpg?n=3"))
	if err != nil || res.FileName != "final.jpg" {
		t.Fatalf("FileName after a redirect: %+v, %v", res, err)
	}
}

func TestBadURLs(t *testing.T) {
	c := newClient(t, fetch.Config{})
	for _, raw := range []string{
		"",
		"example.com/file.png",
		"//example.com/file.png",
		"/file.png",
		"http:example.com",
		"http:///file.png",
		"http://exa mple.com/",
		"http://example.com:0/",
		"http://example.com:65536/",
		"http://example.com:http/",
		"http://bücher.example/",
		"http://" + strings.Repeat("a", 64) + ".com/",
		"http://" + strings.Repeat("a.", 127) + "com/",
		"http://a..b/",
		"http://example.123/",
		"http://[127.0.0.1]/",
		"http://[::1/",
		"javascript:alert(1)",
		"https://example.com/" + strings.Repeat("a", fetch.MaxURLLength),
	} {
		_, err := c.Check(raw)
		checkError(t, err, fetch.BadURL, 0)
		if _, err := c.Get(t.Context(), raw); kindOf(err) != fetch.BadURL {
			t.Errorf("Get(%.40q) = %v, want BadURL", raw, err)
		}
	}
	for _, raw := range []string{
		"http://example.com/file.png",
		"HTTPS://Example.COM:8443/a/b?c=d#e",
		"http://xn--bcher-kva.example/",
		"http://under_score.example./",
		"http://8.8.8.8/",
		"http://[2606:4700:4700::1111]:80/",
	} {
		if _, err := c.Check(raw); err != nil {
			t.Errorf("Check(%q) = %v", raw, err)
		}
	}
}

func TestMaxSize(t *testing.T) {
	o := newOrigin(t)
	const limit = 1000
	c := newClient(t, fetch.Config{Allow: loopback, MaxSize: limit, Timeout: 5 * time.Second})

	_, _, err := get(t, c, o.URL+"/liar?n=1000000000")
	checkError(t, err, fetch.TooLarge, 0)

	for _, path := range []string{"/file/x?n=1000", "/chunked?n=1000"} {
		if _, body, err := get(t, c, o.URL+path); err != nil || len(body) != limit {
			t.Errorf("%s: %d bytes, %v; want %d", path, len(body), err, limit)
		}
	}

	res, body, err := get(t, c, o.URL+"/chunked?n=5000")
	if res == nil {
		t.Fatalf("chunked: %v", err)
	}
	checkError(t, err, fetch.TooLarge, 0)
	if res.Size != -1 || len(body) != limit || string(body) != string(pattern(limit)) {
		t.Fatalf("Size %d, %d bytes read before TooLarge; want -1, the first %d", res.Size, len(body), limit)
	}
}

func TestTimeout(t *testing.T) {
	o := newOrigin(t)
	const timeout = 300 * time.Millisecond
	c := newClient(t, fetch.Config{Allow: loopback, Timeout: timeout})
	for _, path := range []string{"/stall-headers", "/stall-body"} {
		t.Run(path, func(t *testing.T) {
			start := time.Now()
			res, body, err := get(t, c, o.URL+path)
			elapsed := time.Since(start)
			checkError(t, err, fetch.Timeout, 0)
			if elapsed < timeout || elapsed > 10*time.Second {
				t.Fatalf("timed out after %v, want about %v", elapsed, timeout)
			}
			if path == "/stall-body" && (res == nil || len(body) != 100) {
				t.Fatalf("the body's first 100 bytes were not delivered: %d", len(body))
			}
		})
	}
}

func TestCanceled(t *testing.T) {
	o := newOrigin(t)
	c := newClient(t, fetch.Config{Allow: loopback})
	ctx, cancel := context.WithCancel(t.Context())
	res, err := c.Get(ctx, o.URL+"/stall-body")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if _, err := io.ReadFull(res.Body, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = res.Body.Read(make([]byte, 10))
	checkError(t, err, fetch.Canceled, 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("%v does not wrap context.Canceled", err)
	}

	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	_, err = c.Get(ctx, o.URL+"/file/x")
	checkError(t, err, fetch.Canceled, 0)
}

func TestStatus(t *testing.T) {
	o := newOrigin(t)
	c := newClient(t, fetch.Config{Allow: loopback})
	for _, code := range []int{404, 410, 500, 302} { // 302 without Location
		_, _, err := get(t, c, o.URL+"/status/"+strconv.Itoa(code))
		e := checkError(t, err, fetch.Status, 0, o.port)
		if e.StatusCode != code || !strings.Contains(err.Error(), strconv.Itoa(code)) {
			t.Errorf("status %d: %q, StatusCode %d", code, err, e.StatusCode)
		}
	}
	for _, code := range []int{200, 204} {
		if _, _, err := get(t, c, o.URL+"/status/"+strconv.Itoa(code)); err != nil {
			t.Errorf("status %d: %v", code, err)
		}
	}
}

func TestBroken(t *testing.T) {
	o := newOrigin(t)
	res, body, err := get(t, newClient(t, fetch.Config{Allow: loopback}), o.URL+"/short")
	if res == nil {
		t.Fatalf("Get: %v", err)
	}
	checkError(t, err, fetch.Broken, 0, o.port)
	if res.Size != 100 || len(body) != 50 {
		t.Fatalf("Size %d, %d bytes read; want 100, 50", res.Size, len(body))
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("%v does not wrap io.ErrUnexpectedEOF", err)
	}
}

// TestUnreachable: a dial error names the local and remote addresses; the
// message does not, the cause (for the log) does.
func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	_, port, _ := net.SplitHostPort(addr)
	c := newClient(t, fetch.Config{Allow: loopback})
	_, _, err = get(t, c, "http://"+addr+"/")
	e := checkError(t, err, fetch.Unreachable, 0, port)
	if cause := e.Unwrap(); cause == nil || !strings.Contains(cause.Error(), "127.0.0.1") {
		t.Fatalf("the cause %v does not say what the log needs", cause)
	}
}

func TestFileName(t *testing.T) {
	long := strings.Repeat("é", 200) // 400 bytes
	for _, tc := range []struct{ url, want string }{
		{"http://h/a/b/photo.png", "photo.png"},
		{"http://h/photo.png?name=x.exe#y", "photo.png"},
		{"http://h/a%20b%C3%A9.png", "a bé.png"},
		{"http://h/", ""},
		{"http://h", ""},
		{"http://h/dir/", ""},
		{"http://h/a%2Fb.png", ""},
		{"http://h/a%5Cb.png", ""},
		{"http://h/%2e%2e", ""},
		{"http://h/.", ""},
		{"http://h/a%00b", ""},
		{"http://h/a%0Ab", ""},
		{"http://h/%ff.png", ""},
		{"http://h/" + long + ".png", strings.Repeat("é", 125) + ".png"},
		{"http://h/" + long + "." + strings.Repeat("x", 20), strings.Repeat("é", 127)},
		{"http://h/x" + long, "x" + strings.Repeat("é", 127)},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		got := fetch.FileName(u)
		if got != tc.want || len(got) > fetch.MaxFileNameLength {
			t.Errorf("FileName(%.50s) = %q (%d bytes), want %q", tc.url, got, len(got), tc.want)
		}
	}
}

func TestNoProxy(t *testing.T) {
	c := newClient(t, fetch.Config{})
	if fetch.Transport(c).Proxy != nil {
		t.Fatal("the transport uses a proxy, which would connect out of the dialer's sight")
	}
}

func ExampleClient_Get() {
	c, err := fetch.New(fetch.Config{MaxSize: 10 << 20})
	if err != nil {
		panic(err)
	}
	_, err = c.Get(context.Background(), "http://169.254.169.254/latest/meta-data/")
	fmt.Println(err)
	// Output: fetch: refused: the address is not public
}

func TestTLS(t *testing.T) {
	o := newOrigin(t)
	tlsOrigin := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secure")
	}))
	t.Cleanup(tlsOrigin.Close)
	pool := x509.NewCertPool()
	pool.AddCert(tlsOrigin.Certificate())

	c := newClient(t, fetch.Config{Allow: loopback, RootCAs: pool})
	for _, u := range []string{tlsOrigin.URL + "/a.txt", o.URL + "/redirect?to=" + url.QueryEscape(tlsOrigin.URL+"/a.txt")} {
		res, body, err := get(t, c, u)
		if err != nil || string(body) != "secure" || res.FileName != "a.txt" {
			t.Fatalf("%s: %q, %v", u, body, err)
		}
	}

	untrusting := newClient(t, fetch.Config{Allow: loopback})
	_, _, err := get(t, untrusting, tlsOrigin.URL)
	checkError(t, err, fetch.Unreachable, 0)
}

func TestConcurrentGets(t *testing.T) {
	o := newOrigin(t)
	c := newClient(t, fetch.Config{Allow: loopback})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			path := "/file/x?n=" + strconv.Itoa(1000+i)
			if i%2 == 1 {
				path = "/chain/2"
			}
			if _, _, err := get(t, c, o.URL+path); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
