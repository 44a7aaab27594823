package server_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
)

// The server over a real S3-compatible store: direct uploads, uploads
// whose fields follow the file (staged, then moved server-side), ranges,
// and size limits that leave nothing behind.
func TestS3Backend(t *testing.T) {
	e := newS3Env(t, nil)
	data := randomBytes(6 << 20) // more than one 5 MiB part
	resp, body := e.post(kiePath, tokenA, field("uploadPath", "s3"), field("fileName", "big.bin"), file("big.bin", data))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("direct: %d %s", resp.StatusCode, body)
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

	resp, body = e.post(evolinkPath, tokenA, file("x.png", pngBytes), field("upload_path", "late"), field("file_name", "moved.png"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("staged: %d %s", resp.StatusCode, body)
	}
	d := decode[evolinkOK](t, body).Data
	if _, got := e.get(*d.FileUrl); !bytes.Equal(got, pngBytes) {
		t.Errorf("staged upload downloads %d bytes", len(got))
	}
	if u, err := e.store.Usage(context.Background(), "staging"); err != nil || u.Files != 0 {
		t.Errorf("staging area holds %+v, %v", u, err)
	}
}
