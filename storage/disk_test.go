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

func TestDiskLeavesNoTempFiles(t *testing.T) {
	root := t.TempDir()
	d, err := storage.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	boom := errors.New("boom")
	d.Put(ctx, "t", "a/b", io.MultiReader(strings.NewReader("partial"), errReader{boom}), storage.PutOptions{Size: -1})
	d.Put(ctx, "t", "a/c", strings.NewReader("too long"), storage.PutOptions{Size: -1, MaxSize: 3})
	if tmp := tempFiles(t, root); len(tmp) != 0 {
		t.Errorf("temp files left: %v", tmp)
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

// A symbolic link inside the root that points outside is never followed.
func TestDiskDoesNotFollowSymlinksOut(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644)
	os.MkdirAll(filepath.Join(root, "t"), 0o755)
	if err := os.Symlink(outside, filepath.Join(root, "t", "escape")); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
	d, err := storage.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := d.Get(ctx, "t", "escape/secret"); err == nil {
		t.Error("Get followed a symlink out of the root")
	}
	if _, err := d.Put(ctx, "t", "escape/new", bytes.NewReader([]byte("x")), storage.PutOptions{Size: -1}); err == nil {
		t.Error("Put wrote through a symlink out of the root")
	}
	if _, err := os.Stat(filepath.Join(outside, "new")); err == nil {
		t.Error("a file appeared outside the root")
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
