package wrapper

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Field is a text field of a multipart form.
type Field struct {
	Name, Value string
}

// ProgressFunc is told how many file bytes have been handed to the HTTP
// transport (sent) out of the file's size (total, -1 if unknown). It is
// called from Read, so from the goroutine the transport writes the body on
// (not the caller's): at most once per 64 KiB or 100 ms, and once more when
// the whole file has been sent. It reflects bytes the transport pulled
// from the body, not bytes read ahead from the file; they may still sit in
// buffers, so sent is not what the server acknowledged. Each attempt (and
// each replay for a redirect) starts again from zero.
type ProgressFunc func(sent, total int64)

// BodyOptions tune NewBody and NewBase64Body.
type BodyOptions struct {
	// FileField is the file part's field name (default "file"); in a
	// Base64 body, the data field's (default "base64Data").
	FileField string
	// ContentType is the file part's Content-Type. Empty: detected from
	// the first 512 bytes with http.DetectContentType.
	ContentType string
	// Progress, if set, observes the file bytes as the body hands them
	// over (in a Base64 body, as their encoding is handed over).
	Progress ProgressFunc
	// Boundary is the multipart boundary; empty picks a random one. A
	// replay of a body (GetBody) reuses the original's, which its request
	// headers name. A Base64 body has none.
	Boundary string

	// touch, if set, is called whenever Read hands over bytes: the
	// Client's inactivity timeout watches it.
	touch func()
}

// Body is a streaming upload request body: the multipart/form-data form
// of the stream upload (NewBody) or the JSON document of the Base64
// upload (NewBase64Body). It holds the bytes before and after the file
// and at most 512 bytes of the file (for type detection), plus, for a
// Base64 body, fixed buffers for the encoding; the file itself is read as
// the transport pulls. A read error of the file is returned as is and the
// end of the body (the closing boundary, or the closing quote and brace)
// is never emitted, so a truncated body can never parse as complete.
//
// Read and Close may be called from different goroutines, as HTTP
// transports do (net/http may close a request body after RoundTrip has
// returned): Close waits for a Read in progress, and Read after Close
// fails. Once Close has returned, the body no longer touches its source.
type Body struct {
	mu          sync.Mutex // held by Read and Close
	closed      bool
	contentType string
	boundary    string // "" for a JSON body
	length      int64  // -1: unknown
	header      []byte
	trailer     []byte
	data        io.Reader   // the file as sent: its bytes, or their base64
	file        *fileReader // the file as read from the source
	encoded     bool        // data is the base64 of the file
	handed      int64       // data bytes handed over
	closer      io.Closer
	closeErr    error
	state       int
	err         error
	progress    progressMeter
	touch       func()
	// family links the body with its replays; nil for one-shot sources.
	family *family
}

// family is a body and the replays GetBody made of it. At most one of
// them is open: a replay closes the body it replaces first.
type family struct {
	mu      sync.Mutex
	current *Body
	open    func() (*Body, error) // a new body from the start of the source
}

const (
	stateHeader = iota
	stateData
	stateTrailer
	stateDone
)

// ErrSourceSize reports a source that delivered a different number of
// bytes than its declared size.
var ErrSourceSize = errors.New("wrapper: source size changed while reading")

// SourceError is a failure to read the upload's source (as opposed to a
// failure of the network or the server). It is never retried.
type SourceError struct{ Err error }

// Error describes the read failure.
func (e *SourceError) Error() string { return "wrapper: reading the file: " + e.Err.Error() }

// Unwrap returns the source's own error.
func (e *SourceError) Unwrap() error { return e.Err }

// frame is what a body sends around the file.
type frame struct {
	contentType     string
	boundary        string
	header, trailer []byte
	encode          bool // send the file as base64
}

// framer builds a body's frame for a file of the given name and
// Content-Type; opts.Boundary is the multipart boundary to use.
type framer func(name, contentType string, opts BodyOptions) (frame, error)

// NewBody opens src and returns a multipart/form-data body carrying
// fields followed by the file part. Close it if it is not sent.
func NewBody(src Source, fields []Field, opts BodyOptions) (*Body, error) {
	return openBody(src, opts, multipartFrame(fields))
}

