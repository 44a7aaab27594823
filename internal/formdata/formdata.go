// Package formdata reads multipart/form-data request bodies (RFC 7578) as a
// stream, with every client-chosen size bounded.
//
// It is a replacement for mime/multipart on the upload path of the
// reference server. It yields the same parts and bytes as mime/multipart
// for the bodies that browsers, curl, Go, Python requests and Node send
// (preamble, transport padding after a boundary, LF-only line endings,
// epilogue), and differs where mime/multipart's leniency costs memory or
// hides a truncated upload:
//
//   - A part's header block is at most [Options.MaxHeaderBytes] (default
//     8 KiB; mime/multipart allows 10 MiB): beyond is [ErrHeaderTooLarge].
//   - A body has at most [Options.MaxParts] parts (default 32):
//     beyond is [ErrTooManyParts].
//   - A body that ends before its final boundary is [io.ErrUnexpectedEOF],
//     whether it ends in a part's data, in a boundary line or in a part's
//     header block (where mime/multipart reports a clean [io.EOF]).
//     [Part.Read] returns io.EOF only once the boundary line after the
//     part has arrived whole and well formed.
//   - A part with a Content-Transfer-Encoding other than 7bit, 8bit or
//     binary is [ErrTransferEncoding] (RFC 7578 section 4.7 deprecates the
//     header; mime/multipart decodes quoted-printable and passes others
//     through undecoded).
//   - The boundary must follow RFC 2046 (1 to 70 characters from its
//     alphabet): otherwise [ErrBadBoundary].
//   - A boundary line (boundary, padding and line end) is at most 4096
//     bytes, as mime/multipart's line buffer allows; in the preamble,
//     other lines may be longer (mime/multipart rejects them).
//
// Reads are large: the [Reader] keeps one buffer of [Options.BufferSize]
// bytes, fills it with big reads from the underlying reader, finds the
// delimiter with [bytes.Index] over the whole buffered window, and hands
// data out in large slices; [Part.WriteTo] writes straight from that
// buffer. Errors from the underlying reader (an *http.MaxBytesError, a
// stall timeout) are returned unchanged.
//
// File names are returned as sent, decoded as browsers encode them (see
// [Part.FileName]); the caller decides what to keep of them.
package formdata

import (
	"errors"
	"io"
)

// Defaults for the zero fields of [Options].
const (
	DefaultMaxHeaderBytes = 8 << 10
	DefaultMaxParts       = 32
	DefaultBufferSize     = 256 << 10
)

const (
	// maxBoundaryLine bounds a boundary line: "--", the boundary,
	// transport padding and the line end. mime/multipart reads it into a
	// 4096-byte buffer, so longer lines are errors there too.
	maxBoundaryLine = 4096
	// minBufferSize holds a whole boundary line and its preceding
	// line end, so the line can be judged in one window.
	minBufferSize = 8 << 10
	// maxEmptyReads bounds consecutive (0, nil) reads from the source.
	maxEmptyReads = 100
)

// Errors of the multipart syntax and limits. Errors of the underlying
// reader are returned as they are, and a body that ends early is
// [io.ErrUnexpectedEOF].
var (
	// ErrHeaderTooLarge: a part's header block is longer than
	// Options.MaxHeaderBytes.
	ErrHeaderTooLarge = errors.New("formdata: part header too large")
	// ErrTooManyParts: the body has more than Options.MaxParts parts.
	ErrTooManyParts = errors.New("formdata: too many parts")
	// ErrBadBoundary: the boundary does not follow RFC 2046.
	ErrBadBoundary = errors.New("formdata: invalid boundary")
	// ErrNotFormData: a Content-Type is not multipart/form-data.
	ErrNotFormData = errors.New("formdata: not multipart/form-data")
	// ErrMalformed: the body does not follow the multipart syntax. Errors
	// wrapping it say where.
	ErrMalformed = errors.New("formdata: malformed multipart body")
	// ErrTransferEncoding: a part declares a Content-Transfer-Encoding
	// other than 7bit, 8bit or binary.
	ErrTransferEncoding = errors.New("formdata: unsupported Content-Transfer-Encoding")
)

// Options bound what one body may make the [Reader] hold. The zero value
// gives the defaults.
type Options struct {
	// MaxHeaderBytes bounds each part's header block, blank line
	// included (default DefaultMaxHeaderBytes).
	MaxHeaderBytes int
	// MaxParts bounds the number of parts (default DefaultMaxParts).
	MaxParts int
	// BufferSize is the size of the read buffer (default
	// DefaultBufferSize). It is raised to hold MaxHeaderBytes and at
	// least 8 KiB.
	BufferSize int
	// Buffer, if at least as long as the size BufferSize gives, is used
	// as the read buffer instead of a new one, so a server can recycle
	// buffers between requests. The Reader owns it until it is dropped.
	Buffer []byte
}

// state is where the Reader is in the body.
type state int

const (
	statePreamble state = iota // before the first boundary line
	stateHeader                // after a boundary line: a header block follows
	stateBody                  // in the current part's data
	stateDone                  // after the final boundary line
)

