package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fileup/fileup/wrapper"
)

func runUpload(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("upload", "[flags] FILE... ('-' reads standard input)\n       fileup upload [flags] --from-url URL", stderr)
	cf := addClientFlags(fs, envOr("FILEUP_PROVIDER", "kie"), "API to use: kie or evolink (env FILEUP_PROVIDER)")
	path := fs.String("path", "", "upload path (kie: required; evolink: optional, categorised by type when empty)")
	name := fs.String("name", "", "stored file name (only with a single FILE or --from-url; default: the vendor picks or keeps it)")
	contentType := fs.String("content-type", "", "file part Content-Type (default: detected from the first 512 bytes; not with --from-url)")
	fromURL := fs.String("from-url", "", "instead of FILEs: have the server download the file at this http(s) URL (kie.ai and evolink.ai fetch public addresses only)")
	b64 := fs.Bool("base64", false, "send FILEs with the Base64 upload (JSON, base64-encoded as sent; the vendors advise it for small files) instead of multipart")
	asJSON := fs.Bool("json", false, "print one JSON object per file (and no progress)")
	jobs := fs.Int("j", 1, "upload up to N files concurrently")
	quiet := fs.Bool("q", false, "no progress output")
	if err := parse(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	if err := checkUploadArgs(fs, files, *fromURL, *name, *contentType, *b64, *jobs); err != nil {
		return err
	}
	up, err := cf.client(fs)
	if err != nil {
		return err
	}
	b := batch{up: up, params: wrapper.UploadParams{Path: *path, Name: *name, ContentType: *contentType}, base64: *b64,
		stdin: stdin, stdout: stdout, stderr: stderr, asJSON: *asJSON, many: len(files) > 1,
		progress: newProgressPrinter(stderr, *asJSON || *quiet)}
	if *fromURL != "" {
		if b.uploadURL(ctx, *fromURL) != nil {
			return errors.New("the upload failed")
		}
		return nil
	}
	if failed := b.run(ctx, files, *jobs); failed > 0 {
		return fmt.Errorf("%d of %d uploads failed", failed, len(files))
	}
	return nil
}

// checkUploadArgs checks upload's arguments that do not depend on the
// provider.
func checkUploadArgs(fs *flag.FlagSet, files []string, fromURL, name, contentType string, b64 bool, jobs int) error {
	switch {
	case fromURL != "" && len(files) > 0:
		return usageErr(fs, "--from-url takes no FILE arguments")
	case fromURL != "" && b64:
		return usageErr(fs, "--from-url and --base64 exclude each other: the server downloads the file")
	case fromURL != "" && contentType != "":
		return usageErr(fs, "--content-type has no meaning with --from-url: the server detects the type")
	case fromURL != "":
		if u, err := url.Parse(fromURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return usageErr(fs, "--from-url must be an absolute http or https URL")
		}
	case len(files) == 0:
		return usageErr(fs, "no files given (or --from-url URL)")
	case name != "" && len(files) > 1:
		return usageErr(fs, "--name needs exactly one FILE")
	}
	if jobs < 1 {
		return usageErr(fs, "-j must be at least 1")
	}
	if i := slices.Index(files, "-"); i >= 0 && slices.Contains(files[i+1:], "-") {
		return usageErr(fs, "'-' (standard input) may appear only once")
	}
	return nil
}

// batch uploads files with the same parameters and prints each result
// as it comes.
type batch struct {
	up             *wrapper.Client
	params         wrapper.UploadParams
	base64         bool // the Base64 upload instead of the stream upload
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
			res := b.uploadOne(ctx, f)
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

// uploadURL has the server fetch fileURL, prints the result as for a
// file, and returns the upload's error.
func (b *batch) uploadURL(ctx context.Context, fileURL string) error {
	res, err := b.up.UploadURL(ctx, fileURL, b.params)
	printResult(b.stdout, b.stderr, fileResult{file: fileURL, fromURL: true, result: res, err: err}, b.asJSON, false)
	return err
}

type fileResult struct {
	file    string // the file, or the URL
	fromURL bool
	result  *wrapper.Result
	err     error
}

func (b *batch) uploadOne(ctx context.Context, file string) fileResult {
	var src wrapper.Source
	display := file
	if file == "-" {
		display = "stdin"
		n := b.params.Name
		if n == "" {
			n = "stdin"
		}
		src = wrapper.Reader(b.stdin, n, -1)
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
	upload := b.up.Upload
	if b.base64 {
		upload = b.up.UploadBase64
	}
	res, err := upload(ctx, src, b.params, wrapper.WithProgress(func(sent, total int64) { b.progress.update(display, sent, total) }))
	return fileResult{file: file, result: res, err: err}
}

// jsonLine is the --json output for one file or URL. The result's fields
// that the server did not send are omitted (see wrapper.Result).
type jsonLine struct {
	File   string          `json:"file,omitempty"`
	URL    string          `json:"url,omitempty"`
	OK     bool            `json:"ok"`
	Result *wrapper.Result `json:"result,omitempty"`
	Error  *jsonError      `json:"error,omitempty"`
}

func printResult(stdout, stderr io.Writer, r fileResult, asJSON, many bool) {
	if asJSON {
		line := jsonLine{File: r.file, OK: r.err == nil, Result: r.result}
		if r.fromURL {
			line.File, line.URL = "", r.file
		}
		if r.err != nil {
			line.Error = newJSONError(r.err)
		}
		b, _ := json.Marshal(line)
		fmt.Fprintf(stdout, "%s\n", b)
		return
	}
	if r.err != nil {
		fmt.Fprintf(stderr, "fileup upload: %s: %v\n", r.file, r.err)
		return
	}
	link := r.result.DownloadURL
	if link == "" { // evolink may answer with a file id alone
		link = "file_id:" + r.result.FileID
	}
	if many {
		fmt.Fprintf(stdout, "%s\t%s\n", r.file, link)
	} else {
		fmt.Fprintln(stdout, link)
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
