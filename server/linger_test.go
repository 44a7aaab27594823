package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/fileup/fileup/server"
)

// TestRefusalReachesSendingClient: an upload refused before its body has
// arrived (bad token, over the byte quota, over the size limit) is
// answered with its envelope, and a client that reads the answer only
// once it has sent the whole body (as Python's requests does) still gets
// that answer, not a connection reset. The client pauses mid-body for
// longer than net/http's own 500 ms grace before it closes such a
// connection.
func TestRefusalReachesSendingClient(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), (3<<20)/16)
	tests := []struct {
		name   string
		quota  int64
		token  string
		data   []byte
		status int
		msg    string
	}{
		{"bad token", 0, "wrong-token-0123456789", data, http.StatusUnauthorized, "Invalid API Key"},
		{"over the quota", 1 << 20, tokenA, data, http.StatusForbidden, "Quota"},
		{"over the size limit", 0, tokenA, bytes.Repeat(data, 2), http.StatusRequestEntityTooLarge, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *server.Config) {
				c.MaxUploadSize = 4 << 20
				c.QuotaBytes = tt.quota
			})
			ct, body := formBody(t, field("uploadPath", "linger"), field("fileName", "f.bin"), file("f.bin", tt.data))
			resp, got, err := sendThenRead(e.srv.Listener.Addr().String(), tt.token, ct, body, 800*time.Millisecond)
			if err != nil {
				t.Fatalf("client: %v", err)
			}
			wantEnvelope(t, resp, got, tt.status, tt.msg)
			if resp.ContentLength != int64(len(got)) {
				t.Errorf("Content-Length %d, transfer encoding %v, for a %d-byte answer: want it whole and sized", resp.ContentLength, resp.TransferEncoding, len(got))
			}
			e.wantNothingStored(tokenA)
		})
	}
}

// TestAnswerSized: a successful upload's answer, written before the
// server drains the body's end, still goes out with a Content-Length.
func TestAnswerSized(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.post("/api/file-stream-upload", tokenA, field("uploadPath", "sized"), file("a.txt", []byte("hello")))
	if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(body)) || resp.TransferEncoding != nil {
		t.Errorf("status %d, Content-Length %d, transfer encoding %v for %d bytes", resp.StatusCode, resp.ContentLength, resp.TransferEncoding, len(body))
	}
}

// sendThenRead sends a whole upload request over a new connection,
// pausing after its first 64 KiB, and only then reads the response.
func sendThenRead(addr, token, contentType string, body []byte, pause time.Duration) (*http.Response, []byte, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	head := fmt.Sprintf("POST /api/file-stream-upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		token, contentType, len(body))
	first := min(len(body), 64<<10)
	if _, err := io.WriteString(c, head); err != nil {
		return nil, nil, err
	}
	if _, err := c.Write(body[:first]); err != nil {
		return nil, nil, err
	}
	time.Sleep(pause)
	if _, err := c.Write(body[first:]); err != nil {
		return nil, nil, fmt.Errorf("sending the rest of the body: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the answer: %w", err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	return resp, got, err
}
