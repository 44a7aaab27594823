package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPNG is a PNG signature and header and n random bytes: fileup serve
// sniffs it as image/png (evolink takes images only).
func testPNG(n int) []byte {
	b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
	tail := make([]byte, n)
	rand.Read(tail)
	return append(b, tail...)
}

// fetchBody downloads url and returns its body.
func fetchBody(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return b
}

// `fileup upload --from-url` against a `fileup serve` child process that
// may fetch from loopback (--fetch-allow), where a local origin serves
// the file: the download URL is printed as for a file, and the stored
// file is the origin's.
func TestUploadFromURL(t *testing.T) {
	png := testPNG(200 << 10)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/img/remote.png" {
			http.NotFound(w, r)
			return
		}
		w.Write(png)
	}))
	defer site.Close()
	srv := startServer(t, "--storage", t.TempDir(), "--fetch-allow", "127.0.0.0/8")

	t.Run("kie", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, nil, "upload", "--base-url", srv.url, "--token", srv.token, "--path", "fetched", "--name", "r.png",
			"--from-url", site.URL+"/img/remote.png")
		if code != exitOK || stderr != "" {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
		url := strings.TrimSpace(stdout)
		if !strings.HasSuffix(url, "/r.png") || !bytes.Equal(fetchBody(t, url), png) {
			t.Errorf("printed %q; the file there is not the origin's", url)
		}
	})
	t.Run("evolink json", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, nil, "upload", "--provider", "evolink", "--json", "--base-url", srv.url, "--token", srv.token,
			"--from-url", site.URL+"/img/remote.png")
		var line struct {
			File   *string `json:"file"`
			URL    string  `json:"url"`
			OK     bool    `json:"ok"`
			Result struct {
				DownloadURL string `json:"download_url"`
				FileID      string `json:"file_id"`
				MimeType    string `json:"mime_type"`
				Size        int64  `json:"size"`
			} `json:"result"`
		}
		if err := json.Unmarshal([]byte(stdout), &line); err != nil || code != exitOK || stderr != "" {
			t.Fatalf("exit %d, %v: stdout %q stderr %q", code, err, stdout, stderr)
		}
		if !line.OK || line.File != nil || line.URL != site.URL+"/img/remote.png" || line.Result.FileID == "" ||
			line.Result.MimeType != "image/png" || line.Result.Size != int64(len(png)) {
			t.Errorf("line %s", stdout)
		}
		if !bytes.Equal(fetchBody(t, line.Result.DownloadURL), png) {
			t.Error("the stored file is not the origin's")
		}
	})
	t.Run("refused address", func(t *testing.T) {
		code, _, stderr := runCLI(t, nil, "upload", "--base-url", srv.url, "--token", srv.token, "--path", "p",
			"--from-url", "http://169.254.169.254/latest/meta-data/")
		if code != exitFailure || !strings.Contains(stderr, "HTTP 400") || !strings.Contains(stderr, "Cannot upload from this URL") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("missing at the origin", func(t *testing.T) {
		code, stdout, _ := runCLI(t, nil, "upload", "--json", "--base-url", srv.url, "--token", srv.token, "--path", "p",
			"--from-url", site.URL+"/nope.png")
		var line struct {
			OK    bool `json:"ok"`
			Error struct {
				HTTPStatus int  `json:"http_status"`
				Retryable  bool `json:"retryable"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(stdout), &line); err != nil || code != exitFailure || line.OK || line.Error.HTTPStatus != 400 || line.Error.Retryable {
			t.Errorf("exit %d, %v: %q", code, err, stdout)
		}
	})
}

// `fileup upload --base64` sends files (and standard input, chunked)
// with the Base64 upload; each stored file downloads back byte for byte.
func TestUploadBase64(t *testing.T) {
	srv := startServer(t, "--storage", t.TempDir())
	dir := t.TempDir()
	contents := map[string][]byte{}
	var files []string
	for i, n := range []int{0, 1000, 300 << 10} {
		p := filepath.Join(dir, string(rune('a'+i))+".png")
		contents[p] = testPNG(n)
		os.WriteFile(p, contents[p], 0o644)
		files = append(files, p)
	}
	stdin := testPNG(5000)
	contents["-"] = stdin
	for _, provider := range []string{"kie", "evolink"} {
		args := append([]string{"upload", "--base64", "--provider", provider, "--json", "-j", "2", "--base-url", srv.url, "--token", srv.token, "--path", "b64", "-"}, files...)
		code, stdout, stderr := runCLI(t, bytes.NewReader(stdin), args...)
		if code != exitOK || stderr != "" {
			t.Fatalf("%s: exit %d, stderr %q", provider, code, stderr)
		}
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if len(lines) != 4 {
			t.Fatalf("%s: %d lines: %s", provider, len(lines), stdout)
		}
		for _, l := range lines {
			var v struct {
				File   string `json:"file"`
				OK     bool   `json:"ok"`
				Result struct {
					DownloadURL string `json:"download_url"`
					Size        int64  `json:"size"`
				} `json:"result"`
			}
			if err := json.Unmarshal([]byte(l), &v); err != nil || !v.OK {
				t.Fatalf("%s: %q: %v", provider, l, err)
			}
			want := contents[v.File]
			if v.Result.Size != int64(len(want)) || !bytes.Equal(fetchBody(t, v.Result.DownloadURL), want) {
				t.Errorf("%s %s: size %d, want %d, or other bytes", provider, v.File, v.Result.Size, len(want))
			}
		}
	}
	// The server's request log: every file went through a Base64 route.
	srv.waitLog(t, `route="POST /api/file-base64-upload" status=200`, 4)
	srv.waitLog(t, `route="POST /api/v1/files/upload/base64" status=200`, 4)
	if log := srv.stderr.String(); strings.Contains(log, "upload/stream") || strings.Contains(log, "file-stream-upload") {
		t.Errorf("a stream upload in the log:\n%s", log)
	}
}

// waitLog waits until the server's log holds n lines containing s: it
// logs a request once the response is written, so after the client has
// read it.
func (p *serverProc) waitLog(t *testing.T, s string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(p.stderr.String(), s) < n {
		if time.Now().After(deadline) {
			t.Fatalf("want %d log lines with %q:\n%s", n, s, p.stderr)
		}
		time.Sleep(10 * time.Millisecond) // polling the log for the condition
	}
}

// `fileup quota` prints the fields the server sent, or JSON; failures
// exit 1 as uploads do.
func TestQuota(t *testing.T) {
	const token = "quota-token-0123456789"
	srv := startServer(t, "--storage", t.TempDir(), "--token", token, "--quota-files", "5")
	unlimited := startServer(t, "--storage", t.TempDir(), "--token", token)
	png := filepath.Join(t.TempDir(), "q.png")
	os.WriteFile(png, testPNG(100), 0o644)
	for range 2 {
		if code, _, stderr := runCLI(t, nil, "upload", "--provider", "evolink", "--base-url", srv.url, "--token", token, png); code != exitOK {
			t.Fatalf("upload: exit %d: %s", code, stderr)
		}
	}

	code, stdout, stderr := runCLI(t, nil, "quota", "--base-url", srv.url, "--token", token)
	if want := "user_group\tdefault\nused_files\t2\nmax_files\t5\nremain_files\t3\n"; code != exitOK || stdout != want || stderr != "" {
		t.Errorf("exit %d, stdout %q (want %q), stderr %q", code, stdout, want, stderr)
	}
	code, stdout, _ = runCLI(t, nil, "quota", "--base-url", unlimited.url, "--token", token)
	if want := "user_group\tdefault\nused_files\t0\n"; code != exitOK || stdout != want {
		t.Errorf("unlimited: exit %d, stdout %q, want %q", code, stdout, want)
	}

	t.Setenv("EVOLINK_API_KEY", token)
	code, stdout, _ = runCLI(t, nil, "quota", "--json", "--base-url", srv.url)
	if want := `{"ok":true,"quota":{"user_group":"default","used_files":2,"max_files":5,"remain_files":3}}` + "\n"; code != exitOK || stdout != want {
		t.Errorf("--json: exit %d, stdout %q, want %q", code, stdout, want)
	}

	code, _, stderr = runCLI(t, nil, "quota", "--base-url", srv.url, "--token", "wrong-token-0123456789")
	if code != exitFailure || !strings.Contains(stderr, "HTTP 401") || strings.Contains(stderr, "wrong-token") {
		t.Errorf("wrong token: exit %d, stderr %q", code, stderr)
	}
	code, stdout, _ = runCLI(t, nil, "quota", "--json", "--base-url", srv.url, "--token", "wrong-token-0123456789")
	var failed struct {
		OK    bool `json:"ok"`
		Error struct {
			HTTPStatus int `json:"http_status"`
			Code       int `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(stdout), &failed); err != nil || code != exitFailure || failed.OK || failed.Error.HTTPStatus != 401 || failed.Error.Code != 401 {
		t.Errorf("wrong token --json: exit %d, %v: %q", code, err, stdout)
	}

	t.Setenv("EVOLINK_API_KEY", "")
	if code, _, stderr := runCLI(t, nil, "quota", "--base-url", srv.url); code != exitUsage || !strings.Contains(stderr, "EVOLINK_API_KEY") {
		t.Errorf("no token: exit %d, stderr %q", code, stderr)
	}
}