// openBody opens src into a body framed by fr. A replayable source's body
// can rebuild itself (GetBody) with the same boundary and (detected from
// the same bytes) the same type, so a replay matches the request's
// headers; its progress restarts.
func openBody(src Source, opts BodyOptions, fr framer) (*Body, error) {
	rc, size, err := src.reader()
	if err != nil {
		return nil, &SourceError{Err: err}
	}
	b, err := newBody(rc, size, src.name, opts, fr)
	if err != nil {
		rc.Close()
		return nil, err
	}
	if src.Replayable() {
		again := opts
		again.Boundary = b.boundary
		b.family = &family{current: b, open: func() (*Body, error) { return openBody(src, again, fr) }}
	}
	return b, nil
}

func newBody(rc io.ReadCloser, size int64, name string, opts BodyOptions, fr framer) (*Body, error) {
	var data io.Reader = rc
	ct := opts.ContentType
	if ct == "" {
		// Detect from the first bytes, then send them again ahead of the rest.
		head := make([]byte, 512)
		n, err := io.ReadFull(rc, head)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, &SourceError{Err: err}
		}
		head = head[:n]
		ct = http.DetectContentType(head)
		data = io.MultiReader(bytes.NewReader(head), rc)
	}
	f, err := fr(name, ct, opts)
	if err != nil {
		return nil, err
	}
	file := &fileReader{r: data, size: size}
	b := &Body{
		contentType: f.contentType,
		boundary:    f.boundary,
		length:      -1,
		header:      f.header,
		trailer:     f.trailer,
		data:        file,
		file:        file,
		encoded:     f.encode,
		closer:      rc,
		progress:    progressMeter{fn: opts.Progress, total: size},
		touch:       opts.touch,
	}
	dataLen := size
	if f.encode {
		b.data = newBase64Encoder(file)
		dataLen = base64Len(size)
	}
	if size >= 0 {
		b.length = int64(len(f.header)) + dataLen + int64(len(f.trailer))
	}
	return b, nil
}

// multipartFrame frames a file as the last part of a multipart form.
func multipartFrame(fields []Field) framer {
	return func(name, ct string, opts BodyOptions) (frame, error) {
		fileField := opts.FileField
		if fileField == "" {
			fileField = "file"
		}
		boundary := opts.Boundary
		if boundary == "" {
			boundary = randomBoundary()
		}
		var h bytes.Buffer
		for _, f := range fields {
			fmt.Fprintf(&h, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n", boundary, escapeParam(f.Name), f.Value)
		}
		fmt.Fprintf(&h, "--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\nContent-Type: %s\r\n\r\n",
			boundary, escapeParam(fileField), escapeParam(name), strings.NewReplacer("\r", "", "\n", "").Replace(ct))
		return frame{
			contentType: "multipart/form-data; boundary=" + boundary,
			boundary:    boundary,
			header:      h.Bytes(),
			trailer:     []byte("\r\n--" + boundary + "--\r\n"),
		}, nil
	}
}

// fileReader reads the file for a body: it counts the bytes, checks them
// against the declared size, and returns every failure as a *SourceError.
type fileReader struct {
	r    io.Reader
	size int64 // -1: unknown
	read int64
}

func (f *fileReader) Read(p []byte) (int, error) {
	k, err := f.r.Read(p)
	f.read += int64(k)
	switch {
	case f.size >= 0 && f.read > f.size:
		return k, &SourceError{Err: fmt.Errorf("%w: more than the declared %d bytes", ErrSourceSize, f.size)}
	case err == io.EOF && f.size >= 0 && f.read != f.size:
		return k, &SourceError{Err: fmt.Errorf("%w: %d bytes, declared %d", ErrSourceSize, f.read, f.size)}
	case err != nil && err != io.EOF:
		return k, &SourceError{Err: err}
	}
	return k, err
}

// escapeParam quotes a Content-Disposition parameter value the way
// mime/multipart does (backslash and double quote escaped) and
// percent-encodes control characters (CR, LF, DEL...), which may not
// appear in a header, as browsers do with CR and LF (RFC 7578 forbids
// filename*). Other UTF-8 is sent as is.
func escapeParam(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' || c == '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func randomBoundary() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return "fileup-" + hex.EncodeToString(b[:])
}

// ContentType is the body's Content-Type: multipart/form-data with its
// boundary, or application/json for a Base64 body.
func (b *Body) ContentType() string { return b.contentType }

// Boundary is the body's multipart boundary ("" for a Base64 body).
func (b *Body) Boundary() string { return b.boundary }

// Len is the exact body length, or -1 when the file size is unknown.
func (b *Body) Len() int64 { return b.length }

// Replayable reports whether GetBody can rebuild the body from the start
// (its source is a File, ReaderAt or ReadSeeker).
func (b *Body) Replayable() bool { return b.family != nil }

// GetBody returns a fresh copy of the body, read again from the source,
// with the same boundary; it fails for a one-shot source. It has the
// signature of http.Request.GetBody and the meaning net/http gives it:
// the request that carried the previous copy is over. So GetBody first
// closes the latest copy made from this body (waiting for a Read in
// progress), then opens the source again: two copies never read the
// source at once.
func (b *Body) GetBody() (io.ReadCloser, error) {
	f := b.family
	if f == nil {
		return nil, &SourceError{Err: errSourceUsed}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.current.Close()
	nb, err := f.open()
	if err != nil {
		return nil, err
	}
	nb.family = f
	f.current = nb
	return nb, nil
}

// closeAll closes the body and every copy GetBody made of it, waiting for
// Reads in progress: once it returns, the source is free.
func (b *Body) closeAll() {
	b.Close()
	if f := b.family; f != nil {
		f.mu.Lock()
		f.current.Close()
		f.mu.Unlock()
	}
}

// RequestEditor returns an editor that completes a request carrying b, as
// built by a generated client (which cannot know them): Content-Length
// (exact, or chunked when unknown) and, for replayable sources, GetBody,
// so that HTTP clients can replay the body on 307/308 redirects and
// retries. Pass it with the body to UploadFileStreamWithBody (or, for a
// Base64 body, UploadFileBase64WithBody).
func (b *Body) RequestEditor() RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.ContentLength = b.length
		req.GetBody = nil
		if b.family != nil {
			req.GetBody = b.GetBody
		}
		return nil
	}
}

