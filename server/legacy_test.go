package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/catalog/catalogtest"
	"github.com/fileup/fileup/server"
	"github.com/fileup/fileup/storage"
)

// legacyTenant is the tenant directory the first storage format used for
// a token: the unsalted digest of server/auth.go's legacyTenantOf.
func legacyTenant(token string) string {
	sum := sha256.Sum256([]byte("fileup-tenant\x00" + token))
	return hex.EncodeToString(sum[:16])
}

// writeLegacy writes a file of the first disk format under root at
// tenant/key: its data, then the metadata as JSON, the JSON's length and
// the magic (as storage/legacy_test.go's writeLegacy).
func writeLegacy(t *testing.T, root, tenant, key string, data []byte, meta map[string]any) {
	t.Helper()
	meta["tenant"], meta["key"], meta["size"] = tenant, key, len(data)
	js, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	var tail [16]byte
	binary.BigEndian.PutUint64(tail[:8], uint64(len(js)))
	copy(tail[8:], "FILEUPM1")
	p := filepath.Join(root, tenant, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, append(append(append([]byte{}, data...), js...), tail[:]...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A store written by the first format, imported by ImportLegacy: every
// file downloads at its old URL, counts against its token's quota and
// expires when it did; an expired one is gone; a new upload to the same
// name replaces it at the same URL; and a second import does nothing.
func TestImportLegacy(t *testing.T) {
	root := t.TempDir()
	now := time.Now().Truncate(time.Second)
	created := now.Add(-24 * time.Hour).UTC()
	a, b, stranger := legacyTenant(tokenA), legacyTenant(tokenB), legacyTenant("a token no longer configured")
	writeLegacy(t, root, a, "docs/a.txt", []byte("alpha"), map[string]any{"id": "legacy0001", "original_name": "A.TXT",
		"content_type": "text/plain; charset=utf-8", "created": created, "expires": now.Add(time.Hour)})
	writeLegacy(t, root, a, "img/p.png", pngBytes, map[string]any{"id": "legacy0002",
		"content_type": "image/png", "created": created, "expires": now.Add(3 * time.Hour)})
	writeLegacy(t, root, a, "old/gone.txt", []byte("expired"), map[string]any{"id": "legacy0003",
		"content_type": "text/plain; charset=utf-8", "created": created, "expires": now.Add(-time.Hour)})
	writeLegacy(t, root, b, "never.bin", []byte{0, 1, 2}, map[string]any{"id": "legacy0004",
		"content_type": "application/octet-stream", "created": created}) // never expires
	writeLegacy(t, root, stranger, "s/kept.txt", []byte("orphan"), map[string]any{"content_type": "text/plain; charset=utf-8", "created": created})

	store, err := storage.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	dsn := "sqlite:" + filepath.Join(root, "fileup.db")
	e := newEnvWith(t, store, catalogtest.OpenDSN(t, dsn, catalog.Options{}), root, func(c *server.Config) { c.QuotaFiles = 10 })
	e.now.Advance(now.Sub(e.now.Now()))
	ctx := context.Background()
	n, err := e.server.ImportLegacy(ctx, store)
	if err != nil || n != 4 {
		t.Fatalf("ImportLegacy = %d, %v; want the 4 unexpired files", n, err)
	}

	oldURL := func(tenant, key string) string { return e.srv.URL + "/f/" + tenant + "/" + key }
	for _, f := range []struct {
		url, content, ctype string
	}{
		{oldURL(a, "docs/a.txt"), "alpha", "text/plain; charset=utf-8"},
		{oldURL(a, "img/p.png"), string(pngBytes), "image/png"},
		{oldURL(b, "never.bin"), "\x00\x01\x02", "application/octet-stream"},
		{oldURL(stranger, "s/kept.txt"), "orphan", "text/plain; charset=utf-8"},
		{e.srv.URL + "/api/v1/files/download/file_legacy0001", "alpha", "text/plain; charset=utf-8"},
	} {
		resp, got := e.get(f.url)
		if resp.StatusCode != http.StatusOK || string(got) != f.content || resp.Header.Get("Content-Type") != f.ctype {
			t.Errorf("%s: %d %q %s, want %q %s", f.url, resp.StatusCode, got, resp.Header.Get("Content-Type"), f.content, f.ctype)
		}
	}
	resp, body := e.get(oldURL(a, "old/gone.txt"))
	wantEnvelope(t, resp, body, http.StatusNotFound, "File not found")
	if _, err := os.Stat(filepath.Join(root, a, "old", "gone.txt")); !os.IsNotExist(err) {
		t.Errorf("the expired file is still on disk: %v", err)
	}
	if u := e.usage(tokenA); u.Files != 2 || u.Bytes != int64(5+len(pngBytes)) {
		t.Errorf("token A's usage %+v, want its 2 imported files", u)
	}
	if u := e.usage(tokenB); u.Files != 1 || u.Bytes != 3 {
		t.Errorf("token B's usage %+v, want its imported file", u)
	}
	if d := e.quota(tokenA); *d.UsedFiles != 2 || *d.RemainFiles != 8 {
		t.Errorf("token A's quota: used %d, remain %d", *d.UsedFiles, *d.RemainFiles)
	}

	// A new upload to an imported name replaces it at its old URL.
	resp, body = e.post(kiePath, tokenA, field("uploadPath", "img"), field("fileName", "p.png"), file("p.png", append(append([]byte{}, pngBytes...), "v2"...)))
	if got := decodeUpload(t, "kie", resp, body); got.url != oldURL(a, "img/p.png") {
		t.Errorf("the replacement's URL is %s, want the old %s", got.url, oldURL(a, "img/p.png"))
	}
	if _, got := e.get(oldURL(a, "img/p.png")); string(got) != string(pngBytes)+"v2" {
		t.Errorf("the old URL serves %q after the replacement", got)
	}

	// Each file expires at its old expiry.
	e.now.Advance(time.Hour)
	e.server.Sweep(ctx)
	resp, body = e.get(oldURL(a, "docs/a.txt"))
	wantEnvelope(t, resp, body, http.StatusNotFound, "File not found")
	if u := e.usage(tokenA); u.Files != 1 {
		t.Errorf("token A's usage %+v after a.txt expired, want 1 file", u)
	}
	if resp, _ := e.get(oldURL(b, "never.bin")); resp.StatusCode != http.StatusOK {
		t.Errorf("a file that never expires: %d", resp.StatusCode)
	}

	// Importing again, here or at the next start, imports nothing.
	if n, err := e.server.ImportLegacy(ctx, store); n != 0 || err != nil {
		t.Errorf("the second ImportLegacy = %d, %v; want 0", n, err)
	}
	again := newEnvWith(t, store, e.cat, root, nil)
	if n, err := again.server.ImportLegacy(ctx, store); n != 0 || err != nil {
		t.Errorf("ImportLegacy at the next start = %d, %v; want 0", n, err)
	}
	if u := e.usage(tokenB); u.Files != 1 {
		t.Errorf("token B's usage %+v after importing again", u)
	}
	for _, dir := range []string{a, b} {
		if _, err := os.Stat(filepath.Join(root, dir)); !os.IsNotExist(err) {
			t.Errorf("the first format's directory %s is still there: %v", dir, err)
		}
	}
}
