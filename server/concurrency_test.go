package server_test

import (
	"net/http"
	"testing"

	"github.com/fileup/fileup/server"
)

// With UploadsPerToken 1, a token's second upload while its first is in
// flight is 429 on every upload route, and stores nothing; the first
// still succeeds, another token is unaffected, and the slot is free again
// once the first has finished.
func TestUploadsPerToken(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.UploadsPerToken = 1 })
	first := e.startForm(kiePath, tokenA, nil, field("uploadPath", "c"), field("fileName", "first.bin"))
	first.write(randomBytes(4096))
	e.waitInFlight(1)

	const msg = "Too many uploads in progress for this API key"
	resp, body := e.post(kiePath, tokenA, field("uploadPath", "c"), file("second.txt", []byte("x")))
	wantEnvelope(t, resp, body, http.StatusTooManyRequests, msg)
	resp, body = e.post(evolinkPath, tokenA, file("second.png", pngBytes))
	wantEnvelope(t, resp, body, http.StatusTooManyRequests, msg)
	resp, body = e.postJSON(kieBase64Path, tokenA, jsonObject(t, "uploadPath", "c", "base64Data", b64(pngBytes)))
	wantEnvelope(t, resp, body, http.StatusTooManyRequests, msg)
	resp, body = e.postJSON(evolinkURLPath, tokenA, jsonObject(t, "file_url", "http://127.0.0.1:1/x.png"))
	wantEnvelope(t, resp, body, http.StatusTooManyRequests, msg)

	resp, body = e.post(kiePath, tokenB, field("uploadPath", "c"), file("other.txt", []byte("B")))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("another token's upload: %d %s", resp.StatusCode, body)
	}

	first.write(randomBytes(4096))
	if status, body := first.finish(); status != http.StatusOK {
		t.Fatalf("the first upload: %d %s", status, body)
	}
	if u := e.usage(tokenA); u.Files != 1 || u.Bytes != 8192 {
		t.Errorf("usage %+v, want the first upload only", u)
	}
	e.waitInFlight(0)
	resp, body = e.post(kiePath, tokenA, field("uploadPath", "c"), file("after.txt", []byte("x")))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the first finished: %d %s", resp.StatusCode, body)
	}
}
