package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog/catalogtest"
)

func TestServeDevTokenAndUpload(t *testing.T) {
	data := t.TempDir()
	srv := startServer(t, "--storage", data)
	if srv.token == "" || !strings.Contains(srv.stdout.String(), "curl -H 'Authorization: Bearer "+srv.token) {
		t.Fatalf("no dev token or upload command printed:\n%s", srv.stdout)
	}
	dir := t.TempDir()
	fileA := filepath.Join(dir, "a.txt")
	os.WriteFile(fileA, []byte("hello from a file\n"), 0o644)

	// One file: the download URL alone on stdout.
	code, stdout, stderr := runCLI(t, nil, "upload", "--base-url", srv.url, "--token", srv.token, "--path", "docs", fileA)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	url := strings.TrimSpace(stdout)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "hello from a file\n" {
		t.Errorf("downloaded %q from %q", got, url)
	}
	if strings.Contains(stderr, srv.token) {
		t.Errorf("token printed on stderr: %s", stderr)
	}
}

func TestUploadStdinJSONAndConcurrency(t *testing.T) {
	srv := startServer(t, "--storage", t.TempDir())
	dir := t.TempDir()
	var files []string
	for i, content := range []string{"one", "two", "three", "four"} {
		p := filepath.Join(dir, content+".txt")
		os.WriteFile(p, []byte(strings.Repeat(content, i+1)), 0o644)
		files = append(files, p)
	}
	args := append([]string{"upload", "--base-url", srv.url, "--token", srv.token, "--path", "many", "--json", "-j", "3", "-"}, files...)
	code, stdout, stderr := runCLI(t, strings.NewReader("from standard input"), args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("--json printed on stderr: %q", stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 5 {
		t.Fatalf("want 5 JSON lines, got %d:\n%s", len(lines), stdout)
	}
	seen := map[string]bool{}
	for _, line := range lines {
		var v struct {
			File   string `json:"file"`
			OK     bool   `json:"ok"`
			Result *struct {
				DownloadURL string `json:"download_url"`
				Size        int64  `json:"size"`
				FileName    string `json:"file_name"`
			} `json:"result"`
		}
		dec := json.NewDecoder(strings.NewReader(line))
		if err := dec.Decode(&v); err != nil || !v.OK || v.Result == nil || v.Result.DownloadURL == "" {
			t.Fatalf("bad line %q: %v", line, err)
		}
		seen[v.File] = true
		resp, err := http.Get(v.Result.DownloadURL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := "from standard input"
		if v.File != "-" {
			want, _ = readString(v.File)
		}
		if string(body) != want || v.Result.Size != int64(len(want)) {
			t.Errorf("%s: downloaded %q (size %d), want %q", v.File, body, v.Result.Size, want)
		}
	}
	if len(seen) != 5 {
		t.Errorf("files reported: %v", seen)
	}
}

func readString(p string) (string, error) {
	b, err := os.ReadFile(p)
	return string(b), err
}

func TestUploadFailures(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "x.txt")
	os.WriteFile(f, []byte("x"), 0o644)

	t.Run("missing token", func(t *testing.T) {
		t.Setenv("KIE_API_KEY", "")
		code, _, stderr := runCLI(t, nil, "upload", "--base-url", "http://127.0.0.1:1", "--path", "p", f)
		if code != exitUsage || !strings.Contains(stderr, "KIE_API_KEY") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("token from env", func(t *testing.T) {
		srv := startServer(t, "--storage", t.TempDir(), "--token", "env-token-0123456789")
		t.Setenv("EVOLINK_API_KEY", "env-token-0123456789")
		png := filepath.Join(dir, "p.png")
		os.WriteFile(png, []byte("\x89PNG\r\n\x1a\n0000"), 0o644)
		code, stdout, stderr := runCLI(t, nil, "upload", "--provider", "evolink", "--base-url", srv.url, png)
		if code != exitOK || !strings.HasPrefix(stdout, srv.url+"/") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
	t.Run("401", func(t *testing.T) {
		srv := startServer(t, "--storage", t.TempDir(), "--token", "right-token-0123456789")
		code, _, stderr := runCLI(t, nil, "upload", "--base-url", srv.url, "--token", "wrong-token", "--path", "p", f)
		if code != exitFailure || !strings.Contains(stderr, "401") || strings.Contains(stderr, "wrong-token") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("401 json", func(t *testing.T) {
		srv := startServer(t, "--storage", t.TempDir(), "--token", "right-token-0123456789")
		code, stdout, _ := runCLI(t, nil, "upload", "--json", "--base-url", srv.url, "--token", "wrong-token", "--path", "p", f)
		var v struct {
			OK    bool `json:"ok"`
			Error struct {
				HTTPStatus int `json:"http_status"`
				Code       int `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(stdout), &v); err != nil || code != exitFailure || v.OK || v.Error.HTTPStatus != 401 || v.Error.Code != 401 {
			t.Errorf("exit %d, stdout %q, err %v", code, stdout, err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		code, _, stderr := runCLI(t, nil, "upload", "--base-url", "http://127.0.0.1:1", "--token", "t", "--path", "p", filepath.Join(dir, "nope"))
		if code != exitFailure || !strings.Contains(stderr, "nope") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("server error page", func(t *testing.T) {
		html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html><body>502 Bad Gateway</body></html>")
		}))
		defer html.Close()
		code, _, stderr := runCLI(t, nil, "upload", "--retries", "1", "--base-url", html.URL, "--token", "t", "--path", "p", f)
		if code != exitFailure || !strings.Contains(stderr, "502") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

// TestLoad is the bounded load test: 32 concurrent clients for a few
// seconds against a `fileup serve` process, every upload downloaded and
// checked; the server's peak RSS is reported.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	for _, backend := range loadBackends(t) {
		t.Run(backend.name, func(t *testing.T) {
			srv := startServer(t, append(backend.args, "--token", "load-token-0123456789")...)
			for _, provider := range []string{"kie", "evolink"} {
				code, stdout, stderr := runCLI(t, nil, "bench", "--base-url", srv.url, "--token", "load-token-0123456789",
					"--provider", provider, "--size", "256KiB", "--concurrency", "32", "--duration", "3s")
				t.Logf("%s %s:\n%s", backend.name, provider, stdout)
				if code != exitOK {
					t.Errorf("bench exit %d: %s %s", code, stdout, stderr)
				}
				if !strings.Contains(stdout, " 0 errors, 0 integrity failures") {
					t.Errorf("bench reported failures:\n%s", stdout)
				}
			}
			if rss, err := peakRSS(srv.cmd.Process.Pid); err == nil {
				t.Logf("%s: server peak RSS %.1f MiB", backend.name, float64(rss)/(1<<20))
			}
		})
	}
}

// peakRSS reads a process's peak resident set size (VmHWM) in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, io.EOF
}

type loadBackend struct {
	name string
	args []string
}

// loadBackends is local disk, plus S3 when a test endpoint is configured
// (scripts/minio.sh sets FILEUP_TEST_S3_*; CI always does).
func loadBackends(t *testing.T) []loadBackend {
	backends := []loadBackend{{"disk", []string{"--storage", t.TempDir()}}}
	endpoint := os.Getenv("FILEUP_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Log("FILEUP_TEST_S3_ENDPOINT not set: load test against disk only")
		return backends
	}
	t.Setenv("AWS_ACCESS_KEY_ID", os.Getenv("FILEUP_TEST_S3_ACCESS_KEY"))
	t.Setenv("AWS_SECRET_ACCESS_KEY", os.Getenv("FILEUP_TEST_S3_SECRET_KEY"))
	bucket := "fileup-load-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	db := catalogtest.SQLiteDSN(t)
	if os.Getenv("FILEUP_TEST_PG_DSN") != "" {
		db = catalogtest.PostgresDSN(t) // S3 and PostgreSQL: how several servers run
	}
	return append(backends, loadBackend{"s3", []string{"--storage", "s3://" + bucket + "?endpoint=" + endpoint + "&secure=false", "--db", db}})
}
