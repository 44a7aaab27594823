package storage_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fileup/fileup/storage"
)

func TestCleanKey(t *testing.T) {
	tests := []struct {
		key string
		ok  bool
	}{
		{"a", true}, {"images/user-uploads/photo.png", true}, {"ünïcödé/名前.txt", true},
		{"%2e%2e/x", true}, {"．．/x", true}, {"a∕..∕b", true}, {"a b/c d", true},
		{strings.Repeat("a", 255), true}, {strings.Repeat("a/", 511) + "a", true},
		{"", false}, {"/a", false}, {"a/", false}, {"a//b", false}, {".", false}, {"..", false},
		{"a/../b", false}, {"a/./b", false}, {`a\b`, false}, {`..\..\x`, false}, {"a\x00b", false},
		{"a\nb", false}, {"a\x7fb", false}, {".hidden", false}, {"a/.fileup-tmp-1", false},
		{strings.Repeat("a", 256), false}, {strings.Repeat("a/", 512) + "a", false}, {"\xff\xfe", false},
		{"C:/x", true}, {"C:\\x", false},
	}
	for _, tt := range tests {
		got, err := storage.CleanKey(tt.key)
		if tt.ok && (err != nil || got != tt.key) {
			t.Errorf("CleanKey(%q) = %q, %v; want it accepted unchanged", tt.key, got, err)
		}
		if !tt.ok && !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("CleanKey(%q) error = %v; want ErrInvalidKey", tt.key, err)
		}
	}
}

// FuzzCleanKey: an accepted key is returned unchanged and, joined to a
// tenant directory, resolves strictly inside it.
func FuzzCleanKey(f *testing.F) {
	for _, seed := range []string{
		"a/b", "..", "../x", "/etc/passwd", `..\..\windows`, "a\x00b", "%2e%2e/%2f", "．．/．．/x",
		"a∕..∕b", strings.Repeat("long", 300), "a/./b", "ok/name.png", "\u202e/x", "a/\u00a0/b",
	} {
		f.Add(seed)
	}
	root := filepath.FromSlash("/srv/fileup/data/tenant")
	f.Fuzz(func(t *testing.T, key string) {
		got, err := storage.CleanKey(key)
		if err != nil {
			if !errors.Is(err, storage.ErrInvalidKey) {
				t.Fatalf("error %v does not wrap ErrInvalidKey", err)
			}
			return
		}
		if got != key {
			t.Fatalf("CleanKey(%q) = %q: accepted keys must be returned unchanged", key, got)
		}
		if again, err := storage.CleanKey(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
		joined := filepath.Join(root, filepath.FromSlash(key))
		rel, err := filepath.Rel(root, joined)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) {
			t.Fatalf("key %q resolves to %q, outside %q", key, joined, root)
		}
		if filepath.Clean(joined) != joined {
			t.Fatalf("key %q is not clean once joined: %q", key, joined)
		}
	})
}
