package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fileup/fileup/wrapper"
)

func runUpload(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("upload", "[flags] FILE... ('-' reads standard input)", stderr)
	provider := fs.String("provider", envOr("FILEUP_PROVIDER", "kie"), "API to use: kie or evolink (env FILEUP_PROVIDER)")
	baseURL := fs.String("base-url", envOr("FILEUP_BASE_URL", ""), "server base URL (env FILEUP_BASE_URL; default: the vendor's public server)")
	token := fs.String("token", "", "API token (default: env KIE_API_KEY or EVOLINK_API_KEY, per provider)")
	path := fs.String("path", "", "upload path (kie: required; evolink: optional, categorised by type when empty)")
	name := fs.String("name", "", "stored file name (only with a single FILE; default: the vendor picks or keeps it)")
	contentType := fs.String("content-type", "", "file part Content-Type (default: detected from the first 512 bytes)")
	asJSON := fs.Bool("json", false, "print one JSON object per file (and no progress)")
	jobs := fs.Int("j", 1, "upload up to N files concurrently")
	retries := fs.Int("retries", 4, "attempts per file for retryable failures (1: no retries)")
	quiet := fs.Bool("q", false, "no progress output")
	if err := parse(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	switch {
	case len(files) == 0:
		return usageErr(fs, "no files given")
	case *provider != "kie" && *provider != "evolink":
		return usageErr(fs, "--provider must be kie or evolink, not %q", *provider)
	case *name != "" && len(files) > 1:
		return usageErr(fs, "--name needs exactly one FILE")
	case *jobs < 1:
		return usageErr(fs, "-j must be at least 1")
	case *retries < 1:
		return usageErr(fs, "--retries must be at least 1")
	}
	if i := slices.Index(files, "-"); i >= 0 && slices.Contains(files[i+1:], "-") {
		return usageErr(fs, "'-' (standard input) may appear only once")
	}
	vendor := wrapper.Vendor(*provider)
	tokens := wrapper.StaticToken(*token)
	if *token == "" {
		if os.Getenv(vendor.TokenEnv()) == "" {
			return usageErr(fs, "no token: pass --token or set %s", vendor.TokenEnv())
		}
		tokens = wrapper.EnvToken(vendor.TokenEnv())
	}
	up, err := wrapper.New(vendor, *baseURL, wrapper.WithTokenSource(tokens), wrapper.WithUserAgent("fileup-cli"),
		wrapper.WithRetry(wrapper.RetryPolicy{MaxAttempts: *retries}))
	if err != nil {
		return err
	}
	b := batch{up: up, params: wrapper.UploadParams{Path: *path, Name: *name, ContentType: *contentType},
		stdin: stdin, stdout: stdout, stderr: stderr, asJSON: *asJSON, many: len(files) > 1,
		progress: newProgressPrinter(stderr, *asJSON || *quiet)}
	if failed := b.run(ctx, files, *jobs); failed > 0 {
		return fmt.Errorf("%d of %d uploads failed", failed, len(files))
	}
	return nil
}

// batch uploads files with the same parameters and prints each result
// as it comes.
type batch struct {
	up             wrapper.Uploader
	params         wrapper.UploadParams
	stdin          io.Reader
	stdout, stderr io.Writer
	asJSON, many   bool
	progress       *progressPrinter

	outMu sync.Mutex
}

// run uploads files, up to jobs at a time, and returns how many failed.
func (b *batch) run(ctx context.Context, files []string, jobs int) int {
	var failed atomic.Int32
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	for _, f := range files {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			res := uploadOne(ctx, b.up, f, b.stdin, b.params, b.progress)
			if res.err != nil {
				failed.Add(1)
			}
			b.outMu.Lock()
			defer b.outMu.Unlock()
			b.progress.done(f, res.err)
			printResult(b.stdout, b.stderr, res, b.asJSON, b.many)
		})
	}
	wg.Wait()
	return int(failed.Load())
}

type fileResult struct {
	file   string
	result *wrapper.Result
	err    error
}

func uploadOne(ctx context.Context, up wrapper.Uploader, file string, stdin io.Reader, params wrapper.UploadParams, p *progressPrinter) fileResult {
	var src wrapper.Source
	display := file
	if file == "-" {
		display = "stdin"
		n := params.Name
		if n == "" {
			n = "stdin"
		}
		src = wrapper.Reader(stdin, n, -1)
	} else {
		st, err := os.Stat(file)
		if err != nil {
			return fileResult{file: file, err: err}
		}
		if !st.Mode().IsRegular() {
			return fileResult{file: file, err: fmt.Errorf("%s is not a regular file", file)}
		}
		src = wrapper.File(file)
	}
	res, err := up.Upload(ctx, src, params, wrapper.WithProgress(func(sent, total int64) { p.update(display, sent, total) }))
	return fileResult{file: file, result: res, err: err}
}

