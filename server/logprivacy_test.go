package server_test

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/storage"
)

// brokenStore fails every operation the way the disk store does, with an
// *fs.PathError naming the object's path under root.
type brokenStore struct {
	storage.Store
	root string
}

func (b brokenStore) fail(op, key string, errno syscall.Errno) error {
	return &fs.PathError{Op: op, Path: filepath.Join(b.root, "objects", filepath.FromSlash(key)), Err: errno}
}

func (b brokenStore) Open(_ context.Context, key string) (io.ReadSeekCloser, error) {
	return nil, b.fail("open", key, syscall.EIO)
}

func (b brokenStore) Put(_ context.Context, key string, _ io.Reader, _ storage.PutOptions) (storage.Written, error) {
	return storage.Written{}, b.fail("write", key+".tmp", syscall.ENOSPC)
}

func (b brokenStore) Delete(_ context.Context, key string) error {
	return b.fail("remove", key, syscall.EACCES)
}

// When the store fails, the error logs say what failed and why, but hold
// no store path, tenant id, file id, object key or download link: a log
// reader must not learn capabilities or where files live.
func TestErrorLogsHoldNoCapabilities(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	url := e.uploadText("secret-name.txt", "version one")
	resp, body := e.post(evolinkPath, tokenA, field("upload_path", "d"), file("p.png", pngBytes))
	evo := decode[evolinkOK](t, body).Data
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	old, err := e.cat.File(ctx, e.tenant(tokenA), "d", "secret-name.txt", e.now.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.uploadText("secret-name.txt", "version two") // old.Object is garbage now
	current, err := e.cat.File(ctx, e.tenant(tokenA), "d", "secret-name.txt", e.now.Now())
	if err != nil {
		t.Fatal(err)
	}

	// A server over the same catalog whose store fails.
	b := newEnvWith(t, brokenStore{Store: e.store, root: e.root}, e.cat, e.root, nil)
	rebase := func(u string) string { return b.srv.URL + strings.TrimPrefix(u, e.srv.URL) }
	for _, u := range []string{url, *evo.DownloadUrl, *evo.FileUrl} {
		resp, body := b.get(rebase(u))
		wantEnvelope(t, resp, body, http.StatusInternalServerError, "Internal Server Error")
	}
	resp, body = b.post(kiePath, tokenA, field("uploadPath", "d"), field("fileName", "new.txt"), file("new.txt", []byte("x")))
	wantEnvelope(t, resp, body, http.StatusInternalServerError, "could not be stored")
	b.now.Advance(catalog.DefaultGarbageDelay + 1)
	b.server.Sweep(ctx)

	logs := b.logs.String()
	for _, want := range []string{
		`"msg":"download failed: store"`, `"err":"open: input/output error"`,
		`"msg":"storage write failed"`, `no space left on device`,
		`"msg":"janitor: deleting an object failed"`, `permission denied`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %s:\n%s", want, logs)
		}
	}
	link := strings.TrimSuffix(strings.TrimPrefix(url, e.srv.URL+"/f/"), "/secret-name.txt")
	secrets := map[string]string{
		"store path":      e.root,
		"tenant A":        e.tenant(tokenA),
		"tenant B":        e.tenant(tokenB),
		"old file id":     old.ID,
		"old object":      old.Object,
		"file id":         current.ID,
		"object":          current.Object,
		"link":            link,
		"evolink file id": strings.TrimPrefix(*evo.FileId, "file_"),
		"file name":       "secret-name",
	}
	for what, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the logs hold the %s %q:\n%s", what, s, logs)
		}
	}
}
