package server

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// listedRunes are the characters the hardening issue names: every one must
// be refused in paths, names and original names.
var listedRunes = []rune{
	0x202A, 0x202B, 0x202C, 0x202D, 0x202E, // bidi embeddings and overrides
	0x2066, 0x2067, 0x2068, 0x2069, // bidi isolates
	0x200E, 0x200F, 0x061C, // directional marks
	0x200B, 0x200C, 0x200D, // zero-width space, non-joiner, joiner
	0x2060, 0x2061, 0x2062, 0x2063, 0x2064, // word joiner, invisible operators
	0xFEFF, 0x00AD, 0x180E, // BOM, soft hyphen, Mongolian vowel separator
	0x115F, 0x1160, 0x3164, 0xFFA0, // Hangul fillers
	0xFFFD,                                                     // replacement character
	0x00, 0x09, 0x0A, 0x0D, 0x1B, 0x1F, 0x7F, 0x80, 0x85, 0x9F, // Cc
	0x2028, 0x2029, // line and paragraph separators
	0xE0001, 0xE0041, // tag characters (Cf)
	0x034F, // combining grapheme joiner (default ignorable)
}

func TestNamesRefuseListedRunes(t *testing.T) {
	checks := map[string]func(string) error{
		"path": checkPath, "name": checkName, "original": checkOriginalName,
	}
	for _, r := range listedRunes {
		for kind, check := range checks {
			for _, s := range []string{string(r), "a" + string(r) + "b.txt", "x.pdf" + string(r)} {
				err := check(s)
				if err == nil {
					t.Errorf("%s %q (%U) accepted", kind, s, r)
					continue
				}
				if want := fmt.Sprintf("%U", r); !strings.Contains(err.Error(), want) {
					t.Errorf("%s %q: %q does not name %s", kind, s, err, want)
				}
			}
		}
	}
	if err := checkName("invoice\u202Efdp.exe"); err == nil || !strings.Contains(err.Error(), "U+202E (at byte 7)") {
		t.Errorf("invoice\\u202Efdp.exe: %v", err)
	}
}

// Every character of the categories Cc and Cf, and every other
// default-ignorable code point, is refused.
func TestRejectedRuneCoversCategories(t *testing.T) {
	tables := map[string]*unicode.RangeTable{
		"Cc": unicode.Cc, "Cf": unicode.Cf, "Zl": unicode.Zl, "Zp": unicode.Zp,
		"Other_Default_Ignorable_Code_Point": unicode.Other_Default_Ignorable_Code_Point,
	}
	for name, tab := range tables {
		n := 0
		for r := rune(0); r <= unicode.MaxRune; r++ {
			if unicode.Is(tab, r) {
				n++
				if !rejectedRune(r) {
					t.Errorf("%U (%s) not rejected", r, name)
				}
			}
		}
		if n == 0 {
			t.Errorf("table %s is empty", name)
		}
	}
	for _, r := range "aZ09 -_.~%()[]'\"!@#$&+,;=éß写真😀\u00A0\uFE0F\u2764" {
		if rejectedRune(r) {
			t.Errorf("%U (%q) rejected", r, r)
		}
	}
}

func TestNamesRefuseInvalidUTF8(t *testing.T) {
	for _, s := range []string{"\xff", "a\xc3", "\xed\xa0\x80", "a\xc0\xafb"} { // bad byte, cut rune, surrogate, overlong "/"
		for kind, check := range map[string]func(string) error{"path": checkPath, "name": checkName, "original": checkOriginalName} {
			if err := check(s); err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
				t.Errorf("%s %q: %v", kind, s, err)
			}
		}
	}
}

func TestCheckPath(t *testing.T) {
	tests := []struct {
		in, err string // err: part of the reason, "" when accepted
	}{
		{"images", ""},
		{"docs/user-uploads/2024", ""},
		{"写真/旅行", ""},
		{"a b/c%22d%22", ""},
		{"..a/b..", ""},
		{".hidden", ""}, // the store refuses dot segments itself: see storage.CleanKey
		{"", "must not be empty"},
		{"/abs", "must not start or end with a slash"},
		{"a/", "must not start or end with a slash"},
		{"/", "must not start or end with a slash"},
		{"a//b", "empty segment"},
		{".", `"." or ".." segment`},
		{"..", `"." or ".." segment`},
		{"a/./b", `"." or ".." segment`},
		{"a/../../etc", `"." or ".." segment`},
		{"a/..", `"." or ".." segment`},
		{`a\b`, "backslash"},
		{`..\..\x`, "backslash"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) { wantReason(t, checkPath(tt.in), tt.err) })
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		in, err string
	}{
		{"README.md", ""},
		{"résumé final (2).pdf", ""},
		{"a %22q%22.png", ""},
		{"...", ""},
		{"❤️.png", ""}, // U+FE0F, an emoji variation selector, stays allowed
		{"", "must not be empty"},
		{"a/b", "not a path"},
		{`a\b`, "not a path"},
		{"/", "not a path"},
		{".", `must not be "." or ".."`},
		{"..", `must not be "." or ".."`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) { wantReason(t, checkName(tt.in), tt.err) })
	}
}

func TestCheckOriginalName(t *testing.T) {
	tests := []struct {
		in, err string
	}{
		{"", ""},
		{"photo.png", ""},
		{`C:\Users\me\photo.png`, ""}, // informational: any separator is fine
		{"../../etc/passwd", ""},
		{"invoice\u202Efdp.exe", "U+202E"},
		{"a\x00b", "U+0000"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) { wantReason(t, checkOriginalName(tt.in), tt.err) })
	}
}

