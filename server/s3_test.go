package server_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"
)

// The server over a real S3-compatible store (and PostgreSQL when
// configured): uploads whose fields come before or after the file, ranges,
// and the objects a file's replacement and a refused upload leave: none.
func TestS3Backend(t *testing.T) {
	e := newS3Env(t, nil)
	data := randomBytes(6 << 20) // more than one 5 MiB part
	resp, body := e.post(kiePath, tokenA, field("uploadPath", "s3"), field("fileName", "big.bin"), file("big.bin", data))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fields first: %d %s", resp.StatusCode, body)
	}
	url := decode[kieOK](t, body).Data.DownloadUrl
	dl, got := e.get(url)
	if dl.StatusCode != http.StatusOK || !bytes.Equal(got, data) || dl.Header.Get("ETag") == "" {
		t.Errorf("download: %d, %d bytes, ETag %q", dl.StatusCode, len(got), dl.Header.Get("ETag"))
	}
	part, got := e.get(url, "Range", "bytes=5242870-5242889")
	if part.StatusCode != http.StatusPartialContent || !bytes.Equal(got, data[5242870:5242890]) {
		t.Errorf("range: %d %q", part.StatusCode, got)
	}

	resp, body = e.post(evolinkPath, tokenA, file("x.png", pngBytes), field("upload_path", "late"), field("file_name", "late.png"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fields last: %d %s", resp.StatusCode, body)
	}
	d := decode[evolinkOK](t, body).Data
	if _, got := e.get(*d.FileUrl); !bytes.Equal(got, pngBytes) {
		t.Errorf("fields-last upload downloads %d bytes", len(got))
	}
	// Replace big.bin, and refuse an upload after its bytes were stored.
	resp, body = e.post(kiePath, tokenA, field("uploadPath", "s3"), field("fileName", "big.bin"), file("big.bin", []byte("small now")))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("overwrite: %d %s", resp.StatusCode, body)
	}
	resp, body = e.post(kiePath, tokenA, file("y.txt", []byte("no path")), field("uploadPath", "../bad"))
	wantEnvelope(t, resp, body, http.StatusBadRequest, "Invalid uploadPath")

	e.now.Advance(24 * time.Hour) // past the garbage delay, before the files expire
	e.server.Sweep(context.Background())
	keys := s3Keys(t, e)
	if len(keys) != 2 {
		t.Errorf("bucket holds %v, want the two live files' objects only", keys)
	}
}