// Reader reads the parts of one multipart/form-data body in order. It is
// not safe for concurrent use.
type Reader struct {
	src      io.Reader
	srcErr   error // non-EOF error from src, returned once the window is used up
	eof      bool  // src returned io.EOF
	buf      []byte
	r, w     int   // the window: buf[r:w]
	err      error // sticky: the first error returned
	delim    []byte
	nl       int // length of the line end in delim: 2 (CRLF) or 1 (LF)
	maxHdr   int
	maxParts int
	parts    int
	state    state
	atLine   bool // in the preamble, buf[r] starts a line
	cur      *Part
}

// NewReader returns a Reader of the body r, whose parts are separated by
// boundary (the boundary parameter of the request's Content-Type; see
// [Boundary]). An invalid boundary makes NextPart return [ErrBadBoundary].
func NewReader(r io.Reader, boundary string, opts Options) *Reader {
	mr := &Reader{
		src:      r,
		delim:    []byte("\r\n--" + boundary),
		nl:       2,
		maxHdr:   orDefault(opts.MaxHeaderBytes, DefaultMaxHeaderBytes),
		maxParts: orDefault(opts.MaxParts, DefaultMaxParts),
		atLine:   true,
	}
	if err := checkBoundary(boundary); err != nil {
		mr.err = err
		return mr
	}
	size := max(orDefault(opts.BufferSize, DefaultBufferSize), mr.maxHdr, minBufferSize)
	if len(opts.Buffer) >= size {
		mr.buf = opts.Buffer
	} else {
		mr.buf = make([]byte, size)
	}
	return mr
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// dash is "--" followed by the boundary.
func (mr *Reader) dash() []byte { return mr.delim[mr.nl:] }

// window is the buffered, unconsumed input.
func (mr *Reader) window() []byte { return mr.buf[mr.r:mr.w] }

// fill moves the window to the start of the buffer and reads once into
// the rest. It returns nil when it read something or the source is at
// EOF (mr.eof), and the source's error, unchanged, otherwise.
func (mr *Reader) fill() error {
	if mr.eof {
		return nil
	}
	if mr.r > 0 {
		mr.w = copy(mr.buf, mr.buf[mr.r:mr.w])
		mr.r = 0
	}
	if mr.w == len(mr.buf) {
		// Callers bound what they wait for below the buffer size.
		return errors.New("formdata: internal error: buffer full")
	}
	for range maxEmptyReads {
		if mr.srcErr != nil {
			return mr.srcErr
		}
		n, err := mr.src.Read(mr.buf[mr.w:])
		mr.w += n
		if err == io.EOF {
			mr.eof = true
			return nil
		}
		if err != nil {
			mr.srcErr = err
		}
		if n > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}

// fail records err as the Reader's sticky error and returns it.
func (mr *Reader) fail(err error) error {
	if mr.err == nil {
		mr.err = err
	}
	return err
}

// NextPart returns the next part of the body, or [io.EOF] after the final
// boundary. The previous part's unread data is skipped. The epilogue
// after the final boundary is not read.
func (mr *Reader) NextPart() (*Part, error) {
	if mr.err != nil {
		return nil, mr.err
	}
	if p := mr.cur; p != nil && !p.done {
		if err := p.drain(); err != nil {
			return nil, err
		}
	}
	if mr.state == statePreamble {
		if err := mr.skipPreamble(); err != nil {
			return nil, mr.fail(err)
		}
	}
	if mr.state == stateDone {
		return nil, io.EOF
	}
	mr.parts++
	if mr.parts > mr.maxParts {
		return nil, mr.fail(ErrTooManyParts)
	}
	p, err := mr.readHeader()
	if err != nil {
		return nil, mr.fail(err)
	}
	mr.cur, mr.state = p, stateBody
	return p, nil
}

// skipPreamble consumes lines up to the first boundary line, which sets
// the line-end style of the body, or a final boundary line (a body with
// no parts).
func (mr *Reader) skipPreamble() error {
	for {
		win := mr.window()
		if mr.atLine && hasPrefixOrIsPrefix(win, mr.dash()) {
			kind, n, err := mr.boundaryLine(win, true)
			switch {
			case err != nil:
				return err
			case kind == lineMore:
				if err := mr.more(); err != nil {
					return err
				}
				continue
			case kind != lineOther:
				mr.r += n
				mr.state = stateHeader
				if kind == lineFinal {
					mr.state = stateDone
				}
				return nil
			}
		}
		if err := mr.skipLine(); err != nil {
			return err
		}
	}
}

// skipLine consumes the rest of the current preamble line, or all of the
// window if the line does not end in it.
func (mr *Reader) skipLine() error {
	win := mr.window()
	if i := indexByte(win, '\n'); i >= 0 {
		mr.r += i + 1
		mr.atLine = true
		return nil
	}
	mr.r = mr.w
	mr.atLine = false
	return mr.more()
}

// more reads more input, for a window that does not hold what the caller
// needs: at EOF that is io.ErrUnexpectedEOF.
func (mr *Reader) more() error {
	if mr.eof {
		return io.ErrUnexpectedEOF
	}
	return mr.fill()
}
