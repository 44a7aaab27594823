package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// The name rules, end to end over a socket: each refusal is a 400
// envelope with the reason, and stores nothing.
func TestUploadRefusesSpoofingNames(t *testing.T) {
	png := func(filename string) part { return file(filename, pngBytes) }
	tests := []struct {
		name  string
		path  string
		parts []part
		msg   []string
	}{
		{"kie bidi file name", kiePath,
			[]part{field("uploadPath", "docs"), field("fileName", "invoice\u202Efdp.exe"), file("a.bin", []byte("x"))},
			[]string{"Invalid fileName", "U+202E"}},
		{"kie zero-width upload path", kiePath,
			[]part{field("uploadPath", "do\u200Bcs"), field("fileName", "a.txt"), file("a.txt", []byte("x"))},
			[]string{"Invalid uploadPath", "U+200B"}},
		{"kie bidi isolate in a later segment", kiePath,
			[]part{field("uploadPath", "a/\u2066b"), file("a.txt", []byte("x"))},
			[]string{"Invalid uploadPath", "U+2066"}},
		{"kie original name with bidi override", kiePath,
			[]part{field("uploadPath", "docs"), file("invoice\u202Efdp.exe", []byte("x"))},
			[]string{"Invalid filename of the file part", "U+202E"}},
		{"evolink hangul filler name", evolinkPath,
			[]part{field("file_name", "\u3164.png"), png("a.png")},
			[]string{"Invalid file_name", "U+3164"}},
		{"evolink BOM in path", evolinkPath,
			[]part{field("upload_path", "\uFEFFphotos"), png("a.png")},
			[]string{"Invalid upload_path", "U+FEFF"}},
		{"evolink soft hyphen in original name", evolinkPath,
			[]part{png("pay\u00ADpal.png")},
			[]string{"Invalid filename of the file part", "U+00AD"}},
		{"file before the name (staged)", kiePath,
			[]part{file("a.txt", []byte("x")), field("uploadPath", "docs"), field("fileName", "a\u200D.txt")},
			[]string{"Invalid fileName", "U+200D"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			resp, body := e.post(tt.path, tokenA, tt.parts...)
			for _, m := range tt.msg {
				wantEnvelope(t, resp, body, http.StatusBadRequest, m)
			}
			if fs := e.objects(); len(fs) != 0 {
				t.Errorf("refused upload stored %v", fs)
			}
		})
	}
}

// Every length limit over a socket: at the limit the upload is stored, one
// byte past it is refused with the limit in the message.
func TestUploadNameLengthLimits(t *testing.T) {
	pathOf := func(n int) string { // segments of at most 100 bytes
		var b strings.Builder
		for b.Len() < n {
			if b.Len() > 0 {
				b.WriteByte('/')
			}
			b.WriteString(strings.Repeat("p", min(100, n-b.Len())))
		}
		return b.String()
	}
	name := func(n int) string { return strings.Repeat("n", n-4) + ".txt" }
	tests := []struct {
		label              string
		uploadPath, fileNm string
		original           string
		want               int
		msg                string
	}{
		{"name at 255", "a", name(255), "a.txt", 200, ""},
		{"name at 256", "a", name(256), "a.txt", 400, "Invalid fileName: is 256 bytes long; the limit is 255 bytes"},
		{"path at 768", pathOf(768), "a.txt", "a.txt", 200, ""},
		{"path at 769", pathOf(769), "a.txt", "a.txt", 400, "Invalid uploadPath: is 769 bytes long; the limit is 768 bytes"},
		{"longest path and name: 1,024", pathOf(768), name(255), "a.txt", 200, ""},
		{"original at 1,024", "a", "a.txt", name(1024), 200, ""},
		{"original at 1,025", "a", "a.txt", name(1025), 400, "Invalid filename of the file part: is 1025 bytes long; the limit is 1024 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			e := newEnv(t, nil)
			resp, body := e.post(kiePath, tokenA, field("uploadPath", tt.uploadPath), field("fileName", tt.fileNm), file(tt.original, []byte("x")))
			if tt.want != http.StatusOK {
				wantEnvelope(t, resp, body, tt.want, tt.msg)
				if fs := e.objects(); len(fs) != 0 {
					t.Errorf("refused upload stored %v", fs)
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if got := decode[kieOK](t, body).Data.FilePath; got != tt.uploadPath+"/"+tt.fileNm {
				t.Errorf("filePath = %q", got)
			}
		})
	}
}
