package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/fileup/fileup/server"
)

// clientFrom is an HTTP client whose connections come from the loopback
// address ip, validating answers as e.client does.
func (e *env) clientFrom(ip string) *http.Client {
	e.t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: &contractTransport{t: e.t, next: tr}}
}

// authAttempt asks for the quota with token through c and returns the
// status, the envelope's message and Retry-After.
func (e *env) authAttempt(c *http.Client, token string) (int, string, string) {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, e.srv.URL+evolinkQuotaPath, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	msg := ""
	if resp.StatusCode != http.StatusOK {
		msg = decode[envelope](e.t, body).Msg
	}
	return resp.StatusCode, msg, resp.Header.Get("Retry-After")
}

// Failed authentication is throttled per client address: past the burst,
// even the right token is refused with 401 and Retry-After from that
// address, until a token comes back; another address is unaffected, and
// successful requests cost nothing.
func TestAuthThrottle(t *testing.T) {
	const burst, refill = 3, time.Minute
	e := newEnv(t, func(c *server.Config) { c.AuthBurst, c.AuthRefill = burst, refill })
	one, two := e.clientFrom("127.0.0.1"), e.clientFrom("127.0.0.2")
	const wrong = "wrong-token-0123456789"
	attempt := func(c *http.Client, token string, wantStatus int, wantMsg string, wantRetry bool) {
		t.Helper()
		status, msg, retry := e.authAttempt(c, token)
		if status != wantStatus || msg != wantMsg {
			t.Errorf("status %d %q, want %d %q", status, msg, wantStatus, wantMsg)
		}
		if wantRetry {
			if n, err := strconv.Atoi(retry); err != nil || n < 1 || n > int(refill/time.Second) {
				t.Errorf("Retry-After = %q, want 1..%d seconds", retry, int(refill/time.Second))
			}
		}
	}
	const invalid = "Authentication failed: Invalid API Key"
	const throttled = "Authentication failed: too many failed attempts, retry later"

	// Successes cost nothing: many of them, between failures.
	for range 2 {
		attempt(one, wrong, http.StatusUnauthorized, invalid, false)
		for range 10 {
			attempt(one, tokenA, http.StatusOK, "", false)
		}
	}
	attempt(one, wrong, http.StatusUnauthorized, invalid, true) // the last of the burst
	// The bucket is empty: the right token is refused too, on any route.
	attempt(one, tokenA, http.StatusUnauthorized, throttled, true)
	resp, body := e.post(kiePath, tokenA, field("uploadPath", "t"), file("t.txt", []byte("x")))
	wantEnvelope(t, resp, body, http.StatusUnauthorized, "too many failed attempts")
	if resp.Header.Get("Retry-After") == "" {
		t.Error("a throttled upload has no Retry-After")
	}

	// Another address has its own bucket.
	attempt(two, tokenA, http.StatusOK, "", false)
	attempt(two, wrong, http.StatusUnauthorized, invalid, false)
	attempt(two, tokenB, http.StatusOK, "", false)

	// One token comes back after refill: one attempt.
	e.now.Advance(refill)
	attempt(one, tokenA, http.StatusOK, "", false)
	attempt(one, wrong, http.StatusUnauthorized, invalid, true)
	attempt(one, tokenA, http.StatusUnauthorized, throttled, true)
	e.wantNothingStored(tokenA)
}
