package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/server"
)

// quota asks evolink's quota route for token's quota.
func (e *env) quota(token string) *evolink.QuotaData {
	e.t.Helper()
	resp, body := e.do(http.MethodGet, evolinkQuotaPath, token, "", nil)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("quota: %d %s", resp.StatusCode, body)
	}
	q := decode[evolink.QuotaResponse](e.t, body)
	if q.Success == nil || !*q.Success || q.Code == nil || *q.Code != 200 || q.Data == nil {
		e.t.Fatalf("quota envelope: %s", body)
	}
	d := q.Data
	if d.UserGroup == nil || *d.UserGroup != "default" || d.IsCustom == nil || *d.IsCustom || d.QuotaReason != nil || d.UsedFiles == nil {
		e.t.Errorf("quota data: %s", body)
	}
	return d
}

// wantQuota checks used, max and remain (max < 0: both absent).
func wantQuota(t *testing.T, d *evolink.QuotaData, used, maxFiles, remain int) {
	t.Helper()
	str := func(p *int) string {
		if p == nil {
			return "absent"
		}
		return fmt.Sprint(*p)
	}
	got := fmt.Sprintf("used %s, max %s, remain %s", str(d.UsedFiles), str(d.MaxFiles), str(d.RemainFiles))
	want := fmt.Sprintf("used %d, max %d, remain %d", used, maxFiles, remain)
	if maxFiles < 0 {
		want = fmt.Sprintf("used %d, max absent, remain absent", used)
	}
	if got != want {
		t.Errorf("quota: %s; want %s", got, want)
	}
}

func (e *env) uploadN(token string, n int) {
	e.t.Helper()
	for i := range n {
		resp, body := e.post(kiePath, token, field("uploadPath", "q"), field("fileName", fmt.Sprintf("f%d", i)), file("f", []byte("x")))
		if resp.StatusCode != http.StatusOK {
			e.t.Fatalf("upload %d: %d %s", i, resp.StatusCode, body)
		}
	}
}

// evolink's quota route answers from the catalog for the calling token:
// max_files from QuotaFiles, remain_files what is left (never negative),
// both absent when files are unlimited; expired files do not count.
func TestQuotaRoute(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) { testQuotaRoute(t, be.newEnv) })
	}
	t.Run("unlimited", func(t *testing.T) {
		e := newEnv(t, nil)
		e.uploadN(tokenA, 2)
		wantQuota(t, e.quota(tokenA), 2, -1, -1)
		_, body := e.do(http.MethodGet, evolinkQuotaPath, tokenA, "", nil)
		for _, key := range []string{`"max_files"`, `"remain_files"`, `"quota_reason"`} {
			if bytes.Contains(body, []byte(key)) {
				t.Errorf("unlimited quota sends %s: %s", key, body)
			}
		}
	})
	t.Run("authentication", func(t *testing.T) {
		e := newEnv(t, nil)
		for _, token := range []string{"", "not-a-token-0123456789"} {
			resp, body := e.do(http.MethodGet, evolinkQuotaPath, token, "", nil)
			wantEnvelope(t, resp, body, http.StatusUnauthorized, "Authentication failed")
		}
	})
}

// testQuotaRoute runs the quota route's counting tests on one backend.
func testQuotaRoute(t *testing.T, newEnv func(testing.TB, func(*server.Config)) *env) {
	t.Run("limited", func(t *testing.T) {
		e := newEnv(t, func(c *server.Config) { c.QuotaFiles = 3 })
		wantQuota(t, e.quota(tokenA), 0, 3, 3)
		e.uploadN(tokenA, 2)
		wantQuota(t, e.quota(tokenA), 2, 3, 1)
		wantQuota(t, e.quota(tokenB), 0, 3, 3) // per token
		e.uploadN(tokenA, 2)                   // f0 and f1 again: overwrites count once
		wantQuota(t, e.quota(tokenA), 2, 3, 1)
		e.uploadN(tokenA, 3)
		wantQuota(t, e.quota(tokenA), 3, 3, 0)

		// A server sharing the catalog with a lower limit: more files are
		// stored than it allows, and remain_files is 0, not negative.
		lower := newEnvWith(t, e.store, e.cat, e.root, func(c *server.Config) { c.QuotaFiles = 1 })
		wantQuota(t, lower.quota(tokenA), 3, 1, 0)
	})
	t.Run("expired files do not count", func(t *testing.T) {
		e := newEnv(t, func(c *server.Config) { c.QuotaFiles, c.TTL = 5, time.Hour })
		e.uploadN(tokenA, 2)
		e.now.Advance(30 * time.Minute)
		e.uploadN(tokenB, 1)
		e.now.Advance(30*time.Minute + time.Second) // A's files have expired, not B's
		wantQuota(t, e.quota(tokenA), 0, 5, 5)
		wantQuota(t, e.quota(tokenB), 1, 5, 4)
	})
}
