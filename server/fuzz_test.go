package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/catalog/catalogtest"
	"github.com/fileup/fileup/server"
	"github.com/fileup/fileup/storage"
)

// FuzzUploadForm drives arbitrary multipart bodies (boundaries, headers,
// field names and values) through both upload handlers. Whatever arrives,
// the answer is a JSON envelope with a documented status, never a panic,
// and a refused upload stores nothing.
func FuzzUploadForm(f *testing.F) {
	seed := func(parts ...part) []byte {
		_, b := formBodyBoundary("fuzzboundary", parts...)
		return b
	}
	f.Add(false, seed(field("uploadPath", "a"), field("fileName", "b.txt"), file("b.txt", []byte("hello"))))
	f.Add(false, seed(file("b.txt", []byte("hello")), field("uploadPath", "a/b")))
	f.Add(false, seed(field("uploadPath", "../../etc"), file("passwd", []byte("x"))))
	f.Add(false, seed(field("uploadPath", "a"), field("fileName", "..\\..\\x"), file("x", []byte("x"))))
	f.Add(false, seed(field("uploadPath", "a"), field("uploadPath", "a"), file("x", []byte("x"))))
	f.Add(true, seed(field("upload_path", "p"), field("uploadPath", "q"), file("x.png", pngBytes)))
	f.Add(true, seed(file("x.png", pngBytes), file("y.png", pngBytes)))
	f.Add(true, seed(field("file_name", "\x00.png"), file("x.png", pngBytes)))
	f.Add(true, []byte("--fuzzboundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\x89PNG"))
	f.Add(false, []byte("--fuzzboundary\r\n"+strings.Repeat("X-Long: "+strings.Repeat("h", 1000)+"\r\n", 20)+"\r\n\r\n--fuzzboundary--"))
	f.Add(false, []byte("--wrong\r\n\r\n--wrong--\r\n"))
	f.Add(false, []byte{})

	root := f.TempDir()
	store, err := storage.NewDisk(root)
	if err != nil {
		f.Fatal(err)
	}
	cat := catalogtest.OpenDSN(f, catalogtest.SQLiteDSN(f), catalog.Options{})
	s, err := server.New(context.Background(), server.Config{
		Store:         store,
		Catalog:       cat,
		Tokens:        []string{tokenA},
		MaxUploadSize: 1 << 20,
		Logger:        slog.New(slog.DiscardHandler),
	})
	root = filepath.Join(root, "objects")
	if err != nil {
		f.Fatal(err)
	}
	allowed := map[int]bool{200: true, 400: true, 403: true, 413: true}

	f.Fuzz(func(t *testing.T, evolink bool, body []byte) {
		path := kiePath
		if evolink {
			path = evolinkPath
		}
		before := countFiles(root)
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=fuzzboundary")
		req.Header.Set("Authorization", "Bearer "+tokenA)
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { s.ServeHTTP(rec, req); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("the handler hung on this input")
		}

		if !allowed[rec.Code] {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var env struct {
			Success *bool `json:"success"`
			Code    *int  `json:"code"`
			Msg     *string
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Success == nil || env.Code == nil || env.Msg == nil {
			t.Fatalf("not an envelope (%v): %s", err, rec.Body)
		}
		if *env.Code != rec.Code || *env.Success != (rec.Code == 200) {
			t.Fatalf("envelope %s does not match status %d", rec.Body, rec.Code)
		}
		after := countFiles(root)
		if rec.Code != 200 && after > before {
			t.Fatalf("refused upload (%d) stored a file: %s", rec.Code, rec.Body)
		}
		if rec.Code == 200 && after < before {
			t.Fatalf("files disappeared")
		}
	})
}

// countFiles counts the regular files under root.
func countFiles(root string) int {
	n := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// formBodyBoundary is formBody with a fixed boundary.
func formBodyBoundary(boundary string, parts ...part) (string, []byte) {
	var b bytes.Buffer
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\n")
		if p.filename != "" {
			b.WriteString(`Content-Disposition: form-data; name="` + p.name + `"; filename="` + p.filename + "\"\r\nContent-Type: application/octet-stream\r\n\r\n")
			b.Write(p.data)
		} else {
			b.WriteString(`Content-Disposition: form-data; name="` + p.name + "\"\r\n\r\n" + p.value)
		}
		b.WriteString("\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return "multipart/form-data; boundary=" + boundary, b.Bytes()
}