// errBodyClosed is returned by Read after Close.
var errBodyClosed = errors.New("wrapper: read from a closed body")

// Read implements io.Reader: the header, then the file (or its base64) as
// it is read from the source, then the end of the form or document. Once it has returned an error
// other than io.EOF it returns that error forever; after Close it fails.
func (b *Body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, errBodyClosed
	}
	n, err := b.readLocked(p)
	if n > 0 && b.touch != nil {
		b.touch()
	}
	return n, err
}

func (b *Body) readLocked(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n := 0
	for n < len(p) && b.state != stateDone {
		switch b.state {
		case stateHeader:
			k := copy(p[n:], b.header)
			b.header = b.header[k:]
			n += k
			if len(b.header) == 0 {
				b.state = stateData
			}
		case stateData:
			k, err := b.data.Read(p[n:])
			n += k
			b.sent(k)
			if err == io.EOF {
				b.progress.finish()
				b.state = stateTrailer
				continue
			}
			if err != nil {
				b.err = err // a *SourceError
				return n, b.err
			}
			return n, nil // hand over what we have; keep reads aligned to the source
		case stateTrailer:
			k := copy(p[n:], b.trailer)
			b.trailer = b.trailer[k:]
			n += k
			if len(b.trailer) == 0 {
				b.state = stateDone
			}
		}
	}
	if b.state == stateDone {
		return n, io.EOF
	}
	return n, nil
}

// sent records k more data bytes handed over and reports the file bytes
// they carry: for a Base64 body, those of the whole quanta handed over.
func (b *Body) sent(k int) {
	b.handed += int64(k)
	file := b.handed
	if b.encoded {
		file = b.handed / 4 * 3
	}
	b.progress.to(min(file, b.file.read))
}

// Close ends the body's use of its source: it waits for a Read in
// progress, then closes a File's descriptor or hands a ReadSeeker back
// (other sources are left open for their owner). It is safe to call more
// than once, and concurrently with Read as HTTP transports do.
func (b *Body) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		b.closeErr = b.closer.Close()
	}
	return b.closeErr
}

// progressMeter rate-limits progress callbacks.
type progressMeter struct {
	fn        ProgressFunc
	total     int64
	sent      int64
	lastSent  int64
	lastTime  time.Time
	finalOnce sync.Once
}

// to reports that sent file bytes have been handed over, at a bounded
// rate.
func (m *progressMeter) to(sent int64) {
	if m.fn == nil || sent == m.sent {
		return
	}
	m.sent = sent
	now := time.Now()
	if m.sent-m.lastSent >= 64<<10 || now.Sub(m.lastTime) >= 100*time.Millisecond {
		m.lastSent, m.lastTime = m.sent, now
		m.fn(m.sent, m.total)
	}
}

func (m *progressMeter) finish() {
	if m.fn == nil {
		return
	}
	m.finalOnce.Do(func() {
		if m.sent != m.lastSent || m.sent == 0 {
			m.fn(m.sent, m.total)
		}
	})
}