// Every length limit, exactly at it and one past, in bytes (multi-byte
// characters count by their UTF-8 length).
func TestNameLengthLimits(t *testing.T) {
	seg := func(n int) string { return strings.Repeat("a", n) }
	// pathOf builds a path of exactly n bytes from segments of 100 bytes.
	pathOf := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			if b.Len() > 0 {
				b.WriteByte('/')
			}
			b.WriteString(seg(min(100, n-b.Len())))
		}
		return b.String()
	}
	wide := strings.Repeat("写", 85) // 255 bytes
	tests := []struct {
		name  string
		check func() error
		n     int // expected length in the message, 0 when accepted
		limit int
	}{
		{"name at limit", func() error { return checkName(seg(MaxNameBytes)) }, 0, MaxNameBytes},
		{"name one past", func() error { return checkName(seg(MaxNameBytes + 1)) }, MaxNameBytes + 1, MaxNameBytes},
		{"wide name at limit", func() error { return checkName(wide) }, 0, MaxNameBytes},
		{"wide name one rune past", func() error { return checkName(wide + "写") }, MaxNameBytes + 3, MaxNameBytes},
		{"path at limit", func() error { return checkPath(pathOf(MaxPathBytes)) }, 0, MaxPathBytes},
		{"path one past", func() error { return checkPath(pathOf(MaxPathBytes + 1)) }, MaxPathBytes + 1, MaxPathBytes},
		{"key at limit", func() error { return checkKey(pathOf(800), seg(MaxKeyBytes-801)) }, 0, MaxKeyBytes},
		{"key one past", func() error { return checkKey(pathOf(800), seg(MaxKeyBytes-800)) }, MaxKeyBytes + 1, MaxKeyBytes},
		{"longest path and name", func() error { return checkKey(pathOf(MaxPathBytes), seg(MaxNameBytes)) }, 0, MaxKeyBytes},
		{"original at limit", func() error { return checkOriginalName(seg(MaxOriginalNameBytes)) }, 0, MaxOriginalNameBytes},
		{"original one past", func() error { return checkOriginalName(seg(MaxOriginalNameBytes + 1)) }, MaxOriginalNameBytes + 1, MaxOriginalNameBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check()
			if tt.n == 0 {
				wantReason(t, err, "")
				return
			}
			wantReason(t, err, fmt.Sprintf("%d bytes long", tt.n))
			wantReason(t, err, fmt.Sprintf("the limit is %d bytes", tt.limit))
		})
	}
	if len(pathOf(MaxPathBytes)) != MaxPathBytes || len(wide) != MaxNameBytes {
		t.Fatal("test strings have the wrong length")
	}
}

// A string over its limit is refused for its length before anything else,
// so the reason is the same whatever the string holds.
func TestLengthIsCheckedFirst(t *testing.T) {
	long := strings.Repeat("\u202E/..", 300)
	for _, err := range []error{checkPath(long), checkName(long), checkOriginalName(long)} {
		wantReason(t, err, "bytes long; the limit is")
	}
}

func wantReason(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("refused: %v", err)
	case want != "" && err == nil:
		t.Errorf("accepted, want a reason with %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("reason %q, want one with %q", err, want)
	}
}

// FuzzNames: whatever a client sends, an accepted path and name never hold
// a rejected character, never escape their tenant's namespace, and fit
// every limit; an accepted original name holds no rejected character and
// fits its limit.
func FuzzNames(f *testing.F) {
	f.Add("docs", "README.md", "README.md")
	f.Add("a/b/c", "invoice\u202Efdp.exe", "invoice\u202Efdp.exe")
	f.Add("../etc", "..", `C:\x\y.png`)
	f.Add("a//b", "a\u200Bb", "\xff")
	f.Add(strings.Repeat("a/", 384), strings.Repeat("b", 256), strings.Repeat("c", 1025))
	f.Fuzz(func(t *testing.T, p, name, original string) {
		pathOK, nameOK := checkPath(p) == nil, checkName(name) == nil
		if pathOK {
			assertSafe(t, "path", p, MaxPathBytes)
			if path.Clean(p) != p || !filepath.IsLocal(p) || strings.Contains(p, `\`) {
				t.Fatalf("path %q is not clean and local", p)
			}
		}
		if nameOK {
			assertSafe(t, "name", name, MaxNameBytes)
			if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
				t.Fatalf("name %q is not one segment", name)
			}
		}
		if pathOK && nameOK && checkKey(p, name) == nil {
			key := p + "/" + name
			if len(key) > MaxKeyBytes || path.Clean(key) != key || !filepath.IsLocal(key) || strings.HasPrefix(key, "/") {
				t.Fatalf("key %q escapes or is too long", key)
			}
			for seg := range strings.SplitSeq(key, "/") {
				if seg == ".." {
					t.Fatalf("key %q holds ..", key)
				}
			}
		}
		if checkOriginalName(original) == nil {
			assertSafe(t, "original name", original, MaxOriginalNameBytes)
		}
	})
}

func assertSafe(t *testing.T, kind, s string, limit int) {
	t.Helper()
	if len(s) > limit {
		t.Fatalf("%s of %d bytes accepted, limit %d", kind, len(s), limit)
	}
	if !utf8.ValidString(s) {
		t.Fatalf("%s %q is not valid UTF-8", kind, s)
	}
	for _, r := range s {
		if rejectedRune(r) || unicode.In(r, unicode.Cc, unicode.Cf) {
			t.Fatalf("%s %q holds %U", kind, s, r)
		}
	}
}
