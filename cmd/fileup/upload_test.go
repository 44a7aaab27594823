package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --json prints only the fields the server sent: an evolink answer with
// a file id and URL alone has no size, times or names in the output, and
// a failure carries the request id and whether it may be retried.
func TestUploadJSONOmitsAbsentFields(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer good-token" {
			w.Header().Set("X-Request-Id", "req-7")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"success":false,"code":401,"msg":"Authentication failed"}`)
			return
		}
		io.WriteString(w, `{"data":{"file_id":"file_9","download_url":"https://files.example/d/file_9"}}`) // no success, no code
	}))
	defer srv.Close()
	f := filepath.Join(t.TempDir(), "p.png")
	os.WriteFile(f, []byte("\x89PNG\r\n\x1a\n"), 0o644)

	code, stdout, stderr := runCLI(t, nil, "upload", "--provider", "evolink", "--json", "--base-url", srv.URL, "--token", "good-token", f)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(stdout), &line); err != nil {
		t.Fatalf("%v: %q", err, stdout)
	}
	res, _ := line["result"].(map[string]any)
	want := map[string]any{"vendor": "evolink", "file_id": "file_9", "download_url": "https://files.example/d/file_9"}
	if len(res) != len(want) {
		t.Errorf("result %v: want only %v", res, want)
	}
	for k, v := range want {
		if res[k] != v {
			t.Errorf("result[%q] = %v, want %v", k, res[k], v)
		}
	}

	code, stdout, _ = runCLI(t, nil, "upload", "--provider", "evolink", "--json", "--base-url", srv.URL, "--token", "bad-token", f)
	var failed struct {
		OK    bool `json:"ok"`
		Error struct {
			HTTPStatus int    `json:"http_status"`
			Code       int    `json:"code"`
			RequestID  string `json:"request_id"`
			Retryable  *bool  `json:"retryable"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(stdout), &failed); err != nil || code != exitFailure || failed.OK {
		t.Fatalf("exit %d, %v: %q", code, err, stdout)
	}
	if e := failed.Error; e.HTTPStatus != 401 || e.Code != 401 || e.RequestID != "req-7" || e.Retryable == nil || *e.Retryable {
		t.Errorf("error %+v", e)
	}
	if strings.Contains(stdout, "bad-token") {
		t.Error("token printed")
	}
}
