package storage_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fileup/fileup/storage"
	"github.com/fileup/fileup/storage/storagetest"
)

// writeLegacy writes a file in the first disk format: data, JSON
// metadata, its length and the magic.
func writeLegacy(t *testing.T, root, rel string, data []byte, meta map[string]any) {
	t.Helper()
	meta["size"] = len(data)
	js, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	var tail [16]byte
	binary.BigEndian.PutUint64(tail[:8], uint64(len(js)))
	copy(tail[8:], "FILEUPM1")
	p := filepath.Join(root, filepath.FromSlash(rel))
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, append(append(append([]byte{}, data...), js...), tail[:]...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func legacyFiles(t *testing.T, d *storage.Disk) map[string]storage.LegacyFile {
	t.Helper()
	got := map[string]storage.LegacyFile{}
	err := d.Legacy(context.Background(), func(f storage.LegacyFile) error {
		got[f.Path] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestLegacyImport(t *testing.T) {
	root := t.TempDir()
	const tenant = "0123456789abcdef0123456789abcdef"
	created := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	long := strings.Repeat("<", 70_000) // more metadata than the first format could read back
	writeLegacy(t, root, tenant+"/docs/a.txt", []byte("alpha"), map[string]any{"tenant": tenant, "key": "docs/a.txt", "id": "id1",
		"original_name": "a.txt", "content_type": "text/plain", "created": created})
	writeLegacy(t, root, tenant+"/long.bin", []byte("beta"), map[string]any{"tenant": tenant, "key": "long.bin", "original_name": long})
	writeLegacy(t, root, "staging/"+tenant+"/xyz", []byte("staged"), map[string]any{"tenant": "staging", "key": tenant + "/xyz"})
	writeLegacy(t, root, tenant+"/docs/.fileup-tmp-1", []byte("half"), map[string]any{})
	// An aside file whose name is free is put back; one whose name a newer
	// version took is dropped.
	writeLegacy(t, root, tenant+"/docs/.fileup-aside-1", []byte("gamma"), map[string]any{"tenant": tenant, "key": "docs/c.txt"})
	writeLegacy(t, root, tenant+"/docs/.fileup-aside-2", []byte("old alpha"), map[string]any{"tenant": tenant, "key": "docs/a.txt"})
	os.WriteFile(filepath.Join(root, tenant, "not-an-object"), []byte("no trailer"), 0o644)

	d, err := storage.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := d.HasLegacy(); err != nil || !ok {
		t.Fatalf("HasLegacy = %v, %v", ok, err)
	}
	got := legacyFiles(t, d)
	var paths []string
	for p := range got {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	want := []string{tenant + "/docs/a.txt", tenant + "/docs/c.txt", tenant + "/long.bin"}
	if !slices.Equal(paths, want) {
		t.Fatalf("legacy files %v, want %v", paths, want)
	}
	a := got[tenant+"/docs/a.txt"]
	if a.Tenant != tenant || a.Key != "docs/a.txt" || a.ID != "id1" || a.OriginalName != "a.txt" || a.ContentType != "text/plain" ||
		a.Size != 5 || !a.Created.Equal(created) {
		t.Errorf("a.txt: %+v", a)
	}
	if f := got[tenant+"/long.bin"]; f.OriginalName != long || f.Size != 4 {
		t.Errorf("long.bin: size %d, original name of %d bytes", f.Size, len(f.OriginalName))
	}
	for i, p := range want {
		key := "t/" + string(rune('a'+i))
		if err := d.Adopt(got[p], key); err != nil {
			t.Fatal(err)
		}
	}
	for i, data := range []string{"alpha", "gamma", "beta"} {
		if b := storagetest.Read(t, d, "t/"+string(rune('a'+i))); string(b) != data {
			t.Errorf("object %d = %q, want %q", i, b, data)
		}
	}
	if err := d.PruneLegacy(); err != nil {
		t.Fatal(err)
	}
	left := regularFiles(t, root)
	slices.Sort(left)
	if !slices.Equal(left, []string{filepath.Join(tenant, "not-an-object"), "objects/t/a", "objects/t/b", "objects/t/c"}) {
		t.Errorf("files left: %v", left)
	}
	if _, err := os.Stat(filepath.Join(root, "staging")); err == nil {
		t.Error("the staging directory survived")
	}
}

// Adopt can be run again after it stopped half way: the file is listed
// again with the metadata saved before its trailer was cut, and a sidecar
// whose file has moved is dropped.
func TestLegacyAdoptResumes(t *testing.T) {
	root := t.TempDir()
	const tenant = "abc"
	writeLegacy(t, root, tenant+"/x/f.bin", []byte("payload"), map[string]any{"tenant": tenant, "key": "x/f.bin", "id": "i"})
	d, _ := storage.NewDisk(root)
	f := legacyFiles(t, d)[tenant+"/x/f.bin"]

	// Adopt stops after cutting the trailer, before the move (here the
	// object key's directory is a file), as a crash there would.
	os.WriteFile(filepath.Join(root, "objects", "blocked"), nil, 0o644)
	if err := d.Adopt(f, "blocked/k"); err == nil {
		t.Fatal("Adopt into a blocked key succeeded")
	}
	if st, _ := os.Stat(filepath.Join(root, tenant, "x", "f.bin")); st == nil || st.Size() != 7 {
		t.Fatalf("the file should be cut to its 7 bytes and still in place: %v", st)
	}
	again, ok := legacyFiles(t, d)[tenant+"/x/f.bin"]
	if !ok || again.Size != 7 || again.ID != "i" || again.Key != "x/f.bin" {
		t.Fatalf("after the interruption the file is listed as %+v (%v)", again, ok)
	}
	if err := d.Adopt(again, "t/obj"); err != nil {
		t.Fatal(err)
	}
	if b := storagetest.Read(t, d, "t/obj"); string(b) != "payload" {
		t.Errorf("object = %q", b)
	}
	var sidecars []string
	filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(e.Name(), ".fileup-import-") {
			sidecars = append(sidecars, p)
		}
		return nil
	})
	if len(sidecars) != 0 {
		t.Errorf("sidecars left after Adopt: %v", sidecars)
	}
	// A sidecar whose file has moved (a crash after the move) is dropped.
	orphan := filepath.Join(root, tenant, "x", ".fileup-import-0123")
	os.WriteFile(orphan, []byte(`{"key":"x/f.bin","size":7}`), 0o644)
	legacyFiles(t, d)
	if _, err := os.Stat(orphan); err == nil {
		t.Error("orphan sidecar kept")
	}
}
