package storage

import (
	"context"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"
)

// removeIfSame must keep a version written after the janitor read the
// expired one, and remove the version it read.
func TestRemoveIfSame(t *testing.T) {
	ctx := context.Background()
	expired := PutOptions{Size: -1, Meta: Meta{Expires: time.Now().Add(-time.Hour)}}
	fresh := PutOptions{Size: -1, Meta: Meta{Expires: time.Now().Add(time.Hour)}}
	tests := []struct {
		name      string
		overwrite bool // a Put lands between the read and the removal
		wantGone  bool
	}{
		{"still the version read", false, true},
		{"overwritten since", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDisk(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, err := d.Put(ctx, "t1", "a/b", strings.NewReader("old"), expired); err != nil {
				t.Fatal(err)
			}
			var seen []string
			err = d.walkObjects(ctx, "t1", func(name string, m Meta, fi os.FileInfo) error {
				seen = append(seen, name)
				if tt.overwrite {
					if _, err := d.Put(ctx, "t1", "a/b", strings.NewReader("new"), fresh); err != nil {
						t.Fatal(err)
					}
				}
				removed, err := d.removeIfSame(name, fi)
				if err != nil || removed != tt.wantGone {
					t.Errorf("removeIfSame = %v, %v; want %v", removed, err, tt.wantGone)
				}
				return nil
			})
			if err != nil || len(seen) != 1 || seen[0] != "t1/a/b" {
				t.Fatalf("walkObjects saw %q, %v", seen, err)
			}
			f, _, err := d.open("t1", "a/b")
			if tt.wantGone {
				if err != ErrNotFound {
					t.Errorf("after removal: open = %v, want ErrNotFound", err)
				}
			} else {
				if err != nil {
					t.Fatalf("the overwrite is gone: %v", err)
				}
				b, _ := io.ReadAll(io.LimitReader(f, 3))
				f.Close()
				if string(b) != "new" {
					t.Errorf("kept %q, want the overwrite", b)
				}
			}
			fs.WalkDir(d.root.FS(), ".", func(p string, e fs.DirEntry, err error) error {
				if err == nil && strings.HasPrefix(e.Name(), tmpPrefix) {
					t.Errorf("left aside: %s", p)
				}
				return nil
			})
		})
	}
}
