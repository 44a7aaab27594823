package main

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestServeGarbageDelay checks that --garbage-delay reaches the catalog:
// the object of an overwritten file is deleted within seconds, where the
// default delay would keep it for ten minutes, while the new version
// stays downloadable.
func TestServeGarbageDelay(t *testing.T) {
	data := t.TempDir()
	const token = "garbage-delay-token-0123456789"
	srv := startServer(t, "--storage", data, "--token", token, "--garbage-delay", "300ms", "--janitor-interval", "50ms")

	ct, body := multipartBody(t, "g", "v.txt", []byte("first version\n"))
	if resp, out := postKie(t, srv.url, token, ct, body); resp.StatusCode != http.StatusOK {
		t.Fatalf("first upload: %d %s", resp.StatusCode, out)
	}
	second := []byte("second version\n")
	ct, body = multipartBody(t, "g", "v.txt", second)
	start := time.Now() // the old object is queued after this, due 300 ms later
	resp, out := postKie(t, srv.url, token, ct, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("overwrite: %d %s", resp.StatusCode, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(objectFiles(data)) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the replaced object was not deleted: %v", objectFiles(data))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Errorf("the replaced object was deleted %v after the overwrite began, before the 300ms delay", waited)
	}
	got, err := http.Get(extractURL(t, out))
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	content, _ := io.ReadAll(got.Body)
	if got.StatusCode != http.StatusOK || !bytes.Equal(content, second) {
		t.Errorf("after the collection the file is %q (status %d), want %q", content, got.StatusCode, second)
	}
}
