package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

var (
	gifBytes  = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
	jpegBytes = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"), make([]byte, 64)...)
	webpBytes = append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 "), make([]byte, 40)...)
)

func TestEvolinkUpload(t *testing.T) {
	e := newEnv(t, nil)
	resp, body := e.post(evolinkPath, tokenA, field("upload_path", "photos"), field("file_name", "photo.png"), file("original.png", pngBytes))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	got := decode[evolinkOK](t, body)
	d := got.Data
	if got.Success == nil || !*got.Success || *got.Code != 200 || d == nil {
		t.Fatalf("envelope %s", body)
	}
	if !strings.HasPrefix(*d.FileId, "file_") || *d.FileName != "photo.png" || *d.OriginalName != "original.png" ||
		*d.FileSize != int64(len(pngBytes)) || *d.MimeType != "image/png" || *d.UploadPath != "photos" {
		t.Errorf("data = %s", body)
	}
	if !strings.HasPrefix(*d.FileUrl, e.srv.URL+"/f/") || !strings.HasSuffix(*d.FileUrl, "/photo.png") ||
		*d.DownloadUrl != e.srv.URL+"/api/v1/files/download/"+*d.FileId {
		t.Errorf("file_url %s download_url %s", *d.FileUrl, *d.DownloadUrl)
	}
	if d.ExpiresAt.Sub(*d.UploadTime) != 72*time.Hour {
		t.Errorf("expires_at - upload_time = %v, want 72h", d.ExpiresAt.Sub(*d.UploadTime))
	}
	resp, content := e.get(*d.FileUrl)
	if string(content) != string(pngBytes) || resp.Header.Get("Content-Disposition") != "inline; filename=photo.png" {
		t.Errorf("file_url: %d bytes, disposition %q", len(content), resp.Header.Get("Content-Disposition"))
	}
	resp, _ = e.get(*d.FileUrl + "?download=1")
	if resp.Header.Get("Content-Disposition") != "attachment; filename=photo.png" {
		t.Errorf("?download=1 disposition %q", resp.Header.Get("Content-Disposition"))
	}
}

func TestEvolinkFieldSpellings(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name   string
		parts  []part
		status int
		path   string // expected upload_path on success
		fname  string // expected file_name on success ("" = generated)
		msg    string
	}{
		{"underscore", []part{field("upload_path", "u"), field("file_name", "a.png"), file("x.png", pngBytes)}, 200, "u", "a.png", ""},
		{"camelCase", []part{field("uploadPath", "c"), field("fileName", "b.png"), file("x.png", pngBytes)}, 200, "c", "b.png", ""},
		{"mixed", []part{field("uploadPath", "m"), field("file_name", "c.png"), file("x.png", pngBytes)}, 200, "m", "c.png", ""},
		{"both equal", []part{field("upload_path", "e"), field("uploadPath", "e"), file("x.png", pngBytes)}, 200, "e", "", ""},
		{"fields after file", []part{file("x.png", pngBytes), field("uploadPath", "late"), field("file_name", "d.png")}, 200, "late", "d.png", ""},
		{"categorised by type", []part{file("x.gif", gifBytes)}, 200, "images/gif", "", ""},
		{"jpeg", []part{file("x.jpg", jpegBytes)}, 200, "images/jpeg", "", ""},
		{"webp", []part{file("x.webp", webpBytes)}, 200, "images/webp", "", ""},
		{"conflicting paths", []part{field("upload_path", "a"), field("uploadPath", "b"), file("x.png", pngBytes)}, 400, "", "", "Conflicting values for upload_path"},
		{"conflicting names", []part{field("file_name", "a.png"), file("x.png", pngBytes), field("fileName", "b.png")}, 400, "", "", "Conflicting values for file_name"},
		{"html named png", []part{file("evil.png", []byte("<html><script>alert(1)</script></html>"))}, 400, "", "", "Unsupported file type text/html"},
		{"text", []part{field("upload_path", "t"), file("a.txt", []byte("hello"))}, 400, "", "", "Unsupported file type text/plain"},
		{"two images", []part{file("a.png", pngBytes), file("b.png", pngBytes)}, 400, "", "", "Only one file"},
		{"no file", []part{field("upload_path", "a")}, 400, "", "", "Missing required parameter: file"},
		{"bad path", []part{field("upload_path", "../x"), file("a.png", pngBytes)}, 400, "", "", "Invalid upload_path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.post(evolinkPath, tokenA, tt.parts...)
			if tt.status != 200 {
				wantEnvelope(t, resp, body, tt.status, tt.msg)
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			d := decode[evolinkOK](t, body).Data
			if *d.UploadPath != tt.path {
				t.Errorf("upload_path = %q, want %q", *d.UploadPath, tt.path)
			}
			if tt.fname != "" && *d.FileName != tt.fname {
				t.Errorf("file_name = %q, want %q", *d.FileName, tt.fname)
			}
			if tt.fname == "" && (len(*d.FileName) < 10 || !strings.HasSuffix(*d.FileName, "."+strings.TrimPrefix(*d.MimeType, "image/")) && *d.MimeType != "image/jpeg") {
				t.Errorf("generated file_name = %q for %s", *d.FileName, *d.MimeType)
			}
			_, content := e.get(*d.FileUrl)
			if int64(len(content)) != *d.FileSize {
				t.Errorf("downloaded %d bytes, file_size %d", len(content), *d.FileSize)
			}
		})
	}
}
