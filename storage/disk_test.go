package storage_test

import (
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

// regularFiles lists the regular files under root.
func regularFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// An object is a plain file at <root>/objects/<key> holding exactly its
// bytes, and Open returns it as an *os.File (what lets net/http use
// sendfile); a failed Put leaves no file at all.
func TestDiskLayout(t *testing.T) {
	root := t.TempDir()
	d, err := storage.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	storagetest.Put(t, d, "t/obj", []byte("plain bytes"), -1)
	b, err := os.ReadFile(filepath.Join(root, "objects", "t", "obj"))
	if err != nil || string(b) != "plain bytes" {
		t.Errorf("file on disk: %q, %v", b, err)
	}
	for p, want := range map[string]fs.FileMode{"objects": 0o755, "objects/t": 0o755, "objects/t/obj": 0o644} {
		st, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&^want != 0 {
			t.Errorf("%s: mode %v, want at most %v", p, st.Mode().Perm(), want)
		}
	}
	o, err := d.Open(ctx, "t/obj")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := o.(*os.File); !ok {
		t.Errorf("Open returned %T, want *os.File", o)
	}
	o.Close()
	r := io.MultiReader(strings.NewReader("partial"), errReader{io.ErrUnexpectedEOF})
	if _, err := d.Put(ctx, "u/half", r, storage.PutOptions{Size: -1}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated Put = %v", err)
	}
	if got := regularFiles(t, root); len(got) != 1 || got[0] != filepath.Join("objects", "t", "obj") {
		t.Errorf("files on disk after a failed Put: %v", got)
	}
}

// A symbolic link inside the root that points outside is never followed:
// not as a directory of the key, not as the object itself.
func TestDiskDoesNotFollowSymlinksOut(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644)
	d, err := storage.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "objects", "t"), 0o755)
	links := map[string]string{
		filepath.Join(root, "objects", "t", "escape"): outside,
		filepath.Join(root, "objects", "t", "file"):   filepath.Join(outside, "secret"),
		filepath.Join(root, "objects", "u"):           outside,
	}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			t.Skip("symlinks unsupported:", err)
		}
	}
	ctx := context.Background()
	for _, key := range []string{"t/escape/secret", "t/file", "u/secret"} {
		if o, err := d.Open(ctx, key); err == nil {
			o.Close()
			t.Errorf("Open %s followed a symlink out of the root", key)
		}
		d.Put(ctx, key+"-new", strings.NewReader("x"), storage.PutOptions{Size: -1})
		d.Put(ctx, "u/new", strings.NewReader("x"), storage.PutOptions{Size: -1})
		d.Delete(ctx, key)
	}
	entries, _ := os.ReadDir(outside)
	if len(entries) != 1 || entries[0].Name() != "secret" {
		t.Errorf("outside the root, after writes and deletes through symlinks: %v", entries)
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "secret")); string(b) != "secret" {
		t.Errorf("file outside the root changed to %q", b)
	}
}

// A key whose parent is an object, or which names a directory, is invalid.
func TestDiskKeyShapeConflicts(t *testing.T) {
	d, _ := storage.NewDisk(t.TempDir())
	ctx := context.Background()
	storagetest.Put(t, d, "t/a", []byte("x"), 1)
	if _, err := d.Put(ctx, "t/a/b", strings.NewReader("x"), storage.PutOptions{Size: -1}); !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("key under an object: %v", err)
	}
	storagetest.Put(t, d, "t/d/e", []byte("x"), 1)
	if _, err := d.Put(ctx, "t/d", strings.NewReader("x"), storage.PutOptions{Size: -1}); !errors.Is(err, storage.ErrExists) && !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("key naming a directory: %v", err)
	}
	if _, err := d.Open(ctx, "t/d"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Open of a directory: %v", err)
	}
}

// The checksum is CRC-64/NVME in S3's encoding: "abc" is the example of
// the AWS documentation's test vectors.
func TestDiskChecksum(t *testing.T) {
	d, _ := storage.NewDisk(t.TempDir())
	w := storagetest.Put(t, d, "t/k", []byte("abc"), 3)
	if want := storagetest.Checksum([]byte("abc")); w.Checksum != want || !strings.HasPrefix(want, "crc64nvme:") {
		t.Errorf("checksum %q, want %q", w.Checksum, want)
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
			i := 0
			for b.Loop() {
				i++
				key := "bench/" + strconv.Itoa(i)
				if _, err := d.Put(context.Background(), key, io.LimitReader(zeros{}, size), storage.PutOptions{Size: size}); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				d.Delete(context.Background(), key)
				b.StartTimer()
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
