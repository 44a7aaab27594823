package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fileup/fileup/storage"
	"github.com/fileup/fileup/storage/storagetest"
)

func TestDiskConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		d, err := storage.NewDisk(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	})
}

func tempFiles(t *testing.T, root string) []string {
	var out []string
	filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(e.Name(), ".fileup-tmp-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// A failed Put leaves no temporary file, and no directory it created.
func TestDiskFailedPutLeavesNothing(t *testing.T) {
	root := t.TempDir()
	d, err := storage.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	boom := errors.New("boom")
	tests := []struct {
		name string
		ctx  context.Context
		r    io.Reader
		opts storage.PutOptions
	}{
		{"read error", ctx, io.MultiReader(strings.NewReader("partial"), errReader{boom}), storage.PutOptions{Size: -1}},
		{"truncated", ctx, io.MultiReader(strings.NewReader("partial"), errReader{io.ErrUnexpectedEOF}), storage.PutOptions{Size: -1}},
		{"too large", ctx, strings.NewReader("too long"), storage.PutOptions{Size: -1, MaxSize: 3}},
		{"short", ctx, strings.NewReader("short"), storage.PutOptions{Size: 10}},
		{"long", ctx, strings.NewReader("longer than said"), storage.PutOptions{Size: 10}},
		{"cancelled", cancelled, strings.NewReader("data"), storage.PutOptions{Size: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := d.Put(tt.ctx, "t", "new/dirs/"+strings.ReplaceAll(tt.name, " ", "-"), tt.r, tt.opts); err == nil {
				t.Fatal("Put succeeded")
			}
			if tmp := tempFiles(t, root); len(tmp) != 0 {
				t.Errorf("temp files left: %v", tmp)
			}
			if _, err := os.Stat(filepath.Join(root, "t", "new")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("directories of the failed key left behind (%v)", err)
			}
		})
	}
}

// Put creates its key's directories while a Delete in the same directory
// removes them once empty: the Put must not fail for it.
func TestDiskPutRacesDirectoryRemoval(t *testing.T) {
	d, err := storage.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 500 {
			d.Put(ctx, "t", "a/b/other", strings.NewReader("x"), storage.PutOptions{Size: 1})
			d.Delete(ctx, "t", "a/b/other")
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		default:
		}
		key := "a/b/k" + strconv.Itoa(i%2)
		if _, err := d.Put(ctx, "t", key, strings.NewReader("y"), storage.PutOptions{Size: 1}); err != nil {
			t.Fatalf("Put %s while another key's directory comes and goes: %v", key, err)
		}
		if err := d.Delete(ctx, "t", key); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDiskRemovesCrashLeftovers(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "t", "dir"), 0o755)
	leftover := filepath.Join(root, "t", "dir", ".fileup-tmp-0123")
	os.WriteFile(leftover, []byte("half an upload"), 0o644)
	if _, err := storage.NewDisk(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("leftover temp file survived NewDisk: %v", err)
	}
}

// A symbolic link inside the root that points outside is never followed:
// not as a directory of the key, not as the object itself, not as the
// tenant's directory.
func TestDiskDoesNotFollowSymlinksOut(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644)
	os.MkdirAll(filepath.Join(root, "t"), 0o755)
	links := map[string]string{
		filepath.Join(root, "t", "escape"): outside,
		filepath.Join(root, "t", "file"):   filepath.Join(outside, "secret"),
		filepath.Join(root, "u"):           outside,
	}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			t.Skip("symlinks unsupported:", err)
		}
	}
	d, err := storage.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tt := range []struct{ tenant, key, write string }{
		{"t", "escape/secret", "escape/new"},
		{"t", "file", "file"},
		{"u", "secret", "new"},
	} {
		if o, err := d.Get(ctx, tt.tenant, tt.key); err == nil {
			o.Close()
			t.Errorf("Get %s/%s followed a symlink out of the root", tt.tenant, tt.key)
		}
		if _, err := d.Stat(ctx, tt.tenant, tt.key); err == nil {
			t.Errorf("Stat %s/%s followed a symlink out of the root", tt.tenant, tt.key)
		}
		d.Put(ctx, tt.tenant, tt.write, strings.NewReader("x"), storage.PutOptions{Size: -1})
		d.Delete(ctx, tt.tenant, tt.key)
	}
	if u, err := d.Usage(ctx, "u"); err == nil && u.Files != 0 { // an error is fine too
		t.Errorf("Usage counted files through a symlinked tenant: %+v", u)
	}
	if n, err := d.DeleteExpired(ctx, time.Now().Add(1000*time.Hour)); err != nil || n != 0 {
		t.Errorf("DeleteExpired = %d, %v", n, err)
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 || entries[0].Name() != "secret" {
		t.Errorf("outside the root, after writes and deletes through symlinks: %v", entries)
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "secret" {
		t.Errorf("file outside the root changed to %q", b)
	}
}

// DeleteExpired removes the directories it empties, up to (not including)
// the tenant's directory; files are 0644 and directories 0755 at most.
func TestDiskLayout(t *testing.T) {
	root := t.TempDir()
	d, err := storage.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	past := storage.PutOptions{Size: -1, Meta: storage.Meta{Expires: time.Now().Add(-time.Second)}}
	d.Put(ctx, "t", "a/b/c/expired", strings.NewReader("x"), past)
	d.Put(ctx, "t", "a/kept", strings.NewReader("y"), storage.PutOptions{Size: -1})
	for p, want := range map[string]fs.FileMode{"t": 0o755, "t/a": 0o755, "t/a/b/c": 0o755, "t/a/kept": 0o644} {
		st, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&^want != 0 {
			t.Errorf("%s: mode %v, want at most %v", p, st.Mode().Perm(), want)
		}
	}
	if n, err := d.DeleteExpired(ctx, time.Now()); err != nil || n != 1 {
		t.Fatalf("DeleteExpired = %d, %v", n, err)
	}
	if _, err := os.Stat(filepath.Join(root, "t", "a", "b")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("emptied directories left: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "t", "a", "kept")); err != nil || !bytes.HasPrefix(b, []byte("y")) {
		t.Errorf("kept object: %q, %v", b, err)
	}
	d.Delete(ctx, "t", "a/kept")
	if _, err := os.Stat(filepath.Join(root, "t")); err != nil {
		t.Errorf("tenant directory removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "t", "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("emptied directory left by Delete: %v", err)
	}
}

// A key whose parent is a file, or which names a directory, is invalid.
func TestDiskKeyShapeConflicts(t *testing.T) {
	d, _ := storage.NewDisk(t.TempDir())
	ctx := context.Background()
	if _, err := d.Put(ctx, "t", "a", strings.NewReader("x"), storage.PutOptions{Size: -1}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Put(ctx, "t", "a/b", strings.NewReader("x"), storage.PutOptions{Size: -1}); !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("key under a file: %v", err)
	}
	if _, err := d.Put(ctx, "t", "d/e", strings.NewReader("x"), storage.PutOptions{Size: -1}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Put(ctx, "t", "d", strings.NewReader("x"), storage.PutOptions{Size: -1}); !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("key naming a directory: %v", err)
	}
	if _, err := d.Get(ctx, "t", "d"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get of a directory: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func BenchmarkDiskPut(b *testing.B) {
	d, err := storage.NewDisk(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for _, mib := range []int64{1, 64} {
		size := mib << 20
		b.Run(strconv.FormatInt(mib, 10)+"MiB", func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Put(context.Background(), "bench", "obj", io.LimitReader(zeros{}, size), storage.PutOptions{Size: size}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestDiskRecordsSHA256(t *testing.T) {
	d, _ := storage.NewDisk(t.TempDir())
	m, err := d.Put(context.Background(), "t", "k", strings.NewReader("abc"), storage.PutOptions{Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if m.SHA256 != want || m.ETag() != `"`+want+`"` {
		t.Errorf("SHA256 %q, ETag %q", m.SHA256, m.ETag())
	}
	if got, _ := d.Stat(context.Background(), "t", "k"); got.SHA256 != want {
		t.Errorf("Stat SHA256 %q", got.SHA256)
	}
}

// A source that ends early with io.ErrUnexpectedEOF (a truncated
// multipart part) fails the Put; it is not mistaken for the end.
func TestDiskTruncatedSource(t *testing.T) {
	d, _ := storage.NewDisk(t.TempDir())
	r := io.MultiReader(strings.NewReader("partial"), errReader{io.ErrUnexpectedEOF})
	if _, err := d.Put(context.Background(), "t", "k", r, storage.PutOptions{Size: -1}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Put = %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := d.Stat(context.Background(), "t", "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("truncated upload stored: %v", err)
	}
}
