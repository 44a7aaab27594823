// Package jsonstream reads a JSON object field by field from a stream, in
// constant memory, and decodes a string field as base64 while it streams.
//
// It serves the base64 upload, whose body is a JSON object such as
//
//	{"fileName": "a.png", "uploadPath": "images", "base64Data": "data:image/png;base64,iVBOR..."}
//
// where the base64 string may be hundreds of MiB: [Reader.Base64] returns
// an io.Reader of the decoded bytes that never holds the string, and
// fields may come in any order. A Reader keeps one fixed buffer (64 KiB by
// default) whatever the length of the body.
//
// The document must be one JSON object and nothing but white space after
// it. Field values the caller reads are strings; a value the caller skips
// (by calling [Reader.Next] again) may be any JSON value, and is checked
// and skipped in constant memory, nested at most [MaxDepth] levels.
// Malformed JSON anywhere, even after the value the caller wanted, is an
// error wrapping [ErrSyntax], a body cut short is [io.ErrUnexpectedEOF],
// and the underlying reader's errors are returned unchanged.
//
// Where a document encoding/json accepts is refused here, the reason is one
// of these limits: field names longer than [Options.MaxNameBytes] (256 by
// default), strings longer than the caller's maximum, nesting deeper than
// MaxDepth. Strings decode as encoding/json decodes them: escapes
// (including \/ and UTF-16 surrogate pairs) are undone, and invalid UTF-8
// and lone surrogates become U+FFFD.
//
// Duplicate field names are returned as they come: rejecting or merging
// them is the caller's business.
package jsonstream

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Defaults for the zero fields of [Options], and the nesting limit.
const (
	DefaultBufferSize        = 64 << 10
	DefaultMaxNameBytes      = 256
	DefaultMaxMediaTypeBytes = 256
	// MaxDepth bounds the nesting of the document, the top-level object
	// counting as one level.
	MaxDepth = 64
)

const (
	minBufferSize = 512
	maxEmptyReads = 100
)

// Errors of the document. Those about one value ([ErrNotString],
// [ErrTooLong] from String, [ErrInvalidBase64]) leave the Reader usable:
// Next skips the rest of that value. The others stop the Reader.
var (
	// ErrSyntax: the document is not JSON, or not one object.
	ErrSyntax = errors.New("jsonstream: invalid JSON")
	// ErrNotString: String or Base64 was called on a value that is not a
	// string.
	ErrNotString = errors.New("jsonstream: value is not a string")
	// ErrTooLong: a string is longer than its limit (a field name, a
	// String's maximum, a data URL's media type).
	ErrTooLong = errors.New("jsonstream: string too long")
	// ErrTooDeep: the document nests deeper than MaxDepth.
	ErrTooDeep = errors.New("jsonstream: document nested too deep")
	// ErrInvalidBase64: a Base64 value is not base64, or not a base64
	// data URL.
	ErrInvalidBase64 = errors.New("jsonstream: invalid base64")
)

// Error is an error in the document, at a byte offset of it.
type Error struct {
	Offset int64 // where in the document the offending input starts
	Err    error // ErrSyntax, ErrNotString, ErrTooLong, ErrTooDeep or ErrInvalidBase64
	Detail string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%v at offset %d: %s", e.Err, e.Offset, e.Detail)
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }

// Options bound what a document may make the [Reader] hold. The zero value
// gives the defaults.
type Options struct {
	// BufferSize is the size of the read buffer (default
	// DefaultBufferSize, at least 512).
	BufferSize int
	// MaxNameBytes bounds field names, decoded (default
	// DefaultMaxNameBytes).
	MaxNameBytes int
	// MaxMediaTypeBytes bounds the media type of a data URL (default
	// DefaultMaxMediaTypeBytes).
	MaxMediaTypeBytes int
}

// state is where the Reader is in the document.
type state int

const (
	stateStart  state = iota // before the opening brace
	stateFirst               // after the brace: a name or the closing brace
	stateValue               // after a name and its colon: the value is unread
	stateString              // inside a string value: its opening quote is read
	stateAfter               // after a value: a comma or the closing brace
	stateDone                // after the closing brace and the end of input
)

