package storage

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	expiredPut = PutOptions{Size: -1, Meta: Meta{Expires: time.Now().Add(-time.Hour)}}
	freshPut   = PutOptions{Size: -1, Meta: Meta{Expires: time.Now().Add(time.Hour)}}
)

// readKey returns the data of (tenant, key), or the error opening it.
func readKey(d *Disk, tenant, key string) (string, error) {
	f, m, err := d.open(tenant, key)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, m.Size))
	return string(b), err
}

func noLeftovers(t *testing.T, d *Disk) {
	t.Helper()
	fs.WalkDir(d.root.FS(), ".", func(p string, e fs.DirEntry, err error) error {
		if err == nil && (strings.HasPrefix(e.Name(), tmpPrefix) || strings.HasPrefix(e.Name(), asidePrefix)) {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

// removeIfSame must remove the version the janitor read, and keep any
// version written after it read that one, however many landed meanwhile
// (a freed inode number is reused at once on ext4: the file read is kept
// open so that its number cannot be).
func TestRemoveIfSame(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		overwrites int // Puts that land between the read and the removal
		rounds     int
	}{
		{"still the version read", 0, 1},
		{"overwritten since", 1, 1},
		{"overwritten twice since", 2, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDisk(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			for round := range tt.rounds {
				if _, err := d.Put(ctx, "t1", "a/b", strings.NewReader("old"), expiredPut); err != nil {
					t.Fatal(err)
				}
				want := "old"
				var seen []string
				err = d.walkObjects(ctx, "t1", func(name string, m Meta, read *os.File) error {
					seen = append(seen, name)
					for i := range tt.overwrites {
						want = "new " + strconv.Itoa(i)
						if _, err := d.Put(ctx, "t1", "a/b", strings.NewReader(want), freshPut); err != nil {
							t.Fatal(err)
						}
					}
					removed, err := d.removeIfSame(name, read)
					if err != nil || removed != (tt.overwrites == 0) {
						t.Errorf("round %d: removeIfSame = %v, %v; want %v", round, removed, err, tt.overwrites == 0)
					}
					return nil
				})
				if err != nil || len(seen) != 1 || seen[0] != "t1/a/b" {
					t.Fatalf("walkObjects saw %q, %v", seen, err)
				}
				got, err := readKey(d, "t1", "a/b")
				if tt.overwrites == 0 {
					if !errors.Is(err, ErrNotFound) {
						t.Errorf("after removal: %q, %v; want ErrNotFound", got, err)
					}
				} else if err != nil || got != want {
					t.Fatalf("round %d: kept %q, %v; want %q", round, got, err, want)
				}
				noLeftovers(t, d)
			}
		})
	}
}

// An object the janitor had renamed aside when the process died is put
// back by the next NewDisk, unless it expired or its key was reused.
func TestNewDiskRestoresAside(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		put      PutOptions
		reused   bool // a newer version took the key before the restart
		wantData string
	}{
		{"unexpired, key free", freshPut, false, "aside"},
		{"unexpired, key reused", freshPut, true, "newer"},
		{"expired", expiredPut, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			d, err := NewDisk(dir)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.Put(ctx, "t1", "a/b", strings.NewReader("aside"), tt.put); err != nil {
				t.Fatal(err)
			}
			if err := d.root.Rename("t1/a/b", "t1/a/"+asidePrefix+"0123"); err != nil {
				t.Fatal(err)
			}
			if tt.reused {
				if _, err := d.Put(ctx, "t1", "a/b", strings.NewReader("newer"), freshPut); err != nil {
					t.Fatal(err)
				}
			}
			d.Close()

			d, err = NewDisk(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			got, err := readKey(d, "t1", "a/b")
			if tt.wantData == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("got %q, %v; want nothing", got, err)
				}
			} else if err != nil || got != tt.wantData {
				t.Errorf("got %q, %v; want %q", got, err, tt.wantData)
			}
			noLeftovers(t, d)
		})
	}
}
