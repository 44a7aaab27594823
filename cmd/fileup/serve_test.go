package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// serveEnv clears the environment variables fileup serve reads, so that
// only the flags under test count.
func serveEnv(t *testing.T) {
	for _, v := range []string{"FILEUP_ADDR", "FILEUP_STORAGE", "FILEUP_DB", "FILEUP_TOKENS", "FILEUP_TOKEN_FILE",
		"FILEUP_PUBLIC_URL", "FILEUP_METRICS_ADDR", "FILEUP_LOG_FORMAT"} {
		t.Setenv(v, "")
	}
}

// Every bad value of a serve flag is a usage error (exit 2) with a clear
// message, found before anything is opened or created, and never a panic.
func TestServeFlagValidation(t *testing.T) {
	serveEnv(t)
	const token = "a-token-long-enough-0123"
	tests := []struct {
		label string
		args  []string
		msg   string
	}{
		{"janitor interval 0", []string{"--janitor-interval", "0"}, "--janitor-interval must be positive"},
		{"janitor interval negative", []string{"--janitor-interval", "-1m"}, "--janitor-interval must be positive"},
		{"negative stall timeout", []string{"--stall-timeout", "-1s"}, "--stall-timeout must be positive"},
		{"stall timeout 0", []string{"--stall-timeout", "0"}, "--stall-timeout must be positive"},
		{"negative write timeout", []string{"--write-timeout", "-1s"}, "--write-timeout must be positive"},
		{"negative header timeout", []string{"--header-timeout", "-5s"}, "--header-timeout must be positive"},
		{"negative idle timeout", []string{"--idle-timeout", "-1ns"}, "--idle-timeout must be positive"},
		{"negative shutdown timeout", []string{"--shutdown-timeout", "-1s"}, "--shutdown-timeout must be positive"},
		{"negative upload lease", []string{"--upload-lease", "-1m"}, "--upload-lease must be positive"},
		{"ttl 0", []string{"--ttl", "0"}, "--ttl must not be 0"},
		{"ttl not a duration", []string{"--ttl", "3days"}, `invalid value "3days" for flag -ttl`},
		{"uploads per token 0", []string{"--uploads-per-token", "0"}, "--uploads-per-token must be at least 1"},
		{"uploads per token negative", []string{"--uploads-per-token", "-3"}, "--uploads-per-token must be at least 1"},
		{"fetch-allow not a range", []string{"--fetch-allow", "intranet"}, `--fetch-allow "intranet": want an address range`},
		{"fetch-allow without a length", []string{"--fetch-allow", "10.0.0.1"}, `--fetch-allow "10.0.0.1": want an address range`},
		{"fetch-allow too long a prefix", []string{"--fetch-allow", "10.0.0.0/33"}, `--fetch-allow "10.0.0.0/33"`},
		{"one bad fetch-allow of two", []string{"--fetch-allow", "10.0.0.0/8", "--fetch-allow", "fd00::/129"}, `--fetch-allow "fd00::/129"`},
		{"s3 without --db", []string{"--storage", "s3://bucket?endpoint=127.0.0.1:1&secure=false"}, "--db is required with s3:// storage"},
		{"max size 0", []string{"--max-size", "0"}, "--max-size must be positive"},
		{"negative file quota", []string{"--quota-files", "-1"}, "--quota-bytes and --quota-files must not be negative"},
		{"log format", []string{"--log-format", "xml"}, "--log-format must be text or json"},
		{"short token", []string{"--token", "hunter2"}, "a token of 7 characters is too short"},
		{"short token among long ones", []string{"--token", token, "--token", "0123456789abcde"}, "a token of 15 characters is too short"},
		{"empty token", []string{"--token", "", "--allow-short-tokens"}, "tokens must be non-empty and contain no white space"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--storage", data}, tt.args...)
			if !hasTokenArg(tt.args) {
				args = append(args, "--token", token)
			}
			code, stdout, stderr := runCLI(t, nil, args...)
			if code != exitUsage || !strings.Contains(stderr, tt.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, exitUsage, tt.msg)
			}
			if !strings.Contains(stderr, "Usage: fileup serve") || stdout != "" {
				t.Errorf("want the usage on stderr and nothing on stdout; stdout %q", stdout)
			}
			if strings.Contains(stderr, "hunter2") {
				t.Errorf("the message shows the token: %q", stderr)
			}
			if _, err := os.Stat(data); !os.IsNotExist(err) {
				t.Errorf("the storage directory was created before the flags were checked: %v", err)
			}
		})
	}
	// --allow-short-tokens lets a short token through the checks (the
	// server then starts; here the address is taken, so it stops there).
	code, _, stderr := runCLI(t, nil, "serve", "--addr", "256.0.0.1:0", "--storage", t.TempDir(), "--token", "hunter2", "--allow-short-tokens")
	if code != exitFailure || strings.Contains(stderr, "too short") {
		t.Errorf("--allow-short-tokens: exit %d, %q; want the listen failure, not a token refusal", code, stderr)
	}
}

var metricsLine = regexp.MustCompile(`msg="metrics on a separate listener" addr=(\S+)`)

// --metrics-addr serves /metrics on a listener of its own, and the main
// listener no longer serves it.
func TestServeMetricsAddr(t *testing.T) {
	serveEnv(t)
	srv := startServer(t, "--storage", t.TempDir(), "--token", "metrics-test-token-0123", "--metrics-addr", "127.0.0.1:0")
	var addr string
	deadline := time.Now().Add(10 * time.Second)
	for addr == "" {
		if m := metricsLine.FindStringSubmatch(srv.stderr.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no metrics listener logged: %s", srv.stderr)
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := get("http://" + addr + "/metrics")
	if status != http.StatusOK || !strings.Contains(body, "fileup_uploads_in_flight 0") || !strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics listener: %d %.300s", status, body)
	}
	if status, body := get(srv.url + "/metrics"); status != http.StatusNotFound || strings.Contains(body, "fileup_") {
		t.Errorf("main listener /metrics: %d %.300s, want 404", status, body)
	}
	if status, _ := get(srv.url + "/healthz"); status != http.StatusOK {
		t.Errorf("main listener /healthz: %d", status)
	}
	if status, _ := get("http://" + addr + "/healthz"); status != http.StatusNotFound {
		t.Errorf("the metrics listener serves /healthz: %d", status)
	}
}

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
