package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClientString(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		want  string
	}{
		{"empty", "", 32, ""},
		{"plain", "docs/README.md", 32, "docs/README.md"},
		{"unicode kept", "résumé 写真 😀.png", 64, "résumé 写真 😀.png"},
		{"exactly at the limit", "abcdefgh", 8, "abcdefgh"},
		{"one past the limit", "abcdefghi", 8, "abcde…"},
		{"backslash", `a\b`, 32, `a\\b`},
		{"tab newline return", "a\tb\nc\rd", 32, `a\tb\nc\rd`},
		{"NUL and DEL", "a\x00b\x7f", 32, `a\u0000b\u007f`},
		{"C1 control", "a\u0085b", 32, `a\u0085b`},
		{"bidi override", "invoice\u202Efdp.exe", 32, `invoice\u202efdp.exe`},
		{"zero width", "a\u200Bb\uFEFFc", 32, `a\u200bb\ufeffc`},
		{"hangul filler", "\u3164", 32, `\u3164`},
		{"tag character", "a\U000E0041", 32, `a\U000e0041`},
		{"line separator", "a\u2028b", 32, `a\u2028b`},
		{"invalid UTF-8", "a\xffb\xc3", 32, `a\xffb\xc3`},
		{"replacement character", "a\uFFFDb", 32, `a\ufffdb`},
		{"never cuts inside a character", "ééééé", 8, "éé…"},
		{"never cuts inside an escape", "ab\u202Ecd", 9, "ab…"},
		{"escape that fits exactly", "ab\u202E", 8, `ab\u202e`},
		{"limit below the mark", "abcdef", 0, "…"},
		{"negative limit", "abcdef", -5, "…"},
		{"limit below the mark, short input", "ab", 1, "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clientString(tt.in, tt.limit).String()
			if got != tt.want {
				t.Errorf("clientString(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
			if len(got) > max(tt.limit, len(truncationMark)) {
				t.Errorf("%d bytes, over the limit %d", len(got), tt.limit)
			}
		})
	}
}

// A long client string costs the logger work and memory in proportion to
// the bound, not to the string.
func TestClientStringWorkIsBounded(t *testing.T) {
	huge := strings.Repeat("\u202E", 4<<20) // 12 MiB of escapes
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	v := clientString(huge, 64)
	runtime.ReadMemStats(&after)
	if got := v.String(); len(got) > 64 || !strings.HasSuffix(got, truncationMark) {
		t.Errorf("got %q", got)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<10 {
		t.Errorf("allocated %d bytes for a 64-byte result", alloc)
	}
}

// One log line through slog's JSON handler stays bounded and shows the
// escapes, whatever the client sent.
func TestClientAttrInJSONLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	hostile := "invoice\u202Efdp.exe\n{\"level\":\"ERROR\"}" + strings.Repeat("\u200B", 100_000)
	log.LogAttrs(t.Context(), slog.LevelInfo, "upload", clientAttr("name", hostile))
	line := buf.Bytes()
	if bytes.Count(line, []byte("\n")) != 1 {
		t.Fatalf("not one line: %q", line)
	}
	if len(line) > 512 {
		t.Errorf("log line is %d bytes", len(line))
	}
	var rec struct{ Name string }
	if err := json.Unmarshal(line, &rec); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rec.Name, `invoice\u202efdp.exe\n{"level":"ERROR"}\u200b`) || !strings.HasSuffix(rec.Name, truncationMark) {
		t.Errorf("name = %q", rec.Name)
	}
}

func FuzzClientString(f *testing.F) {
	f.Add("docs/README.md", 32)
	f.Add("invoice\u202Efdp.exe", 12)
	f.Add("a\xffb\\c\n", 5)
	f.Add("ééééé…", 8)
	f.Add(strings.Repeat("x", 100), -1)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit %= 1 << 12
		got := clientString(s, limit).String()
		full := clientString(s, len(s)*10+len(truncationMark)).String()
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		for _, r := range got {
			if rejectedRune(r) {
				t.Fatalf("%q holds %U", got, r)
			}
		}
		if unescaped := unescapeLogged(t, full); unescaped != s {
			t.Fatalf("unescaped %q, want %q", unescaped, s)
		}
		bound := max(limit, len(truncationMark))
		if len(full) <= bound {
			if got != full {
				t.Fatalf("fits (%d <= %d) but got %q, want %q", len(full), bound, got, full)
			}
			return
		}
		if len(got) > bound {
			t.Fatalf("%d bytes, over %d", len(got), bound)
		}
		cut, ok := strings.CutSuffix(got, truncationMark)
		if !ok || !strings.HasPrefix(full, cut) || !strings.HasPrefix(s, unescapeLogged(t, cut)) {
			t.Fatalf("truncated %q is not a prefix of %q plus the mark", got, full)
		}
	})
}

// unescapeLogged reverses clientString's escapes; it fails the test on an
// escape clientString does not write, such as one cut in half.
func unescapeLogged(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			t.Fatalf("dangling backslash in %q", s)
		}
		i++
		switch c := s[i]; c {
		case '\\':
			b.WriteByte('\\')
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
			if i+n >= len(s) {
				t.Fatalf("short escape in %q", s)
			}
			v, err := strconv.ParseUint(s[i+1:i+1+n], 16, 32)
			if err != nil {
				t.Fatalf("bad escape in %q: %v", s, err)
			}
			if c == 'x' {
				b.WriteByte(byte(v))
			} else {
				b.WriteRune(rune(v))
			}
			i += n
		default:
			t.Fatalf("unknown escape \\%c in %q", c, s)
		}
	}
	return b.String()
}

func Example_clientString() {
	fmt.Println(clientString("invoice\u202Efdp.exe", 64))
	fmt.Println(clientString(strings.Repeat("A", 100), 16))
	// Output:
	// invoice\u202efdp.exe
	// AAAAAAAAAAAAA…
}