// Reader reads the fields of one JSON object. It is not safe for
// concurrent use.
type Reader struct {
	src      io.Reader
	srcErr   error // non-EOF error from src, returned once the window is used up
	eof      bool  // src returned io.EOF
	buf      []byte
	r, w     int   // the window: buf[r:w]
	base     int64 // document offset of buf[0]
	err      error // sticky: the error that stopped the Reader
	state    state
	gen      int // counts values; a Base64 reader is valid for one
	maxName  int
	maxMedia int
	scratch  []byte            // String's value
	esc      [utf8.UTFMax]byte // a decoded escape
}

// NewReader returns a Reader of the JSON object that r holds.
func NewReader(r io.Reader, opts Options) *Reader {
	return &Reader{
		src:      r,
		buf:      make([]byte, max(orDefault(opts.BufferSize, DefaultBufferSize), minBufferSize)),
		maxName:  orDefault(opts.MaxNameBytes, DefaultMaxNameBytes),
		maxMedia: orDefault(opts.MaxMediaTypeBytes, DefaultMaxMediaTypeBytes),
	}
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// window is the buffered, unconsumed input.
func (r *Reader) window() []byte { return r.buf[r.r:r.w] }

// offset is the document offset of the window's first byte.
func (r *Reader) offset() int64 { return r.base + int64(r.r) }

// fill moves the window to the start of the buffer and reads once into
// the rest. It returns nil when it read something or the source is at EOF
// (r.eof), and the source's error, unchanged, otherwise.
func (r *Reader) fill() error {
	if r.eof {
		return nil
	}
	if r.r > 0 {
		r.base += int64(r.r)
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	for range maxEmptyReads {
		if r.srcErr != nil {
			return r.srcErr
		}
		n, err := r.src.Read(r.buf[r.w:])
		r.w += n
		if err == io.EOF {
			r.eof = true
			return nil
		}
		if err != nil {
			r.srcErr = err
		}
		if n > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}

// more reads more input for a window that does not hold what the caller
// needs: at EOF that is io.ErrUnexpectedEOF.
func (r *Reader) more() error {
	if r.eof {
		return io.ErrUnexpectedEOF
	}
	return r.fill()
}

// ensure makes n bytes available in the window if the input has them, and
// reports whether it did.
func (r *Reader) ensure(n int) (bool, error) {
	for r.w-r.r < n {
		if r.eof {
			return false, nil
		}
		if err := r.fill(); err != nil {
			return false, err
		}
	}
	return true, nil
}

// peek returns the next byte; the end of input is io.ErrUnexpectedEOF.
func (r *Reader) peek() (byte, error) {
	if r.r == r.w {
		if err := r.more(); err != nil {
			return 0, err
		}
		if r.r == r.w {
			return 0, io.ErrUnexpectedEOF
		}
	}
	return r.buf[r.r], nil
}

// skipSpace skips JSON white space. At the end of input it returns
// io.ErrUnexpectedEOF unless eofOK.
func (r *Reader) skipSpace(eofOK bool) error {
	for {
		for r.r < r.w {
			switch r.buf[r.r] {
			case ' ', '\t', '\n', '\r':
				r.r++
			default:
				return nil
			}
		}
		if r.eof && eofOK {
			return nil
		}
		if err := r.more(); err != nil {
			return err
		}
	}
}

// expect consumes the byte c, after white space.
func (r *Reader) expect(c byte, what string) error {
	if err := r.skipSpace(false); err != nil {
		return err
	}
	if r.buf[r.r] != c {
		return r.syntax(what)
	}
	r.r++
	return nil
}

// syntax is an ErrSyntax at the window's start.
func (r *Reader) syntax(detail string) error {
	return &Error{Offset: r.offset(), Err: ErrSyntax, Detail: detail}
}

// stop records err as the Reader's sticky error and returns it.
func (r *Reader) stop(err error) error {
	if r.err == nil {
		r.err = err
	}
	return err
}
