package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fileupBin is the fileup binary built once for the tests that need a
// separate process (signals, SIGKILL).
var fileupBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fileup-cli-test")
	if err != nil {
		panic(err)
	}
	fileupBin = filepath.Join(dir, "fileup")
	out, err := exec.Command("go", "build", "-o", fileupBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building fileup: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runCLI runs the command line in-process and returns exit code and output.
func runCLI(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, stdin, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// serverProc is a `fileup serve` child process.
type serverProc struct {
	cmd    *exec.Cmd
	url    string
	token  string
	stdout *bytes.Buffer
	stderr *syncWriter
}

type syncWriter struct {
	ch chan struct{}
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.ch <- struct{}{}
	defer func() { <-w.ch }()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.ch <- struct{}{}
	defer func() { <-w.ch }()
	return w.b.String()
}

var servingLine = regexp.MustCompile(`on (http://127\.0\.0\.1:\d+), storage`)
var devTokenLine = regexp.MustCompile(`(?m)^  (fileup-dev-[0-9a-f]+)$`)

// startServer starts `fileup serve` on a free port and waits for it.
func startServer(t *testing.T, args ...string) *serverProc {
	t.Helper()
	return spawnServer(t, args...).wait(t)
}

// spawnedServer is a `fileup serve` process started but not yet known to
// serve.
type spawnedServer struct {
	p       *serverProc
	lines   <-chan string // its standard output
	devMode bool          // it prints a development token
}

// spawnServer starts `fileup serve` on a free port; wait waits until it
// serves. Several servers can start at once, as replicas do.
func spawnServer(t *testing.T, args ...string) *spawnedServer {
	t.Helper()
	cmd := exec.Command(fileupBin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serverProc{cmd: cmd, stderr: &syncWriter{ch: make(chan struct{}, 1)}, stdout: &bytes.Buffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return &spawnedServer{p: p, lines: lines, devMode: !hasTokenArg(args)}
}

// wait waits until the server serves, reading its address (and its
// development token) from its output.
func (s *spawnedServer) wait(t *testing.T) *serverProc {
	t.Helper()
	p, lines := s.p, s.lines
	deadline := time.After(15 * time.Second)
	tried := false // in dev mode, read through the suggested commands
	for p.url == "" || (s.devMode && (p.token == "" || !tried)) {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("server exited: %s", p.stderr)
			}
			p.stdout.WriteString(line + "\n")
			if m := servingLine.FindStringSubmatch(line); m != nil {
				p.url = m[1]
			}
			if m := devTokenLine.FindStringSubmatch(line); m != nil {
				p.token = m[1]
			}
			tried = tried || strings.Contains(line, "fileup upload")
		case <-deadline:
			t.Fatalf("server did not start; stdout %q stderr %q", p.stdout, p.stderr)
		}
	}
	go func() {
		for range lines {
		}
	}()
	return p
}

func hasTokenArg(args []string) bool {
	for _, a := range args {
		if a == "--token" || a == "-token" || strings.HasPrefix(a, "--token=") {
			return true
		}
	}
	return false
}

func TestUsageAndExitCodes(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, exitUsage, "Commands:"},
		{[]string{"nope"}, exitUsage, `unknown command "nope"`},
		{[]string{"help"}, exitOK, ""},
		{[]string{"upload", "-h"}, exitOK, "Usage: fileup upload"},
		{[]string{"serve", "-h"}, exitOK, "Usage: fileup serve"},
		{[]string{"bench", "-h"}, exitOK, "Usage: fileup bench"},
		{[]string{"upload", "--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"upload"}, exitUsage, "no files"},
		{[]string{"upload", "--provider", "acme", "x"}, exitUsage, "provider"},
		{[]string{"upload", "--path", "p", "-", "x", "-"}, exitUsage, "only once"},
		{[]string{"upload", "--retries", "0", "x"}, exitUsage, "--retries"},
		{[]string{"upload", "--name", "n", "x", "y"}, exitUsage, "--name"},
		{[]string{"upload", "--from-url", "https://example.com/a.png", "x"}, exitUsage, "no FILE"},
		{[]string{"upload", "--from-url", "ftp://example.com/a.png"}, exitUsage, "http or https"},
		{[]string{"upload", "--from-url", "example.com/a.png"}, exitUsage, "http or https"},
		{[]string{"upload", "--from-url", "https://example.com/a.png", "--base64"}, exitUsage, "exclude"},
		{[]string{"upload", "--from-url", "https://example.com/a.png", "--content-type", "image/png"}, exitUsage, "--content-type"},
		{[]string{"upload", "--base-url", "ftp://x", "--token", "t", "--path", "p", "x"}, exitUsage, "base URL"},
		{[]string{"quota", "-h"}, exitOK, "Usage: fileup quota"},
		{[]string{"quota", "extra"}, exitUsage, "unexpected arguments"},
		{[]string{"quota", "--provider", "kie", "--token", "t"}, exitUsage, "no quota operation"},
		{[]string{"quota", "--provider", "acme", "--token", "t"}, exitUsage, "provider"},
		{[]string{"quota", "--retries", "0", "--token", "t"}, exitUsage, "--retries"},
		{[]string{"serve", "--max-size", "lots"}, exitUsage, "invalid size"},
		{[]string{"serve", "extra"}, exitUsage, "unexpected arguments"},
		{[]string{"serve", "--garbage-delay", "0"}, exitUsage, "--garbage-delay must be positive"},
		{[]string{"serve", "--garbage-delay", "-1s"}, exitUsage, "--garbage-delay must be positive"},
		{[]string{"serve", "--garbage-delay", "soon"}, exitUsage, "invalid value"},
		{[]string{"bench"}, exitUsage, "--base-url"},
		{[]string{"bench", "--base-url", "http://127.0.0.1:1", "--token", "t", "--size", "0"}, exitUsage, "size"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, nil, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.stderr)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"512", 512, true}, {"64KiB", 64 << 10, true}, {"16MiB", 16 << 20, true},
		{"1GiB", 1 << 30, true}, {"1.5MiB", 3 << 19, true}, {"100MB", 100e6, true}, {"2G", 2 << 30, true},
		{"", 0, false}, {"lots", 0, false}, {"-1", 0, false}, {"1XB", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestProgressPrinter(t *testing.T) {
	var plain bytes.Buffer
	p := newProgressPrinter(&plain, false)
	for _, sent := range []int64{0, 10, 30, 60, 99, 100} {
		p.update("f.bin", sent, 100)
	}
	want := "f.bin: 25% (30 B of 100 B)\nf.bin: 50% (60 B of 100 B)\nf.bin: 75% (99 B of 100 B)\nf.bin: 100% (100 B of 100 B)\n"
	if plain.String() != want {
		t.Errorf("plain progress:\n%q\nwant\n%q", plain.String(), want)
	}

	var tty bytes.Buffer
	p = newProgressPrinter(&tty, false)
	p.tty = true
	p.update("a", 50, 100)
	p.last = time.Time{}
	p.update("b", 1, 4)
	p.done("a", nil)
	out := tty.String()
	for _, want := range []string{"a [===============               ]  50%", "\033[1A", "b [=======                       ]  25%", "\033[2A\033[J"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, out)
		}
	}
	if p.drawn != 0 || len(p.order) != 1 || p.order[0] != "b" {
		t.Errorf("after done: drawn %d, order %v; want the block cleared for the result line", p.drawn, p.order)
	}
	p.update("b", 2, 4)
	if p.drawn != 1 || !strings.HasSuffix(tty.String(), "b [===============               ]  50% 2 B/4 B\n") {
		t.Errorf("bars not redrawn below the result: %q", tty.String())
	}

	var off bytes.Buffer
	p = newProgressPrinter(&off, true)
	p.update("x", 100, 100)
	if off.Len() != 0 {
		t.Errorf("disabled printer wrote %q", off.String())
	}
}
