package server_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawConn is a raw connection to e's server.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func (e *env) rawConn(t *testing.T) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// A bound on every read below: the server answers at once or not at all.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, conn: c, br: bufio.NewReader(c)}
}

func (c *rawConn) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatal(err)
	}
}

// response reads one response and its body.
func (c *rawConn) response() (*http.Response, []byte) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.t.Fatalf("reading a response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("reading a response body: %v", err)
	}
	return resp, body
}

// closed asserts the server closed the connection: no more bytes, EOF
// (or a reset), well before the read deadline.
func (c *rawConn) closed() {
	c.t.Helper()
	b, err := c.br.ReadByte()
	switch {
	case err == nil:
		rest, _ := c.br.Peek(c.br.Buffered())
		c.t.Errorf("the server kept the connection and sent %q", append([]byte{b}, rest...))
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.t.Error("the connection is still open")
	case !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "connection reset"):
		c.t.Errorf("reading after the answer: %v", err)
	}
}

// A request with both Transfer-Encoding and Content-Length is answered
// 400 and its connection closed, whether it comes first on the connection
// or after another request, and whatever is pipelined behind it gets no
// answer.
func TestTransferEncodingWithContentLength(t *testing.T) {
	e := newEnv(t, nil)
	smuggled := "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	ambiguous := func(path string) string {
		body := "0\r\n\r\n" + smuggled // by Content-Length, the smuggled request is body
		return "POST " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tokenA +
			"\r\nTransfer-Encoding: chunked\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	for _, tt := range []struct {
		label, path string
		before      bool // a plain request first on the connection
	}{
		{"upload, first request", kiePath, false},
		{"upload, second request", evolinkPath, true},
		{"health check, first request", "/healthz", false},
		{"unknown path, second request", "/nope", true},
	} {
		t.Run(tt.label, func(t *testing.T) {
			c := e.rawConn(t)
			if tt.before {
				c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
				if resp, body := c.response(); resp.StatusCode != http.StatusOK || resp.Close {
					t.Fatalf("the plain request: %d close=%v %s", resp.StatusCode, resp.Close, body)
				}
			}
			c.send(ambiguous(tt.path) + smuggled)
			resp, body := c.response()
			wantEnvelope(t, resp, body, http.StatusBadRequest, "both Transfer-Encoding and Content-Length")
			if !resp.Close {
				t.Error("the answer does not say Connection: close")
			}
			c.closed()
		})
	}
	e.wantNothingStored(tokenA)

	// Either header alone is served, and the connection kept.
	c := e.rawConn(t)
	for _, framing := range []string{
		"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"Content-Length: 5\r\n\r\nhello",
	} {
		c.send("POST /nope HTTP/1.1\r\nHost: x\r\n" + framing)
		resp, body := c.response()
		wantEnvelope(t, resp, body, http.StatusNotFound, "Not found")
		if resp.Close {
			t.Errorf("%q: the connection is closed", framing)
		}
	}
	c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := c.response(); resp.StatusCode != http.StatusOK {
		t.Errorf("after two unambiguous requests: %d", resp.StatusCode)
	}
}