// jsonLine is the --json output for one file. The result's fields that
// the server did not send are omitted (see wrapper.Result).
type jsonLine struct {
	File   string          `json:"file"`
	OK     bool            `json:"ok"`
	Result *wrapper.Result `json:"result,omitempty"`
	Error  *jsonError      `json:"error,omitempty"`
}

type jsonError struct {
	Message    string `json:"message"`
	HTTPStatus int    `json:"http_status,omitempty"`
	Code       int    `json:"code,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	Retryable  bool   `json:"retryable"`
}

func printResult(stdout, stderr io.Writer, r fileResult, asJSON, many bool) {
	if asJSON {
		line := jsonLine{File: r.file, OK: r.err == nil, Result: r.result}
		if r.err != nil {
			line.Error = &jsonError{Message: r.err.Error(), Retryable: wrapper.IsRetryable(r.err)}
			if apiErr, ok := errors.AsType[*wrapper.Error](r.err); ok {
				line.Error.HTTPStatus, line.Error.Code, line.Error.RequestID = apiErr.StatusCode, apiErr.Code, apiErr.RequestID()
			}
		}
		b, _ := json.Marshal(line)
		fmt.Fprintf(stdout, "%s\n", b)
		return
	}
	if r.err != nil {
		fmt.Fprintf(stderr, "fileup upload: %s: %v\n", r.file, r.err)
		return
	}
	url := r.result.DownloadURL
	if url == "" { // evolink may answer with a file id alone
		url = "file_id:" + r.result.FileID
	}
	if many {
		fmt.Fprintf(stdout, "%s\t%s\n", r.file, url)
	} else {
		fmt.Fprintln(stdout, url)
	}
}

// progressPrinter shows upload progress on stderr: on a terminal, a bar
// per file being uploaded, redrawn in place at most every 100 ms; otherwise
// a plain line per file at 25%, 50%, 75% and 100%; nothing when off.
type progressPrinter struct {
	w        io.Writer
	off, tty bool
	mu       sync.Mutex
	order    []string            // files with a bar, in start order
	state    map[string][2]int64 // sent, total
	drawn    int                 // bar lines on screen
	last     time.Time
	lastPct  map[string]int64
}

func newProgressPrinter(w io.Writer, off bool) *progressPrinter {
	return &progressPrinter{w: w, off: off, tty: isTerminal(w), state: map[string][2]int64{}, lastPct: map[string]int64{}}
}

func (p *progressPrinter) update(file string, sent, total int64) {
	if p.off {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		if _, ok := p.state[file]; !ok {
			p.order = append(p.order, file)
		}
		p.state[file] = [2]int64{sent, total}
		if time.Since(p.last) < 100*time.Millisecond && sent != total {
			return
		}
		p.last = time.Now()
		p.redraw()
		return
	}
	if total <= 0 {
		return // unknown size: the result line says when it is done
	}
	if step := sent * 100 / total / 25 * 25; step > p.lastPct[file] {
		p.lastPct[file] = step
		fmt.Fprintf(p.w, "%s: %d%% (%s of %s)\n", file, step, humanSize(sent), humanSize(total))
	}
}

// redraw rewrites the block of bars in place.
func (p *progressPrinter) redraw() {
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\033[%dA", p.drawn)
	}
	for _, f := range p.order {
		st := p.state[f]
		fmt.Fprintf(p.w, "\r\033[K%s\n", bar(f, st[0], st[1]))
	}
	p.drawn = len(p.order)
}

// done removes a file's bar and clears the block, so the file's result
// line is printed where the bars were; the next update redraws the bars
// of the files still uploading below it.
func (p *progressPrinter) done(file string, err error) {
	if p.off || !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\033[%dA\033[J", p.drawn)
		p.drawn = 0
	}
	delete(p.state, file)
	p.order = slices.DeleteFunc(p.order, func(f string) bool { return f == file })
	p.last = time.Time{}
}

func bar(file string, sent, total int64) string {
	const width = 30
	if total <= 0 {
		return fmt.Sprintf("%s %s", file, humanSize(sent))
	}
	filled := int(sent * width / total)
	return fmt.Sprintf("%s [%s%s] %3d%% %s/%s", file, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), sent*100/total, humanSize(sent), humanSize(total))
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
