package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// multipartBody builds a kie form with the file last.
func multipartBody(t *testing.T, uploadPath, name string, data []byte) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("uploadPath", uploadPath)
	mw.WriteField("fileName", name)
	w, _ := mw.CreateFormFile("file", name)
	w.Write(data)
	mw.Close()
	return mw.FormDataContentType(), b.Bytes()
}

func postKie(t *testing.T, base, token string, contentType string, body []byte) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/file-stream-upload", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// objectFiles lists the objects of a disk store, relative to its root,
// with their sizes.
func objectFiles(data string) map[string]int64 { return allFiles(filepath.Join(data, "objects")) }

// allFiles lists regular files under root, relative, with sizes.
func allFiles(root string) map[string]int64 {
	out := map[string]int64{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			info, _ := d.Info()
			rel, _ := filepath.Rel(root, p)
			out[rel] = info.Size()
		}
		return nil
	})
	return out
}

// waitNewFile waits until an object of the disk store data that is not in
// before holds more than over bytes: the server is writing an upload.
func waitNewFile(t *testing.T, data string, before map[string]int64, over int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for name, size := range objectFiles(data) {
			if _, old := before[name]; !old && size > over {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never wrote the upload to disk: %v", objectFiles(data))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServerKilledMidUpload kills the server with SIGKILL while it is
// receiving an overwrite of an existing file, restarts it, and checks that
// the old version is intact, nothing partial is visible, the partial
// object is removed once the dead upload's lease has passed, and so is its
// reservation against the token's quota.
func TestServerKilledMidUpload(t *testing.T) {
	data := t.TempDir()
	const token = "kill-test-token-0123456789"
	quota := []string{"--quota-bytes", "12MiB", "--upload-lease", "1s", "--janitor-interval", "100ms"}
	srv := startServer(t, append([]string{"--storage", data, "--token", token}, quota...)...)

	oldData := bytes.Repeat([]byte("old version\n"), 1000)
	ct, body := multipartBody(t, "k", "victim.bin", oldData)
	resp, out := postKie(t, srv.url, token, ct, body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first upload: %d %s", resp.StatusCode, out)
	}
	url := extractURL(t, out)
	before := objectFiles(data)

	// Start an overwrite with 8 MiB declared, send 4 MiB, then SIGKILL.
	ct, body = multipartBody(t, "k", "victim.bin", bytes.Repeat([]byte("N"), 8<<20))
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/file-stream-upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", token, ct, len(body))
	if _, err := conn.Write(body[:4<<20]); err != nil {
		t.Fatal(err)
	}
	// Wait until the server has written part of the new version to disk.
	waitNewFile(t, data, before, 1<<20)
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()

	// Restarted on the same storage, the server still serves the old
	// version, and its janitor removes the dead upload's object once the
	// lease has passed.
	srv2 := startServer(t, append([]string{"--storage", data, "--token", token}, quota...)...)
	deadline := time.Now().Add(20 * time.Second)
	for len(objectFiles(data)) != len(before) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	after := objectFiles(data)
	if len(after) != len(before) {
		t.Errorf("objects after restart %v, before %v: the dead upload's object survived", after, before)
	}
	for name, size := range before {
		if after[name] != size {
			t.Errorf("%s: size %d after restart, %d before", name, after[name], size)
		}
	}
	// The dead upload reserved its 8 MiB from its Content-Length: released,
	// 8 MiB fit in the 12 MiB quota again beside the 12 kB file.
	ct, body = multipartBody(t, "k", "after.bin", bytes.Repeat([]byte("A"), 8<<20))
	if resp, out := postKie(t, srv2.url, token, ct, body); resp.StatusCode != http.StatusOK {
		t.Errorf("an upload that fits only without the dead one's reservation: %d %s", resp.StatusCode, out)
	}
	got, err := http.Get(strings.Replace(url, srv.url, srv2.url, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer got.Body.Close()
	content, _ := io.ReadAll(got.Body)
	if got.StatusCode != http.StatusOK || !bytes.Equal(content, oldData) {
		t.Errorf("after the crash the file is %d bytes (status %d), want the old %d bytes", len(content), got.StatusCode, len(oldData))
	}
}

// TestGracefulShutdownFinishesUploads sends SIGTERM during an upload; the
// upload completes and the server exits 0.
func TestGracefulShutdownFinishesUploads(t *testing.T) {
	data := t.TempDir()
	const token = "graceful-token-0123456789"
	srv := startServer(t, "--storage", data, "--token", token, "--shutdown-timeout", "20s")
	payload := bytes.Repeat([]byte("g"), 2<<20)
	ct, body := multipartBody(t, "g", "g.bin", payload)
	before := objectFiles(data)
	pr, pw := io.Pipe()
	resume := make(chan struct{})
	release := sync.OnceFunc(func() { close(resume) })
	defer release() // a failing test still lets the client finish
	go func() {
		pw.Write(body[:1<<20])
		<-resume // SIGTERM arrives in this gap
		pw.Write(body[1<<20:])
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, srv.url+"/api/file-stream-upload", pr)
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			done <- nil
			return
		}
		done <- resp
	}()
	// Signal once the server is writing the upload to disk: the request
	// is then being handled, which is what a graceful shutdown waits for.
	waitNewFile(t, data, before, 0)
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let the shutdown begin; it must wait
	release()
	resp := <-done
	if resp == nil {
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("in-flight upload during shutdown: status %d", resp.StatusCode)
	}
	if err := srv.cmd.Wait(); err != nil {
		t.Errorf("server exit: %v; stderr %s", err, srv.stderr)
	}
	var found bool
	for _, size := range objectFiles(data) {
		if size == int64(len(payload)) {
			found = true
		}
	}
	if !found {
		t.Errorf("upload not stored: %v", objectFiles(data))
	}
}

func extractURL(t *testing.T, body string) string {
	t.Helper()
	i := strings.Index(body, `"downloadUrl":"`)
	if i < 0 {
		t.Fatalf("no downloadUrl in %s", body)
	}
	rest := body[i+len(`"downloadUrl":"`):]
	return rest[:strings.Index(rest, `"`)]
}

var _ = os.Getpid
