package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/internal/throttle"
)

// tenantSecretKey names the catalog setting that holds the secret tenant
// ids are derived with.
const tenantSecretKey = "tenant_secret"

// tenantSecret returns the catalog's tenant secret, creating it on first
// use (of several servers starting at once, all get the same one).
func tenantSecret(ctx context.Context, cat catalog.Catalog) ([]byte, error) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	v, err := cat.InitSetting(ctx, tenantSecretKey, hex.EncodeToString(b[:]))
	if err != nil {
		return nil, fmt.Errorf("server: reading the tenant secret: %w", err)
	}
	secret, err := hex.DecodeString(v)
	if err != nil || len(secret) < 16 {
		return nil, fmt.Errorf("server: the catalog's %s setting is not a hex secret", tenantSecretKey)
	}
	return secret, nil
}

// tenantID is the tenant of a token: an HMAC of the token under the
// catalog's secret. Knowing a tenant id (an S3 object name shows it) does
// not let anyone test token guesses offline.
func tenantID(secret []byte, token string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// legacyTenantOf is the tenant directory the first storage format used
// for a token: an unsalted digest, which a shared download URL exposed.
// Only the one-time import of that format uses it.
func legacyTenantOf(token string) string {
	sum := sha256.Sum256([]byte("fileup-tenant\x00" + token))
	return hex.EncodeToString(sum[:16])
}

// authenticate checks the request's bearer token in constant time against
// every configured token and returns its tenant; otherwise it answers 401
// and returns false. Failed attempts are throttled per client address:
// past a burst, a client gets 401 with Retry-After without its token being
// checked.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	addr := clientAddr(r)
	if ok, wait := s.authLimit.Allow(addr, s.now()); !ok {
		w.Header().Set("Retry-After", throttle.RetryAfter(wait))
		writeUnauthorized(w, "Authentication failed: too many failed attempts, retry later")
		return "", false
	}
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	msg := ""
	switch {
	case h == "":
		msg = "Authentication failed: missing Authorization header"
	case !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || strings.ContainsAny(token, " \t"):
		msg = "Authentication failed: expected 'Authorization: Bearer <API key>'"
	}
	tenant := ""
	if msg == "" {
		tenant = s.tenantOfToken(token)
		if tenant == "" {
			msg = "Authentication failed: Invalid API Key"
		}
	}
	if msg != "" {
		if wait := s.authLimit.Fail(addr, s.now()); wait > 0 {
			w.Header().Set("Retry-After", throttle.RetryAfter(wait))
		}
		writeUnauthorized(w, msg)
		return "", false
	}
	return tenant, true
}

// tenantOfToken returns the token's tenant, or "" for an unknown token.
func (s *Server) tenantOfToken(token string) string {
	digest := sha256.Sum256([]byte(token))
	tenant := ""
	for _, t := range s.tokens {
		if subtle.ConstantTimeCompare(digest[:], t.digest[:]) == 1 {
			tenant = t.tenant
		}
	}
	return tenant
}

// clientAddr is the address of the request's peer (the zero Addr when it
// cannot be parsed, which then shares one throttling bucket).
func clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func writeUnauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="fileup"`)
	writeEnvelope(w, http.StatusUnauthorized, msg)
}
